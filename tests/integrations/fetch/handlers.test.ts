/**
 * src/integrations/fetch/handlers.ts directly: Web handlers as Next.js route handlers and Hono routes call them.
 * `metricsHandler` answers `Response`s from the one scrape path (credentials, then negotiation and gzip, the
 * scraper's own deadline handed to the collection), serves the live handle by default (503 until init), hands the
 * exposition to Next.js uncompressed (a real `NextRequest`: Next.js compresses route answers itself), and refuses
 * credentials that could never match when built.
 * `engagementHandler` answers with the core's statuses and JSON, reads the Web body with the 16 kB limit (with or
 * without `Content-Length`; one the app read first is a 500 with its reason and one warning), and keys
 * its rate limit by the last `X-Forwarded-For` entry, your `clientAddress`, or the address a framework passes to
 * `forClient` (on a real Hono app); `lastForwardedFor` reads that entry.
 */
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { NextRequest } from 'next/server';
import { PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../../src';
import {
  engagementHandler,
  lastForwardedFor,
  metricsHandler,
} from '../../../src/integrations/fetch/handlers';
import { captureDiag } from '../../support/diag-messages';
import { appServedHandle, HALF_SECOND_SCRAPER, handleWithHungGauge } from '../../support/handles';
import { parseExposition } from '../../support/exposition';

const SESSION = { userTier: 'pro', entryPage: '/', isNewUser: false };
const ENGAGEMENT = { features: ['search'], milestones: ['first_purchase'] };

const BATCH = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };

/** A beacon's request init as a browser sends it (fetch adds Content-Length on the wire; a Request built here does not). */
function posted(body: unknown = BATCH, headers: Record<string, string> = {}): RequestInit {
  const text = JSON.stringify(body);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
    body: text,
  };
}

const beacon = (init: { body?: unknown; headers?: Record<string, string>; method?: string } = {}) =>
  new Request(
    'http://127.0.0.1/api/engagement',
    init.method === 'GET' ? { headers: init.headers } : posted(init.body, init.headers),
  );

let telemetry: BusinessMetricsHandle;
beforeEach(() => {
  telemetry = appServedHandle();
  telemetry.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
});
afterEach(() => telemetry.shutdown({ timeoutMillis: 2000 }));

describe('metricsHandler', () => {
  it('asks for credentials first, then serves OpenMetrics gzipped to a scraper that asks', async () => {
    const GET = metricsHandler({ telemetry, auth: { bearerToken: 'tok' } });
    const anonymous = await GET(new Request('http://127.0.0.1/metrics'));
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="metrics"',
    ]);
    const answer = await GET(
      new Request('http://127.0.0.1/metrics', {
        headers: {
          authorization: 'Bearer tok',
          accept: 'application/openmetrics-text;version=1.0.0',
          'accept-encoding': 'gzip',
        },
      }),
    );
    const negotiated = ['content-type', 'content-encoding', 'vary'].map((name) => answer.headers.get(name));
    expect([answer.status, negotiated]).toEqual([
      200,
      ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'gzip', 'Accept, Accept-Encoding'],
    ]);
    // A Response built by hand keeps its bytes as given: the gzip stream itself.
    const text = gunzipSync(Buffer.from(await answer.arrayBuffer())).toString();
    expect(text).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
    expect(text).toMatch(/# EOF\n$/);
  });

  it('hands the exposition to Next.js uncompressed, since Next.js compresses route answers itself', async () => {
    const GET = metricsHandler({ telemetry });
    const answer = await GET(
      new NextRequest('http://127.0.0.1/metrics', { headers: { 'accept-encoding': 'gzip, br' } }),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-encoding')).toBeNull();
    expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await answer.text()).toMatch(/^business_funnel_step_total\{.*\} 1$/m);
  });

  it('serves the live handle by default, and 503 naming the handler when there is none', async () => {
    const GET = metricsHandler();
    expect((await GET(new Request('http://127.0.0.1/metrics'))).status).toBe(200);
    await telemetry.shutdown({ timeoutMillis: 2000 });
    const none = await GET(new Request('http://127.0.0.1/metrics'));
    expect(none.status).toBe(503);
    expect(await none.text()).toMatch(/^# metricsHandler: otel-business-metrics is not initialised/);
  });

  it("answers within the scraper's X-Prometheus-Scrape-Timeout-Seconds, leaving out a callback that never settles", async () => {
    await telemetry.shutdown({ timeoutMillis: 2000 });
    telemetry = handleWithHungGauge();
    const headers = HALF_SECOND_SCRAPER;
    const started = Date.now();
    const answers = await Promise.all([
      metricsHandler({ telemetry })(new Request('http://127.0.0.1/metrics', { headers })),
      // The live handle (Next.js route handlers), and a NextRequest, whose encoding the handler rewrites.
      metricsHandler()(new NextRequest('http://127.0.0.1/metrics', { headers })),
    ]);
    // Answered, not hung (generous: the scraper said 0.5 s; the configured deadline would leave the callback 16 s).
    expect(Date.now() - started).toBeLessThan(5000);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).toMatch(/^app_requests_total\{otel_scope_name="app"\} 2$/m);
      expect(text).not.toMatch(/app_db_rows/);
    }
  });

  it('refuses credentials that could never match when it is built', () => {
    expect(() => metricsHandler({ auth: { username: 'pro:m', password: 'pw' } })).toThrow(TypeError);
    expect(() => metricsHandler({ auth: { bearerToken: '' } })).toThrow(/^metricsHandler: auth\.bearerToken/);
  });
});

describe('engagementHandler', () => {
  it('records an accepted batch (202) and refuses with the core answers as Responses', async () => {
    const POST = engagementHandler({ ...ENGAGEMENT, rateLimit: false });
    const accepted = await POST(beacon());
    expect([accepted.status, accepted.headers.get('content-type'), await accepted.json()]).toEqual([
      202,
      'application/json; charset=utf-8',
      { accepted: 1 },
    ]);
    const exposition = parseExposition(await telemetry.metrics.getMetrics());
    expect(exposition.value(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'search' })).toBe(1);

    const get = await POST(beacon({ method: 'GET' }));
    expect([get.status, get.headers.get('allow'), await get.json()]).toEqual([
      405,
      'POST',
      { error: 'use POST to send engagement events' },
    ]);
    const big = await POST(
      beacon({ body: { session: SESSION, events: [{ kind: 'feature', name: 'x'.repeat(17_000) }] } }),
    );
    expect([big.status, await big.json()]).toEqual([413, { error: 'request body exceeds 16384 bytes' }]);
  });

  it('keys the rate limit by the last X-Forwarded-For entry by default, or by your clientAddress', async () => {
    const limit = { capacity: 1, refillPerSecond: 0.001 };
    const POST = engagementHandler({ ...ENGAGEMENT, rateLimit: limit });
    const from = async (forwarded: string) =>
      (await POST(beacon({ headers: { 'x-forwarded-for': forwarded } }))).status;
    // The first entry is the client's claim; the last is what the nearest proxy saw.
    expect([
      await from('1.1.1.1, 203.0.113.1'),
      await from('2.2.2.2, 203.0.113.1'),
      await from('203.0.113.2'),
    ]).toEqual([202, 429, 202]);
    const keyed = engagementHandler({
      ...ENGAGEMENT,
      rateLimit: limit,
      clientAddress: (request) => request.headers.get('x-real-ip') ?? undefined,
    });
    const real = async (ip: string) =>
      (await keyed(beacon({ headers: { 'x-real-ip': ip, 'x-forwarded-for': '198.51.100.1' } }))).status;
    expect([await real('203.0.113.7'), await real('203.0.113.8'), await real('203.0.113.7')]).toEqual([
      202, 202, 429,
    ]);
  });

  it('reads a body that comes without Content-Length (in-process requests, streamed uploads) on a real Hono app', async () => {
    const handler = engagementHandler({ ...ENGAGEMENT, rateLimit: false });
    const app = new Hono();
    app.all('/api/engagement', (c) => handler.forClient(c.req.raw, '203.0.113.1'));
    const send = async (init: RequestInit) => {
      const answer = await app.request('/api/engagement', { method: 'POST', ...init });
      return [answer.status, await answer.json()];
    };
    const json = { 'content-type': 'application/json' };
    expect(await send({ headers: json, body: JSON.stringify(BATCH) })).toEqual([202, { accepted: 1 }]);
    const stream = new Blob([JSON.stringify(BATCH)]).stream();
    expect(await send({ headers: json, body: stream, duplex: 'half' } as RequestInit)).toEqual([
      202,
      { accepted: 1 },
    ]);
    // No body at all, or an empty one declared: not a JSON batch.
    const refused = { error: 'engagement events must be sent as application/json' };
    expect(await send({ headers: json })).toEqual([415, refused]);
    expect(await send({ headers: { ...json, 'content-length': '0' }, body: '' })).toEqual([415, refused]);
    const exposition = parseExposition(await telemetry.metrics.getMetrics());
    expect(exposition.value(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'search' })).toBe(2);
  });

  it('answers 500 with the reason, and warns once, when the app read the body before the handler', async () => {
    const diagnostics = captureDiag();
    try {
      const handler = engagementHandler({ ...ENGAGEMENT, rateLimit: false });
      const app = new Hono();
      // A global middleware that reads every JSON body first (Hono caches it for c.req.json(), not for the raw Request).
      app.use(async (c, next) => {
        await c.req.raw.clone().text();
        await c.req.raw.json().catch(() => undefined);
        return next();
      });
      app.all('/api/engagement', (c) => handler.forClient(c.req.raw, '203.0.113.1'));
      for (let i = 0; i < 2; i++) {
        const answer = await app.request('/api/engagement', posted());
        expect([answer.status, await answer.json()]).toEqual([
          500,
          { error: 'request body was read before the engagement handler' },
        ]);
      }
    } finally {
      diagnostics.stop();
    }
    expect(diagnostics.warnings).toEqual([
      expect.stringMatching(/^engagementHandler: the request body was read before the engagement endpoint/),
    ]);
  });

  it('keys the rate limit by the address a real Hono app passes to forClient', async () => {
    const handler = engagementHandler({ ...ENGAGEMENT, rateLimit: { capacity: 1, refillPerSecond: 0.001 } });
    const app = new Hono();
    app.all('/api/engagement', (c) => handler.forClient(c.req.raw, c.req.header('x-test-client')));
    const from = async (client: string) =>
      (
        await app.request(
          '/api/engagement',
          posted(BATCH, { 'x-test-client': client, 'x-forwarded-for': '9.9.9.9' }),
        )
      ).status;
    expect([await from('203.0.113.1'), await from('203.0.113.2'), await from('203.0.113.1')]).toEqual([
      202, 202, 429,
    ]);
  });
});

describe('lastForwardedFor', () => {
  it.each([
    [undefined, undefined],
    ['203.0.113.1', '203.0.113.1'],
    ['1.1.1.1,  203.0.113.1 ', '203.0.113.1'],
    ['203.0.113.1,', undefined],
    [`1.1.1.1, ${'a'.repeat(100)}`, 'a'.repeat(64)],
  ])('reads %p as %p', (header, client) => {
    const headers: Record<string, string> = header === undefined ? {} : { 'x-forwarded-for': header };
    expect(lastForwardedFor(new Request('http://127.0.0.1/', { headers }))).toBe(client);
  });
});
