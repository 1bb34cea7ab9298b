/**
 * Renders the README's generated tables from their single sources of truth (the catalog, the limits), so the
 * README test can check them and `UPDATE_README=1` can rewrite them.
 */
import {
  ALL_METRIC_LIST,
  BUSINESS_METRIC_LIST,
  DEFAULT_LABEL_POLICIES,
  DEFAULT_LIMITS,
  SELF_METRICS,
  prometheusFamilyName,
} from '../../src';
import { HTTP_METRICS } from '../../src/catalog/metrics';

const code = (text: string) => `\`${text}\``;

/** OTel instrument -> Prometheus family, for every metric the package emits. */
export function metricTable(): string {
  const selfNames = new Set<string>(Object.values(SELF_METRICS).map((def) => def.name));
  const rows = ALL_METRIC_LIST.map((def) => {
    const family = prometheusFamilyName(def);
    return [
      code(family),
      def.kind,
      def.labels.map(code).join(', '),
      def.buckets ? def.buckets.join(' ') : '',
      code(def.name),
      code(def.unit),
      `${selfNames.has(def.name) ? '(self-metric) ' : ''}${def.description}`,
    ];
  });
  // The web integrations' HTTP family: OpenTelemetry's semantic-convention names, dots becoming underscores, and
  // `error.type`, which the series gets from its status (5xx, or `aborted`) rather than from a label of its own.
  const http = Object.values(HTTP_METRICS).map((def) => [
    code(prometheusFamilyName(def)),
    def.kind,
    [...def.labels, 'error.type'].map((label) => code(label.replaceAll('.', '_'))).join(', '),
    def.buckets.join(' '),
    code(def.name),
    code(def.unit),
    `(web integrations) ${def.description}`,
  ]);
  return [
    '| Prometheus family | type | labels | buckets | OTel instrument | OTel unit | description |',
    '|---|---|---|---|---|---|---|',
    ...[...rows, ...http].map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** Label vocabularies: which values each label accepts by default. */
export function labelTable(): string {
  const usedBy = (label: string) =>
    BUSINESS_METRIC_LIST.filter((def) => (def.labels as readonly string[]).includes(label))
      .map((def) => code(prometheusFamilyName(def)))
      .join(', ');
  const rows = Object.entries(DEFAULT_LABEL_POLICIES).map(([label, policy]) => [
    code(label),
    policy.kind === 'allow'
      ? `allow-list: ${policy.values.map(code).join(', ')}`
      : `first ${policy.maxValues} distinct values${
          policy.known?.length ? ` (plus ${policy.known.map(code).join(', ')}, always accepted)` : ''
        }`,
    usedBy(label),
  ]);
  return [
    '| label | default vocabulary | used by |',
    '|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** Numeric limits and their defaults. */
export function limitTable(): string {
  const descriptions: Record<keyof typeof DEFAULT_LIMITS, string> = {
    maxSeriesPerMetric: 'series per metric over the process lifetime; beyond it, the all-`other` series',
    maxLabelLength: 'characters kept of a label value (after trimming and removing control characters)',
    maxAmountCents:
      'largest single revenue or refund amount, in minor units of its currency (one cap for all: [how large](money.md#how-large-an-amount))',
    maxDurationSeconds: 'longest session / time to conversion, in seconds',
    maxActiveUsers: 'largest active-user count',
  };
  return [
    '| `limits.` option | default | bounds |',
    '|---|---|---|',
    ...Object.entries(DEFAULT_LIMITS).map(
      ([name, value]) =>
        `| ${code(name)} | ${value.toLocaleString('en-US')} | ${descriptions[name as keyof typeof DEFAULT_LIMITS]} |`,
    ),
  ].join('\n');
}

export const GENERATED_TABLES: Record<string, () => string> = {
  metrics: metricTable,
  labels: labelTable,
  limits: limitTable,
};
