/**
 * src/integrations/express/http-metrics.ts directly: `httpMetricsMiddleware` records `http.server.request.duration`
 * with the semantic-convention attributes and the advised buckets; `http.route` is the app's route pattern, never
 * the client's spelling of it, and the number of distinct routes is capped for the life of the process; 5xx and
 * aborted requests carry `error.type`. Real Express app, real sockets, real scrapes.
 */
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { type BusinessMetricsHandle, initBusinessMetrics, PROMETHEUS_SELF_FAMILIES } from '../../../src';
import {
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  engagementRouter,
  httpMetricsMiddleware,
  metricsMiddleware,
} from '../../../src/integrations/express';
import { otelToPrometheusName } from '../../../src/exporters/prometheus';
import { parseExposition, sumOf } from '../../../examples/shop/server/exposition';
import { listenOnLoopback } from '../../support/http';

const COUNT = `${otelToPrometheusName(HTTP_SERVER_REQUEST_DURATION, 's', 'histogram')}_count`;

function caseVariant(text: string, i: number): string {
  return [...text].map((ch, j) => ((i >> j) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

describe('http.route over a real socket', () => {
  let telemetry: BusinessMetricsHandle;
  let server: Server;
  let base: string;

  const listen = async (app: Express) => {
    ({ server, base } = await listenOnLoopback(app));
  };
  const routesSeen = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const routes = new Map<string, number>();
    for (const s of parseExposition(text)) {
      if (s.name !== COUNT) continue;
      const route = s.labels.http_route ?? '(none)';
      routes.set(route, (routes.get(route) ?? 0) + s.value);
    }
    return routes;
  };

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown({ timeoutMillis: 2000 });
  });

  it('records http.server.request.duration with semconv attributes, routes and error.type', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const app = express();
    app.use(httpMetricsMiddleware({ meter: telemetry.meterProvider.getMeter('test-app') }));
    app.use('/api/engagement', engagementRouter({ rateLimit: false }));
    app.get('/metrics', metricsMiddleware(telemetry));
    app.get('/boom/:id', () => {
      throw new Error('kaput');
    });
    await listen(app);
    const session = { userTier: 'pro', entryPage: '/', isNewUser: false };
    const batch = JSON.stringify({ session, events: [{ kind: 'feature', name: 'search' }] });
    const headers = { 'content-type': 'application/json' };
    expect((await fetch(`${base}/api/engagement`, { method: 'POST', headers, body: batch })).status).toBe(
      202,
    );
    expect((await fetch(`${base}/boom/42`)).status).toBe(500);
    const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
    // The package's exporter names families like the OTel Collector does (unit `s` -> `_seconds`).
    const name = otelToPrometheusName(HTTP_SERVER_REQUEST_DURATION, 's', 'histogram');
    expect(
      sumOf(samples, `${name}_count`, {
        http_request_method: 'GET',
        http_route: '/boom/:id',
        http_response_status_code: '500',
        error_type: '500',
        otel_scope_name: 'test-app',
      }),
    ).toBe(1);
    expect(
      sumOf(samples, `${name}_count`, { http_route: '/api/engagement', http_response_status_code: '202' }),
    ).toBeGreaterThanOrEqual(1);
    // The advised buckets made it into the exposition, so latency SLOs can use them.
    const les = samples
      .filter((s) => s.name === `${name}_bucket` && s.labels.http_route === '/boom/:id')
      .map((s) => s.labels.le);
    expect(les).toEqual([...HTTP_SERVER_DURATION_BUCKETS.map(String), '+Inf']);
  });

  it('labels letter-case variants, params and mounts with the registered pattern only', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const app = express();
    app.use(httpMetricsMiddleware({ telemetry }));
    app.get('/metrics', metricsMiddleware(telemetry));
    app.use('/api/engagement', engagementRouter({ rateLimit: false }));
    app.use('/second', engagementRouter({ rateLimit: false }));
    const tenants = express.Router();
    const orders = express.Router();
    orders.get('/:order', (_req, res) => void res.send('order'));
    tenants.use('/orders', orders);
    app.use('/t/:tenant', tenants);
    const admin = express();
    admin.get('/panel', (_req, res) => void res.send('panel'));
    app.use('/admin', admin);
    await listen(app);

    const variants = 600;
    for (let i = 0; i < variants; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) => fetch(`${base}/${caseVariant('api/engagement', i + k)}`)),
      );
    }
    for (let i = 0; i < 40; i++) await fetch(`${base}/T/tenant-${i}/ORDERS/${i}`);
    await fetch(`${base}/SECOND`);
    await fetch(`${base}/ADMIN/Panel`);
    await fetch(`${base}/no/such/page-${Date.now()}`);

    const routes = await routesSeen();
    expect(routes.get('/api/engagement')).toBe(variants);
    expect(routes.get('/second')).toBe(1);
    expect(routes.get('/t/:tenant/orders/:order')).toBe(40);
    expect(routes.get('/admin/panel')).toBe(1);
    expect(routes.get('(none)')).toBe(1); // the 404: no route matched, so no http.route
    expect([...routes.keys()].sort()).toEqual(
      ['(none)', '/admin/panel', '/api/engagement', '/second', '/t/:tenant/orders/:order'].sort(),
    );
  });

  it('records routes beyond maxRoutes as "other" for the life of the process, counted in the self-metrics', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const app = express();
    app.use(httpMetricsMiddleware({ telemetry, maxRoutes: 3 }));
    app.get('/metrics', metricsMiddleware(telemetry));
    for (let i = 0; i < 6; i++) app.get(`/r${i}`, (_req, res) => void res.send('ok'));
    await listen(app);
    for (let i = 0; i < 6; i++) await fetch(`${base}/r${i}`);
    await routesSeen();
    // A new collection does not reset the cap (the SDK's cardinality limit would).
    for (let i = 0; i < 6; i++) await fetch(`${base}/r${i}`);
    const routes = await routesSeen();
    // The first three routes seen keep their label; /r3-/r5 and /metrics (first answered after them) do not. A
    // scrape's own request is recorded after its response, so the second scrape sees the first one only.
    expect(Object.fromEntries(routes)).toEqual({ '/r0': 2, '/r1': 2, '/r2': 2, other: 3 + 3 + 1 });
    const text = await (await fetch(`${base}/metrics`)).text();
    const overflow = parseExposition(text).filter(
      (s) => s.name === PROMETHEUS_SELF_FAMILIES.labelOverflow && s.labels.label === 'http.route',
    );
    expect(overflow.map((s) => [s.labels.metric, s.labels.reason, s.value])).toEqual([
      ['http_server_request_duration_seconds', 'cap', 3 + 3 + 2],
    ]);
  });

  it('keeps patterns and the cap with a meter of an app-owned provider (SDK histogram)', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const app = express();
    app.use(httpMetricsMiddleware({ meter: telemetry.meterProvider.getMeter('t'), maxRoutes: 2 }));
    app.get('/metrics', metricsMiddleware(telemetry));
    app.use('/api/engagement', engagementRouter({ rateLimit: false }));
    app.get('/a/:id', (_req, res) => void res.send('a'));
    app.get('/b', (_req, res) => void res.send('b'));
    await listen(app);
    for (let i = 0; i < 40; i++) await fetch(`${base}/${caseVariant('api/engagement', i)}`);
    await fetch(`${base}/A/1`);
    await fetch(`${base}/b`);
    const routes = await routesSeen();
    expect(Object.fromEntries(routes)).toEqual({ '/api/engagement': 40, '/a/:id': 1, other: 1 });
  });

  it('answers error.type for 5xx and aborted requests, the status as an integer attribute', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const app = express();
    app.use(httpMetricsMiddleware({ telemetry }));
    app.get('/metrics', metricsMiddleware(telemetry));
    app.get('/fail', (_req, res) => void res.status(503).send('down'));
    let arrived: () => void = () => undefined;
    const hangArrived = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/hang', () => arrived());
    await listen(app);
    await fetch(`${base}/fail`);
    const aborted = new AbortController();
    const hanging = fetch(`${base}/hang`, { signal: aborted.signal }).catch(() => undefined);
    // Events, not sleeps: the server has the request, then the client aborts, then the aborted request is
    // recorded (when its connection closes; the test's timeout bounds the wait).
    await hangArrived;
    aborted.abort();
    await hanging;

    let samples: ReturnType<typeof parseExposition> = [];
    while (!samples.some((sample) => sample.labels.http_route === '/hang')) {
      samples = parseExposition(await (await fetch(`${base}/metrics`)).text()).filter(
        (sample) => sample.name === COUNT,
      );
    }
    const byRoute = Object.fromEntries(samples.map((s) => [s.labels.http_route, s.labels]));
    expect(byRoute['/fail']).toMatchObject({ http_response_status_code: '503', error_type: '503' });
    expect(byRoute['/hang']).toMatchObject({ error_type: 'aborted' });
    expect(byRoute['/hang']).not.toHaveProperty('http_response_status_code');
    expect(() => httpMetricsMiddleware({ telemetry: { metrics: {} } })).toThrow(/initBusinessMetrics/);
  });

  it('refuses a malformed maxRoutes at construction', () => {
    telemetry = initBusinessMetrics({ exporters: ['none'] });
    const meter = telemetry.meterProvider.getMeter('t');
    expect(() => httpMetricsMiddleware({ meter, maxRoutes: -1 })).toThrow(RangeError);
    expect(() => httpMetricsMiddleware({ meter, maxRoutes: 1.5 })).toThrow(/maxRoutes/);
    server = express().listen(0, '127.0.0.1');
  });
});
