/**
 * Shared helpers for the backend tests: where the otel-collector/ files are, their parsed contents, and a small
 * PromQL reference extractor (metric names and label names) used to prove every rule and panel only names
 * series that the catalog or the recording rules define.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALL_METRIC_LIST, prometheusFamilyName, type MetricDefinition } from '../../src/catalog';

export const REPO = join(__dirname, '..', '..');
export const BACKEND = join(REPO, 'otel-collector');
export const RULES_DIR = join(BACKEND, 'prometheus', 'rules');
export const ALERTS_FILE = join(RULES_DIR, 'business-alerts.yml');
export const RECORDING_FILE = join(RULES_DIR, 'business-recording.yml');
export const DASHBOARD_FILE = join(BACKEND, 'grafana', 'dashboards', 'business.json');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: Rule[] }>;
}

export function readYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Rule files only Prometheus >= 3.16 loads (the `anchored` range modifier): Debian's Prometheus 2.42 refuses
 * them, which tests/backend/promtool.test.ts proves; everything else is run on both.
 */
export const MONEY_FILE = join(RULES_DIR, 'business-money.yml');
export const PROMETHEUS_3_16_RULE_FILES: readonly string[] = [MONEY_FILE];

/** The rule files (`{ prometheus2: true }`: the ones Prometheus 2.x can load too). */
export function ruleFiles(options: { prometheus2?: boolean } = {}): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.yml') && !name.endsWith('.test.yml'))
    .map((name) => join(RULES_DIR, name))
    .filter((file) => !options.prometheus2 || !PROMETHEUS_3_16_RULE_FILES.includes(file));
}

/** The rule unit-test files (`{ prometheus2: true }`: the ones whose rule files Prometheus 2.x can load). */
export function ruleTestFiles(options: { prometheus2?: boolean } = {}): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.test.yml'))
    .map((name) => join(RULES_DIR, name))
    .filter(
      (file) =>
        !options.prometheus2 ||
        !readYaml<{ rule_files: string[] }>(file).rule_files.some((rules) =>
          PROMETHEUS_3_16_RULE_FILES.includes(join(RULES_DIR, rules)),
        ),
    );
}

export function allRules(file: string): Rule[] {
  return readYaml<RuleFile>(file).groups.flatMap((group) => group.rules);
}

/** Prometheus series names a catalog metric produces, with the labels each carries. */
export function catalogSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  const add = (name: string, labels: readonly string[]) => series.set(name, new Set(labels));
  for (const def of ALL_METRIC_LIST as readonly MetricDefinition[]) {
    const familyName = prometheusFamilyName(def);
    if (def.kind === 'histogram') {
      add(`${familyName}_bucket`, [...def.labels, 'le']);
      add(`${familyName}_sum`, def.labels);
      add(`${familyName}_count`, def.labels);
    } else {
      add(familyName, def.labels);
    }
  }
  return series;
}

/**
 * Labels a recording rule's output carries: the grouping of its outermost aggregation (`sum by (a, b) (...)`),
 * none for a plain `sum(...)`, and for rules over other recording rules, those rules' labels.
 */
export function recordingRuleSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const rule of ruleFiles().flatMap(allRules)) {
    if (!rule.record) continue;
    const by = /^\s*(?:histogram_quantile\([^,]+,\s*)?sum\s+by\s*\(([^)]*)\)/.exec(rule.expr);
    const labels = by
      ? by[1]
          .split(',')
          .map((label) => label.trim())
          .filter((label) => label !== 'le')
      : [];
    if (!by) {
      for (const metric of references(rule.expr).metrics)
        series.get(metric)?.forEach((label) => labels.push(label));
    }
    series.set(rule.record, new Set(labels));
  }
  return series;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
  // Range modifiers of Prometheus >= 3.16 (`x[1h] anchored`).
  'anchored',
  'smoothed',
]);

/** Metric names and label names a PromQL expression refers to. */
export function references(expr: string): { metrics: Set<string>; labels: Set<string> } {
  const metrics = new Set<string>();
  const labels = new Set<string>();
  let text = expr
    .replace(/#.*$/gm, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '');
  text = text.replace(/\{([^}]*)\}/g, (_whole, matchers: string) => {
    for (const match of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.add(match[1]);
    return ' ';
  });
  text = text.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_whole, _kw, list: string) => {
      for (const label of list
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean))
        labels.add(label);
      return ' ';
    },
  );
  for (const match of text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    const before = text[match.index - 1];
    if (call || KEYWORDS.has(name.toLowerCase()) || (before && /[0-9.]/.test(before))) continue;
    metrics.add(name);
  }
  return { metrics, labels };
}

/** A scrape job of the end-to-end Prometheus configurations. */
export interface ScrapeJob {
  job: string;
  /** `host:port` (with `path`), or a full /metrics URL. */
  target: string;
  /** Keep job/instance from the scraped series (the Collector's exporter carries them from the resource). */
  honorLabels?: boolean;
}

/**
 * prometheus.yml of the end-to-end tests: scrape and rule evaluation every second, the shipped rule files, `extra`
 * top-level lines, and the scrape jobs (none: `scrape_configs: []`).
 */
export function rulesConfig(jobs: readonly ScrapeJob[], extra: readonly string[] = []): string {
  const lines = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${RECORDING_FILE}`,
    `  - ${ALERTS_FILE}`,
    ...extra,
    `scrape_configs:${jobs.length === 0 ? ' []' : ''}`,
  ];
  for (const { job, target, honorLabels } of jobs) {
    const url = target.includes('://') ? new URL(target) : undefined;
    lines.push(`  - job_name: ${job}`);
    if (honorLabels) lines.push('    honor_labels: true');
    if (url) lines.push(`    metrics_path: ${url.pathname}`);
    lines.push('    static_configs:', `      - targets: ['${url ? url.host : target}']`);
  }
  return lines.join('\n');
}
