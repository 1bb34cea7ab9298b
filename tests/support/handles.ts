/**
 * The `initBusinessMetrics` handle the adapters' tests serve from: its exposition served on the app's own server
 * only (the package opens no port of its own) and no environment read, so a developer's `OTEL_*` variables cannot
 * change what a test sees.
 *
 * Owns: those options. Must not touch: assertions.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';

/**
 * A handle with the Prometheus exporter whose `/metrics` the app serves (`preventServerStart`), env ignored. No
 * final-scrape hand-over: the adapters' scrapes count for it, and a test's shutdown would wait for one more.
 */
export function appServedHandle(): BusinessMetricsHandle {
  return initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true, finalScrapeTimeoutMillis: 0 },
    env: {},
  });
}
