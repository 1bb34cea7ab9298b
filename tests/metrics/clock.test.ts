/**
 * Durations and the revenue minute read the clock when a method runs, so an app under Jest's modern fake timers
 * records the faked durations, as it would with the seed's code. With the default clock, active users believe days
 * that passed by both the wall and the monotonic clock at once (fake timers advancing), and wait for a wall clock
 * that stepped alone (setSystemTime); strict mode never throws for the clock.
 */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';

describe('clock at call time', () => {
  afterEach(() => jest.useRealTimers());

  it('records faked durations and ages the revenue minute with faked time, with fake timers installed after construction', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('clock-test'));

    // Only Date is faked: the SDK's own export timers stay real, so forceFlush can complete.
    jest.useFakeTimers({
      now: new Date('2026-01-01T00:00:00Z'),
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'nextTick',
        'queueMicrotask',
      ],
    });
    const sessionStart = new Date('2026-01-01T00:00:00Z');
    metrics.recordRevenue(1234, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    const latest = async () => {
      await reader.forceFlush();
      const all = exporter
        .getMetrics()
        .at(-1)!
        .scopeMetrics.flatMap((sm) => sm.metrics);
      return (name: string) => all.find((metric) => metric.descriptor.name === name)!.dataPoints[0].value;
    };

    jest.setSystemTime(new Date('2026-01-01T00:00:30Z'));
    expect((await latest())('business_revenue_per_minute_cents')).toBe(1234);

    jest.setSystemTime(new Date('2026-01-01T00:07:30Z'));
    metrics.recordSessionEnd(sessionStart, { userTier: 'pro', entryPage: '/home' });
    metrics.recordConversion('purchase', {
      source: 'direct',
      deviceType: 'web',
      sessionStartTime: sessionStart,
    });
    const value = await latest();
    expect((value('business_session_duration_seconds') as { sum: number }).sum).toBe(450);
    expect((value('business_time_to_conversion_seconds') as { sum: number }).sum).toBe(450);
    // Recorded 7.5 faked minutes ago: the rolling minute no longer holds it.
    expect(value('business_revenue_per_minute_cents')).toBe(0);
    await provider.shutdown();
  });

  it('active users: days that passed by the monotonic clock too are believed at once; a wall step waits', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('clock-test'), { strict: true });
    // Date and performance are faked (advanceTimersByTime moves both); the SDK's export timers stay real.
    jest.useFakeTimers({
      now: new Date('2026-01-09T22:00:00Z'), // a Friday
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'nextTick',
        'queueMicrotask',
      ],
    });
    const weekly = async () => {
      await reader.forceFlush();
      const gauge = exporter
        .getMetrics()
        .at(-1)!
        .scopeMetrics.flatMap((sm) => sm.metrics)
        .find((metric) => metric.descriptor.name === 'business_active_users')!;
      return gauge.dataPoints.find((point) => point.attributes.window === 'weekly')!.value;
    };
    metrics.trackActiveUser('friday', { userTier: 'free' });
    // The process runs idle until Sunday 09:00 (no collection either): both clocks advance 35 hours.
    jest.advanceTimersByTime(35 * 3_600_000);
    metrics.trackActiveUser('sunday', { userTier: 'free' });
    expect(await weekly()).toBe(2);
    // Only the wall clock steps 3 days (as a suspended process sees it, or a bad NTP step): counted, not thrown.
    jest.setSystemTime(new Date('2026-01-13T09:00:00Z'));
    expect(() => metrics.trackActiveUser('stepped', { userTier: 'free' })).not.toThrow();
    expect(await weekly()).toBe(2);
    await provider.shutdown();
  });
});
