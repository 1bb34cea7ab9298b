/**
 * src/integrations/http/adapter-options.ts directly: what the options of the Fastify plugin and the NestJS module
 * resolve to, without a framework. HTTP metrics are on exactly when a handle (or a meter) is given and off with
 * `false`; `/metrics`, the engagement route and active users are off unless asked for, at their default paths
 * when asked with `true`; each part it returns works (the recorder records into the handle, the endpoints answer,
 * the counter counts); and a configuration that cannot work throws at once, naming the adapter: metrics without a
 * handle, a malformed route cap, credentials that could never match, a malformed browser-name cap.
 */
import type { BusinessMetricsHandle } from '../../../src';
import { adapterParts, type AdapterOptions } from '../../../src/integrations/http/adapter-options';
import { appServedHandle } from '../../support/handles';
import { parseExposition } from '../../support/exposition';

const WHERE = 'testAdapter';
const DURATION_COUNT = 'http_server_request_duration_seconds_count';

let telemetry: BusinessMetricsHandle;
beforeEach(() => {
  telemetry = appServedHandle();
});
afterEach(() => telemetry.shutdown({ timeoutMillis: 2000 }));

const parts = (options: AdapterOptions<unknown>) => adapterParts<unknown>(options, WHERE);
const installed = (resolved: ReturnType<typeof parts>) =>
  Object.entries(resolved)
    .filter(([, part]) => part !== undefined)
    .map(([name]) => name)
    .sort();
const nodeGet = (url: string, headers: Record<string, string> = {}) => ({ method: 'GET', url, headers });

describe('defaults', () => {
  it('installs nothing without options', () => {
    expect(installed(parts({}))).toEqual([]);
  });

  it('records HTTP metrics into the handle when one is given, and nothing else', async () => {
    const resolved = parts({ telemetry });
    expect(installed(resolved)).toEqual(['httpMetrics']);
    resolved.httpMetrics!.record('GET', '/product/:id', 200, false, 0.01);
    const exposition = parseExposition(await telemetry.metrics.getMetrics());
    expect(
      exposition.value(DURATION_COUNT, { http_route: '/product/:id', http_response_status_code: '200' }),
    ).toBe(1);
  });

  it('turns HTTP metrics off with false, and records into a meter of your own without a handle', () => {
    expect(installed(parts({ telemetry, httpMetrics: false }))).toEqual([]);
    const meter = telemetry.meterProvider.getMeter('app-owned');
    expect(installed(parts({ httpMetrics: { meter, maxRoutes: 3 } }))).toEqual(['httpMetrics']);
  });

  it('serves /metrics and the engagement route at their default paths when asked with true', async () => {
    const resolved = parts({ telemetry, httpMetrics: false, metrics: true, engagement: true });
    expect(installed(resolved)).toEqual(['engagement', 'metrics']);
    expect(resolved.metrics!.path).toBe('/metrics');
    expect(resolved.engagement!.path).toBe('/api/engagement');
    const scrape = await resolved.metrics!.endpoint.answer(nodeGet('/metrics'), {});
    expect([scrape.status, scrape.headers['content-type']]).toEqual([
      200,
      'text/plain; version=0.0.4; charset=utf-8',
    ]);
    const beacon = await resolved.engagement!.endpoint({
      method: 'GET',
      header: () => undefined,
      client: '198.51.100.1',
      raw: {},
      body: () => Promise.reject(new Error('a GET has no body to read')),
    });
    expect([beacon.status, beacon.headers.allow]).toEqual([405, 'POST']);
  });
});

describe('options', () => {
  it('takes the paths, and hands the framework request to the auth check', async () => {
    const asked: unknown[] = [];
    const raw = { user: 'prometheus' };
    const resolved = parts({
      telemetry,
      metrics: {
        path: '/internal/metrics',
        auth: (request) => {
          asked.push(request);
          return false;
        },
      },
      engagement: { path: '/beacon', features: ['search'], milestones: [] },
    });
    expect([resolved.metrics!.path, resolved.engagement!.path]).toEqual(['/internal/metrics', '/beacon']);
    expect((await resolved.metrics!.endpoint.answer(nodeGet('/internal/metrics'), raw)).status).toBe(401);
    expect(asked).toEqual([raw]);
  });

  it('counts active users from the session by default, or with your resolver, into your recorder', () => {
    const calls: string[] = [];
    const metrics = {
      trackActiveUser: (id: string, { userTier }: { userTier: string }) => calls.push(`${id}/${userTier}`),
    };
    parts({ activeUsers: { metrics } }).countActiveUser!({ session: { userId: 'u1', userTier: 'pro' } });
    parts({ activeUsers: { metrics, resolveUser: () => ({ userId: 'u2', userTier: 'team' }) } })
      .countActiveUser!({});
    expect(calls).toEqual(['u1/pro', 'u2/team']);
    expect(installed(parts({ activeUsers: true }))).toEqual(['countActiveUser']);
    expect(installed(parts({ activeUsers: false }))).toEqual([]);
  });
});

describe('configuration errors, said at once and naming the adapter', () => {
  type Options = (handle: BusinessMetricsHandle) => AdapterOptions<unknown>;
  it.each<[string, Options, typeof TypeError, string | RegExp]>([
    [
      'metrics without a handle',
      () => ({ metrics: true }),
      TypeError,
      'testAdapter: metrics needs telemetry (the initBusinessMetrics handle)',
    ],
    [
      'HTTP metrics without a handle or meter',
      () => ({ httpMetrics: true }),
      TypeError,
      /^testAdapter: pass \{ telemetry \}/,
    ],
    [
      'a malformed route cap',
      (handle) => ({ telemetry: handle, httpMetrics: { maxRoutes: -1 } }),
      RangeError,
      'testAdapter: maxRoutes must be an integer >= 0 (got -1)',
    ],
    [
      'an empty bearer token',
      (handle) => ({ telemetry: handle, metrics: { auth: { bearerToken: '' } } }),
      TypeError,
      'testAdapter: auth.bearerToken must be a non-empty string',
    ],
    [
      'a malformed browser-name cap',
      () => ({ engagement: { maxBrowserNames: 1.5 } }),
      RangeError,
      'testAdapter engagement: maxBrowserNames must be an integer >= 0 (got 1.5)',
    ],
  ])('%s', (_what, options, type, message) => {
    expect(() => parts(options(telemetry))).toThrow(type);
    expect(() => parts(options(telemetry))).toThrow(message);
  });
});
