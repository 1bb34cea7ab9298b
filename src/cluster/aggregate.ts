/**
 * Primary side: the latest snapshot of every source, the totals of sources that are gone, and the exact
 * aggregate rendered as OpenTelemetry MetricData (so the package's Prometheus serializer renders it as it
 * renders a single process).
 *
 * Owns: the merge rules (counters and up-down counters summed, histograms summed bucket by bucket, a rule per
 * gauge), retirement of sources that exit, and the tallies behind the cluster self-metrics. Must not touch:
 * transports, HTTP, recording.
 *
 * Why the totals never go backwards while the primary lives: every source's numbers are cumulative and only
 * ever replaced by a newer snapshot of the same source; a source that misses a collection keeps its last
 * numbers in the total; a source that exits has its last numbers folded into `retired` before it is forgotten.
 * What can be lost is exactly what a source recorded after its last snapshot reached the primary, when it dies
 * without sending a final one (SIGKILL, a crash, `worker.terminate()`): it is counted as `exited`.
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
import { attributesOfKey } from './encode';
import {
  PROTOCOL_VERSION,
  clusterExtensions,
  fromWire,
  type MetricShape,
  type SnapshotMessage,
  type WireMetric,
} from './protocol';

/**
 * How a gauge combines across sources:
 * - `sum`: each source reports its own share (the rolling revenue minute: the fleet's minute is the sum);
 * - `latest`: the app sets one value for the whole fleet (active users): the value of the source that changed
 *   it most recently, as seen by the primary's collections (ties: the larger), never a multiple of it;
 * - `max` / `min`: the worst (or best) source, e.g. a per-process event-loop delay.
 */
export type GaugeRule = 'sum' | 'latest' | 'max' | 'min';

/** Why a source's numbers were missing or refused (the `reason` label of the cluster failure self-metric). */
export type ClusterFailureReason = 'timeout' | 'exited' | 'invalid';

interface Family {
  readonly scope: InstrumentationScope;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly valueType: ValueType;
  readonly shape: MetricShape;
  readonly boundaries: number[] | undefined;
  /** Numbers per series: 1, or 4 + buckets for histograms. */
  readonly width: number;
  readonly rule: GaugeRule;
  readonly series: Map<string, Series>;
  readonly order: Series[];
}

interface Series {
  readonly attributes: Attributes;
  /** Totals of sources that are gone (counters and histograms only). */
  retired: number[] | undefined;
  /** Scratch for rendering. */
  readonly acc: number[];
  present: boolean;
  bestChangedAt: number;
}

interface Slot {
  readonly family: Family;
  readonly series: Series;
  readonly values: number[];
  /** When the primary saw this value change (gauges, for the `latest` rule). */
  changedAt: number;
  /** The snapshot that last carried this slot (gauges a snapshot omits are no longer reported). */
  seenIn: number;
}

interface SourceState {
  readonly id: string;
  epoch: number;
  keys: string[];
  slots: Array<Slot | undefined>;
  needsFull: boolean;
  snapshots: number;
}

const RETIRED_MEMORY = 4096;

export interface ClusterAggregateOptions {
  /** Rule per gauge, by instrument name (e.g. `business_active_users`). */
  readonly gauges?: Readonly<Record<string, GaugeRule>>;
  /** Rule for gauges without one. Default `max`. */
  readonly defaultGaugeRule?: GaugeRule;
}

export class ClusterAggregate {
  private readonly families = new Map<string, Family>();
  private readonly sources = new Map<string, SourceState>();
  /** Ids of sources already folded into the totals: a late message from one of them must not count twice. */
  private readonly retiredIds = new Set<string>();
  private readonly failures = new Map<ClusterFailureReason, number>();
  private readonly gaugeRules: Readonly<Record<string, GaugeRule>>;
  private readonly defaultGaugeRule: GaugeRule;
  readonly startTime: HrTime = hrTime();

  constructor(options: ClusterAggregateOptions = {}) {
    this.gaugeRules = options.gauges ?? {};
    this.defaultGaugeRule = options.defaultGaugeRule ?? 'max';
  }

  /** Sources currently live (answered at least once and not retired). */
  get sourceCount(): number {
    return this.sources.size;
  }

  hasSource(id: string): boolean {
    return this.sources.has(id);
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

  /** Applies a source's snapshot. Returns false when it was refused (and counted). */
  apply(message: SnapshotMessage, now = Date.now()): boolean {
    if (message.version !== PROTOCOL_VERSION || typeof message.source !== 'string') {
      this.countFailure('invalid');
      return false;
    }
    if (this.retiredIds.has(message.source)) return false;
    let source = this.sources.get(message.source);
    if (source === undefined) {
      source = { id: message.source, epoch: -1, keys: [], slots: [], needsFull: false, snapshots: 0 };
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
    }
    if (message.firstKey !== source.keys.length) {
      source.needsFull = true;
      this.countFailure('invalid');
      return false;
    }
    source.needsFull = false;
    for (const key of message.keys) source.keys.push(key);
    const snapshot = ++source.snapshots;
    for (const metric of message.metrics) {
      const family = this.familyOf(message, metric);
      if (family === undefined) continue;
      if (!this.applyPoints(source, family, metric, snapshot, now)) {
        source.needsFull = true;
        this.countFailure('invalid');
      }
    }
    // A gauge a source no longer reports is no longer its value; counters and histograms never disappear.
    for (const slot of source.slots) {
      if (slot !== undefined && slot.family.shape === 'gauge' && slot.seenIn !== snapshot) slot.seenIn = -1;
    }
    if (message.ext !== undefined) {
      for (const extension of clusterExtensions()) {
        const payload = message.ext[extension.name];
        if (payload === undefined || !extension.accept) continue;
        try {
          extension.accept(source.id, payload);
        } catch {
          this.countFailure('invalid');
        }
      }
    }
    if (message.final === true) this.retire(source.id, true);
    return true;
  }

  /**
   * A source is gone: its counters and histograms stay in the totals, its gauges leave. `clean` is false when
   * it ended without a final snapshot (what it recorded after its last snapshot is lost, and counted).
   */
  retire(id: string, clean: boolean): void {
    if (this.retiredIds.has(id)) return;
    const source = this.sources.get(id);
    if (!clean) this.countFailure('exited');
    if (source !== undefined) {
      for (const slot of source.slots) {
        if (slot === undefined || slot.family.shape === 'gauge') continue;
        const series = slot.series;
        if (series.retired === undefined) {
          series.retired = slot.values.slice();
        } else {
          addInto(series.retired, slot.values, slot.family.shape);
        }
      }
      this.sources.delete(id);
    }
    if (this.retiredIds.size >= RETIRED_MEMORY) this.retiredIds.clear();
    this.retiredIds.add(id);
    for (const extension of clusterExtensions()) {
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
        series.bestChangedAt = -Infinity;
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
      for (const slot of source.slots) {
        if (slot === undefined) continue;
        const { family, series, values } = slot;
        if (family.shape !== 'gauge') {
          addInto(series.acc, values, family.shape);
          series.present = true;
          continue;
        }
        if (slot.seenIn < 0) continue;
        const value = values[0];
        if (!series.present) {
          series.acc[0] = value;
          series.bestChangedAt = slot.changedAt;
          series.present = true;
          continue;
        }
        switch (family.rule) {
          case 'sum':
            series.acc[0] += value;
            break;
          case 'max':
            if (value > series.acc[0]) series.acc[0] = value;
            break;
          case 'min':
            if (value < series.acc[0]) series.acc[0] = value;
            break;
          case 'latest':
            if (
              slot.changedAt > series.bestChangedAt ||
              (slot.changedAt === series.bestChangedAt && value > series.acc[0])
            ) {
              series.acc[0] = value;
              series.bestChangedAt = slot.changedAt;
            }
            break;
        }
      }
    }

    const endTime = hrTime();
    const byScope = new Map<string, ScopeMetrics>();
    for (const family of this.families.values()) {
      const dataPoints: DataPoint<number | Histogram>[] = [];
      for (const series of family.order) {
        if (!series.present) continue;
        const acc = series.acc;
        if (family.shape === 'histogram') {
          const count = acc[0];
          dataPoints.push({
            startTime: this.startTime,
            endTime,
            attributes: series.attributes,
            value: {
              buckets: { boundaries: family.boundaries ?? [], counts: acc.slice(4, family.width) },
              sum: acc[1],
              count,
              min: count > 0 ? acc[2] : undefined,
              max: count > 0 ? acc[3] : undefined,
            },
          });
        } else {
          dataPoints.push({
            startTime: this.startTime,
            endTime,
            attributes: series.attributes,
            value: acc[0],
          });
        }
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
    if (wireScope === undefined) return undefined;
    const scope: InstrumentationScope = {
      name: wireScope.name,
      version: wireScope.version,
      schemaUrl: wireScope.schemaUrl,
    };
    const key = scopeKeyOf(scope) + '\u0001' + metric.name;
    const existing = this.families.get(key);
    if (existing !== undefined) {
      // Sources that disagree on a family's shape or buckets cannot be summed: the first one seen wins.
      if (existing.shape !== metric.shape || !sameBoundaries(existing.boundaries, metric.boundaries)) {
        this.countFailure('invalid');
        return undefined;
      }
      return existing;
    }
    const boundaries = metric.shape === 'histogram' ? (metric.boundaries ?? []).slice() : undefined;
    const family: Family = {
      scope,
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      valueType: metric.valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE,
      shape: metric.shape,
      boundaries,
      width: boundaries === undefined ? 1 : 4 + boundaries.length + 1,
      rule: this.gaugeRules[metric.name] ?? this.defaultGaugeRule,
      series: new Map(),
      order: [],
    };
    this.families.set(key, family);
    return family;
  }

  private applyPoints(
    source: SourceState,
    family: Family,
    metric: WireMetric,
    snapshot: number,
    now: number,
  ): boolean {
    const points = metric.points;
    const stride = family.width + 1;
    if (points.length % stride !== 0) return false;
    for (let at = 0; at < points.length; at += stride) {
      const id = points[at];
      if (typeof id !== 'number') return false;
      let slot = source.slots[id];
      if (slot === undefined) {
        const key = source.keys[id];
        if (key === undefined) return false;
        slot = {
          family,
          series: this.seriesOf(family, key),
          values: new Array<number>(family.width).fill(0),
          changedAt: now,
          seenIn: snapshot,
        };
        source.slots[id] = slot;
      } else if (slot.family !== family) {
        return false;
      }
      const values = slot.values;
      if (family.shape === 'gauge') {
        const value = fromWire(points[at + 1]);
        if (value !== values[0] || slot.seenIn < 0) slot.changedAt = now;
        values[0] = value;
      } else {
        for (let i = 0; i < family.width; i++) values[i] = fromWire(points[at + 1 + i]);
      }
      slot.seenIn = snapshot;
    }
    return true;
  }

  private seriesOf(family: Family, key: string): Series {
    let series = family.series.get(key);
    if (series === undefined) {
      series = {
        attributes: attributesOfKey(key),
        retired: undefined,
        acc: new Array<number>(family.width).fill(0),
        present: false,
        bestChangedAt: -Infinity,
      };
      family.series.set(key, series);
      family.order.push(series);
    }
    return series;
  }
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
  if (a === undefined || b === undefined) return a === b || (a ?? []).length === (b ?? []).length;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function scopeKeyOf(scope: InstrumentationScope): string {
  return scope.name + '\u0000' + (scope.version ?? '') + '\u0000' + (scope.schemaUrl ?? '');
}

function metricDataOf(family: Family, dataPoints: DataPoint<number | Histogram>[]): MetricData {
  const descriptor = {
    name: family.name,
    description: family.description,
    unit: family.unit,
    valueType: family.valueType,
  };
  switch (family.shape) {
    case 'counter':
    case 'updown':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: family.shape === 'counter',
        dataPoints: dataPoints as DataPoint<number>[],
      };
    case 'gauge':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: dataPoints as DataPoint<number>[],
      };
    case 'histogram':
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: dataPoints as DataPoint<Histogram>[],
      };
  }
}
