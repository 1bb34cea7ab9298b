/**
 * One series' state. A cell is created once per label combination and then updated in place, allocation-free.
 *
 * Owns: the accumulators (local mode) or the SDK-instrument forwarding (meter mode), and the series' frozen
 * attributes object, which is what the SDK and the exporters see (never a caller's object).
 * Must not touch: label resolution, collection.
 */
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import { exemplarFor, exemplarGate, onExemplarGateChange, type Exemplar } from './exemplars';

export interface CounterCell {
  readonly attributes: Attributes;
  add(value: number): void;
}

export interface HistogramCell {
  readonly attributes: Attributes;
  record(value: number): void;
}

export interface GaugeCell {
  readonly attributes: Attributes;
  value: number;
}

/** Counter accumulated locally; the package's MetricProducer reads `value`. */
export class LocalCounterCell implements CounterCell {
  value = 0;
  /** The last increment recorded inside a sampled span (see exemplars.ts); replaced, never accumulated. */
  exemplar: Exemplar | undefined = undefined;
  constructor(readonly attributes: Attributes) {}
  /** Replaced by addKeepingExemplar while the exemplar gate is open (below). */
  add(value: number): void {
    this.value += value;
  }
  /** @internal */
  addKeepingExemplar(value: number): void {
    this.value += value;
    const exemplar = exemplarFor(value);
    if (exemplar !== undefined) this.exemplar = exemplar;
  }
}

// The counter's add is the busiest method of the package (every recordFunnelStep, recordFeatureUsage, ...). Without
// a trace SDK no span can be active, so it does not even test the gate: the gate swaps the method itself when it
// opens or closes (rarely: a context manager registered or disabled). Measured: 3% of recordFunnelStep.
const plainAdd = LocalCounterCell.prototype.add;
onExemplarGateChange((armed) => {
  LocalCounterCell.prototype.add = armed ? LocalCounterCell.prototype.addKeepingExemplar : plainAdd;
});

/** Explicit-bucket histogram accumulated locally (bucket i counts values <= boundaries[i]; the last is +Inf). */
export class LocalHistogramCell implements HistogramCell {
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  /**
   * Min and max since each delta reader's last report, as pairs `[min0, max0, min1, max1, ...]` (index = the
   * reader's window). Cumulative min/max cannot give an interval's min/max; the SDK reports those for delta.
   * Empty, and so free on the hot path, while no delta reader has reported this series yet.
   */
  windows: number[] = [];
  /** Per bucket, the last value recorded inside a sampled span; allocated at the first such value. */
  exemplars: (Exemplar | undefined)[] | undefined = undefined;
  constructor(
    readonly attributes: Attributes,
    readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }
  record(value: number): void {
    const boundaries = this.boundaries;
    let bucket = 0;
    while (bucket < boundaries.length && value > boundaries[bucket]) bucket++;
    this.counts[bucket]++;
    this.sum += value;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const windows = this.windows;
    for (let i = 0; i < windows.length; i += 2) {
      if (value < windows[i]) windows[i] = value;
      if (value > windows[i + 1]) windows[i + 1] = value;
    }
    if (exemplarGate.armed) this.keepExemplar(value, bucket);
  }
  private keepExemplar(value: number, bucket: number): void {
    const exemplar = exemplarFor(value);
    if (exemplar === undefined) return;
    const exemplars = (this.exemplars ??= new Array<Exemplar | undefined>(this.counts.length).fill(
      undefined,
    ));
    exemplars[bucket] = exemplar;
  }
}

/** Counter forwarded to an SDK instrument (for a Meter the package does not own). */
export class MeterCounterCell implements CounterCell {
  constructor(
    readonly attributes: Attributes,
    private readonly counter: Counter,
  ) {}
  add(value: number): void {
    this.counter.add(value, this.attributes);
  }
}

/** Histogram forwarded to an SDK instrument (for a Meter the package does not own). */
export class MeterHistogramCell implements HistogramCell {
  constructor(
    readonly attributes: Attributes,
    private readonly histogram: Histogram,
  ) {}
  record(value: number): void {
    this.histogram.record(value, this.attributes);
  }
}

/** Last value set, reported by an observable gauge callback. */
export class LocalGaugeCell implements GaugeCell {
  value = 0;
  constructor(readonly attributes: Attributes) {}
}
