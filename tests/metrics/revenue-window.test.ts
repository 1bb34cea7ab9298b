/**
 * src/metrics/revenue-window.ts: the rolling one-minute revenue of one region (60 one-second slots), directly and
 * through the business_revenue_per_minute_cents gauge with an injected clock. Clock-at-call-time behaviour under
 * fake timers is in clock.test.ts.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BUSINESS_METRICS, BusinessMetrics } from '../../src';
import { RevenueWindow } from '../../src/metrics/revenue-window';
import { pointsOf, TestReader } from '../support/collect';

/** A whole second, in ms, far from 0 so slot arithmetic sees realistic epoch values. */
const T = 1_764_000_000_000;
const SECOND = 1000;

describe('RevenueWindow', () => {
  it('sums what was added in the 60 seconds up to and including the current one', () => {
    const window = new RevenueWindow({ region: 'eu_west' });
    window.add(100, T);
    window.add(20, T + 999); // same second, same slot
    window.add(3, T + 1 * SECOND);
    window.add(4_000, T + 59 * SECOND + 999);
    expect(window.total(T + 59 * SECOND + 999)).toBe(4_123);
    expect(window.attributes).toEqual({ region: 'eu_west' });
  });

  it('drops a second exactly when it is 60 seconds old, to the millisecond', () => {
    const window = new RevenueWindow({});
    window.add(100, T + 500);
    window.add(7, T + 10 * SECOND);
    expect(window.total(T + 59 * SECOND + 999)).toBe(107);
    expect(window.total(T + 60 * SECOND)).toBe(7);
    expect(window.total(T + 69 * SECOND + 999)).toBe(7);
    expect(window.total(T + 70 * SECOND)).toBe(0);
  });

  it('reuses a slot a minute later without carrying the old amount', () => {
    const window = new RevenueWindow({});
    window.add(100, T);
    window.add(5, T + 60 * SECOND); // the same slot as T, one minute on
    expect(window.total(T + 60 * SECOND)).toBe(5);
    window.add(6, T + 120 * SECOND + 1);
    expect(window.total(T + 120 * SECOND + 1)).toBe(6);
  });

  it('is 0 after a quiet spell longer than a minute, and counts again afterwards', () => {
    const window = new RevenueWindow({});
    for (let s = 0; s < 60; s++) window.add(1, T + s * SECOND);
    expect(window.total(T + 59 * SECOND)).toBe(60);
    expect(window.total(T + 3_600 * SECOND)).toBe(0);
    window.add(9, T + 3_600 * SECOND);
    expect(window.total(T + 3_600 * SECOND)).toBe(9);
  });
});

describe('business_revenue_per_minute_cents with an injected clock', () => {
  it('forgets revenue older than a minute and keeps the region visible at 0', async () => {
    let clock = 1_700_000_000_000;
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('app'), { now: () => clock });
    const perMinute = async () =>
      pointsOf(await reader.resourceMetrics(), BUSINESS_METRICS.revenuePerMinute.name);
    try {
      metrics.recordRevenue(1000, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      clock += 30_000;
      metrics.recordRevenue(300, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      expect(await perMinute()).toEqual([
        { attributes: { region: 'eu_west', currency: 'USD' }, value: 1300 },
      ]);
      clock += 31_000;
      expect(await perMinute()).toEqual([{ attributes: { region: 'eu_west', currency: 'USD' }, value: 300 }]);
      clock += 60_000;
      // A region that had revenue stays visible at 0 rather than disappearing (alerts can see "no revenue").
      expect(await perMinute()).toEqual([{ attributes: { region: 'eu_west', currency: 'USD' }, value: 0 }]);
    } finally {
      await provider.shutdown();
    }
  });
});
