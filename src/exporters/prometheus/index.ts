/**
 * Public surface of the Prometheus exporter: the pull reader, the serializer and the name translation.
 *
 * Folder src/exporters/prometheus/. Owns: the pull path: the SDK reader (pull-reader.ts, loaded on first use) and the
 * `/metrics` server it and a pull-only app serve through (pull-server.ts),
 * the one scrape path every `/metrics` of the package answers through (scrape-endpoint.ts), content negotiation
 * (negotiation.ts), the exposition serializer (serializer.ts); this file only re-exports.
 * Must not touch: instruments, recording, the SDK's private state, the catalog's definitions.
 * Must not import: `src/metrics/`, `src/guard/`, `src/catalog/metrics.ts`, `src/catalog/labels.ts`, `express`, `fastify`, `@nestjs/*`, `hono`, `next`.
 */
import type * as PullReaderModule from './pull-reader';
import { lazyClass } from '../../support';

export type { PrometheusAuth, PrometheusPullReaderOptions } from './pull-reader';
export { PrometheusPullServer, type PrometheusPullServerOptions } from './pull-server';

/** The pull `MetricReader` (pull-reader.ts). */
export type PrometheusPullReader = PullReaderModule.PrometheusPullReader;
/**
 * The pull `MetricReader` (pull-reader.ts), loaded on first use: its base class is the SDK's, and an app that only
 * serves scrapes through initBusinessMetrics never loads @opentelemetry/sdk-metrics (docs/performance.md#cold-start).
 */
export const PrometheusPullReader = lazyClass(
  () => (require('./pull-reader') as typeof PullReaderModule).PrometheusPullReader,
);
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
