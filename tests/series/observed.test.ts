/**
 * src/series/observed.ts against @opentelemetry/sdk-metrics: the same callbacks, observing the same values, run
 * through the SDK's asynchronous instruments (a MeterProvider with a cumulative reader, as the package's pull reader
 * is) and through the store's own observations give the same points, collection after collection: values, attributes,
 * start and end times (the clock is faked, so both read the same wall clock), order, descriptors. Covered: counters
 * that rise, stay, fall (a reset) and vanish; gauges; several observations of one attribute set in a round; values
 * that are not numbers; a callback that throws; batch callbacks; the 2,000-series cardinality limit's overflow series.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { MetricDefinition } from '../../src/catalog/metrics';
import { ObservedInstruments, type Observe } from '../../src/series/observed';
import { captureDiag } from '../support/diag-messages';

class CumulativeReader extends MetricReader {
  constructor() {
    super({
      aggregationSelector: () => ({ type: AggregationType.DEFAULT }),
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const definition = (name: string): MetricDefinition =>
  ({ name, description: `${name} help`, unit: '1' }) as unknown as MetricDefinition;

type Script = {
  counter: Array<(observe: Observe) => void>;
  gauge: Array<(observe: Observe) => void>;
  batch: Array<(observe: (index: number, value: number, attributes: Attributes) => void) => void>;
};

/** Both implementations over the same callbacks; `round` selects what each callback observes. */
function both(script: Script) {
  const reader = new CumulativeReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('otel-business-metrics', '0.1.0');
  const ours = new ObservedInstruments();
  script.counter.forEach((callback, i) => {
    const name = `c${i}`;
    const sdkOptions = { description: definition(name).description, unit: '1' };
    meter
      .createObservableCounter(name, sdkOptions)
      .addCallback((result) => callback((v, a) => result.observe(v, a)));
    ours.counter(definition(name), callback);
  });
  script.gauge.forEach((callback, i) => {
    const name = `g${i}`;
    const sdkOptions = { description: definition(name).description, unit: '1' };
    meter
      .createObservableGauge(name, sdkOptions)
      .addCallback((result) => callback((v, a) => result.observe(v, a)));
    ours.gauge(definition(name), callback);
  });
  script.batch.forEach((callback, i) => {
    const names = [`b${i}a`, `b${i}b`];
    const gauges = names.map((name) =>
      meter.createObservableGauge(name, { description: `${name} help`, unit: '1' }),
    );
    meter.addBatchObservableCallback((result) => {
      callback((index, value, attributes) => result.observe(gauges[index], value, attributes));
    }, gauges);
    ours.batchGauges(names.map(definition), callback);
  });
  return {
    async collect(): Promise<{ sdk: unknown; ours: unknown; errors: [number, number] }> {
      const collected = await reader.collect();
      const errors: unknown[] = [];
      const own = ours.collect(errors);
      return {
        sdk: comparable(collected.resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)),
        ours: comparable(own),
        errors: [collected.errors.length, errors.length],
      };
    },
  };
}

function comparable(metrics: readonly MetricData[]) {
  return metrics.map((metric) => ({
    name: metric.descriptor.name,
    description: metric.descriptor.description,
    unit: metric.descriptor.unit,
    type: (metric.descriptor as { type?: unknown }).type,
    valueType: metric.descriptor.valueType,
    dataPointType: metric.dataPointType,
    temporality: metric.aggregationTemporality,
    monotonic: 'isMonotonic' in metric ? metric.isMonotonic : undefined,
    points: metric.dataPoints.map((point) => ({
      attributes: point.attributes,
      startTime: point.startTime,
      endTime: point.endTime,
      value: point.value,
    })),
  }));
}

describe("the store's observations are the SDK's asynchronous instruments'", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_123, doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('counters, gauges and batches over rounds of rising, falling, repeated, vanishing and bad values', async () => {
    let round = 0;
    const messages = captureDiag();
    const script: Script = {
      counter: [
        (observe) => {
          // Rises, stays, falls (a reset), rises again; a second series appears at round 2 and vanishes at 4.
          observe([5, 7, 7, 3, 10, 12][round] ?? 12, { outcome: 'ok' });
          if (round >= 2 && round < 4) observe(round * 2, { outcome: 'failed' });
          // Observed twice in a round: the last counts.
          observe(1, { twice: 'yes' });
          observe(round + 1, { twice: 'yes' });
        },
        (observe) => {
          if (round === 3) throw new Error('callback failed');
          observe(round, {});
          if (round === 1) observe('nope' as unknown as number, { bad: 'value' });
          if (round === 4) observe(-5, { negative: 'yes' });
        },
      ],
      gauge: [
        (observe) => {
          observe([1.5, 0, -2, 8, 8, 3][round] ?? 0, { currency: 'USD' });
          if (round % 2 === 0) observe(round, { currency: 'EUR' });
        },
      ],
      batch: [
        (observe) => {
          if (round === 2) throw new Error('batch failed');
          observe(0, round * 10, { a: '1' });
          observe(1, round, { b: String(round % 2) });
        },
      ],
    };
    const run = both(script);
    let compared = 0;
    for (round = 0; round < 6; round++) {
      const { sdk, ours, errors } = await run.collect();
      expect(ours).toEqual(sdk);
      expect(errors[1]).toBe(errors[0]);
      compared++;
      jest.advanceTimersByTime(round === 2 ? 0 : 1_500 + round);
    }
    expect(compared).toBe(6);
    expect(messages.warnings.some((message) => message.includes('non-number value'))).toBe(true);
    messages.stop();
  });

  it('past 1,999 attribute sets, new ones go to the overflow series, as the SDK cardinality limit does', async () => {
    let size = 1990;
    const script: Script = {
      counter: [(observe) => Array.from({ length: size }, (_, i) => observe(i + 1, { id: String(i) }))],
      gauge: [(observe) => Array.from({ length: size }, (_, i) => observe(i, { id: String(i) }))],
      batch: [],
    };
    const run = both(script);
    for (const next of [1990, 2005, 2010, 1500]) {
      size = next;
      const { sdk, ours } = await run.collect();
      expect(ours).toEqual(sdk);
      jest.advanceTimersByTime(1000);
    }
    const { ours } = await run.collect();
    const points = (ours as ReturnType<typeof comparable>)[0].points;
    expect(points.some((point) => point.attributes['otel.metric.overflow'] === true)).toBe(true);
  });
});
