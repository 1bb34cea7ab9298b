/**
 * Every BusinessMetrics method, in both recording modes: the local series store behind initBusinessMetrics, and
 * plain SDK instruments of a Meter the app owns. Values, attributes, defaults and buckets must be the seed's.
 */
import { MeterProvider, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  ALL_METRIC_LIST,
  BUSINESS_METRIC_LIST,
  BUSINESS_METRICS,
  BusinessMetrics,
  prometheusFamilyName,
  SELF_METRICS,
  businessMetricViews,
  initBusinessMetrics,
  type BusinessMetricsOptions,
  type BusinessMetricsRecorder,
} from '../../src';
import { findMetric, pointsOf, TestReader } from '../support/collect';

interface Subject {
  metrics: BusinessMetricsRecorder;
  collect(): Promise<ResourceMetrics>;
  close(): Promise<void>;
}

const clock = 1_700_000_000_000;
const now = () => clock;

const modes: Array<[string, (options?: BusinessMetricsOptions) => Subject]> = [
  [
    'initBusinessMetrics (local series store)',
    (options = {}) => {
      const reader = new TestReader();
      const handle = initBusinessMetrics({ exporters: [reader], ...options, env: {} });
      return {
        metrics: handle.metrics,
        collect: () => reader.resourceMetrics(),
        close: () => handle.shutdown(),
      };
    },
  ],
  [
    'BusinessMetrics on an app-owned Meter (SDK instruments)',
    (options = {}) => {
      const reader = new TestReader();
      const provider = new MeterProvider({ readers: [reader] });
      const metrics = new BusinessMetrics(provider.getMeter('app'), options);
      return { metrics, collect: () => reader.resourceMetrics(), close: () => provider.shutdown() };
    },
  ],
];

describe.each(modes)('%s', (_mode, create) => {
  let subject: Subject;
  beforeEach(() => {
    subject = create();
  });
  afterEach(() => subject.close());

  it('recordFunnelStep counts steps with the seed labels, experiment_variant defaulting to control', async () => {
    const m = subject.metrics;
    m.recordFunnelStep('cart_view', { source: 'google_ads', deviceType: 'mobile', experimentVariant: 'B' });
    m.recordFunnelStep('cart_view', { source: 'google_ads', deviceType: 'mobile', experimentVariant: 'B' });
    m.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    m.recordFunnelStep('checkout_error', { source: 'direct', deviceType: 'desktop', experimentVariant: '' });
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.funnelStep.name)).toEqual([
      {
        attributes: {
          step: 'cart_view',
          source: 'direct',
          device_type: 'desktop',
          experiment_variant: 'control',
        },
        value: 1,
      },
      {
        attributes: {
          step: 'cart_view',
          source: 'google_ads',
          device_type: 'mobile',
          experiment_variant: 'B',
        },
        value: 2,
      },
      {
        attributes: {
          step: 'checkout_error',
          source: 'direct',
          device_type: 'desktop',
          experiment_variant: 'control',
        },
        value: 1,
      },
    ]);
    const metric = findMetric(data, BUSINESS_METRICS.funnelStep.name)!;
    expect(metric.descriptor.unit).toBe('{step}');
    expect(metric.descriptor.description).toBe(BUSINESS_METRICS.funnelStep.description);
  });

  it('recordConversion counts the conversion and observes seconds since session start', async () => {
    const start = new Date(Date.now() - 90_000);
    subject.metrics.recordConversion('purchase', {
      source: 'email',
      deviceType: 'tablet',
      sessionStartTime: start,
    });
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.conversions.name)).toEqual([
      { attributes: { conversion_type: 'purchase', source: 'email', device_type: 'tablet' }, value: 1 },
    ]);
    const [timing] = pointsOf(data, BUSINESS_METRICS.timeToConversion.name);
    const histogram = timing.value as Histogram;
    expect(timing.attributes).toEqual({ conversion_type: 'purchase' });
    expect(histogram.buckets.boundaries).toEqual([...BUSINESS_METRICS.timeToConversion.buckets]);
    expect(histogram.count).toBe(1);
    expect(histogram.sum).toBeGreaterThanOrEqual(90);
    expect(histogram.sum).toBeLessThan(95);
    // 90 s falls in (60, 120]
    expect(histogram.buckets.counts).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('recordConversion keeps the conversion when the session start is unusable, and drops only the duration', async () => {
    subject.metrics.recordConversion('signup', {
      source: 'direct',
      deviceType: 'web',
      sessionStartTime: new Date('not a date'),
    });
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.conversions.name)).toHaveLength(1);
    expect(pointsOf(data, BUSINESS_METRICS.timeToConversion.name)).toEqual([]);
    expect(pointsOf(data, 'business_metrics_dropped')).toEqual([
      { attributes: { metric: 'business_time_to_conversion_seconds', reason: 'invalid_time' }, value: 1 },
    ]);
  });

  it('recordRevenue adds cents and observes the order value per category', async () => {
    const m = subject.metrics;
    m.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    m.recordRevenue(60000, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    m.recordRevenue(500, { productCategory: 'games', paymentMethod: 'paypal', region: 'us_east' });
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.revenue.name)).toEqual([
      // Seed calls carry no currency: the default currency (USD) is recorded with them.
      {
        attributes: { product_category: 'books', payment_method: 'card', region: 'eu_west', currency: 'USD' },
        value: 62599,
      },
      {
        attributes: {
          product_category: 'games',
          payment_method: 'paypal',
          region: 'us_east',
          currency: 'USD',
        },
        value: 500,
      },
    ]);
    const orders = pointsOf(data, BUSINESS_METRICS.orderValue.name);
    expect(orders.map((p) => p.attributes)).toEqual([
      { product_category: 'books', currency: 'USD' },
      { product_category: 'games', currency: 'USD' },
    ]);
    const books = orders[0].value as Histogram;
    expect(books.buckets.boundaries).toEqual([...BUSINESS_METRICS.orderValue.buckets]);
    expect(books.buckets.counts).toEqual([0, 0, 0, 1, 0, 0, 0, 1]); // 2599 -> (2500,5000], 60000 -> +Inf
    expect(books.sum).toBe(62599);
    expect(books.min).toBe(2599);
    expect(books.max).toBe(60000);
    // a value exactly on a bound belongs to that bucket (le semantics)
    expect((orders[1].value as Histogram).buckets.counts).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('recordFeatureUsage counts features with is_new_user as "true"/"false"', async () => {
    subject.metrics.recordFeatureUsage('dashboard_export', { userTier: 'pro', isNewUser: false });
    subject.metrics.recordFeatureUsage('dashboard_export', { userTier: 'free', isNewUser: true });
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.featureUsage.name)).toEqual([
      { attributes: { feature_name: 'dashboard_export', user_tier: 'free', is_new_user: 'true' }, value: 1 },
      { attributes: { feature_name: 'dashboard_export', user_tier: 'pro', is_new_user: 'false' }, value: 1 },
    ]);
  });

  it('recordSessionEnd observes the session duration with the seed buckets', async () => {
    subject.metrics.recordSessionEnd(new Date(Date.now() - 5_000), {
      userTier: 'enterprise',
      entryPage: '/dashboard',
    });
    subject.metrics.recordSessionEnd(Date.now() - 4_000_000, {
      userTier: 'enterprise',
      entryPage: '/dashboard',
    });
    const [session] = pointsOf(await subject.collect(), BUSINESS_METRICS.sessionDuration.name);
    const histogram = session.value as Histogram;
    expect(session.attributes).toEqual({ user_tier: 'enterprise', entry_page: '/dashboard' });
    expect(histogram.buckets.boundaries).toEqual([...BUSINESS_METRICS.sessionDuration.buckets]);
    expect(histogram.buckets.counts).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(histogram.count).toBe(2);
  });

  it('updateActiveUsers sets a gauge per window and tier; tiers left out keep their value', async () => {
    const m = subject.metrics;
    m.updateActiveUsers(
      'daily',
      new Map([
        ['free', 120],
        ['pro', 30],
      ]),
    );
    m.updateActiveUsers('daily', new Map([['pro', 31]]));
    m.updateActiveUsers('weekly', { enterprise: 7 });
    expect(pointsOf(await subject.collect(), BUSINESS_METRICS.activeUsers.name)).toEqual([
      { attributes: { window: 'daily', user_tier: 'free' }, value: 120 },
      { attributes: { window: 'daily', user_tier: 'pro' }, value: 31 },
      { attributes: { window: 'weekly', user_tier: 'enterprise' }, value: 7 },
    ]);
  });

  it('reports revenue of the last rolling minute per region', async () => {
    subject.metrics.recordRevenue(1000, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
    });
    subject.metrics.recordRevenue(250, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
    });
    expect(pointsOf(await subject.collect(), BUSINESS_METRICS.revenuePerMinute.name)).toEqual([
      { attributes: { region: 'eu_west', currency: 'USD' }, value: 1250 },
    ]);
  });

  it('holds the per-minute gauge to the series cap: later region and currency pairs share the all-other window, counted', async () => {
    await subject.close();
    subject = create({ limits: { maxSeriesPerMetric: 10 } });
    const currencies = ['USD', 'EUR', 'JPY', 'GBP'];
    let total = 0;
    for (let region = 0; region < 20; region++)
      for (const currency of currencies) {
        subject.metrics.recordRevenue(100 + region, {
          productCategory: 'books',
          paymentMethod: 'card',
          region: `r${region}`,
          currency,
        });
        total += 100 + region;
      }
    const collected = await subject.collect();
    const perMinute = pointsOf(collected, BUSINESS_METRICS.revenuePerMinute.name);
    expect(perMinute).toHaveLength(10);
    // Every minor unit is still in the gauge: nothing folded away, nothing kept only as a last value.
    expect(perMinute.reduce((sum, point) => sum + Number(point.value), 0)).toBe(total);
    const other = perMinute.filter((point) => point.attributes.region === 'other');
    expect(other.map((point) => point.attributes)).toEqual([{ region: 'other', currency: 'other' }]);
    const overflow = pointsOf(collected, SELF_METRICS.seriesOverflow.name).filter(
      (point) => point.attributes.metric === prometheusFamilyName(BUSINESS_METRICS.revenuePerMinute),
    );
    expect(overflow.map((point) => point.value)).toEqual([80 - 9]);
  });

  it('records the same through methods taken off the recorder (destructured, passed as callbacks) as through method calls', async () => {
    // The typed map makes a new recorder method fail to compile here until it is added.
    const calls: { [K in keyof BusinessMetricsRecorder]: (method: BusinessMetricsRecorder[K]) => unknown } = {
      recordFunnelStep: (record) => record('cart_view', { source: 'google', deviceType: 'mobile' }),
      recordConversion: (record) =>
        record('purchase', { source: 'email', deviceType: 'tablet', sessionStartTime: Date.now() - 90_000 }),
      recordRevenue: (record) =>
        record(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west', currency: 'EUR' }),
      recordRefund: (record) =>
        record(500, { paymentMethod: 'card', region: 'eu_west', currency: 'EUR', reason: 'duplicate' }),
      recordFeatureUsage: (record) => record('dashboard_export', { userTier: 'pro', isNewUser: true }),
      recordSessionEnd: (record) => record(Date.now() - 45_000, { userTier: 'pro', entryPage: '/dashboard' }),
      updateActiveUsers: (update) => update('weekly', { enterprise: 7 }),
      trackActiveUser: (track) => track('user-1', { userTier: 'free' }),
      getMetrics: () => undefined, // read below, on each subject
    };
    const names = Object.keys(calls) as (keyof BusinessMetricsRecorder)[];
    const recordAll = (metrics: BusinessMetricsRecorder, detached: boolean) => {
      // One instant for both runs: durations and the revenue minute then agree to the unit.
      const clock = jest.spyOn(Date, 'now').mockReturnValue(instant);
      try {
        for (const name of names) {
          const method = metrics[name];
          const call = calls[name] as (method: unknown) => unknown;
          call(
            detached
              ? method
              : (...args: unknown[]) => (method as (...args: unknown[]) => unknown).apply(metrics, args),
          );
        }
      } finally {
        clock.mockRestore();
      }
    };
    const everyMetric = async () => {
      const data = await subject.collect();
      return ALL_METRIC_LIST.map((definition) => [definition.name, pointsOf(data, definition.name)]);
    };
    const exposition = (getMetrics: () => Promise<string>) =>
      getMetrics().then(String, (error: Error) => `rejected: ${error.message}`);
    const instant = Date.now();

    recordAll(subject.metrics, false);
    const asMethods = await everyMetric();
    const { getMetrics } = subject.metrics;
    expect(await exposition(getMetrics)).toBe(await exposition(() => subject.metrics.getMetrics()));
    await subject.close();
    subject = create();
    expect(() => recordAll(subject.metrics, true)).not.toThrow();
    const detached = await everyMetric();

    expect(detached).toEqual(asMethods);
    // Every business metric was recorded (the comparison is not between two empty collections), but for the
    // exchange rates, which need a reporting currency and no call.
    const recorded = new Set(asMethods.filter(([, points]) => points.length > 0).map(([name]) => name));
    expect(
      BUSINESS_METRIC_LIST.map((definition) => definition.name).filter((name) => !recorded.has(name)),
    ).toEqual([BUSINESS_METRICS.exchangeRate.name]);
    expect(recorded.has(SELF_METRICS.dropped.name)).toBe(false);
  });

  it('drops invalid amounts and counts them instead of throwing', async () => {
    const m = subject.metrics;
    const labels = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
    expect(() => {
      m.recordRevenue(NaN, labels);
      m.recordRevenue(-5, labels);
      m.recordRevenue(Infinity, labels);
      m.recordRevenue('12' as unknown as number, labels);
      m.recordRevenue(1e15, labels);
      m.recordRevenue(100, null as never);
    }).not.toThrow();
    const data = await subject.collect();
    expect(pointsOf(data, BUSINESS_METRICS.revenue.name)).toEqual([]);
    expect(pointsOf(data, 'business_metrics_dropped').map((p) => [p.attributes.reason, p.value])).toEqual([
      ['invalid_argument', 1],
      ['negative', 1],
      ['not_a_number', 1],
      ['not_finite', 2],
      ['too_large', 1],
    ]);
  });
});

describe('BusinessMetrics with an injected clock', () => {
  // The rolling revenue minute under an injected clock: tests/metrics/revenue-window.test.ts.

  it('drops a session start in the future but tolerates a second of clock skew', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('app'), { now });
    metrics.recordSessionEnd(clock + 500, { userTier: 'pro', entryPage: '/' });
    metrics.recordSessionEnd(clock + 60_000, { userTier: 'pro', entryPage: '/' });
    const data = await reader.resourceMetrics();
    expect((pointsOf(data, BUSINESS_METRICS.sessionDuration.name)[0].value as Histogram).count).toBe(1);
    expect(pointsOf(data, 'business_metrics_dropped')[0]).toEqual({
      attributes: { metric: 'business_session_duration_seconds', reason: 'future_time' },
      value: 1,
    });
    await provider.shutdown();
  });
});

describe('views for app-owned providers', () => {
  it('give every business histogram its catalog buckets even when another view would match', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader], views: businessMetricViews() });
    const metrics = new BusinessMetrics(provider.getMeter('app'));
    metrics.recordSessionEnd(Date.now() - 45_000, { userTier: 'pro', entryPage: '/' });
    const [point] = pointsOf(await reader.resourceMetrics(), BUSINESS_METRICS.sessionDuration.name);
    expect((point.value as Histogram).buckets.boundaries).toEqual([
      ...BUSINESS_METRICS.sessionDuration.buckets,
    ]);
    expect(businessMetricViews().map((v) => v.instrumentName)).toEqual([
      BUSINESS_METRICS.timeToConversion.name,
      BUSINESS_METRICS.orderValue.name,
      BUSINESS_METRICS.sessionDuration.name,
    ]);
    await provider.shutdown();
  });

  it('getMetrics() explains that an app-owned provider has no exposition of ours', async () => {
    const metrics = new BusinessMetrics(new MeterProvider().getMeter('app'));
    await expect(metrics.getMetrics()).rejects.toThrow(/needs initBusinessMetrics/);
  });

  it('close() works taken off the recorder too', async () => {
    const { close } = new BusinessMetrics(new MeterProvider().getMeter('app'));
    await expect(close()).resolves.toBeUndefined();
  });
});

describe('limits', () => {
  it('refuses a maxAmountCents above Number.MAX_SAFE_INTEGER at start-up, where amounts would lose units', () => {
    const meter = new MeterProvider().getMeter('app');
    const message =
      `limits.maxAmountCents must be at most ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER), the largest ` +
      'amount a number holds to the unit (got 1000000000000000000)';
    expect(() => new BusinessMetrics(meter, { limits: { maxAmountCents: 1e18 } })).toThrow(
      new RangeError(message),
    );
    expect(() =>
      initBusinessMetrics({ exporters: ['none'], env: {}, limits: { maxAmountCents: 1e18 } }),
    ).toThrow(new RangeError(message));
    expect(
      () => new BusinessMetrics(meter, { limits: { maxAmountCents: Number.MAX_SAFE_INTEGER } }),
    ).not.toThrow();
  });
});

describe('strict mode', () => {
  it('throws before recording anything, naming the method, argument and rule', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('app'), { strict: true });
    expect(() =>
      metrics.recordConversion('purchase', {
        source: 'direct',
        deviceType: 'web',
        sessionStartTime: new Date(NaN),
      }),
    ).toThrow(
      new TypeError(
        'businessMetrics.recordConversion: metadata.sessionStartTime must be a valid Date (or epoch milliseconds) ' +
          'not in the future (got an invalid Date)',
      ),
    );
    expect(pointsOf(await reader.resourceMetrics(), BUSINESS_METRICS.conversions.name)).toEqual([]);
    await provider.shutdown();
  });
});
