/**
 * otel-business-metrics: the public API. Everything not exported here is internal and free to change.
 */
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
  type ActiveUsersWindow,
  type BusinessMetricsLimits,
  type BusinessMetricsOptions,
  type BusinessMetricsRecorder,
  type ConversionMetadata,
  type FeatureUsageMetadata,
  type FunnelStepMetadata,
  type RevenueMetadata,
  type SessionMetadata,
} from './metrics/business-metrics';
export { businessMetrics } from './metrics/singleton';
export { businessMetricViews } from './metrics/views';
export { installShutdownHooks, type ShutdownHookOptions } from './lifecycle';
export {
  ALL_METRIC_LIST,
  BUSINESS_METRICS,
  BUSINESS_METRIC_LIST,
  CHECKOUT_STEPS,
  DEFAULT_LABEL_POLICIES,
  OTHER_LABEL_VALUE,
  PROMETHEUS_FAMILIES,
  SELF_METRICS,
  UNKNOWN_LABEL_VALUE,
  collectorPrometheusName,
  prometheusFamilyName,
  type AllowListPolicy,
  type BusinessLabelKey,
  type BusinessMetricKey,
  type CappedPolicy,
  type LabelPolicy,
  type MetricDefinition,
  type MetricKind,
} from './catalog';
export { SCOPE_NAME, VERSION } from './version';
export * from './trackers';
export * from './analysis';
