/**
 * The `initBusinessMetrics` handle the adapters' tests serve from: its exposition served on the app's own server
 * only (the package opens no port of its own) and no environment read, so a developer's `OTEL_*` variables cannot
 * change what a test sees; and a push exporter that sends nothing, for tests that need init's SDK MeterProvider.
 *
 * Also a handle whose collection holds a callback that never settles, for the scrape endpoints' deadline tests.
 *
 * Owns: those options, that exporter and that app. Must not touch: assertions.
 */
import { initBusinessMetrics, type BusinessMetricsHandle, type ExporterSpec } from '../../src';

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

/** What a scraper with a deadline of half a second sends (Prometheus: `scrape_timeout: 500ms`). */
export const HALF_SECOND_SCRAPER = { 'x-prometheus-scrape-timeout-seconds': '0.5' } as const;

/**
 * A handle served by the app, with a configured scrape deadline far longer than a scraper's (20 s), so only the
 * scraper's header can make an answer come in time; its app counted `app_requests_total` 2 and has a gauge
 * `app.db.rows` whose callback never settles (a database query that never answers), which an answer in time
 * leaves out. Shut it down with a `timeoutMillis`: the hung callback would hold a shutdown to its default.
 */
export function handleWithHungGauge(exporters: ExporterSpec[] = ['prometheus']): BusinessMetricsHandle {
  const telemetry = initBusinessMetrics({
    exporters,
    prometheus: { preventServerStart: true, scrapeTimeoutMillis: 20_000 },
    env: {},
  });
  const meter = telemetry.meterProvider.getMeter('app');
  meter.createCounter('app.requests').add(2);
  meter.createObservableGauge('app.db.rows').addCallback(() => new Promise<void>(() => undefined));
  return telemetry;
}
