/**
 * One scenario table, run against every adapter on its real framework (Express, Fastify, NestJS on Express and on
 * Fastify, Hono on Node, a `next build && next start` app): the same shop, the same requests, the same answers.
 * Refusals (401, 405, 413, 415, 429), OpenMetrics and gzip on /metrics, the route label is the pattern, aborted and
 * failing requests, a beacon batch with events outside the allow-lists (the rest recorded, each refused one counted
 * and listed). Where a framework answers before the package can (Next.js's own 405 for a method a route does
 * not export), the row says so.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parseExposition, type Exposition } from '../support/exposition';
import { ADAPTERS, TOKEN, startScenarioApp, type Adapter, type ScenarioApp } from '../support/scenario-apps';
import { waitUntil } from '../support/wait';

const COUNT = 'http_server_request_duration_seconds_count';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const SESSION = { userTier: 'pro', entryPage: '/', isNewUser: false };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  json(): unknown;
}

async function send(
  app: ScenarioApp,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${app.base}${path}`, { ...init, redirect: 'manual' });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body,
    json: () => JSON.parse(body.toString()),
  };
}

const beacon = (app: ScenarioApp, body: unknown, from: string, contentType = 'application/json') =>
  send(app, '/api/engagement', {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-forwarded-for': from },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function scrape(app: ScenarioApp): Promise<Exposition> {
  const answer = await send(app, '/metrics', { headers: BEARER });
  expect(answer.status).toBe(200);
  return parseExposition(answer.body.toString());
}

/** A request the client gives up on before the app answers. */
function abandon(app: ScenarioApp, path: string): Promise<void> {
  const url = new URL(path, app.base);
  return new Promise((resolve) => {
    const req = request(url, { agent: false });
    req.on('error', () => resolve());
    req.on('socket', (socket) => socket.on('connect', () => setTimeout(() => req.destroy(), 300)));
    req.on('close', () => resolve());
    req.end();
  });
}

/** Wait (polling the app's own exposition) until `check` holds: recording happens when a response closes. */
async function eventually<T>(app: ScenarioApp, check: (exposition: Exposition) => T | undefined): Promise<T> {
  let result: T | undefined;
  await waitUntil(
    'the condition on the exposition',
    async () => (result = check(await scrape(app))) !== undefined,
    { timeoutMillis: 10_000, intervalMillis: 100 },
  );
  return result!;
}

describe.each(ADAPTERS)('the scenario table on %s', (adapter: Adapter) => {
  let app: ScenarioApp;
  beforeAll(
    async () => {
      app = await startScenarioApp(adapter);
    },
    adapter === 'next' ? 20 * 60_000 : 120_000,
  );
  afterAll(async () => {
    await app?.stop();
  });

  it('/metrics checks credentials first: 401 with a challenge for any method, then 405 with Allow', async () => {
    for (const method of ['GET', 'POST']) {
      const anonymous = await send(app, '/metrics', { method });
      // Next.js answers a method its route does not export itself, before any handler runs.
      if (adapter === 'next' && method === 'POST') {
        expect(anonymous.status).toBe(405);
        continue;
      }
      expect([method, anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
        method,
        401,
        'Bearer realm="metrics"',
      ]);
      expect(anonymous.body.toString()).not.toMatch(/business_/);
    }
    const wrong = await send(app, '/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const post = await send(app, '/metrics', { method: 'POST', headers: BEARER });
    expect(post.status).toBe(405);
    if (adapter !== 'next') expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('/metrics negotiates OpenMetrics and gzip, always with Vary; plain 0.0.4 text for a bare client', async () => {
    const prometheus = await send(app, '/metrics', {
      headers: {
        ...BEARER,
        accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        'accept-encoding': 'gzip',
      },
    });
    expect(prometheus.status).toBe(200);
    expect(prometheus.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    // Next.js adds its own Vary tokens (rsc, ...) before the package's.
    expect(prometheus.headers.get('vary')).toMatch(/(^|, )Accept, Accept-Encoding$/);
    // fetch decompresses; the header says it was sent gzipped. Next.js drops a route handler's own
    // Content-Encoding and compresses only types its filter knows (text/plain, not OpenMetrics): there the
    // package hands the exposition over uncompressed and Next.js gzips the 0.0.4 text (below).
    expect(prometheus.headers.get('content-encoding')).toBe(adapter === 'next' ? null : 'gzip');
    expect(prometheus.body.toString()).toMatch(/# EOF\n$/);
    expect(prometheus.body.toString()).toMatch(/^# TYPE target info$/m);

    const raw = await new Promise<Buffer>((resolve, reject) => {
      const req = request(new URL('/metrics', app.base), {
        headers: { ...BEARER, 'accept-encoding': 'gzip' },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end();
    });
    expect(gunzipSync(raw).toString()).toMatch(/^# HELP /);

    const plain = await send(app, '/metrics', { headers: { ...BEARER, 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers.get('vary')).toMatch(/(^|, )Accept, Accept-Encoding$/);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(() => parseExposition(plain.body.toString())).not.toThrow();
  });

  it('the engagement route refuses with the same statuses and JSON errors: 405, 415, 413, 400', async () => {
    const get = await send(app, '/api/engagement');
    expect(get.status).toBe(405);
    if (adapter !== 'next') {
      expect(get.headers.get('allow')).toBe('POST');
      expect(get.json()).toEqual({ error: 'use POST to send engagement events' });
    }
    const form = await beacon(app, 'kind=feature&name=search', '198.51.100.1', 'text/plain');
    expect([form.status, form.headers.get('content-type')]).toEqual([415, expect.stringMatching(/json/)]);
    const big = await beacon(
      app,
      { session: SESSION, events: [{ kind: 'feature', name: 'x'.repeat(17_000) }] },
      '198.51.100.2',
    );
    expect(big.status).toBe(413);
    expect(big.body.toString()).toMatch(/^\{/);
    const broken = await beacon(app, '{"session": {"userTier": ', '198.51.100.3');
    expect(broken.status).toBe(400);
    // NestJS's own body parser reads the body before the route does, and answers in Nest's JSON shape.
    expect(broken.json()).toMatchObject(
      adapter.startsWith('nest')
        ? { statusCode: 400, message: expect.any(String) }
        : { error: 'request body is not valid JSON' },
    );
    const unknownField = await beacon(
      app,
      { session: SESSION, events: [{ kind: 'feature', name: 'search', evil: 1 }] },
      '198.51.100.4',
    );
    expect([unknownField.status, unknownField.json()]).toEqual([
      400,
      { error: expect.stringMatching(/unknown field "evil"/) },
    ]);
  });

  it('the engagement route answers a flood from one client with 429 and Retry-After after its burst', async () => {
    const body = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };
    const answers = await Promise.all(Array.from({ length: 30 }, () => beacon(app, body, '203.0.113.77')));
    const accepted = answers.filter((a) => a.status === 202).length;
    const refused = answers.filter((a) => a.status === 429);
    // The default burst is 20, refilled at 2 per second while the 30 requests are answered.
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(24);
    expect(refused.length).toBe(30 - accepted);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.json()).toEqual({ error: expect.stringMatching(/too many/) });
    // Another client is not affected.
    expect((await beacon(app, body, '203.0.113.78')).status).toBe(202);
  });

  it('records an accepted batch and the checkout funnel with the derived session context', async () => {
    const before = await scrape(app);
    const searches = (e: Exposition) =>
      e.find('business_feature_usage_total', { feature_name: 'search' }).reduce((sum, s) => sum + s.value, 0);
    const accepted = await beacon(
      app,
      { session: SESSION, events: [{ kind: 'feature', name: 'search' }] },
      '198.51.100.20',
    );
    expect([accepted.status, accepted.json()]).toEqual([202, { accepted: 1 }]);
    const checkout = await send(app, '/api/checkout/complete?utm_source=newsletter', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148',
        cookie: 'experiment_variant=B',
      },
      body: JSON.stringify({
        orderValue: 2599,
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu_west',
      }),
    });
    expect(checkout.status).toBeLessThan(300);
    const after = await scrape(app);
    expect(searches(after) - searches(before)).toBe(1);
    expect(
      after.value('business_funnel_step_total', {
        step: 'order_confirmed',
        source: 'newsletter',
        device_type: 'mobile',
        experiment_variant: 'B',
      }),
    ).toBe(1);
    expect(after.value('business_revenue_cents_total', { region: 'eu_west', currency: 'USD' })).toBe(2599);
  });

  it('records the allowed events of a batch, counts and lists each refused one, and 400s a batch of refused only', async () => {
    const DROPPED = 'business_metrics_dropped_total';
    const searches = (e: Exposition) =>
      e.find('business_feature_usage_total', { feature_name: 'search' }).reduce((sum, s) => sum + s.value, 0);
    const refusedCount = (e: Exposition, metric: string) =>
      e.find(DROPPED, { metric, reason: 'not_allowed' }).reduce((sum, s) => sum + s.value, 0);
    const before = await scrape(app);
    // A deploy renamed a feature and a milestone the pages still report: the rest of the batch must not be lost.
    const mixed = await beacon(
      app,
      {
        session: SESSION,
        events: [
          { kind: 'feature', name: 'wishlist' },
          { kind: 'feature', name: 'search' },
          { kind: 'milestone', name: 'first_order' },
        ],
      },
      '198.51.100.30',
    );
    expect([mixed.status, mixed.headers.get('content-type'), mixed.json()]).toEqual([
      202,
      expect.stringMatching(/application\/json/),
      {
        accepted: 1,
        refused: 2,
        refusals: [
          {
            index: 0,
            reason: 'not_allowed',
            error: '"events[0].name": feature "wishlist" is not an accepted feature name',
          },
          {
            index: 2,
            reason: 'not_allowed',
            error: '"events[2].name": milestone "first_order" is not an accepted milestone name',
          },
        ],
      },
    ]);
    const onlyRefused = await beacon(
      app,
      { session: SESSION, events: [{ kind: 'feature', name: 'wishlist' }] },
      '198.51.100.31',
    );
    expect([onlyRefused.status, onlyRefused.json()]).toEqual([
      400,
      {
        error: '"events[0].name": feature "wishlist" is not an accepted feature name',
        accepted: 0,
        refused: 1,
        refusals: [expect.objectContaining({ index: 0, reason: 'not_allowed' })],
      },
    ]);
    const after = await scrape(app);
    expect(searches(after) - searches(before)).toBe(1);
    expect(after.find('business_feature_usage_total', { feature_name: 'wishlist' })).toEqual([]);
    expect(
      refusedCount(after, 'business_feature_usage_total') -
        refusedCount(before, 'business_feature_usage_total'),
    ).toBe(2);
    expect(
      refusedCount(after, 'business_funnel_step_total') - refusedCount(before, 'business_funnel_step_total'),
    ).toBe(1);
  });

  it('labels requests with the route pattern, never the path; unmatched paths get no route', async () => {
    for (let i = 0; i < 5; i++) expect((await send(app, app.productPath(`p-${i}`))).status).toBeLessThan(500);
    for (let i = 0; i < 5; i++) await send(app, `/no/such/page-${i}`);
    const exposition = await eventually(app, (e) =>
      e.find(COUNT, { http_route: app.productRoute }).length > 0 ? e : undefined,
    );
    const routes = new Set(exposition.find(COUNT).map((s) => s.labels.http_route));
    expect(routes.has(app.productRoute)).toBe(true);
    expect(routes.has(app.checkoutRoute)).toBe(true);
    expect([...routes].filter((r) => r !== undefined && /p-\d|page-\d/.test(r))).toEqual([]);
    expect(
      exposition.find(COUNT, { http_route: app.productRoute }).reduce((sum, s) => sum + s.value, 0),
    ).toBeGreaterThanOrEqual(5);
  });

  it('records an aborted request as error.type="aborted" and a failing route as 500', async () => {
    await abandon(app, '/hang');
    expect((await send(app, '/boom')).status).toBe(500);
    const exposition = await eventually(app, (e) =>
      e.find(COUNT, { http_route: '/hang' }).length > 0 && e.find(COUNT, { http_route: '/boom' }).length > 0
        ? e
        : undefined,
    );
    const [hang] = exposition.find(COUNT, { http_route: '/hang' });
    expect(hang!.labels).toMatchObject({ error_type: 'aborted' });
    expect(hang!.labels).not.toHaveProperty('http_response_status_code');
    expect(exposition.find(COUNT, { http_route: '/boom' })[0]!.labels).toMatchObject({
      http_response_status_code: '500',
      error_type: '500',
    });
  });
});
