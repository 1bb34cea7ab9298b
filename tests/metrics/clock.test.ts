/**
 * Durations and the revenue minute read the clock when a method runs, so an app under Jest's modern fake timers
 * records the faked durations, as it would with the seed's code.
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
});
