/**
 * otel-business-metrics: the root entry point's public API. Everything not exported here or from a subpath entry
 * point (`/express`, `/browser`, `/react`, `/analysis`) is internal and free to change.
 *
 * Folder src/ (top-level files). Owns: the root export list (this file), initBusinessMetrics and the one live
 * handle (init.ts), opt-in signal hooks (lifecycle.ts), version and scope name (version.ts). Must not touch: what a
 * subfolder owns; the subpath entry points (the root re-exports none of them, so an app that only records never
 * loads Express, browser, React or analysis code). Nothing test-only is exported.
 *
 * The reference below stays in the emitted index.d.ts (`preserve`): the declarations use Node's types (`node:http`,
 * `Buffer`, `NodeJS.Signals`), and TypeScript 6 and 7 load no `@types` package unless something names it, so a
 * strict consumer without `"types": ["node"]` would otherwise get errors inside this package's .d.ts files.
 * Must not import: `src/analysis/`, `src/browser/`, `src/react/`, `src/integrations/`, `src/cli/`, `src/dashboards/`, `src/insights/`.
 */
/// <reference types="node" preserve="true" />
export { initBusinessMetrics, type BusinessMetricsHandle, type PrometheusEndpoint } from './init';
export type {
  ExporterKind,
  ExporterSpec,
  InitOptions,
  OtlpOptions,
  PrometheusOptions,
} from './config/options';
export {
  PrometheusPullReader,
  serializePrometheus,
  otelToPrometheusName,
  type ExpositionFormat,
  type PrometheusAuth,
  type PrometheusMetricNaming,
  type PrometheusPullReaderOptions,
  type PrometheusSerializerOptions,
} from './exporters/prometheus';
export {
  BusinessMetrics,
  DEFAULT_LIMITS,
  type ActiveUserMetadata,
  type ActiveUsersOptions,
  type ActiveUsersWindow,
  type BusinessMetricsLimits,
  type BusinessMetricsOptions,
  type BusinessMetricsRecorder,
  type ConversionMetadata,
  type FeatureUsageMetadata,
  type FunnelStepMetadata,
  type RefundMetadata,
  type RevenueMetadata,
  type SessionMetadata,
} from './metrics/business-metrics';
export { businessMetrics } from './metrics/singleton';
export {
  ISO_CURRENCY_CODES,
  icuMinorUnitExponent,
  minorToUnits,
  type CurrencyProblem,
  type MoneyOptions,
} from './money/currencies';
export type { MoneyConfig } from './money/money';
export type { ExchangeRates, ReportingCurrencyOptions } from './money/exchange-rates';
export { businessMetricViews } from './metrics/views';
export { installShutdownHooks, type ShutdownHookOptions } from './lifecycle';
export { watchWorkerThread, type ClusterOptions, type ClusterFailureReason, type GaugeRule } from './cluster';
export {
  ALL_METRIC_LIST,
  BUSINESS_METRICS,
  BUSINESS_METRIC_LIST,
  CHECKOUT_STEPS,
  DEFAULT_LABEL_POLICIES,
  OTHER_LABEL_VALUE,
  PROMETHEUS_FAMILIES,
  PROMETHEUS_SELF_FAMILIES,
  REFUND_REASONS,
  SELF_METRICS,
  UNKNOWN_LABEL_VALUE,
  prometheusFamilyName,
  type AllowListPolicy,
  type BusinessLabelKey,
  type BusinessMetricKey,
  type CappedPolicy,
  type LabelPolicy,
  type MetricDefinition,
  type MetricKind,
} from './catalog';
export {
  RUNTIME_METRICS,
  RUNTIME_PROMETHEUS_FAMILIES,
  type RuntimeMetricsOptions,
} from './runtime/node-runtime';
export { SCOPE_NAME, VERSION } from './version';
export * from './trackers';
// The correlation toolkit is the separate entry point `otel-business-metrics/analysis` (src/analysis/index.ts).
export type { RedisClientLike, RedisStoreOptions, UserHashKey } from './active-users';
