/**
 * Primary side: the latest snapshot of every source, the totals of sources that are gone, and the exact
 * aggregate rendered as OpenTelemetry MetricData (so the package's Prometheus serializer renders it as it
 * renders a single process).
 *
 * Owns: the merge (counters and up-down counters summed, histograms summed bucket by bucket, gauges by their
 * family's rule: the shapes' table here, the gauge rules' in rules.ts), the latest exemplar per series and bucket,
 * retirement of sources that exit, and the tallies behind the cluster self-metrics. Must not touch: transports, HTTP, recording, what a gauge rule computes.
 *
 * Why the totals never go backwards while the primary lives: every source's numbers are cumulative and only
 * ever replaced by a newer snapshot of the same source; a source that misses a collection keeps its last
 * numbers in the total; a source that exits has its last numbers folded into `retired` before it is forgotten.
 * What can be lost is exactly what a source recorded after its last snapshot reached the primary, when it dies
 * without sending a final one (SIGKILL, a crash, `worker.terminate()`) or its final one is refused whole: it is
 * counted as `exited`.
 *
 * Under broken or hostile sources (docs/safety.md#peers): every snapshot passes the rules of validate.ts first;
 * a series whose key breaks them is left out, and a point whose numbers break them, or that would take a counter
 * or histogram of its source backwards, is refused alone (the series keeps its previous numbers); the rest of
 * the snapshot is applied, and the snapshot is counted as `invalid` once. Memory is
 * bounded whatever the sources send: at most `maxSeriesPerMetric` series per family (as in one process; later
 * label sets fold into the family's all-`other` series, exactly, and are counted), {@link MAX_FAMILIES} families,
 * {@link MAX_SOURCES} live sources, and the ids of the last {@link RETIRED_MEMORY} retired sources.
 *
 * Exemplars: each series of the aggregate keeps, per counter series or per histogram bucket, the latest exemplar
 * (by its time) any source sent for it, as one process keeps the latest recorded; its points carry them as the
 * local store's do (series/exemplars.ts `ExemplarCarrier`), so the serializer and the OTLP writers write them. They
 * follow the numbers: a source that exits leaves its exemplars on the series it fed, as it leaves its counts in the
 * totals, until a newer one replaces them; a series folded into `other` gives its exemplars to that series.
 * Memory: one per counter series and one per bucket, whatever the sources send.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { OTHER_LABEL_VALUE } from '../catalog/labels';
import { otelToPrometheusName, type OtlpMetricShape } from '../catalog/prometheus-naming';
import {
  EXEMPLAR_STRIDE,
  fromWire,
  type MetricShape,
  type SnapshotMessage,
  type WireMetric,
  type WireNumber,
} from './protocol';
import {
  checkSnapshot,
  exemplarRefusal,
  identityOf,
  MAX_KEYS_PER_SOURCE,
  pointRefusal,
  pointWidth,
  type CheckedKey,
  type CheckedSnapshot,
} from './validate';
import type { SnapshotExemplar } from './encode';
import type { ClusterExtension } from './extensions';
import { GAUGE_RULES, type GaugeRule, type MergedGauge } from './rules';

export type { GaugeRule } from './rules';

/** Why a source's numbers were missing or refused (the `reason` label of the cluster failure self-metric). */
export type ClusterFailureReason = 'timeout' | 'exited' | 'invalid';

interface Family {
  /** Dense number of the family, part of a slot's key. */
  readonly index: number;
  readonly scope: InstrumentationScope;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly valueType: ValueType;
  readonly shape: MetricShape;
  readonly boundaries: number[] | undefined;
  /** Numbers per series: 1, or 4 + buckets for histograms. */
  readonly width: number;
  /** How this family's numbers join across sources, and the kind of points it renders as. */
  readonly shapeRule: ShapeRule;
  /** The family's gauge rule, looked up once (gauges only). */
  readonly merge: (typeof GAUGE_RULES)[GaugeRule];
  /** By identity (validate.ts): one series per label set, however sources spell it. */
  readonly series: Map<string, Series>;
  readonly order: Series[];
  /** The all-`other` series new label sets fold into once the family holds `maxSeriesPerMetric` series. */
  overflow: Series | undefined;
  /** Whether any series of the family holds an exemplar: until then, rendering looks for none. */
  hasExemplars: boolean;
}

interface Series {
  readonly attributes: Attributes;
  /**
   * Where its cumulative stream starts: the end of the primary's collection before the one that first saw it, so
   * Prometheus's created-timestamp zero lands before the scrape that first carries its amounts, and they count
   * (docs/money.md#exact-to-the-cent). The aggregate's own start would be hours too early for a series born late.
   */
  readonly startTime: HrTime;
  /** Totals of sources that are gone (counters and histograms only). */
  retired: number[] | undefined;
  /** Scratch for rendering: the summed numbers (counters, histograms). */
  readonly acc: number[];
  /** Scratch for rendering: the merged value (gauges). */
  readonly merged: MergedGauge;
  present: boolean;
  /** The latest exemplar of every source: one for a counter, one per bucket for a histogram. */
  exemplars: (SnapshotExemplar | undefined)[] | undefined;
}

/** One series of one source: its latest numbers (a series folded into `other` keeps a slot of its own). */
interface Slot {
  readonly family: Family;
  readonly series: Series;
  readonly values: number[];
  /** False until the first accepted point (a new slot has nothing to compare a counter with). */
  filled: boolean;
  /** When the primary saw this value change (gauges, for the `latest` rule). */
  changedAt: number;
  /** The snapshot that last carried this slot (gauges and up-down levels a snapshot omits are no longer reported). */
  seenIn: number;
}

interface SourceState {
  readonly id: string;
  epoch: number;
  /** The keys of this epoch, by series id (`null`: a key validate.ts refused, whose series is left out). */
  keys: Array<CheckedKey | null>;
  /** The slot of each series id of this epoch. */
  slots: Array<Slot | undefined>;
  /**
   * Every slot of this source, by family and exact label set (CheckedKey.exact), across epochs: a new epoch
   * renumbers the series but a series keeps its slot, so its numbers are never dropped from the totals nor
   * compared with nothing. Two series of one source with the same identity but values of different types
   * (`{code: 200}`, `{code: '200'}`) keep a slot each, both in the one aggregate series: summed, or merged by the
   * gauge rule, as two sources' would be (one slot would take each one's numbers in turn).
   */
  readonly byKey: Map<string, Slot>;
  /** The same slots, in creation order (iterated at every render). */
  readonly all: Slot[];
  needsFull: boolean;
  snapshots: number;
  /** Snapshots of this epoch applied with exemplars, as the source counts them (protocol.ts). */
  exemplarSnapshots: number;
}

/** Ids of retired sources remembered (a late message from one must not count twice); the oldest are forgotten. */
export const RETIRED_MEMORY = 4096;
/** Live sources at most: workers and threads really running are far fewer. */
export const MAX_SOURCES = 1024;
/** Metric families at most. */
export const MAX_FAMILIES = 1024;
/** Series per family when no cap is configured (the single-process default). */
const DEFAULT_MAX_SERIES = 2000;

export interface ClusterAggregateOptions {
  /** Rule per gauge, by instrument name (e.g. `business_active_users`). */
  readonly gauges?: Readonly<Record<string, GaugeRule>>;
  /** Rule for gauges without one. Default `max`. */
  readonly defaultGaugeRule?: GaugeRule;
  /** Series per family, as `limits.maxSeriesPerMetric` in one process. Default 2000. */
  readonly maxSeriesPerMetric?: number;
  /**
   * A source's series was folded into its family's all-`other` series (the family reached
   * `maxSeriesPerMetric`), named by its Prometheus family (`business_funnel_step_total`). Called once per folded
   * series of a source; the primary counts it as one process counts its own folds.
   */
  readonly onSeriesFolded?: SeriesFolded;
  /** The extensions whose payloads snapshots carry (see extensions.ts). */
  readonly extensions?: Iterable<ClusterExtension>;
}

/** See {@link ClusterAggregateOptions.onSeriesFolded}. */
export type SeriesFolded = (prometheusFamily: string, maxSeries: number) => void;

export class ClusterAggregate {
  private readonly families = new Map<string, Family>();
  private readonly sources = new Map<string, SourceState>();
  /** Ids of sources already folded into the totals: a late message from one of them must not count twice. */
  private readonly retiredIds = new Set<string>();
  private readonly failures = new Map<ClusterFailureReason, number>();
  private readonly gaugeRules: Readonly<Record<string, GaugeRule>>;
  private readonly defaultGaugeRule: GaugeRule;
  private maxSeries: number;
  private onSeriesFolded: SeriesFolded | undefined;
  private readonly extensions: Iterable<ClusterExtension>;
  readonly startTime: HrTime = hrTime();
  /** The end of the last render: the start of every series that appears after it. */
  private lastRender: HrTime = this.startTime;

  constructor(options: ClusterAggregateOptions = {}) {
    this.gaugeRules = options.gauges ?? {};
    this.defaultGaugeRule = options.defaultGaugeRule ?? 'max';
    this.maxSeries = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES;
    this.onSeriesFolded = options.onSeriesFolded;
    this.extensions = options.extensions ?? [];
  }

  /**
   * The series cap and fold counting of the process the primary runs in (its `limits.maxSeriesPerMetric` and its
   * guard), known once its recorder exists; before that, the defaults.
   */
  capSeries(maxSeriesPerMetric: number, onSeriesFolded: SeriesFolded): void {
    this.maxSeries = maxSeriesPerMetric;
    this.onSeriesFolded = onSeriesFolded;
  }

  /** Series held in a family (every source, retired ones included), by instrument name; 0 for none. */
  seriesCount(name: string): number {
    let count = 0;
    for (const family of this.families.values()) if (family.name === name) count += family.order.length;
    return count;
  }

  isRetired(id: string): boolean {
    return this.retiredIds.has(id);
  }

  /** Sources whose next request must ask for a full snapshot. */
  sourcesNeedingFull(): string[] {
    const ids: string[] = [];
    for (const source of this.sources.values()) if (source.needsFull) ids.push(source.id);
    return ids;
  }

  countFailure(reason: ClusterFailureReason, by = 1): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + by);
  }

  forEachFailure(visit: (reason: ClusterFailureReason, count: number) => void): void {
    for (const [reason, count] of this.failures) visit(reason, count);
  }

  /** Checks and applies a source's snapshot. Returns false when it was refused (and counted); never throws. */
  apply(message: unknown, now = Date.now()): boolean {
    const checked = checkSnapshot(message);
    if (!checked.ok) {
      this.countFailure('invalid');
      return false;
    }
    return this.applyChecked(checked.value, now);
  }

  /**
   * Applies a snapshot that passed validate.ts. Returns false when it was refused whole or in part (counted once
   * as `invalid`): a series whose key was refused, and a point that breaks a number rule or would take its series
   * backwards, are left out, the rest is applied. A final snapshot retires its source even when it is refused whole: the source is gone either way
   * (its counters and histograms stay at their last accepted numbers, its gauges leave), and what the refused
   * snapshot carried is lost, so the retirement is counted as `exited`.
   */
  applyChecked(checked: CheckedSnapshot, now = Date.now()): boolean {
    const applied = this.applySnapshot(checked, now);
    const { source, final } = checked.message;
    if (final === true && !this.retiredIds.has(source)) this.retire(source, false);
    return applied;
  }

  private applySnapshot(checked: CheckedSnapshot, now: number): boolean {
    const message = checked.message;
    if (this.retiredIds.has(message.source)) return false;
    let source = this.sources.get(message.source);
    if (source === undefined) {
      if (this.sources.size >= MAX_SOURCES) {
        this.countFailure('invalid');
        return false;
      }
      source = {
        id: message.source,
        epoch: -1,
        keys: [],
        slots: [],
        byKey: new Map(),
        all: [],
        needsFull: false,
        snapshots: 0,
        exemplarSnapshots: 0,
      };
      this.sources.set(source.id, source);
    }
    if (message.epoch !== source.epoch) {
      if (message.firstKey !== 0) {
        source.needsFull = true;
        this.countFailure('invalid');
        return false;
      }
      source.epoch = message.epoch;
      source.keys = [];
      source.slots = [];
      source.exemplarSnapshots = 0;
    }
    if (message.firstKey !== source.keys.length) {
      source.needsFull = true;
      this.countFailure('invalid');
      return false;
    }
    if (source.keys.length + checked.keys.length > MAX_KEYS_PER_SOURCE) {
      this.countFailure('invalid');
      return false;
    }
    source.needsFull = false;
    for (const key of checked.keys) source.keys.push(key);
    const snapshot = ++source.snapshots;
    let refused = checked.refusedKeys > 0;
    let carried = false;
    for (const metric of message.metrics) {
      const family = this.familyOf(message, metric);
      if (family === undefined || !this.applyPoints(source, family, metric, snapshot, now)) refused = true;
      if (metric.exemplars === undefined) continue;
      carried = true;
      if (family === undefined || !this.applyExemplars(source, family, metric.exemplars, now)) refused = true;
    }
    // Exemplars travel once (protocol.ts): one snapshot with some that never came, and only a full one has them.
    // The count stays where it was until then, so every later snapshot of the epoch asks again.
    const exemplarSnapshots = message.exemplarSnapshots ?? 0;
    if (exemplarSnapshots === source.exemplarSnapshots + (carried ? 1 : 0))
      source.exemplarSnapshots = exemplarSnapshots;
    else source.needsFull = true;
    // A gauge or up-down level a source no longer reports is no longer its value (a cluster worker relaying its
    // threads drops an exited thread's levels, as this aggregate does at a retirement); counters and histograms
    // never disappear.
    for (const slot of source.all) {
      const shape = slot.family.shape;
      if ((shape === 'gauge' || shape === 'updown') && slot.seenIn !== snapshot) slot.seenIn = -1;
    }
    if (message.ext !== undefined) {
      for (const extension of this.extensions) {
        const payload = message.ext[extension.name];
        if (payload === undefined || !extension.accept) continue;
        try {
          // An extension refuses a payload it cannot use by throwing.
          if (extension.accept(source.id, payload) === 'resend') source.needsFull = true;
        } catch {
          refused = true;
        }
      }
    }
    if (refused) this.countFailure('invalid');
    if (message.final === true) this.retire(source.id, true);
    return !refused;
  }

  /**
   * A source is gone: its counters and histograms stay in the totals; its gauges and up-down counters leave (what
   * they hold, such as work in flight or open connections, went with it, and a replacement reports its own).
   * `clean` is false when it ended without a final snapshot (what it recorded after its last snapshot is lost, and
   * counted).
   */
  retire(id: string, clean: boolean): void {
    if (this.retiredIds.has(id)) return;
    const source = this.sources.get(id);
    if (!clean) this.countFailure('exited');
    if (source !== undefined) {
      for (const slot of source.all) {
        if (slot.family.shape === 'gauge' || slot.family.shape === 'updown' || !slot.filled) continue;
        const series = slot.series;
        if (series.retired === undefined) {
          series.retired = slot.values.slice();
        } else {
          addInto(series.retired, slot.values, slot.family.shape);
        }
      }
      this.sources.delete(id);
    }
    // Forget the oldest retired id, not all of them: a late message from a recent one must still be ignored.
    if (this.retiredIds.size >= RETIRED_MEMORY)
      this.retiredIds.delete(this.retiredIds.values().next().value!);
    this.retiredIds.add(id);
    for (const extension of this.extensions) {
      try {
        extension.retire?.(id);
      } catch {
        // An extension's bookkeeping never breaks retirement.
      }
    }
  }

  /** The exact aggregate, as one collection (scopes in first-seen order, then families, then series). */
  render(resource: Resource): CollectionResult {
    for (const family of this.families.values()) {
      for (const series of family.order) {
        series.present = series.retired !== undefined;
        if (series.retired !== undefined) {
          for (let i = 0; i < family.width; i++) series.acc[i] = series.retired[i];
        } else {
          series.acc.fill(0);
          if (family.shape === 'histogram') {
            series.acc[2] = Infinity;
            series.acc[3] = -Infinity;
          }
        }
      }
    }
    for (const source of this.sources.values()) {
      for (const slot of source.all) {
        if (!slot.filled) continue;
        const { family, series, values } = slot;
        if (family.shapeRule.summed) {
          if (family.shape === 'updown' && slot.seenIn < 0) continue;
          addInto(series.acc, values, family.shape);
          series.present = true;
          continue;
        }
        if (slot.seenIn < 0) continue;
        if (series.present) {
          family.merge(series.merged, values[0], slot.changedAt);
        } else {
          series.merged.value = values[0];
          series.merged.changedAt = slot.changedAt;
          series.present = true;
        }
      }
    }

    const endTime = hrTime();
    this.lastRender = endTime;
    const byScope = new Map<string, ScopeMetrics>();
    for (const family of this.families.values()) {
      const dataPoints: DataPoint<number | Histogram>[] = [];
      const carries = family.hasExemplars;
      for (const series of family.order) {
        if (!series.present) continue;
        const acc = series.acc;
        let point: DataPoint<number | Histogram> & { exemplars?: readonly (SnapshotExemplar | undefined)[] };
        if (family.shape === 'histogram') {
          const count = acc[0];
          point = {
            startTime: series.startTime,
            endTime,
            attributes: series.attributes,
            value: {
              buckets: { boundaries: family.boundaries ?? [], counts: acc.slice(4, family.width) },
              sum: acc[1],
              count,
              min: count > 0 ? acc[2] : undefined,
              max: count > 0 ? acc[3] : undefined,
            },
          };
        } else {
          point = {
            startTime: series.startTime,
            endTime,
            attributes: series.attributes,
            value: family.shapeRule.summed ? acc[0] : series.merged.value,
          };
        }
        // A copy: a later snapshot replaces exemplars while an exporter may still hold this collection.
        if (carries && series.exemplars !== undefined) point.exemplars = series.exemplars.slice();
        dataPoints.push(point);
      }
      if (dataPoints.length === 0) continue;
      const scopeKey = scopeKeyOf(family.scope);
      let scopeMetrics = byScope.get(scopeKey);
      if (scopeMetrics === undefined) {
        scopeMetrics = { scope: family.scope, metrics: [] };
        byScope.set(scopeKey, scopeMetrics);
      }
      scopeMetrics.metrics.push(metricDataOf(family, dataPoints));
    }
    return { resourceMetrics: { resource, scopeMetrics: [...byScope.values()] }, errors: [] };
  }

  private familyOf(message: SnapshotMessage, metric: WireMetric): Family | undefined {
    const wireScope = message.scopes[metric.scope];
    const scope: InstrumentationScope = {
      name: wireScope.name,
      version: wireScope.version,
      schemaUrl: wireScope.schemaUrl,
    };
    const key = scopeKeyOf(scope) + '\u0001' + metric.name;
    const existing = this.families.get(key);
    if (existing !== undefined) {
      // Sources that disagree on a family's shape or buckets cannot be summed: the first one seen wins.
      const same = existing.shape === metric.shape && sameBoundaries(existing.boundaries, metric.boundaries);
      return same ? existing : undefined;
    }
    if (this.families.size >= MAX_FAMILIES) return undefined;
    const boundaries = metric.shape === 'histogram' ? metric.boundaries!.slice() : undefined;
    const family: Family = {
      index: this.families.size,
      scope,
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      valueType: metric.valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE,
      shape: metric.shape,
      boundaries,
      width: pointWidth(metric.shape, boundaries?.length ?? 0),
      shapeRule: SHAPE_RULES[metric.shape],
      merge: GAUGE_RULES[this.gaugeRules[metric.name] ?? this.defaultGaugeRule],
      series: new Map(),
      order: [],
      overflow: undefined,
      hasExemplars: false,
    };
    this.families.set(key, family);
    return family;
  }

  /** Applies one metric's points; false when any was refused (the others are applied). */
  private applyPoints(
    source: SourceState,
    family: Family,
    metric: WireMetric,
    snapshot: number,
    now: number,
  ): boolean {
    const points: readonly unknown[] = metric.points;
    const width = family.width;
    let accepted = true;
    for (let at = 0; at < points.length; at += width + 1) {
      if (pointRefusal(family.shape, points, at, width) !== undefined) {
        accepted = false;
        // Refused, an up-down level keeps its previous value as a count does: it was sent, not left out.
        const id = points[at];
        const refused = typeof id === 'number' ? source.slots[id] : undefined;
        if (family.shape === 'updown' && refused?.family === family) refused.seenIn = snapshot;
        continue;
      }
      const id = points[at] as number;
      let slot = source.slots[id];
      if (slot === undefined) {
        const key = source.keys[id];
        if (key === undefined) {
          // An id this primary never got the key of (a lost snapshot): ask for every key again.
          source.needsFull = true;
          accepted = false;
          continue;
        }
        if (key === null) {
          // Its key was refused: the same key would come again in a full snapshot, so none is asked for.
          accepted = false;
          continue;
        }
        slot = this.slotOf(source, family, key, now);
        if (slot === undefined) {
          accepted = false;
          continue;
        }
        source.slots[id] = slot;
      } else if (slot.family !== family) {
        accepted = false;
        continue;
      }
      if (!this.write(slot, points, at, snapshot, now)) accepted = false;
    }
    return accepted;
  }

  /**
   * Keeps each exemplar of a metric that passes validate.ts on its series, where it is later than the one there;
   * false when any was refused (the others are kept). Validated shape (validate.ts): at most one per series, or
   * per bucket, of the points sent.
   */
  private applyExemplars(
    source: SourceState,
    family: Family,
    list: readonly unknown[],
    now: number,
  ): boolean {
    let accepted = true;
    for (let at = 0; at < list.length; at += EXEMPLAR_STRIDE) {
      if (exemplarRefusal(family.shape, family.boundaries, list, at, now) !== undefined) {
        accepted = false;
        continue;
      }
      const slot = source.slots[list[at] as number];
      if (slot === undefined || slot.family !== family) {
        // Of a series whose key was refused: already counted with it. Else of no series this source sent.
        if (source.keys[list[at] as number] !== null) accepted = false;
        continue;
      }
      const series = slot.series;
      const kept = (series.exemplars ??= new Array<SnapshotExemplar | undefined>(
        family.shape === 'histogram' ? family.width - 4 : 1,
      ).fill(undefined));
      const bucket = list[at + 1] as number;
      const timeUnixMs = list[at + 5] as number;
      const held = kept[bucket];
      if (held !== undefined && !(timeUnixMs > held.timeUnixMs)) continue;
      kept[bucket] = {
        traceId: list[at + 2] as string,
        spanId: list[at + 3] as string,
        value: list[at + 4] as number,
        timeUnixMs,
      };
      family.hasExemplars = true;
    }
    return accepted;
  }

  /** The source's slot for a series (the one it had in an earlier epoch, if any); undefined past the cap. */
  private slotOf(source: SourceState, family: Family, key: CheckedKey, now: number): Slot | undefined {
    const slotKey = family.index + '\u0000' + key.exact;
    let slot = source.byKey.get(slotKey);
    if (slot === undefined) {
      if (source.byKey.size >= MAX_KEYS_PER_SOURCE) return undefined;
      slot = {
        family,
        series: this.seriesOf(family, key),
        values: new Array<number>(family.width).fill(0),
        filled: false,
        changedAt: now,
        seenIn: -1,
      };
      source.byKey.set(slotKey, slot);
      source.all.push(slot);
    }
    return slot;
  }

  /** Stores a point's numbers in its slot; false (nothing stored) when a counter or histogram would go back. */
  private write(slot: Slot, points: readonly unknown[], at: number, snapshot: number, now: number): boolean {
    const values = slot.values;
    const shape = slot.family.shape;
    if (shape === 'gauge') {
      const value = fromWire(points[at + 1] as WireNumber);
      if (value !== values[0] || slot.seenIn < 0) slot.changedAt = now;
      values[0] = value;
    } else {
      if (slot.filled && goesBack(shape, values, points, at)) return false;
      for (let i = 0; i < values.length; i++) values[i] = fromWire(points[at + 1 + i] as WireNumber);
    }
    slot.filled = true;
    slot.seenIn = snapshot;
    return true;
  }

  private seriesOf(family: Family, key: CheckedKey): Series {
    const series = family.series.get(key.identity);
    if (series !== undefined) return series;
    if (family.order.length < this.maxSeries) return this.newSeries(family, key.identity, key.attributes);
    this.onSeriesFolded?.(
      otelToPrometheusName(family.name, family.unit, OTLP_SHAPES[family.shape]),
      this.maxSeries,
    );
    return (family.overflow ??= this.overflowSeries(family, key.attributes));
  }

  /** The family's all-`other` series (the one series allowed beyond the cap), named after the folded labels. */
  private overflowSeries(family: Family, like: Attributes): Series {
    const attributes: Record<string, string> = {};
    for (const name of Object.keys(like)) attributes[name] = OTHER_LABEL_VALUE;
    const identity = identityOf(attributes);
    return family.series.get(identity) ?? this.newSeries(family, identity, Object.freeze(attributes));
  }

  private newSeries(family: Family, identity: string, attributes: Attributes): Series {
    const series: Series = {
      attributes,
      startTime: this.lastRender,
      retired: undefined,
      acc: new Array<number>(family.width).fill(0),
      present: false,
      merged: { value: 0, changedAt: -Infinity },
      exemplars: undefined,
    };
    family.series.set(identity, series);
    family.order.push(series);
    return series;
  }
}

/** The OTLP shape of each wire shape, for Prometheus naming. */
const OTLP_SHAPES: Readonly<Record<MetricShape, OtlpMetricShape>> = {
  counter: 'monotonicSum',
  updown: 'nonMonotonicSum',
  gauge: 'gauge',
  histogram: 'histogram',
};

/** Whether a point takes a counter or histogram below the numbers its source sent before (never legitimately). */
function goesBack(
  shape: MetricShape,
  values: readonly number[],
  points: readonly unknown[],
  at: number,
): boolean {
  if (shape !== 'histogram') return shape === 'counter' && (points[at + 1] as number) < values[0];
  if ((points[at + 1] as number) < values[0] || (points[at + 2] as number) < values[1]) return true;
  for (let i = 4; i < values.length; i++) if ((points[at + 1 + i] as number) < values[i]) return true;
  return false;
}

function addInto(target: number[], values: readonly number[], shape: MetricShape): void {
  if (shape !== 'histogram') {
    target[0] += values[0];
    return;
  }
  target[0] += values[0];
  target[1] += values[1];
  if (values[2] < target[2]) target[2] = values[2];
  if (values[3] > target[3]) target[3] = values[3];
  for (let i = 4; i < values.length; i++) target[i] += values[i];
}

function sameBoundaries(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function scopeKeyOf(scope: InstrumentationScope): string {
  return scope.name + '\u0000' + (scope.version ?? '') + '\u0000' + (scope.schemaUrl ?? '');
}

/** How each shape joins across sources, and the points it renders as. */
interface ShapeRule {
  /** Summed number by number (counters, histograms bucket by bucket), or merged by the family's gauge rule. */
  readonly summed: boolean;
  readonly dataPointType: DataPointType.SUM | DataPointType.GAUGE | DataPointType.HISTOGRAM;
  /** Sums only: whether the sum only grows (a counter) or not (an up-down counter). */
  readonly isMonotonic?: boolean;
}

const SHAPE_RULES: { readonly [S in MetricShape]: ShapeRule } = Object.freeze({
  counter: { summed: true, dataPointType: DataPointType.SUM, isMonotonic: true },
  updown: { summed: true, dataPointType: DataPointType.SUM, isMonotonic: false },
  histogram: { summed: true, dataPointType: DataPointType.HISTOGRAM },
  gauge: { summed: false, dataPointType: DataPointType.GAUGE },
});

function metricDataOf(family: Family, dataPoints: DataPoint<number | Histogram>[]): MetricData {
  const { dataPointType, isMonotonic } = family.shapeRule;
  return {
    descriptor: {
      name: family.name,
      description: family.description,
      unit: family.unit,
      valueType: family.valueType,
    },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType,
    ...(isMonotonic === undefined ? {} : { isMonotonic }),
    dataPoints,
  } as MetricData;
}
