/**
 * src/integrations/express/engagement-router.ts directly, on a real Express app over a real socket: the router
 * records a valid batch with the seed's engagement semantics and answers 202; it refuses other methods, malformed,
 * hostile, non-JSON and oversized bodies with the core's statuses and JSON errors and records nothing for them;
 * a flood from one client gets 429 with Retry-After once its bucket is empty; behind an app-wide `express.json()`
 * that read the body first, it takes what that parser parsed and still holds it to the 16 kB limit; with
 * `trust proxy`, each forwarded client (`req.ip`) has its own bucket.
 */
import { gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import express from 'express';
import { type BusinessMetricsHandle, initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../../src';
import { engagementRouter, metricsMiddleware } from '../../../src/integrations/express';
import { parseExposition, sumOf } from '../../../examples/shop/server/exposition';
import { listenOnLoopback } from '../../support/http';

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
    app.set('trust proxy', 'loopback');
    app.use('/api/engagement', engagementRouter({ rateLimit: { capacity: 10, refillPerSecond: 0.001 } }));
    app.use('/limited', engagementRouter({ rateLimit: { capacity: 5, refillPerSecond: 0.5 } }));
    app.use('/per-client', engagementRouter({ rateLimit: { capacity: 1, refillPerSecond: 0.001 } }));
    app.use('/parsed', express.json({ limit: '1mb' }), engagementRouter({ rateLimit: false }));
    app.use('/raw', express.raw({ type: '*/*', limit: '1mb' }), engagementRouter({ rateLimit: false }));
    app.use('/text', express.text({ type: '*/*', limit: '1mb' }), engagementRouter({ rateLimit: false }));
    app.get('/metrics', metricsMiddleware(telemetry));
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

  it('takes the body an app-wide express.json() parsed, and holds it to the 16 kB limit', async () => {
    const parsed = await post(
      '/parsed',
      JSON.stringify({ session, events: [{ kind: 'feature', name: 'parsed' }] }),
    );
    expect([parsed.status, await parsed.json()]).toEqual([202, { accepted: 1 }]);
    expect(sumOf(await scrape(), FEATURE_USAGE, { feature_name: 'parsed' })).toBe(1);
    const big = await post(
      '/parsed',
      JSON.stringify({ session, events: [{ kind: 'feature', name: 'x'.repeat(17_000) }] }),
    );
    expect([big.status, await big.json()]).toEqual([413, { error: 'request body exceeds 16384 bytes' }]);
  });

  it('reads the bytes an app-wide express.raw() or express.text() kept, inflated, with the same limit', async () => {
    const batch = (name: string) => JSON.stringify({ session, events: [{ kind: 'feature', name }] });
    for (const path of ['/raw', '/text']) {
      const plain = await post(path, batch(`upstream_${path.slice(1)}`));
      expect([path, plain.status, await plain.json()]).toEqual([path, 202, { accepted: 1 }]);
      // The parser undid the gzip: the router must not try to again.
      const zipped = await fetch(`${base}${path}`, {
        method: 'POST',
        body: gzipSync(batch(`zipped_${path.slice(1)}`)),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      expect([path, zipped.status, await zipped.json()]).toEqual([path, 202, { accepted: 1 }]);
      const big = await post(path, batch('x'.repeat(17_000)));
      expect([path, big.status, await big.json()]).toEqual([
        path,
        413,
        { error: 'request body exceeds 16384 bytes' },
      ]);
    }
    const samples = await scrape();
    for (const name of ['upstream_raw', 'zipped_raw', 'upstream_text', 'zipped_text'])
      expect([name, sumOf(samples, FEATURE_USAGE, { feature_name: name })]).toEqual([name, 1]);
  });

  it('keys the rate limit by req.ip, so behind a trusted proxy each forwarded client has its own bucket', async () => {
    const body = JSON.stringify({ session, events: [{ kind: 'feature', name: 'per_client' }] });
    const from = (client: string) =>
      fetch(`${base}/per-client`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      }).then((r) => r.status);
    expect([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.2')]).toEqual([
      202, 429, 202,
    ]);
  });
});
