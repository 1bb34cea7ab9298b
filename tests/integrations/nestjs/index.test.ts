/**
 * src/integrations/nestjs/index.ts directly. The entry point exports the core's public list, the module and the
 * recorder's injection token. NestJS 12 is ESM-only (Jest cannot load it), so the module runs where Nest runs: a
 * real Nest app on the built package (tests/integrations/apps/nest-module.mjs), on the Express and on the Fastify
 * platform, with every `forRoot` option set away from its default. There the recorder
 * injected with `BUSINESS_METRICS` is the handle's; `/metrics` and the engagement route are at the paths given,
 * `/metrics` behind the auth check; the engagement rate limit keys on the platform's client address behind the
 * trusted proxy; requests are recorded under Nest's route pattern, and those the platform refuses before routing
 * (Nest's body parser on Express) without one; active users come from the resolver; and
 * `forRoot` throws for a configuration that cannot work, naming the module.
 */
import * as entry from '../../../src/integrations/nestjs';
import * as publicApi from '../../../src/integrations/http/public';
import { parseExposition, type Exposition } from '../../support/exposition';
import { exportNames, notReExported, words } from '../../support/entry-points';
import { startAppProcess, type AppProcess } from '../../support/scenario-apps';

const SESSION = { userTier: 'pro', entryPage: '/', isNewUser: false };

describe('the entry point', () => {
  it("exports the core's public list, the module and the injection token, the rest re-exported as is", () => {
    expect(entry.BUSINESS_METRICS).toBe('otel-business-metrics:BusinessMetrics');
    const own = words('BUSINESS_METRICS BusinessMetricsModule');
    expect(notReExported(entry, [publicApi], own)).toEqual([]);
    expect(exportNames(entry)).toEqual([...exportNames(publicApi), ...own].sort());
  });
});

describe.each(['express', 'fastify'])('BusinessMetricsModule on a real Nest app on %s', (platform) => {
  let app: AppProcess;
  beforeAll(async () => {
    app = await startAppProcess('nest-module.mjs', platform);
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  const scrape = async (): Promise<Exposition> => {
    const answer = await fetch(`${app.base}/internal/metrics`, { headers: { 'x-role': 'scraper' } });
    expect(answer.status).toBe(200);
    return parseExposition(await answer.text());
  };
  const beacon = (client: string, method = 'POST') =>
    fetch(`${app.base}/beacon`, {
      method,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body:
        method === 'POST'
          ? JSON.stringify({ session: SESSION, events: [{ kind: 'feature', name: 'search' }] })
          : undefined,
    });

  it('throws from forRoot for a configuration that cannot work, naming the module', async () => {
    expect(await (await fetch(`${app.base}/mistakes`)).json()).toEqual([
      ['TypeError', 'BusinessMetricsModule: metrics needs telemetry (the initBusinessMetrics handle)'],
      ['RangeError', 'BusinessMetricsModule: maxRoutes must be an integer >= 0 (got 1.5)'],
    ]);
  });

  it("injects the handle's recorder as BUSINESS_METRICS", async () => {
    expect(await (await fetch(`${app.base}/recorder`)).json()).toEqual({ isTheHandlesRecorder: true });
    expect((await scrape()).find('business_feature_usage_total', { feature_name: 'injected' })).toHaveLength(
      1,
    );
  });

  it('serves the exposition at its path to the scraper the auth check admits', async () => {
    const anonymous = await fetch(`${app.base}/internal/metrics`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="metrics"',
    ]);
    expect((await scrape()).family('target_info')).toBeDefined();
    expect((await fetch(`${app.base}/metrics`, { headers: { 'x-role': 'scraper' } })).status).toBe(404);
  });

  it("answers beacons at its path, rate-limited per client by the platform's address behind the proxy", async () => {
    const get = await beacon('203.0.113.9', 'GET');
    expect([get.status, get.headers.get('allow'), await get.json()]).toEqual([
      405,
      'POST',
      { error: 'use POST to send engagement events' },
    ]);
    const statuses: number[] = [];
    for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.2'])
      statuses.push((await beacon(client)).status);
    expect(statuses).toEqual([202, 429, 202]);
    expect((await scrape()).find('business_feature_usage_total', { feature_name: 'search' })).toHaveLength(1);
  });

  it("records requests under Nest's route pattern and counts the resolver's users", async () => {
    for (const [id, user] of [
      ['1', 'u1'],
      ['2', 'u1'],
      ['3', 'u2'],
    ]) {
      expect((await fetch(`${app.base}/product/${id}`, { headers: { 'x-user': user! } })).status).toBe(200);
    }
    // Recorded when each response closes, after the client has it: scrape until all three are there.
    let exposition = await scrape();
    const products = (e: Exposition) =>
      e
        .find('http_server_request_duration_seconds_count', { http_route: '/product/:id' })
        .reduce((sum, s) => sum + s.value, 0);
    while (products(exposition) < 3) exposition = await scrape();
    expect(products(exposition)).toBe(3);
    const routes = exposition
      .find('http_server_request_duration_seconds_count')
      .map((s) => s.labels.http_route);
    expect(routes.filter((route) => route !== undefined && /\/product\/\d/.test(route))).toEqual([]);
    const daily = exposition.find('business_active_users', {
      window: 'daily',
      user_tier: 'enterprise',
    });
    expect(daily.map((s) => s.value)).toEqual([2]);
  });

  it("records a request the platform refuses before routing, Nest's body parser included", async () => {
    // Express: Nest's JSON parser refuses the body before any route; Fastify: its parser, in the not-found route's
    // context, after its onRequest hooks.
    const refused = await fetch(`${app.base}/product/1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    expect(refused.status).toBe(400);
    const posts = (e: Exposition) =>
      e.find('http_server_request_duration_seconds_count', {
        http_request_method: 'POST',
        http_response_status_code: String(refused.status),
      });
    let exposition = await scrape();
    // Recorded when the response closes: scrape until it is there, or fail on what the last scrape said.
    for (let i = 0; i < 100 && posts(exposition).length === 0; i++) exposition = await scrape();
    expect(posts(exposition).map((s) => [s.labels.http_route, s.value])).toEqual([[undefined, 1]]);
  });
});
