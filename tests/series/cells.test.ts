/**
 * src/series/cells.ts directly: a local counter accumulates; a local histogram puts each value in the first
 * bucket whose boundary is >= it (Prometheus `le`), the last bucket holding the rest, with sum, count, min, max
 * and every delta reader's window; exemplars are kept per bucket (the last one wins) only inside a sampled span
 * while the gate is armed; the meter cells forward to real SDK instruments with the series' own attributes.
 */
import { context, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  LocalCounterCell,
  LocalGaugeCell,
  LocalHistogramCell,
  MeterCounterCell,
  MeterHistogramCell,
} from '../../src/series/cells';
import { exemplarGate, refreshExemplarGate } from '../../src/series/exemplars';

const SAMPLED: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};
const inSpan = (span: SpanContext, run: () => void) =>
  context.with(trace.setSpanContext(context.active(), span), run);

describe('LocalCounterCell', () => {
  it('adds every increment, fractions too, and keeps the attributes it was made with', () => {
    const attributes = Object.freeze({ step: 'cart_view' });
    const cell = new LocalCounterCell(attributes);
    cell.add(1);
    cell.add(2.5);
    cell.add(0);
    expect(cell.value).toBe(3.5);
    expect(cell.attributes).toBe(attributes);
    expect(cell.exemplar).toBeUndefined();
  });
});

describe('LocalHistogramCell', () => {
  it('counts each value in the first bucket whose boundary is >= the value, the rest in the last', () => {
    const cell = new LocalHistogramCell({}, [1, 5, 10]);
    for (const value of [0, 1, 1.0001, 5, 7, 10, 10.5, 1e9]) cell.record(value);
    // le=1: 0, 1; le=5: 1.0001, 5; le=10: 7, 10; +Inf: 10.5, 1e9.
    expect(cell.counts).toEqual([2, 2, 2, 2]);
    expect(cell.count).toBe(8);
    expect(cell.sum).toBeCloseTo(0 + 1 + 1.0001 + 5 + 7 + 10 + 10.5 + 1e9, 6);
    expect([cell.min, cell.max]).toEqual([0, 1e9]);
  });

  it('has min +Infinity and max -Infinity before the first value, and no buckets beyond the boundaries + 1', () => {
    const cell = new LocalHistogramCell({}, []);
    expect([cell.min, cell.max, cell.counts]).toEqual([Infinity, -Infinity, [0]]);
    cell.record(-3);
    expect([cell.min, cell.max, cell.counts, cell.sum]).toEqual([-3, -3, [1], -3]);
  });

  it("moves each delta reader's window min and max, and only the windows that exist", () => {
    const cell = new LocalHistogramCell({}, [10]);
    cell.record(4);
    expect(cell.windows).toEqual([]);
    // Two readers reported: each window starts empty (min +Inf, max -Inf).
    cell.windows.push(Infinity, -Infinity, 2, 3);
    cell.record(5);
    cell.record(1);
    expect(cell.windows).toEqual([1, 5, 1, 5]);
    expect([cell.min, cell.max]).toEqual([1, 5]);
  });
});

describe('exemplars in local cells', () => {
  afterEach(() => {
    context.disable();
    refreshExemplarGate();
  });

  it('are kept only while the gate is armed and inside a sampled span, per bucket, the last value winning', () => {
    const counter = new LocalCounterCell({});
    const histogram = new LocalHistogramCell({}, [1, 10]);
    // No context manager: the gate is closed, nothing is looked up.
    refreshExemplarGate();
    expect(exemplarGate.armed).toBe(false);
    inSpan(SAMPLED, () => {
      counter.add(1);
      histogram.record(0.5);
    });
    expect([counter.exemplar, histogram.exemplars]).toEqual([undefined, undefined]);

    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    refreshExemplarGate();
    expect(exemplarGate.armed).toBe(true);
    counter.add(1); // no span: nothing kept
    histogram.record(0.5);
    expect([counter.exemplar, histogram.exemplars]).toEqual([undefined, undefined]);
    inSpan({ ...SAMPLED, traceFlags: TraceFlags.NONE }, () => counter.add(1)); // not sampled
    expect(counter.exemplar).toBeUndefined();

    inSpan(SAMPLED, () => {
      counter.add(2);
      histogram.record(0.5);
      histogram.record(50);
    });
    inSpan({ ...SAMPLED, spanId: '1111111111111111' }, () => histogram.record(0.25));
    expect(counter.exemplar).toMatchObject({ traceId: SAMPLED.traceId, spanId: SAMPLED.spanId, value: 2 });
    expect(histogram.exemplars).toHaveLength(3);
    expect(histogram.exemplars![0]).toMatchObject({ spanId: '1111111111111111', value: 0.25 });
    expect(histogram.exemplars![1]).toBeUndefined();
    expect(histogram.exemplars![2]).toMatchObject({ spanId: SAMPLED.spanId, value: 50 });
    // Every measurement counted, kept or not.
    expect(counter.value).toBe(5);
    expect(histogram.counts).toEqual([4, 0, 1]);
  });
});

describe('LocalGaugeCell', () => {
  it('holds the last value set, starting at 0', () => {
    const cell = new LocalGaugeCell({ window: 'daily' });
    expect(cell.value).toBe(0);
    cell.value = 7;
    cell.value = 3;
    expect(cell.value).toBe(3);
  });
});

describe('meter cells', () => {
  it("forward to the SDK's instruments with the series' attributes", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const meter = provider.getMeter('cells-test');
      const counter = new MeterCounterCell(
        Object.freeze({ step: 'cart_view' }),
        meter.createCounter('steps'),
      );
      const histogram = new MeterHistogramCell(
        Object.freeze({ region: 'eu' }),
        meter.createHistogram('order', { advice: { explicitBucketBoundaries: [10, 100] } }),
      );
      counter.add(2);
      counter.add(3);
      histogram.record(50);
      histogram.record(500);
      const { resourceMetrics } = await reader.collect();
      const metrics = resourceMetrics.scopeMetrics[0].metrics;
      const steps = metrics.find((metric) => metric.descriptor.name === 'steps')!;
      expect(steps.dataPoints.map((point) => [point.attributes, point.value])).toEqual([
        [{ step: 'cart_view' }, 5],
      ]);
      const order = metrics.find((metric) => metric.descriptor.name === 'order')!;
      expect(order.dataPoints).toHaveLength(1);
      expect(order.dataPoints[0].attributes).toEqual({ region: 'eu' });
      expect(order.dataPoints[0].value).toMatchObject({ count: 2, sum: 550, buckets: { counts: [0, 1, 1] } });
    } finally {
      await provider.shutdown();
    }
  });
});
