import { type BusinessMetricsHandle, initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../src';
import { CheckoutStep, CheckoutTracker, EngagementTracker } from '../../src/trackers';
import { parseExposition, sumBy, sumOf, type Sample } from '../../examples/shop/server/exposition';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const CONVERSIONS = PROMETHEUS_FAMILIES.conversions;
const REVENUE = PROMETHEUS_FAMILIES.revenue;
const ORDER_VALUE = PROMETHEUS_FAMILIES.orderValue;
const TIME_TO_CONVERSION = PROMETHEUS_FAMILIES.timeToConversion;
const FEATURE_USAGE = PROMETHEUS_FAMILIES.featureUsage;
const SESSION_DURATION = PROMETHEUS_FAMILIES.sessionDuration;

describe('trackers', () => {
  let telemetry: BusinessMetricsHandle;
  const scrape = async (): Promise<Sample[]> => parseExposition(await telemetry.metrics.getMetrics());

  beforeAll(async () => {
    // Recording before init must be a silent no-op: the trackers are used from library code that cannot know.
    new CheckoutTracker({
      sessionStartTime: new Date(),
      source: 'direct',
      deviceType: 'desktop',
    }).trackCartView(1, 1);
    new EngagementTracker({ userTier: 'free', entryPage: '/', isNewUser: true }).trackFeatureUsage(
      'before_init',
    );
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    await telemetry.ready;
  });

  afterAll(async () => {
    await telemetry.shutdown({ timeoutMillis: 2000 });
  });

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

  it('records features, milestones as seed-style funnel steps, and the session duration once', async () => {
    const tracker = new EngagementTracker({
      userTier: 'pro',
      entryPage: '/dashboard',
      isNewUser: false,
      sessionStartTime: new Date(Date.now() - 45_000),
    });
    tracker.trackFeatureUsage('dashboard_export');
    tracker.trackFeatureUsage('dashboard_export');
    tracker.trackMilestone('first_chart_created');
    expect(tracker.endSession()).toBe(true);
    expect(tracker.hasEnded).toBe(true);
    expect(tracker.endSession()).toBe(false);

    const samples = await scrape();
    expect(sumBy(samples, FEATURE_USAGE, 'feature_name')).toEqual(new Map([['dashboard_export', 2]]));
    expect(sumOf(samples, FEATURE_USAGE, { user_tier: 'pro', is_new_user: 'false' })).toBe(2);
    expect(
      sumOf(samples, FUNNEL, {
        step: 'milestone_first_chart_created',
        source: 'in_app',
        device_type: 'web',
        experiment_variant: 'control',
      }),
    ).toBe(1);
    expect(sumOf(samples, `${SESSION_DURATION}_count`, { user_tier: 'pro', entry_page: '/dashboard' })).toBe(
      1,
    );
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { le: '30' })).toBe(0);
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { le: '60' })).toBe(1);
  });

  it('did not record anything made before initialisation', async () => {
    const samples = await scrape();
    expect(sumOf(samples, FEATURE_USAGE, { feature_name: 'before_init' })).toBe(0);
  });
});
