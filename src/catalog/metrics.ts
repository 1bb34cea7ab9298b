/**
 * THE definition of every business instrument: OTel name, kind, unit, description, label keys, buckets.
 *
 * Owns: names and shapes. Everything else (instruments, views, histogram advice, the Prometheus family names,
 * docs tables, dashboards, rule checks) derives from this table; nothing restates a name or a bucket.
 * Must not touch: the SDK, I/O.
 *
 * Naming: OTel names are snake_case without `_total`, with the unit word in the name only where it matches
 * the unit (`..._seconds` with unit `s`), and `{curly}` annotation units otherwise. That way the package's own
 * Prometheus exporter, the OpenTelemetry Collector's Prometheus exporter and Prometheus's OTLP receiver all
 * produce the seed's series names: `prometheusFamilyName` applies the one translator all three paths share.
 * Must not import: `src/*`, `node:*`, `@opentelemetry/*`.
 */
import type { BusinessLabelKey } from './labels';
import { prometheusFamilyName } from './prometheus-naming';

export { prometheusFamilyName } from './prometheus-naming';

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricDefinition<Label extends string = string> {
  /** OpenTelemetry instrument name. */
  readonly name: string;
  readonly kind: MetricKind;
  /** UCUM unit, or a `{annotation}` unit for counts of things. */
  readonly unit: string;
  readonly description: string;
  /** Label keys, in the order the package resolves them (and the order of the seed's `labelNames`). */
  readonly labels: readonly Label[];
  /** Explicit histogram bucket upper bounds (histograms only). */
  readonly buckets?: readonly number[];
}

export const BUSINESS_METRICS = {
  funnelStep: {
    name: 'business_funnel_step',
    kind: 'counter',
    unit: '{step}',
    description: 'Counts progression through conversion funnel steps',
    labels: ['step', 'source', 'device_type', 'experiment_variant'],
  },
  conversions: {
    name: 'business_conversions',
    kind: 'counter',
    unit: '{conversion}',
    description: 'Total number of completed conversions',
    labels: ['conversion_type', 'source', 'device_type'],
  },
  timeToConversion: {
    name: 'business_time_to_conversion_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time elapsed from session start to conversion',
    labels: ['conversion_type'],
    buckets: [30, 60, 120, 300, 600, 1800, 3600],
  },
  // Money: "cents" in these names (the seed's) means minor units of the series' `currency` label (cents of
  // USD, yen of JPY, fils of KWD); amounts of different currencies are never added (docs/money.md).
  revenue: {
    name: 'business_revenue_cents',
    kind: 'counter',
    unit: '{cent}',
    description: 'Total revenue in cents to avoid floating point issues',
    labels: ['product_category', 'payment_method', 'region', 'currency'],
  },
  orderValue: {
    name: 'business_order_value_cents',
    kind: 'histogram',
    unit: '{cent}',
    description: 'Distribution of order values in cents',
    labels: ['product_category', 'currency'],
    buckets: [500, 1000, 2500, 5000, 10000, 25000, 50000],
  },
  revenuePerMinute: {
    name: 'business_revenue_per_minute_cents',
    kind: 'gauge',
    unit: '{cent}',
    description: 'Revenue in cents over the last rolling minute',
    labels: ['region', 'currency'],
  },
  refunds: {
    name: 'business_refunds_cents',
    kind: 'counter',
    unit: '{cent}',
    description: 'Refunds and chargebacks in minor units of the currency',
    labels: ['currency', 'payment_method', 'region', 'reason'],
  },
  currencyMinorUnits: {
    name: 'business_currency_minor_units',
    kind: 'gauge',
    unit: '{minor_unit}',
    description: 'Minor units in one unit of the currency (10^ISO 4217 exponent: USD 100, JPY 1, KWD 1000)',
    labels: ['currency'],
  },
  exchangeRate: {
    name: 'business_exchange_rate',
    kind: 'gauge',
    unit: '{rate}',
    description: 'Units of reporting_currency for one unit of currency, as the app gives them',
    labels: ['currency', 'reporting_currency'],
  },
  featureUsage: {
    name: 'business_feature_usage',
    kind: 'counter',
    unit: '{use}',
    description: 'Counts of feature interactions by users',
    labels: ['feature_name', 'user_tier', 'is_new_user'],
  },
  sessionDuration: {
    name: 'business_session_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of user sessions',
    labels: ['user_tier', 'entry_page'],
    buckets: [10, 30, 60, 120, 300, 600, 1800, 3600],
  },
  activeUsers: {
    name: 'business_active_users',
    kind: 'gauge',
    unit: '{user}',
    description: 'Number of active users in the given time window',
    labels: ['window', 'user_tier'],
  },
} as const satisfies Record<string, MetricDefinition<BusinessLabelKey>>;

export type BusinessMetricKey = keyof typeof BUSINESS_METRICS;

/** Every business instrument, in catalog order. */
export const BUSINESS_METRIC_LIST: readonly MetricDefinition<BusinessLabelKey>[] =
  Object.values(BUSINESS_METRICS);

/**
 * The package's own health metrics: what it dropped, relabelled or failed to export. Rare events, recorded
 * through ordinary SDK counters.
 */
export const SELF_METRICS = {
  dropped: {
    name: 'business_metrics_dropped',
    kind: 'counter',
    unit: '{measurement}',
    description: 'Measurements the package refused to record, by metric and reason',
    labels: ['metric', 'reason'],
  },
  labelOverflow: {
    name: 'business_metrics_label_overflow',
    kind: 'counter',
    unit: '{measurement}',
    description: 'Label values replaced by "other" or "unknown", by metric, label and reason',
    labels: ['metric', 'label', 'reason'],
  },
  seriesOverflow: {
    name: 'business_metrics_series_overflow',
    kind: 'counter',
    unit: '{measurement}',
    description: 'Measurements folded into the all-"other" series because the metric reached its series cap',
    labels: ['metric'],
  },
  exportFailures: {
    name: 'business_metrics_export_failures',
    kind: 'counter',
    unit: '{export}',
    description: 'Failed exports, by exporter',
    labels: ['exporter'],
  },
  activeUsersStoreFailures: {
    name: 'business_metrics_active_users_store_failures',
    kind: 'counter',
    unit: '{flush}',
    description: 'Active-user flushes that did not reach the shared store (Redis), by reason',
    labels: ['reason'],
  },
  clusterCollectionFailures: {
    name: 'business_metrics_cluster_collection_failures',
    kind: 'counter',
    unit: '{collection}',
    description:
      'Cluster primary: a source missing from a collection or its own collection late (timeout), a worker that exited without its final snapshot or whose final snapshot was refused (exited), or a message refused (invalid)',
    labels: ['reason'],
  },
  clusterSources: {
    name: 'business_metrics_cluster_sources',
    kind: 'gauge',
    unit: '{worker}',
    description: 'Cluster primary: workers and worker threads currently reporting to it',
    labels: [],
  },
} as const satisfies Record<string, MetricDefinition>;

/**
 * Technical instruments an integration records through the same guard and local store as the business ones, named
 * per the OpenTelemetry HTTP semantic conventions. `error.type` is derived from the status label when a series is
 * created (5xx, or `aborted` when no status was delivered), so it costs no label of its own.
 */
export const HTTP_METRICS = {
  serverRequestDuration: {
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP server requests.',
    labels: ['http.request.method', 'http.route', 'http.response.status_code', 'url.scheme'],
    // The conventions' advised boundaries.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Every metric the package can emit: business instruments first, then self-metrics. */
export const ALL_METRIC_LIST: readonly MetricDefinition[] = [
  ...BUSINESS_METRIC_LIST,
  ...Object.values(SELF_METRICS),
];

/** The Prometheus family name of every business instrument, by catalog key (`PROMETHEUS_FAMILIES.revenue` is
 * `business_revenue_cents_total`). */
export const PROMETHEUS_FAMILIES = Object.fromEntries(
  Object.entries(BUSINESS_METRICS).map(([key, def]) => [key, prometheusFamilyName(def)]),
) as Readonly<Record<BusinessMetricKey, string>>;

/** The Prometheus family name of every self-metric, by catalog key. */
export const PROMETHEUS_SELF_FAMILIES = Object.fromEntries(
  Object.entries(SELF_METRICS).map(([key, def]) => [key, prometheusFamilyName(def)]),
) as Readonly<Record<keyof typeof SELF_METRICS, string>>;

/** The Prometheus metric type of an instrument's family. */
export function prometheusType(def: Pick<MetricDefinition, 'kind'>): 'counter' | 'histogram' | 'gauge' {
  return def.kind;
}
