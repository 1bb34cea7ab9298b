/**
 * src/integrations/fastify/index.ts directly, on real Fastify 5 apps over loopback sockets. The entry point exports
 * the core's public list, the plugin and its declared Fastify range (the plugin carries the metadata Fastify reads,
 * as `fastify-plugin` would write it). Registered at the root, the plugin's hooks see the app's routes: HTTP
 * metrics keyed by the matched pattern, prefixes included (none for a 404), active users from the resolver given Fastify's request;
 * `/metrics` at its path behind auth that gets Fastify's request; the engagement route in a context of its own, so
 * it reads its body with the core's limits and answers in the core's JSON while the app's JSON parser stays as it
 * was, its rate limit keyed by `request.ip` (honouring `trustProxy`). A configuration mistake fails `ready()`.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../../src';
import * as entry from '../../../src/integrations/fastify';
import {
  businessMetricsPlugin,
  FASTIFY_VERSION_RANGE,
  type BusinessMetricsPluginOptions,
} from '../../../src/integrations/fastify';
import * as publicApi from '../../../src/integrations/http/public';
import { parseExposition } from '../../support/exposition';
import { exportNames, notReExported, words } from '../../support/entry-points';
import { recordedWhen } from '../../support/http-requests';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const SESSION = { userTier: 'pro', entryPage: '/', isNewUser: false };

describe('the entry point', () => {
  it("exports the core's public list, the plugin and its Fastify range, the rest re-exported as is", () => {
    const own = words('FASTIFY_VERSION_RANGE businessMetricsPlugin');
    expect(exportNames(entry)).toEqual([...exportNames(publicApi), ...own].sort());
    expect(notReExported(entry, [publicApi], own)).toEqual([]);
  });

  it('carries the metadata Fastify reads, as fastify-plugin writes it', () => {
    expect(FASTIFY_VERSION_RANGE).toBe('5.x');
    const plugin = businessMetricsPlugin as unknown as Record<symbol, unknown>;
    expect(plugin[Symbol.for('skip-override')]).toBe(true);
    expect(plugin[Symbol.for('fastify.display-name')]).toBe('otel-business-metrics');
    expect(plugin[Symbol.for('plugin-meta')]).toEqual({ name: 'otel-business-metrics', fastify: '5.x' });
  });
});

describe('the plugin on a real Fastify app', () => {
  let telemetry: BusinessMetricsHandle;
  let app: FastifyInstance;
  let base: string;
  const resolved: string[] = [];
  const authorised: string[] = [];

  beforeAll(async () => {
    telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
      activeUsers: { hashKey: 'fastify-plugin-test-key-0123456789' },
    });
    app = Fastify({ trustProxy: '127.0.0.1' });
    await app.register(businessMetricsPlugin, {
      telemetry,
      metrics: {
        path: '/internal/metrics',
        auth: (request: FastifyRequest) => {
          authorised.push(request.routeOptions.url ?? '');
          return request.headers['x-role'] === 'scraper';
        },
      },
      engagement: {
        features: ['search'],
        milestones: [],
        rateLimit: { capacity: 1, refillPerSecond: 0.001 },
      },
      activeUsers: {
        resolveUser: (request: FastifyRequest) => {
          const user = request.headers['x-user'];
          if (typeof user !== 'string') return undefined;
          resolved.push(`${request.method} ${user}`);
          return { userId: user, userTier: 'enterprise' };
        },
      },
    });
    // Registered after the plugin, outside its context: its root hooks still see them.
    app.get('/product/:id', async (request) => `product ${(request.params as { id: string }).id}`);
    app.post('/echo', async (request) => request.body);
    // In a prefixed context of its own: the route's pattern includes the prefix.
    await app.register(
      async (shop) => {
        shop.get('/orders/:orderId', async () => 'order');
      },
      { prefix: '/shop/:shopId' },
    );
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await telemetry?.shutdown({ timeoutMillis: 2000 });
  });

  const beacon = (client: string, body: unknown, contentType = 'application/json') =>
    fetch(`${base}/api/engagement`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-forwarded-for': client },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('is known to Fastify under its name', () => {
    expect(app.hasPlugin('otel-business-metrics')).toBe(true);
  });

  it("records the app's routes by pattern (prefixes included), a 404 without one", async () => {
    expect((await fetch(`${base}/product/1`)).status).toBe(200);
    expect((await fetch(`${base}/product/2`)).status).toBe(200);
    expect((await fetch(`${base}/PRODUCT/3`)).status).toBe(404);
    expect((await fetch(`${base}/shop/7/orders/9`)).status).toBe(200);
    const requests = await recordedWhen(
      telemetry,
      (r) =>
        r['GET /product/:id 200 http -'] === 2 &&
        r['GET - 404 http -'] === 1 &&
        r['GET /shop/:shopId/orders/:orderId 200 http -'] === 1,
    );
    expect(Object.keys(requests).filter((line) => /\/(product|PRODUCT|shop)\/\d/.test(line))).toEqual([]);
  });

  it("serves /metrics at its path to the scraper the auth check admits, given Fastify's request", async () => {
    authorised.length = 0;
    expect((await fetch(`${base}/internal/metrics`)).status).toBe(401);
    const answer = await fetch(`${base}/internal/metrics`, { headers: { 'x-role': 'scraper' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await answer.text()).toMatch(/^# TYPE http_server_request_duration_seconds histogram$/m);
    expect(authorised).toEqual(['/internal/metrics', '/internal/metrics']);
    expect((await fetch(`${base}/metrics`, { headers: { 'x-role': 'scraper' } })).status).toBe(404);
  });

  it("checks credentials before Fastify's body parsing: a POST without them is 401 whatever its body", async () => {
    const post = (contentType: string, body: string, extra: Record<string, string> = {}) =>
      fetch(`${base}/internal/metrics`, {
        method: 'POST',
        headers: { 'content-type': contentType, ...extra },
        body,
      });
    // Fastify itself would answer these 415 (no parser), 400 (malformed JSON) and 413 (over its body limit).
    expect((await post('application/xml', '<a/>')).status).toBe(401);
    expect((await post('application/json', '{"not json')).status).toBe(401);
    expect((await post('application/json', JSON.stringify({ pad: 'x'.repeat(1_100_000) }))).status).toBe(401);
    const admitted = await post('application/json', '{"not json', { 'x-role': 'scraper' });
    expect([admitted.status, admitted.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it("answers beacons with the core's limits and JSON, leaving the app's JSON parser as it was", async () => {
    const accepted = await beacon('203.0.113.1', {
      session: SESSION,
      events: [{ kind: 'feature', name: 'search' }],
    });
    expect([accepted.status, await accepted.json()]).toEqual([202, { accepted: 1 }]);
    const big = await beacon('203.0.113.2', {
      session: SESSION,
      events: [{ kind: 'feature', name: 'x'.repeat(17_000) }],
    });
    expect([big.status, await big.json()]).toEqual([413, { error: 'request body exceeds 16384 bytes' }]);
    const form = await beacon('203.0.113.3', 'kind=feature', 'text/plain');
    expect([form.status, await form.json()]).toEqual([
      415,
      { error: 'engagement events must be sent as application/json' },
    ]);
    const echoed = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ still: 'parsed', size: 'x'.repeat(17_000).length }),
    });
    expect(await echoed.json()).toEqual({ still: 'parsed', size: 17_000 });
    const exposition = parseExposition(await telemetry.metrics.getMetrics());
    expect(exposition.value(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'search' })).toBe(1);
  });

  it('keys the beacon rate limit by request.ip, the forwarded client behind the trusted proxy', async () => {
    const batch = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };
    const statuses: number[] = [];
    for (const client of ['198.51.100.1', '198.51.100.1', '198.51.100.2']) {
      statuses.push((await beacon(client, batch)).status);
    }
    expect(statuses).toEqual([202, 429, 202]);
  });

  it("counts active users from the resolver, which gets Fastify's request", async () => {
    resolved.length = 0;
    await fetch(`${base}/product/1`, { headers: { 'x-user': 'u1' } });
    await fetch(`${base}/product/2`, { headers: { 'x-user': 'u1' } });
    await fetch(`${base}/product/3`, { headers: { 'x-user': 'u2' } });
    expect(resolved).toEqual(['GET u1', 'GET u1', 'GET u2']);
    const daily = parseExposition(await telemetry.metrics.getMetrics()).find('business_active_users', {
      window: 'daily',
      user_tier: 'enterprise',
    });
    expect(daily.map((s) => s.value)).toEqual([2]);
  });
});

describe('configuration mistakes', () => {
  it.each<[BusinessMetricsPluginOptions, RegExp]>([
    [{ metrics: true }, /^businessMetricsPlugin: metrics needs telemetry/],
    [{ httpMetrics: { maxRoutes: -1 } }, /^businessMetricsPlugin: maxRoutes must be an integer >= 0/],
  ])('fail ready() at start-up: %p', async (options, message) => {
    const app = Fastify();
    try {
      await expect(app.register(businessMetricsPlugin, options).ready()).rejects.toThrow(message);
    } finally {
      // A Fastify whose boot failed may reject its close with the same error: it is shut either way.
      await app.close().catch(() => undefined);
    }
  });
});

describe('requests made with app.inject', () => {
  // light-my-request closes its response while its null socket still holds the bytes (writableFinished false).
  it('are recorded by their status, not as aborted (apps/fastify-inject.mjs)', async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      join(__dirname, '..', 'apps', 'fastify-inject.mjs'),
    ]);
    const { answers, exposition } = JSON.parse(stdout) as { answers: number[]; exposition: string };
    expect(answers).toEqual([200, 200, 500, 404]);
    const recorded = parseExposition(exposition)
      .find('http_server_request_duration_seconds_count')
      .map(
        (s) =>
          `${s.labels.http_route ?? '-'} ${s.labels.http_response_status_code ?? '-'} ${s.labels.error_type ?? '-'} ${s.value}`,
      )
      .sort();
    expect(recorded).toEqual(['- 404 - 1', '/boom 500 500 1', '/injected/:id 200 - 2']);
  });
});
