/**
 * src/config/defaults.ts directly: the defaults are the OpenTelemetry specification's where it gives one (the
 * Prometheus exporter's port 9464 and path, OTLP's endpoints, protocol, interval and timeout), loopback for the pull
 * endpoint, frozen so no module can change them for the others, and what resolveConfig gives with no option and
 * no environment. `service.instance.id` defaults to a fresh random UUID per call.
 */
import { resolveConfig } from '../../src/config/options';
import {
  DEFAULT_LIMITS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  EXPORT_DEADLINE_MARGIN_MS,
  defaultServiceInstanceId,
  MAX_TIMER_MILLIS,
  OTLP_DEFAULTS,
  PROMETHEUS_DEFAULTS,
} from '../../src/config/defaults';

it("are the specification's defaults, loopback for the pull endpoint", () => {
  expect(PROMETHEUS_DEFAULTS).toEqual({
    host: '127.0.0.1',
    port: 9464,
    endpoint: '/metrics',
    // Well under Prometheus's default 10 s scrape_timeout.
    scrapeTimeoutMillis: 5000,
    scrapeHeaderShare: 0.9,
    minScrapeDeadlineMillis: 100,
    collectionShare: 0.8,
    maxRunningCollections: 2,
    abandonAfterDeadlines: 2,
    maxAbandonedCollections: 8,
  });
  expect(OTLP_DEFAULTS).toEqual({
    protocol: 'http/protobuf',
    httpEndpoint: 'http://localhost:4318',
    httpMetricsPath: '/v1/metrics',
    grpcEndpoint: 'http://localhost:4317',
    exportIntervalMillis: 60_000, // OTEL_METRIC_EXPORT_INTERVAL
    exportTimeoutMillis: 30_000, // OTEL_METRIC_EXPORT_TIMEOUT
    exporterTimeoutMillis: 10_000, // OTEL_EXPORTER_OTLP_TIMEOUT
    temporality: 'cumulative',
    compression: 'none',
  });
  expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBe(5000);
  // What the OTLP reader waits past its exporter's own timeout: the exporter's failure, counted, comes first.
  expect(EXPORT_DEADLINE_MARGIN_MS).toBe(100);
  // Node's largest timer delay (a signed 32-bit integer): options and the scrape deadline are checked against it.
  expect(MAX_TIMER_MILLIS).toBe(2 ** 31 - 1);
  expect(DEFAULT_LIMITS).toEqual({
    maxSeriesPerMetric: 2000,
    maxLabelLength: 64,
    maxAmountCents: 1_000_000_000_000,
    maxDurationSeconds: 2_592_000,
    maxActiveUsers: 10_000_000_000,
  });
});

it('are frozen', () => {
  for (const defaults of [PROMETHEUS_DEFAULTS, OTLP_DEFAULTS, DEFAULT_LIMITS])
    expect(Object.isFrozen(defaults)).toBe(true);
  expect(() => {
    (PROMETHEUS_DEFAULTS as { port: number }).port = 1;
  }).toThrow(TypeError);
});

it('are what resolveConfig gives without options or environment', () => {
  const config = resolveConfig({ exporters: ['prometheus', 'otlp'], env: {} });
  expect(config.prometheus).toMatchObject({ host: PROMETHEUS_DEFAULTS.host, port: PROMETHEUS_DEFAULTS.port });
  expect(config.otlp).toMatchObject({
    url: `${OTLP_DEFAULTS.httpEndpoint}${OTLP_DEFAULTS.httpMetricsPath}`,
    protocol: OTLP_DEFAULTS.protocol,
    exportIntervalMillis: OTLP_DEFAULTS.exportIntervalMillis,
    exportTimeoutMillis: OTLP_DEFAULTS.exportTimeoutMillis,
    exporterTimeoutMillis: OTLP_DEFAULTS.exporterTimeoutMillis,
    temporality: OTLP_DEFAULTS.temporality,
  });
});

it('gives a fresh random UUID as service.instance.id on each call', () => {
  const ids = new Set(Array.from({ length: 100 }, () => defaultServiceInstanceId()));
  expect(ids.size).toBe(100);
  for (const id of ids)
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
