/**
 * Public surface of the Prometheus exporter: the pull reader, the serializer and the name translation.
 *
 * Folder src/exporters/prometheus/. Owns: the pull path: the reader and its `/metrics` server (pull-reader.ts),
 * the one scrape path every `/metrics` of the package answers through (scrape-endpoint.ts), content negotiation
 * (negotiation.ts), the exposition serializer (serializer.ts); this file only re-exports.
 * Must not touch: instruments, recording, the SDK's private state, the catalog's definitions.
 * Must not import: `src/metrics/`, `src/guard/`, `src/catalog/metrics.ts`, `src/catalog/labels.ts`, `express`, `fastify`, `@nestjs/*`, `hono`, `next`.
 */
export { PrometheusPullReader } from './pull-reader';
export type { PrometheusAuth, PrometheusPullReaderOptions } from './pull-reader';
export { isLoopbackHost, scraperAuth } from './scraper-auth';
export type { ScraperAuth, ScraperCredentials } from './scraper-auth';
export {
  serializePrometheus,
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
  exponentialAsExplicit,
  PROMETHEUS_TEXT_CONTENT_TYPE,
  OPENMETRICS_CONTENT_TYPE,
} from './serializer';
export type { ExpositionFormat, PrometheusSerializerOptions } from './serializer';
export { acceptsGzip, chooseFormat, negotiate } from './negotiation';
export {
  otelToPrometheusName,
  upstreamPrometheusName,
  prometheusMetricName,
  prometheusLabelName,
  shapeOfKind,
} from '../../catalog/prometheus-naming';
export type { OtlpMetricShape, PrometheusMetricNaming } from '../../catalog/prometheus-naming';
