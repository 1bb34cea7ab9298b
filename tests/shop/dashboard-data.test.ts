/**
 * The demo dashboard's cart-to-order conversion (examples/shop/server/dashboard-data.ts) never exceeds 100%: it is
 * of sessions, both counts recorded together when a session ends (SESSION_OUTCOME_STEPS), so between any two
 * readings the orders grow by no more than the carts. Shown on the real shop over HTTP: the traffic that made
 * `order_confirmed ÷ cart_view` of one window read 200%, and the shop's own traffic shape (the simulator), every
 * pair of readings compared.
 */
import { join } from 'node:path';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { startShop, type RunningShop } from '../../examples/shop/server/app';
import { buildShopAssets } from '../../examples/shop/server/assets';
import type { DashboardData } from '../../examples/shop/server/dashboard-data';
import { parseExposition, sumOf } from '../../examples/shop/server/exposition';
import { PAYMENT_METHODS, PRODUCTS, REGIONS } from '../../examples/shop/server/products';
import { SESSION_OUTCOME_STEPS } from '../../examples/shop/server/sessions';
import { TrafficSimulator } from '../../examples/shop/server/simulator';
import { mulberry32 } from '../support/random';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;

interface Counts {
  cartViews: number;
  orders: number;
  sessionsWithCart: number;
  sessionsWithOrder: number;
}

/** A shopper with its own cookies. */
function shopper(base: string) {
  const jar = new Map<string, string>();
  return async (method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<number> => {
    const response = await fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    await response.arrayBuffer();
    return response.status;
  };
}

describe('the dashboard conversion: sessions, never above 100%', () => {
  let telemetry: BusinessMetricsHandle;
  let shop: RunningShop | undefined;

  const counts = async (): Promise<Counts> => {
    const samples = parseExposition(await telemetry.metrics.getMetrics());
    const steps = (step: string) => sumOf(samples, FUNNEL, { step });
    return {
      cartViews: steps('cart_view'),
      orders: steps('order_confirmed'),
      sessionsWithCart: steps(SESSION_OUTCOME_STEPS.withCart),
      sessionsWithOrder: steps(SESSION_OUTCOME_STEPS.withOrder),
    };
  };
  const start = async (idleMs: number) => {
    shop = await startShop({
      telemetry,
      assets: await buildShopAssets(join(__dirname, '..', '..', 'examples', 'shop')),
      port: 0,
      simulate: false,
      sessions: { idleMs },
      dashboardSampleMs: 100,
    });
    return shop;
  };
  const dashboard = async (): Promise<DashboardData> =>
    (await (await fetch(`${shop!.url}/dashboard/data`)).json()) as DashboardData;

  beforeEach(async () => {
    telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
    });
    await telemetry.ready;
  });
  afterEach(async () => {
    await shop?.stop();
    shop = undefined;
    await telemetry.shutdown({ timeoutMillis: 2000 });
  });

  it('reads 2 of 3 sessions where order_confirmed ÷ cart_view of the same window reads 200%', async () => {
    const { url } = await start(60_000);
    const [a, b, c] = [shopper(url), shopper(url), shopper(url)];
    const viewCart = async (visit: ReturnType<typeof shopper>) => {
      expect(await visit('POST', '/cart/add', { productId: PRODUCTS[0].id, quantity: '1' })).toBe(303);
      expect(await visit('GET', '/cart')).toBe(200);
    };
    const order = async (visit: ReturnType<typeof shopper>) => {
      expect(await visit('POST', '/checkout/shipping', { name: 'A Shopper', region: REGIONS[0].id })).toBe(
        303,
      );
      expect(await visit('POST', '/checkout/payment', { method: PAYMENT_METHODS[0].id })).toBe(303);
      expect(await visit('GET', '/checkout/review')).toBe(200);
      expect(await visit('POST', '/checkout/place')).toBe(303);
    };
    await viewCart(a);
    await viewCart(b);
    const before = await counts();
    await viewCart(c);
    await order(a);
    await order(b);
    const after = await counts();
    // The window between the two readings: one cart viewed, two ordered.
    expect((100 * (after.orders - before.orders)) / (after.cartViews - before.cartViews)).toBe(200);
    // No session has ended yet: nothing to judge.
    expect(after.sessionsWithCart).toBe(0);
    expect((await dashboard()).totals.conversionRatePct).toBeNull();

    await shop!.stop(); // ends the three sessions
    shop = undefined;
    const ended = await counts();
    expect(ended).toMatchObject({ sessionsWithCart: 3, sessionsWithOrder: 2 });
  });

  it("never exceeds 100% on the shop's own traffic, between any two readings, and the dashboard says so", async () => {
    // Sessions end 500 ms after their last request, so many end while shoppers are still arriving.
    const { url } = await start(500);
    const simulator = new TrafficSimulator({
      baseUrl: url,
      sessionsPerSecond: 150,
      thinkScale: 0,
      maxConcurrent: 40,
      patienceMs: Infinity,
      random: mulberry32(7),
    });
    const readings: Counts[] = [await counts()];
    const conversions: number[] = [];
    simulator.start();
    // Until 300 sessions have started and some ended with an order (on a loaded machine the first sessions may
    // still be shopping when the 300th starts); an order that never comes fails at the deadline.
    const deadline = Date.now() + 90_000;
    try {
      while (simulator.getStats().sessionsStarted < 300 || readings.at(-1)!.sessionsWithOrder === 0) {
        if (Date.now() > deadline)
          throw new Error(`no session ended with an order: ${JSON.stringify(readings.at(-1))}`);
        readings.push(await counts());
        const data = await dashboard();
        for (const value of [
          data.totals.conversionRatePct,
          ...data.timeline.conversionRatePct,
          ...Object.values(data.timeline.conversionRatePctByVariant).flat(),
        ]) {
          if (value !== null) conversions.push(value);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await simulator.stop();
    }
    await shop!.stop();
    shop = undefined;
    readings.push(await counts());

    const last = readings[readings.length - 1];
    expect(last.sessionsWithOrder).toBeGreaterThan(0);
    expect(last.sessionsWithCart).toBeGreaterThan(last.sessionsWithOrder);
    // A session orders at most once, after its cart view; a cut-short session (stop()) may not reach either.
    expect(last.sessionsWithOrder).toBeLessThanOrEqual(last.orders);
    expect(last.sessionsWithCart).toBeLessThanOrEqual(last.cartViews);
    let pairs = 0;
    for (let i = 0; i < readings.length; i++) {
      for (let j = i + 1; j < readings.length; j++) {
        const withOrder = readings[j].sessionsWithOrder - readings[i].sessionsWithOrder;
        const withCart = readings[j].sessionsWithCart - readings[i].sessionsWithCart;
        if (withCart > 0) pairs++;
        if (withOrder > withCart) throw new Error(`readings ${i} and ${j}: ${withOrder} of ${withCart}`);
      }
    }
    expect(pairs).toBeGreaterThan(10);
    expect(conversions.length).toBeGreaterThan(10);
    expect(Math.max(...conversions)).toBeLessThanOrEqual(100);
    expect(Math.min(...conversions)).toBeGreaterThanOrEqual(0);
  });
});
