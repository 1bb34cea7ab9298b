/**
 * The `initBusinessMetrics` handle the adapters' tests serve from: its exposition served on the app's own server
 * only (the package opens no port of its own) and no environment read, so a developer's `OTEL_*` variables cannot
 * change what a test sees; and a push exporter that sends nothing, for tests that need init's SDK MeterProvider.
 *
 * Owns: those options and that exporter. Must not touch: assertions.
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

/**
 * A push exporter that succeeds at once and sends nothing anywhere: with it beside `prometheus`, init builds its SDK
 * MeterProvider (pull-only apps do not), timed by `otlp.exportIntervalMillis` as the OTLP exporter is.
 */
export function quietPushExporter(): {
  export(metrics: unknown, done: (result: { code: number }) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
} {
  return {
    export: (_, done) => done({ code: 0 }),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
