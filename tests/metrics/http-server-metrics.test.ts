/**
 * src/metrics/http-server-metrics.ts, the port integrations record HTTP server metrics through: a finished request
 * as plain values becomes a series of `http.server.request.duration` with the semconv attributes, bounded by the
 * method allow-list and the route cap; one histogram per handle; never a throw into the app. Scraped through the
 * package's own exposition.
 */
import {
  MeterProvider,
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics, otelToPrometheusName, type BusinessMetricsHandle } from '../../src';
import {
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  httpServerMetrics,
} from '../../src/metrics/http-server-metrics';
import { parseExposition } from '../support/exposition';

const FAMILY = otelToPrometheusName(HTTP_SERVER_REQUEST_DURATION, 's', 'histogram');

describe('httpServerMetrics (the integrations port)', () => {
  let telemetry: BusinessMetricsHandle;
  beforeEach(() => {
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
  });
  afterEach(() => telemetry.shutdown({ timeoutMillis: 2000 }));

  const scrape = async () => parseExposition(await telemetry.metrics.getMetrics());
  // Routes recorded as `other` beyond the cap, each counted.
  const routeCapOverflows = (exposition: Awaited<ReturnType<typeof scrape>>) =>
    exposition.value('business_metrics_label_overflow_total', {
      metric: FAMILY,
      label: 'http.route',
      reason: 'cap',
    });

  it('records method, route, status and scheme with the semconv attributes', async () => {
    const http = httpServerMetrics({ telemetry });
    http.record('GET', '/product/:id', 200, false, 0.012);
    http.record('GET', '/product/:id', 200, false, 0.3);
    http.record('POST', '/checkout', 503, true, 0.05);
    http.record('BREW', undefined, 404, false, 0.001);
    http.record('GET', '/slow', undefined, false, 2);
    const exposition = await scrape();
    const count = (labels: Record<string, string>) => exposition.value(`${FAMILY}_count`, labels);
    expect(
      count({
        http_request_method: 'GET',
        http_route: '/product/:id',
        http_response_status_code: '200',
        url_scheme: 'http',
      }),
    ).toBe(2);
    expect(
      count({
        http_request_method: 'POST',
        http_route: '/checkout',
        http_response_status_code: '503',
        url_scheme: 'https',
        error_type: '503',
      }),
    ).toBe(1);
    // An unknown method is bounded to _OTHER; an unmatched request carries no http.route.
    const unmatched = exposition.find(`${FAMILY}_count`, { http_request_method: '_OTHER' });
    expect(unmatched.map((sample) => sample.labels.http_route)).toEqual([undefined]);
    expect(unmatched.map((sample) => sample.value)).toEqual([1]);
    // A client that went away: no status code, error.type aborted.
    const aborted = exposition.find(`${FAMILY}_count`, { http_route: '/slow' });
    expect(
      aborted.map((sample) => [sample.labels.error_type, sample.labels.http_response_status_code]),
    ).toEqual([['aborted', undefined]]);
  });

  it("shares one histogram per handle, and caps routes with the first recorder's maxRoutes", async () => {
    const first = httpServerMetrics({ telemetry, maxRoutes: 2 }, 'businessMetricsPlugin');
    const second = httpServerMetrics({ telemetry, maxRoutes: 50 });
    for (const route of ['/a', '/b', '/c', '/d']) first.record('GET', route, 200, false, 0.01);
    second.record('GET', '/e', 200, false, 0.01);
    const exposition = await scrape();
    const routes = exposition
      .find(`${FAMILY}_count`)
      .map((sample) => [sample.labels.http_route, sample.value]);
    expect(routes).toEqual([
      ['/a', 1],
      ['/b', 1],
      ['other', 3],
    ]);
    expect(routeCapOverflows(exposition)).toBe(3);
  });

  it("remembers each route's last series without changing what is recorded or counted", async () => {
    const http = httpServerMetrics({ telemetry, maxRoutes: 1 });
    // The same route with every label changing in turn, back and forth: each request lands in its own series.
    const requests: Array<[string | undefined, number | undefined, boolean]> = [
      ['GET', 200, false],
      ['GET', 500, false],
      ['GET', 200, false],
      ['POST', 200, false],
      ['GET', 200, true],
      ['GET', undefined, false],
      ['GET', 200, false],
      [undefined, 200, false],
    ];
    for (const [method, status, https] of requests) http.record(method, '/a', status, https, 0.01);
    // Beyond the cap: every request of a route recorded as other is counted, the third as the first.
    for (let i = 0; i < 3; i++) http.record('GET', '/b', 200, false, 0.01);
    // No route, twice.
    http.record('GET', undefined, 404, false, 0.01);
    http.record('GET', undefined, 404, false, 0.01);
    const exposition = await scrape();
    const series = exposition
      .find(`${FAMILY}_count`)
      .map(
        (sample) =>
          `${sample.labels.http_request_method} ${sample.labels.http_route} ${sample.labels.http_response_status_code ?? sample.labels.error_type} ${sample.labels.url_scheme} ${sample.value}`,
      )
      .sort();
    expect(series).toEqual([
      'GET /a 200 http 3',
      'GET /a 200 https 1',
      'GET /a 500 http 1',
      'GET /a aborted http 1',
      'GET other 200 http 3',
      'GET undefined 404 http 2',
      'POST /a 200 http 1',
      '_OTHER /a 200 http 1',
    ]);
    expect(routeCapOverflows(exposition)).toBe(3);
  });

  it('counts every request that goes to the overflow series once the series cap is reached', async () => {
    await telemetry.shutdown({ timeoutMillis: 2000 });
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {}, limits: { maxSeriesPerMetric: 1 } });
    const http = httpServerMetrics({ telemetry });
    http.record('GET', '/a', 200, false, 0.01);
    for (let i = 0; i < 3; i++) http.record('GET', '/b', 200, false, 0.01);
    const exposition = await scrape();
    expect(exposition.value(`${FAMILY}_count`, { http_route: '/a' })).toBe(1);
    expect(exposition.value('business_metrics_series_overflow_total', { metric: FAMILY })).toBe(3);
  });

  it('never throws into the app, and says what is wrong with its options at construction', async () => {
    const http = httpServerMetrics({ telemetry });
    const hostile = {
      toString: () => {
        throw new Error('no');
      },
    } as unknown as string;
    expect(() => http.record(hostile, hostile, 200, false, 0.01)).not.toThrow();
    expect(() => httpServerMetrics({ telemetry, maxRoutes: -1 }, 'plugin')).toThrow(
      new RangeError('plugin: maxRoutes must be an integer >= 0 (got -1)'),
    );
    expect(() => httpServerMetrics({ telemetry: { metrics: {} } })).toThrow(
      'httpMetricsMiddleware: telemetry must be the handle initBusinessMetrics returned (or pass a meter)',
    );
    expect(() => httpServerMetrics({})).toThrow(
      'httpMetricsMiddleware: pass { telemetry } (the initBusinessMetrics handle) or { meter }',
    );
  });

  it("records on a meter of the app's own provider, with the semconv buckets as advice", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const http = httpServerMetrics({ meter: provider.getMeter('app') });
      http.record('GET', '/', 200, false, 0.2);
      await reader.forceFlush();
      const metric = exporter.getMetrics().at(-1)!.scopeMetrics[0].metrics[0];
      expect(metric.descriptor.name).toBe(HTTP_SERVER_REQUEST_DURATION);
      expect(metric.dataPoints.map((point) => point.attributes)).toEqual([
        {
          'http.request.method': 'GET',
          'url.scheme': 'http',
          'http.route': '/',
          'http.response.status_code': 200,
        },
      ]);
      const histogram = metric.dataPoints[0].value as { buckets: { boundaries: number[] } };
      expect(histogram.buckets.boundaries).toEqual(HTTP_SERVER_DURATION_BUCKETS);
    } finally {
      await provider.shutdown();
    }
  });
});
