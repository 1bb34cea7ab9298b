#!/usr/bin/env node
// Writes otel-collector/grafana/dashboards/business.json from the compiled dashboard generator
// (dist/dashboards/grafana.js, so run `npm run build` first) and the thresholds in business-alerts.yml.
// tests/dashboards/grafana.test.ts regenerates the dashboard from source and compares it with the file.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import prettier from 'prettier';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { alertThresholdsFromRules, buildBusinessDashboard } = require(
  join(process.env.OBM_DIST_DIR ?? join(root, 'dist'), 'dashboards/grafana.js'),
);

const rules = parse(readFileSync(join(root, 'otel-collector/prometheus/rules/business-alerts.yml'), 'utf8'));
const dashboard = buildBusinessDashboard({ thresholds: alertThresholdsFromRules(rules) });
const output = join(root, 'otel-collector/grafana/dashboards/business.json');
const options = (await prettier.resolveConfig(output)) ?? {};
writeFileSync(output, await prettier.format(JSON.stringify(dashboard), { ...options, parser: 'json' }));
console.log(`wrote ${output}`);
