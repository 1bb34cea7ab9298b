import type { Server } from 'node:http';
import express from 'express';
import { type BusinessMetricsHandle, initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../src';
import {
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  engagementRouter,
  httpMetricsMiddleware,
  metricsMiddleware,
} from '../../src/integrations/express';
import { otelToPrometheusName } from '../../src/exporters/prometheus';
import { parseExposition, sumOf } from '../../examples/shop/server/exposition';
import { listenOnLoopback } from '../support/http';

const FEATURE_USAGE = PROMETHEUS_FAMILIES.featureUsage;
const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const SESSION_DURATION = PROMETHEUS_FAMILIES.sessionDuration;
const session = { userTier: 'pro', entryPage: '/dashboard', isNewUser: true };

describe('Express integration over a real socket', () => {
  let telemetry: BusinessMetricsHandle;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    await telemetry.ready;
    const app = express();
    app.use(httpMetricsMiddleware({ meter: telemetry.meterProvider.getMeter('test-app') }));
    app.use('/api/engagement', engagementRouter({ rateLimit: { capacity: 10, refillPerSecond: 0.001 } }));
    app.use('/limited', engagementRouter({ rateLimit: { capacity: 5, refillPerSecond: 0.5 } }));
    app.get('/metrics', metricsMiddleware(telemetry));
    app.get('/metrics-bearer', metricsMiddleware(telemetry, { auth: { bearerToken: 's3cret' } }));
    app.get('/metrics-basic', metricsMiddleware(telemetry, { auth: { username: 'prom', password: 'pw' } }));
    app.get('/metrics-none', metricsMiddleware({ metricsHandler: undefined }));
    app.get('/boom/:id', () => {
      throw new Error('kaput');
    });
    ({ server, base } = await listenOnLoopback(app));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown({ timeoutMillis: 2000 });
  });

  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  const scrape = async () => parseExposition(await (await fetch(`${base}/metrics`)).text());

  it('records a valid batch and answers 202', async () => {
    const now = Date.now();
    const response = await post(
      '/api/engagement',
      JSON.stringify({
        session,
        events: [
          { kind: 'feature', name: 'dashboard_export' },
          { kind: 'milestone', name: 'first_chart_created' },
          { kind: 'session_end', sessionStartTime: now - 75_000, endedAt: now },
        ],
      }),
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 3 });
    const samples = await scrape();
    expect(
      sumOf(samples, FEATURE_USAGE, {
        feature_name: 'dashboard_export',
        user_tier: 'pro',
        is_new_user: 'true',
      }),
    ).toBe(1);
    expect(sumOf(samples, FUNNEL, { step: 'milestone_first_chart_created', source: 'in_app' })).toBe(1);
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { entry_page: '/dashboard', le: '60' })).toBe(0);
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { entry_page: '/dashboard', le: '120' })).toBe(1);
  });

  it.each([
    ['invalid JSON', '{"session":', 'application/json', 400, /not valid JSON/],
    [
      'an unknown field',
      JSON.stringify({ session, events: [{ kind: 'feature', name: 'x', evil: 1 }] }),
      'application/json',
      400,
      /unknown field "evil"/,
    ],
    [
      'a hostile name',
      JSON.stringify({ session, events: [{ kind: 'feature', name: '"}\nfoo 1' }] }),
      'application/json',
      400,
      /may only contain/,
    ],
    ['form data', 'kind=feature&name=x', 'application/x-www-form-urlencoded', 415, /application\/json/],
    [
      'an oversized body',
      JSON.stringify({ session, events: [{ kind: 'feature', name: 'x'.repeat(17_000) }] }),
      'application/json',
      413,
      /exceeds 16384 bytes/,
    ],
  ])('refuses %s with a JSON error', async (_what, body, contentType, status, message) => {
    const response = await post('/api/engagement', body, contentType);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it('refuses other methods with 405', async () => {
    const response = await fetch(`${base}/api/engagement`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('recorded nothing for the refused requests', async () => {
    const samples = await scrape();
    expect(sumOf(samples, FEATURE_USAGE)).toBe(1);
  });

  it('answers a flood with 429 and Retry-After once the bucket is empty', async () => {
    const body = JSON.stringify({ session, events: [{ kind: 'feature', name: 'flood' }] });
    const statuses = await Promise.all(Array.from({ length: 30 }, () => post('/limited', body)));
    const counts = statuses.reduce<Record<number, number>>(
      (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
      {},
    );
    expect(counts[202]).toBeGreaterThanOrEqual(5);
    expect(counts[202]).toBeLessThanOrEqual(7);
    expect(counts[429]).toBe(30 - (counts[202] ?? 0));
    const refused = statuses.find((r) => r.status === 429);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused?.json()).toEqual({ error: expect.stringMatching(/too many/) });
    const samples = await scrape();
    expect(sumOf(samples, FEATURE_USAGE, { feature_name: 'flood' })).toBe(counts[202]);
  });

  it('serves the exposition, behind bearer or basic auth when configured', async () => {
    expect((await fetch(`${base}/metrics-bearer`)).status).toBe(401);
    const wrong = await fetch(`${base}/metrics-bearer`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bearer = await fetch(`${base}/metrics-bearer`, { headers: { authorization: 'Bearer s3cret' } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toContain(FEATURE_USAGE);

    const basicChallenge = await fetch(`${base}/metrics-basic`);
    expect(basicChallenge.headers.get('www-authenticate')).toMatch(/^Basic/);
    const basic = await fetch(`${base}/metrics-basic`, {
      headers: { authorization: `Basic ${Buffer.from('prom:pw').toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    expect((await fetch(`${base}/metrics-none`)).status).toBe(503);
  });

  it('records http.server.request.duration with semconv attributes, routes and error.type', async () => {
    expect((await fetch(`${base}/boom/42`)).status).toBe(500);
    const samples = await scrape();
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
});
