/**
 * src/trackers/checkout.ts: the seed's CheckoutTracker records each step of one session's checkout funnel with
 * the session's labels, a purchase as a step, a conversion and revenue, and never logs or records before init;
 * a context it cannot read (missing, a throwing getter) never throws, its steps dropped and counted, and in strict
 * mode a refused amount throws before the purchase's step and conversion are recorded.
 * Real exposition through initBusinessMetrics, read as Prometheus would.
 */
import {
  CHECKOUT_STEPS,
  initBusinessMetrics,
  PROMETHEUS_FAMILIES,
  type BusinessMetricsHandle,
} from '../../src';
import { CheckoutStep, CheckoutTracker, type SessionContext } from '../../src/trackers/checkout';
import { EngagementTracker, type EngagementTrackerConfig } from '../../src/trackers/engagement';
import { parseExposition, sumBy, sumOf, type Sample } from '../../examples/shop/server/exposition';
import { liveTelemetry } from './telemetry';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const CONVERSIONS = PROMETHEUS_FAMILIES.conversions;
const REVENUE = PROMETHEUS_FAMILIES.revenue;
const ORDER_VALUE = PROMETHEUS_FAMILIES.orderValue;
const TIME_TO_CONVERSION = PROMETHEUS_FAMILIES.timeToConversion;

describe('CheckoutTracker', () => {
  // Recording before init must be a silent no-op: the trackers are used from library code that cannot know.
  const scrape = liveTelemetry(() =>
    new CheckoutTracker({
      sessionStartTime: new Date(),
      source: 'direct',
      deviceType: 'desktop',
    }).trackCartView(1, 1),
  );

  it('CheckoutStep lists the catalog steps in funnel order under the seed enum names', () => {
    expect(Object.values(CheckoutStep)).toEqual([
      'cart_view',
      'shipping_info',
      'payment_info',
      'order_review',
      'order_confirmed',
      'checkout_error',
      'payment_declined',
    ]);
    expect(CheckoutStep.CART_VIEW).toBe('cart_view');
  });

  it('records every funnel step, the conversion and the revenue of a purchase with the session labels', async () => {
    const consoleLog = jest.spyOn(console, 'log');
    const tracker = new CheckoutTracker({
      sessionId: 's-1',
      sessionStartTime: new Date(Date.now() - 95_000),
      source: 'google',
      deviceType: 'mobile',
      experimentVariant: 'B',
    });
    tracker.trackCartView(4599, 2);
    tracker.trackShippingInfo();
    tracker.trackPaymentInfo('card');
    tracker.trackOrderReview();
    tracker.trackPurchaseComplete(4599, 'books', 'card', 'eu_west');
    expect(consoleLog).not.toHaveBeenCalled();
    consoleLog.mockRestore();

    const samples = await scrape();
    const labels = { source: 'google', device_type: 'mobile', experiment_variant: 'B' };
    for (const step of ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed']) {
      expect([step, sumOf(samples, FUNNEL, { step, ...labels })]).toEqual([step, 1]);
    }
    expect(sumOf(samples, FUNNEL, { step: 'cart_view', source: 'direct' })).toBe(0);
    expect(
      sumOf(samples, CONVERSIONS, { conversion_type: 'purchase', source: 'google', device_type: 'mobile' }),
    ).toBe(1);
    expect(
      sumOf(samples, REVENUE, { product_category: 'books', payment_method: 'card', region: 'eu_west' }),
    ).toBe(4599);
    expect(sumOf(samples, `${ORDER_VALUE}_bucket`, { product_category: 'books', le: '2500' })).toBe(0);
    expect(sumOf(samples, `${ORDER_VALUE}_bucket`, { product_category: 'books', le: '5000' })).toBe(1);
    // 95 s from session start: outside the 60 s bucket, inside the 120 s one.
    expect(sumOf(samples, `${TIME_TO_CONVERSION}_bucket`, { le: '60' })).toBe(0);
    expect(sumOf(samples, `${TIME_TO_CONVERSION}_bucket`, { le: '120' })).toBe(1);
  });

  it("defaults the experiment variant to the seed's control and records checkout errors and declines apart", async () => {
    const tracker = new CheckoutTracker({
      sessionStartTime: new Date(),
      source: 'direct',
      deviceType: 'desktop',
    });
    tracker.trackCheckoutError();
    tracker.trackCheckoutError();
    tracker.trackPaymentDeclined();
    const samples = await scrape();
    const labels = { source: 'direct', device_type: 'desktop', experiment_variant: 'control' };
    expect(sumOf(samples, FUNNEL, { step: 'checkout_error', ...labels })).toBe(2);
    expect(sumOf(samples, FUNNEL, { step: 'payment_declined', ...labels })).toBe(1);
  });

  it('records the revenue in the currency given, and in the default (USD) without one', async () => {
    const tracker = new CheckoutTracker({
      sessionStartTime: new Date(),
      source: 'email',
      deviceType: 'tablet',
    });
    tracker.trackPurchaseComplete(1999, 'toys', 'paypal', 'eu_west', 'EUR');
    tracker.trackPurchaseComplete(500, 'toys', 'paypal', 'eu_west');
    const samples = await scrape();
    const labels = { product_category: 'toys', payment_method: 'paypal', region: 'eu_west' };
    expect(sumOf(samples, REVENUE, { ...labels, currency: 'EUR' })).toBe(1999);
    expect(sumOf(samples, REVENUE, { ...labels, currency: 'USD' })).toBe(500);
    expect(sumOf(samples, FUNNEL, { step: 'order_confirmed', source: 'email', device_type: 'tablet' })).toBe(
      2,
    );
  });
});

describe('CheckoutTracker methods taken off the tracker', () => {
  const scrape = liveTelemetry(() => undefined);

  it('record the same as method calls, as event handlers and callbacks call them', async () => {
    const session = (experimentVariant: string): SessionContext => ({
      sessionStartTime: new Date(Date.now() - 30_000),
      source: 'direct',
      deviceType: 'tablet',
      experimentVariant,
    });
    const called = new CheckoutTracker(session('called'));
    called.trackCartView(4599, 2);
    called.trackShippingInfo();
    called.trackPaymentInfo('card');
    called.trackOrderReview();
    called.trackPurchaseComplete(4599, 'called', 'card', 'eu_west');
    called.trackCheckoutError();
    called.trackPaymentDeclined();
    const {
      trackCartView,
      trackShippingInfo,
      trackPaymentInfo,
      trackOrderReview,
      trackPurchaseComplete,
      trackCheckoutError,
      trackPaymentDeclined,
    } = new CheckoutTracker(session('detached'));
    expect(() => {
      trackCartView(4599, 2);
      trackShippingInfo();
      trackPaymentInfo('card');
      trackOrderReview();
      trackPurchaseComplete(4599, 'detached', 'card', 'eu_west');
      trackCheckoutError();
      trackPaymentDeclined();
    }).not.toThrow();

    const samples = await scrape();
    const steps = (variant: string) => sumBy(samples, FUNNEL, 'step', { experiment_variant: variant });
    expect(steps('detached')).toEqual(steps('called'));
    expect([...steps('called').keys()].sort()).toEqual([...CHECKOUT_STEPS].sort());
    expect(sumOf(samples, REVENUE, { product_category: 'detached' })).toBe(4599);
    expect(sumOf(samples, REVENUE, { product_category: 'called' })).toBe(4599);
    expect(sumOf(samples, CONVERSIONS, { conversion_type: 'purchase', device_type: 'tablet' })).toBe(2);
  });
});

describe('CheckoutTracker with a context it cannot read, and a refused amount in strict mode', () => {
  let telemetry: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await telemetry?.shutdown({ timeoutMillis: 1000 });
    telemetry = undefined;
  });
  const dropped = (samples: Sample[]) =>
    Object.fromEntries(
      samples
        .filter((sample) => sample.name === 'business_metrics_dropped_total')
        .map((sample) => [`${sample.labels.metric}/${sample.labels.reason}`, sample.value]),
    );

  it('never throws for a missing or hostile session context: the steps are dropped and counted', async () => {
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
    const hostile = {
      get source(): string {
        throw new Error('session store gone');
      },
    } as unknown as SessionContext;
    for (const context of [undefined, null, hostile] as unknown as SessionContext[]) {
      const tracker = new CheckoutTracker(context);
      expect(() => tracker.trackCartView()).not.toThrow();
      expect(() => tracker.trackPurchaseComplete(1999, 'books', 'card', 'eu_west')).not.toThrow();
    }
    expect(() => new EngagementTracker(undefined as unknown as EngagementTrackerConfig)).not.toThrow();
    const samples = parseExposition(await telemetry.metrics.getMetrics());
    expect(dropped(samples)).toEqual({
      [`${FUNNEL}/invalid_argument`]: 6,
      [`${CONVERSIONS}/invalid_argument`]: 3,
    });
    // The revenue of each purchase needs none of the session's labels: recorded.
    expect(sumOf(samples, REVENUE, { product_category: 'books' })).toBe(3 * 1999);
  });

  it('in strict mode, a refused amount throws before the step and the conversion are recorded', async () => {
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {}, strict: true });
    const tracker = new CheckoutTracker({
      sessionStartTime: new Date(),
      source: 'direct',
      deviceType: 'web',
    });
    try {
      tracker.trackPurchaseComplete(19.99, 'books', 'card', 'eu_west', 'USD');
      throw new Error('expected a TypeError');
    } catch (error) {
      expect(String(error)).toMatch(/recordRevenue: amountCents must be an integer/);
      tracker.trackCheckoutError(); // the documented catch
    }
    const samples = parseExposition(await telemetry.metrics.getMetrics());
    expect(sumOf(samples, FUNNEL, { step: 'order_confirmed' })).toBe(0);
    expect(sumOf(samples, CONVERSIONS, { conversion_type: 'purchase' })).toBe(0);
    expect(sumOf(samples, FUNNEL, { step: 'checkout_error' })).toBe(1);
  });
});
