/**
 * What exemplars cost on the recording path: recordConversion (one counter cell + one histogram cell) with the
 * exemplar code and no trace SDK (`ours`), against the build from just before exemplars existed
 * (`before-exemplars`, the commit below, built once into node_modules/.cache/ and reused), and, for the reading,
 * with a context manager registered but no active span, and inside an active sampled span.
 *
 * Owns: those four variants and their self-checks (totals exported = calls made; inside a span, the OpenMetrics
 * scrape carries that span's trace id). Must not touch: rounds, statistics (bench/run.mjs).
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  conversionTuples,
  expectTotals,
  loadPackage,
  MASK,
  parseExposition,
  REPO,
  require,
  sampleTotals,
} from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

/** The last commit without exemplars (main before issue 14). */
const BASELINE_COMMIT = 'f2a739339f444d5e69a3c7fdebd32a60056a0b1e';

function baselinePackage() {
  // Under node_modules/.cache (where build tools keep caches): lint, format and tsc never look there, and the
  // build resolves its dependencies from the repository's node_modules.
  const dir = join(
    REPO,
    'node_modules',
    '.cache',
    'otel-business-metrics-bench',
    BASELINE_COMMIT.slice(0, 12),
  );
  const entry = join(dir, 'dist', 'index.js');
  if (!existsSync(entry)) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${BASELINE_COMMIT} src tsconfig.json tsconfig.build.json | tar -x -C "${dir}"`, {
      cwd: REPO,
      stdio: 'inherit',
    });
    execFileSync(process.execPath, [
      join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(dir, 'tsconfig.build.json'),
    ]);
  }
  return require(entry);
}

function registerTracing(withProvider) {
  const api = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!withProvider) return undefined;
  const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
  api.trace.setGlobalTracerProvider(new BasicTracerProvider());
  return api.trace.getTracer('bench');
}

serveCase(async ({ variant }) => {
  if (!['ours', 'before-exemplars', 'ours-context-no-span', 'ours-in-span'].includes(variant)) {
    throw new Error(`no variant ${variant} in row exemplars`);
  }
  const tracer =
    variant === 'ours-context-no-span' || variant === 'ours-in-span'
      ? registerTracing(variant === 'ours-in-span')
      : undefined;
  const pkg = variant === 'before-exemplars' ? baselinePackage() : loadPackage();
  const family = pkg.prometheusFamilyName(pkg.BUSINESS_METRICS.conversions);
  const telemetry = pkg.initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { host: '127.0.0.1', port: 0 },
    serviceName: 'bench',
    env: {},
  });
  await telemetry.ready;
  const { businessMetrics } = pkg;
  const t = conversionTuples();
  const record = (n, from) => {
    for (let i = from; i < from + n; i++) {
      const x = t[i & MASK];
      businessMetrics.recordConversion(x[0], { source: x[1], deviceType: x[2], sessionStartTime: x[3] });
    }
  };
  let traceId;
  return {
    round(n, from) {
      if (tracer === undefined) return record(n, from);
      // One span per round: every measurement of the round runs inside it, as in a request handler.
      tracer.startActiveSpan('round', (span) => {
        traceId = span.spanContext().traceId;
        record(n, from);
        span.end();
      });
    },
    async check(ops) {
      const scrape = (accept) =>
        fetch(telemetry.prometheus.url, { headers: { accept } }).then((response) => response.text());
      const total = sampleTotals(parseExposition(await scrape('text/plain')), family).sum;
      const openMetrics = await scrape('application/openmetrics-text; version=1.0.0');
      const checks = [['conversions_total', total, ops]];
      if (variant === 'ours-in-span')
        checks.push(['exemplar_of_last_span', Number(openMetrics.includes(traceId)), 1]);
      else checks.push(['exemplars', Number(openMetrics.includes('trace_id=')), 0]);
      return expectTotals(checks);
    },
    close: () => telemetry.shutdown(),
  };
});
