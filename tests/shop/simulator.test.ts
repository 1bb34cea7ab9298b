/**
 * The traffic simulator against the real shop over HTTP: realistic spread across sources, devices, variants and
 * regions, a conversion rate near 3%, and trouble switches that the business metrics pick up.
 */
import { join } from 'node:path';
import { type BusinessMetricsHandle, initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../src';
import { otelToPrometheusName } from '../../src/exporters/prometheus';
import { HTTP_SERVER_REQUEST_DURATION } from '../../src/integrations/express';
import { startShop, type RunningShop } from '../../examples/shop/server/app';
import { buildShopAssets } from '../../examples/shop/server/assets';
import { parseExposition, sumBy, sumOf, type Sample } from '../../examples/shop/server/exposition';
import { TrafficSimulator } from '../../examples/shop/server/simulator';
import { NO_TROUBLE, troubleFromEnv } from '../../examples/shop/server/trouble';
import { mulberry32 } from '../support/random';
import { waitUntil } from '../support/wait';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const REVENUE = PROMETHEUS_FAMILIES.revenue;
const FEATURE_USAGE = PROMETHEUS_FAMILIES.featureUsage;
const HTTP_DURATION = otelToPrometheusName(HTTP_SERVER_REQUEST_DURATION, 's', 'histogram');

/** Generous for a loaded 2-core machine (per phase: starting, then finishing); seconds on an idle one. */
const SESSIONS_TIMEOUT_MS = 60_000;

async function runSessions(
  simulator: TrafficSimulator,
  sessions: number,
  timeoutMs = SESSIONS_TIMEOUT_MS,
): Promise<void> {
  simulator.start();
  try {
    await waitUntil(
      `${sessions} sessions started`,
      () =>
        simulator.getStats().sessionsStarted >= sessions || `${simulator.getStats().sessionsStarted} started`,
      { timeoutMillis: timeoutMs, intervalMillis: 50 },
    );
    // Stop starting new ones, but let the started ones finish: stop() would abort them, and an order the shop
    // counted whose answer the shopper never saw would make the shop's and the simulator's figures differ.
    const started = simulator.getStats().sessionsStarted;
    await waitUntil(
      `the ${started} started sessions finished`,
      () =>
        simulator.getStats().sessionsFinished >= started ||
        `${simulator.getStats().sessionsFinished} finished`,
      { timeoutMillis: timeoutMs, intervalMillis: 50 },
    );
  } finally {
    // Also on failure: a simulator left running would send traffic into the next tests' measurements.
    await simulator.stop();
  }
}

describe('traffic simulator and trouble switches', () => {
  let telemetry: BusinessMetricsHandle;
  let shop: RunningShop;
  const scrape = async (): Promise<Sample[]> =>
    parseExposition(await (await fetch(`${shop.url}/metrics`)).text());

  beforeAll(async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    await telemetry.ready;
    shop = await startShop({
      telemetry,
      assets: await buildShopAssets(join(__dirname, '..', '..', 'examples', 'shop')),
      port: 0,
      simulate: false,
    });
  });

  afterAll(async () => {
    await shop?.stop();
    await telemetry?.shutdown({ timeoutMillis: 2000 });
  });

  it(
    'walks realistic sessions through the funnel at about 3% conversion',
    async () => {
      const simulator = new TrafficSimulator({
        baseUrl: shop.url,
        sessionsPerSecond: 150,
        thinkScale: 0,
        maxConcurrent: 40,
        patienceMs: Infinity, // funnel figures must not depend on how fast this machine answers
        random: mulberry32(42),
      });
      await runSessions(simulator, 1000);
      const stats = simulator.getStats();
      const samples = await scrape();

      const conversion = stats.orders / stats.sessionsFinished;
      expect(conversion).toBeGreaterThan(0.015);
      expect(conversion).toBeLessThan(0.05);
      const orders = sumOf(samples, FUNNEL, { step: 'order_confirmed' });
      // Every order the shoppers saw confirmed was counted; beyond those, at most one per session whose request
      // threw (on a loaded machine a shopper can lose the answer to an order the shop already placed).
      expect(orders).toBeGreaterThanOrEqual(stats.orders);
      expect(orders).toBeLessThanOrEqual(stats.orders + stats.sessionErrors);
      // Of the carts viewed, roughly a quarter to a half become orders (the seed's alerts assume a healthy shop).
      const cartToOrder = orders / sumOf(samples, FUNNEL, { step: 'cart_view' });
      expect(cartToOrder).toBeGreaterThan(0.15);
      expect(cartToOrder).toBeLessThan(0.6);
      // Each funnel step is reached by no more sessions than the one before.
      const steps = ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed'];
      const counts = steps.map((step) => sumOf(samples, FUNNEL, { step }));
      for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1] ?? 0);

      const cartViews = (label: string) =>
        [...sumBy(samples, FUNNEL, label, { step: 'cart_view' }).keys()].sort();
      expect(cartViews('device_type')).toEqual(['desktop', 'mobile', 'tablet']);
      expect(cartViews('experiment_variant')).toEqual(['A', 'B', 'control']);
      expect(cartViews('source').length).toBeGreaterThanOrEqual(6);
      expect(cartViews('source')).toEqual(
        expect.arrayContaining(['direct', 'google', 'newsletter', 'referral']),
      );
      expect(cartViews('source')).not.toContain('other');
      expect([...sumBy(samples, REVENUE, 'region').keys()].length).toBeGreaterThanOrEqual(4);
      expect(sumBy(samples, FEATURE_USAGE, 'feature_name').get('search')).toBeGreaterThan(100);
      // Bots browse but never reach the funnel; they show up in the technical metrics only.
      expect(cartViews('device_type')).not.toContain('bot');
      expect(sumOf(samples, `${HTTP_DURATION}_count`, { http_response_status_code: '429' })).toBe(0);
    },
    SESSIONS_TIMEOUT_MS + 20_000,
  );

  it(
    'a broken variant and payment failures show up as checkout errors, declines and 5xx, not orders',
    async () => {
      const before = await scrape();
      const ordersBefore = (variant: string, s: Sample[]) =>
        sumOf(s, FUNNEL, { step: 'order_confirmed', experiment_variant: variant });
      const response = await fetch(`${shop.url}/admin/trouble`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ brokenVariant: 'B', paymentFailureRate: 0.5 }),
      });
      expect(await response.json()).toEqual({
        slowCheckoutMs: 0,
        paymentFailureRate: 0.5,
        brokenVariant: 'B',
      });

      const simulator = new TrafficSimulator({
        baseUrl: shop.url,
        sessionsPerSecond: 150,
        thinkScale: 0,
        maxConcurrent: 40,
        patienceMs: Infinity, // funnel figures must not depend on how fast this machine answers
        random: mulberry32(7),
      });
      await runSessions(simulator, 800);
      shop.trouble = NO_TROUBLE;
      const after = await scrape();

      expect(ordersBefore('B', after) - ordersBefore('B', before)).toBe(0);
      const healthyOrders = ['A', 'control'].map((v) => ordersBefore(v, after) - ordersBefore(v, before));
      expect(healthyOrders[0]! + healthyOrders[1]!).toBeGreaterThan(0);
      const errors = (variant: string, s: Sample[]) =>
        sumOf(s, FUNNEL, { step: 'checkout_error', experiment_variant: variant });
      expect(errors('B', after) - errors('B', before)).toBeGreaterThan(0);
      // The other variants only see the (random) payment failures, recorded as declines, not checkout errors.
      expect(
        errors('control', after) + errors('A', after) - errors('control', before) - errors('A', before),
      ).toBe(0);
      const declines = (s: Sample[]) => sumOf(s, FUNNEL, { step: 'payment_declined' });
      expect(declines(after) - declines(before)).toBeGreaterThan(0);
      const place = { http_route: '/checkout/place' };
      expect(sumOf(after, `${HTTP_DURATION}_count`, { ...place, error_type: '500' })).toBeGreaterThan(0);
      expect(sumOf(after, `${HTTP_DURATION}_count`, { ...place, error_type: '502' })).toBeGreaterThan(0);
    },
    SESSIONS_TIMEOUT_MS + 20_000,
  );

  it('slow checkout delays checkout requests, visible in http.server.request.duration', async () => {
    const added = await fetch(`${shop.url}/cart/add`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'productId=tent&quantity=1',
    });
    const cookie = added.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const shipping = { http_route: '/checkout/shipping', http_request_method: 'GET' };
    const buckets = (samples: Sample[]) => ({
      all: sumOf(samples, `${HTTP_DURATION}_bucket`, { ...shipping, le: '+Inf' }),
      fast: sumOf(samples, `${HTTP_DURATION}_bucket`, { ...shipping, le: '0.25' }),
    });
    // Counted from a scrape right before: the ~1,800 simulated requests before this test, any of which may have
    // been slow on a loaded machine, do not enter the comparison. No wall-clock threshold: the histogram alone
    // says whether this one request took more than 250 ms.
    const before = buckets(await scrape());
    shop.trouble = { ...NO_TROUBLE, slowCheckoutMs: 300 };
    const response = await fetch(`${shop.url}/checkout/shipping`, { headers: { cookie } });
    expect(response.status).toBe(200);
    shop.trouble = NO_TROUBLE;
    const after = buckets(await scrape());
    expect(after.all - before.all).toBe(1);
    expect(after.fast - before.fast).toBe(0);
  });

  it('the admin form switches trouble on and off', async () => {
    const submit = (body: string) =>
      fetch(`${shop.url}/admin/trouble`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    expect((await submit('slowCheckout=1&paymentFailures=1&brokenVariant=A')).status).toBe(303);
    expect(await (await fetch(`${shop.url}/admin/trouble`)).json()).toEqual({
      slowCheckoutMs: 2500,
      paymentFailureRate: 0.85,
      brokenVariant: 'A',
    });
    const admin = await (await fetch(`${shop.url}/admin`)).text();
    expect(admin).toMatch(/name="slowCheckout" value="1" checked/);
    expect(admin).toMatch(/<option value="A" selected>/);
    // Unchecked boxes are absent from the form: submitting it empty switches everything off.
    expect((await submit('brokenVariant=none')).status).toBe(303);
    expect(shop.trouble).toEqual(NO_TROUBLE);
  });

  it('rejects bad trouble settings and reads them from the environment', async () => {
    const response = await fetch(`${shop.url}/admin/trouble`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentFailureRate: 7 }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'paymentFailureRate must be between 0 and 1' });
    expect(
      troubleFromEnv({
        TROUBLE_SLOW_CHECKOUT: '1',
        TROUBLE_PAYMENT_FAILURES: '0.3',
        TROUBLE_BROKEN_VARIANT: 'A',
      }),
    ).toEqual({
      slowCheckoutMs: 2500,
      paymentFailureRate: 0.3,
      brokenVariant: 'A',
    });
    expect(troubleFromEnv({})).toEqual(NO_TROUBLE);
  });
});
