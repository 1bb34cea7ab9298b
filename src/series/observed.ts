/**
 * The package's observable instruments (self-metrics, business_active_users, revenue per minute, the money gauges)
 * observed by the store itself, for a pull-only app that loads no OpenTelemetry SDK: each cumulative collection
 * calls every callback and reports what the SDK's asynchronous instruments report to a cumulative reader, step for
 * step as @opentelemetry/sdk-metrics 2.x computes it (DeltaMetricProcessor, TemporalMetricProcessor, the Sum and
 * LastValue aggregators; a test runs the same callbacks through both and compares the points):
 * - a series appears at its first observation, which is its start time, and is reported at every later
 *   collection, observed again or not, with its last value;
 * - a counter reports the sum of the differences between its observations (a decrease is a reset: the new value,
 *   starting now); a gauge reports its latest observation (by the wall clock, as the SDK compares them);
 * - the last of several observations of one attribute set in a round counts; a value that is not a number is
 *   refused with a diag warning; a callback that throws adds nothing that round and its error is returned;
 * - past 1,999 series (the SDK's default cardinality limit of 2,000), new attribute sets go to one series with
 *   attributes `{ "otel.metric.overflow": true }`;
 * - every single-instrument callback runs before every batch callback; the collection time is the wall clock in
 *   whole milliseconds.
 * Where an SDK MeterProvider exists from the start (any push exporter, an app's reader, cluster mode, runtime
 * metrics), the package's observables are the SDK's instead (metrics/instruments.ts decides), so delta readers
 * get the SDK's own delta semantics.
 *
 * Owns: those observations and their cumulative state. Must not touch: what the callbacks read, the counters and
 * histograms of the store (local-store.ts), serialisation.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { diag } from '../support';
import type { DataPoint, MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricDefinition } from '../catalog/metrics';
import { AggregationTemporality, DataPointType, InstrumentType, ValueType } from './otel-enums';
import { hrTimeFromEpochMillis } from './time';

/** Reports one value of an observable instrument at collection. */
export type Observe = (value: number, attributes?: Attributes) => void;

/** The SDK's default cardinality limit per instrument and reader. */
export const CARDINALITY_LIMIT = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const OVERFLOW_HASH = hashAttributes(OVERFLOW_ATTRIBUTES);

/** One accumulation as the SDK's aggregators keep it. */
interface Accumulation {
  value: number;
  startTime: HrTime;
  /** Sum: this delta is a reset (the observation fell). */
  reset: boolean;
  /** LastValue: when the value was recorded (Date.now(), compared in microseconds as the SDK does). */
  sampleMicros: number;
}

/** The SDK's attribute hash: stable on key order. */
function hashAttributes(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  return JSON.stringify(keys.sort().map((key) => [key, attributes[key]]));
}

class ObservedInstrument {
  /** The last observation of each series (the SDK's cumulative memo). */
  private readonly memo = new Map<string, Accumulation>();
  /** What each series has reported, cumulatively, with its attributes (insertion order = first observation). */
  private readonly reported = new Map<string, { attributes: Attributes; accumulation: Accumulation }>();
  /** This round's observations: the last one per attribute set. */
  round = new Map<string, { attributes: Attributes; value: number; sampleMicros: number }>();

  constructor(
    readonly definition: MetricDefinition,
    readonly kind: 'counter' | 'gauge',
  ) {}

  observe(value: unknown, attributes: Attributes = {}): void {
    if (typeof value !== 'number') {
      diag.warn(`non-number value provided to metric ${this.definition.name}: ${String(value)}`);
      return;
    }
    this.round.set(hashAttributes(attributes), { attributes, value, sampleMicros: Date.now() * 1000 });
  }

  /** Folds this round's observations in (DeltaMetricProcessor.batchCumulate + TemporalMetricProcessor.merge). */
  cumulate(collectionTime: HrTime): void {
    const deltas = new Map<string, { attributes: Attributes; delta: Accumulation }>();
    for (const [observedHash, { attributes: observedAttributes, value, sampleMicros }] of this.round) {
      let hash = observedHash;
      let attributes = observedAttributes;
      // A monotonic sum ignores a negative recording: the accumulation stays 0 (SumAccumulation.record).
      const recorded = this.kind === 'counter' && value < 0 ? 0 : value;
      const current: Accumulation = {
        value: recorded,
        startTime: collectionTime,
        reset: false,
        sampleMicros,
      };
      let delta = current;
      if (this.memo.has(hash)) {
        delta = this.diff(this.memo.get(hash)!, current);
      } else if (this.memo.size >= CARDINALITY_LIMIT - 1) {
        hash = OVERFLOW_HASH;
        attributes = OVERFLOW_ATTRIBUTES;
        const previous = this.memo.get(hash);
        if (previous !== undefined) delta = this.diff(previous, current);
      }
      const active = deltas.get(hash);
      if (active !== undefined) delta = this.merge(active.delta, delta);
      this.memo.set(hash, current);
      deltas.set(hash, { attributes, delta });
    }
    this.round = new Map();
    for (const [hash, { attributes, delta }] of deltas) {
      const last = this.reported.get(hash);
      this.reported.set(hash, {
        attributes,
        accumulation: last === undefined ? delta : this.merge(last.accumulation, delta),
      });
    }
  }

  /** The SDK's MetricData of this instrument, or undefined while it has no series. */
  metricData(endTime: HrTime): MetricData | undefined {
    if (this.reported.size === 0) return undefined;
    const dataPoints: DataPoint<number>[] = [];
    for (const { attributes, accumulation } of this.reported.values()) {
      dataPoints.push({ attributes, startTime: accumulation.startTime, endTime, value: accumulation.value });
    }
    const { name, description, unit } = this.definition;
    const counter = this.kind === 'counter';
    const descriptor = {
      name,
      type: counter ? InstrumentType.OBSERVABLE_COUNTER : InstrumentType.OBSERVABLE_GAUGE,
      description,
      unit,
      valueType: ValueType.DOUBLE,
      advice: {},
    };
    const temporality = AggregationTemporality.CUMULATIVE;
    return counter
      ? {
          descriptor,
          aggregationTemporality: temporality,
          dataPointType: DataPointType.SUM,
          dataPoints,
          isMonotonic: true,
        }
      : { descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.GAUGE, dataPoints };
  }

  private diff(previous: Accumulation, current: Accumulation): Accumulation {
    if (this.kind === 'gauge') {
      const latest = current.sampleMicros >= previous.sampleMicros ? current : previous;
      return { ...latest, startTime: current.startTime, reset: false };
    }
    if (previous.value > current.value) return { ...current, reset: true };
    return { ...current, value: current.value - previous.value };
  }

  private merge(previous: Accumulation, delta: Accumulation): Accumulation {
    if (this.kind === 'gauge') {
      const latest = delta.sampleMicros >= previous.sampleMicros ? delta : previous;
      return { ...latest, startTime: previous.startTime, reset: false };
    }
    if (delta.reset) return { ...delta };
    return { ...previous, value: previous.value + delta.value, reset: false };
  }
}

/** The observable instruments of one store, in the order they were registered. */
export class ObservedInstruments {
  private readonly instruments: ObservedInstrument[] = [];
  /** The SDK calls every single-instrument callback, then every batch callback (ObservableRegistry.observe). */
  private readonly callbacks: Array<() => void> = [];
  private readonly batchCallbacks: Array<() => void> = [];

  /** An observable counter whose callback reports the current totals. */
  counter(definition: MetricDefinition, callback: (observe: Observe) => void): void {
    this.single(definition, 'counter', callback);
  }

  /** An observable gauge whose callback reports the current values. */
  gauge(definition: MetricDefinition, callback: (observe: Observe) => void): void {
    this.single(definition, 'gauge', callback);
  }

  /** Several observable gauges read by one callback (`index` is the definition's position). */
  batchGauges(
    definitions: readonly MetricDefinition[],
    callback: (observe: (index: number, value: number, attributes: Attributes) => void) => void,
  ): void {
    const gauges = definitions.map((definition) => this.add(definition, 'gauge'));
    this.batchCallbacks.push(() => {
      try {
        callback((index, value, attributes) => gauges[index]?.observe(value, attributes));
      } catch (error) {
        for (const gauge of gauges) gauge.round = new Map();
        throw error;
      }
    });
  }

  /** Whether any instrument is registered (a collection without any reports no scope). */
  get empty(): boolean {
    return this.instruments.length === 0;
  }

  /**
   * One cumulative collection: every callback, then every instrument's points. A callback that throws reports
   * nothing this round (as in the SDK); its error is added to `errors`. The collection time is the SDK's: the wall
   * clock in whole milliseconds.
   */
  collect(errors: unknown[], collectionTime: HrTime = hrTimeFromEpochMillis(Date.now())): MetricData[] {
    for (const callback of [...this.callbacks, ...this.batchCallbacks]) {
      try {
        callback();
      } catch (error) {
        errors.push(error);
      }
    }
    for (const instrument of this.instruments) instrument.cumulate(collectionTime);
    const metrics: MetricData[] = [];
    for (const instrument of this.instruments) {
      const data = instrument.metricData(collectionTime);
      if (data !== undefined) metrics.push(data);
    }
    return metrics;
  }

  private single(
    definition: MetricDefinition,
    kind: 'counter' | 'gauge',
    callback: (observe: Observe) => void,
  ): void {
    const instrument = this.add(definition, kind);
    this.callbacks.push(() => {
      try {
        callback((value, attributes) => instrument.observe(value, attributes));
      } catch (error) {
        instrument.round = new Map();
        throw error;
      }
    });
  }

  private add(definition: MetricDefinition, kind: 'counter' | 'gauge'): ObservedInstrument {
    const instrument = new ObservedInstrument(definition, kind);
    this.instruments.push(instrument);
    return instrument;
  }
}
