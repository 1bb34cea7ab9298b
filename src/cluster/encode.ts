/**
 * Source side: one collection of the source's readers (what its own /metrics would show) -> a compact,
 * cumulative snapshot for the primary.
 *
 * Owns: series ids and the attribute keys sent once per epoch. Must not touch: recording, transports.
 *
 * Cost: one WeakMap lookup per series (attribute objects of the package's cells are frozen and live as long as
 * their series) plus the numbers; an attribute key (entries as JSON) is built only for a series the
 * source has not sent in this epoch, or for attribute objects the SDK rebuilds at each collection.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  PROTOCOL_TAG,
  PROTOCOL_VERSION,
  toWire,
  type MetricShape,
  type SnapshotMessage,
  type WireMetric,
  type WireNumber,
  type WireScope,
} from './protocol';
import { RateLimitedWarnings } from '../support';
import type { ClusterExtension } from './extensions';

/**
 * The attribute key of a series: its entries in insertion order, as JSON (the package builds every series'
 * labels in catalog order, so sources agree, and the aggregate keeps the single-process label order). Values
 * JSON cannot encode make the series unsendable (undefined). The primary parses keys with validate.ts's
 * `checkKey`, which refuses what this function never makes.
 */
export function attributeKey(attributes: Attributes): string | undefined {
  const entries: unknown[] = [];
  for (const key of Object.keys(attributes)) entries.push(key, attributes[key]);
  try {
    return JSON.stringify(entries);
  } catch {
    return undefined;
  }
}

function shapeOf(metric: MetricData): MetricShape | undefined {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'updown';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      // Exponential histograms cannot be merged bucket by bucket without rescaling; the Prometheus text
      // format cannot carry them either (the serializer drops them), so they are not sent.
      return undefined;
  }
}

interface FamilyIds {
  byObject: WeakMap<Attributes, number>;
  byKey: Map<string, number>;
}

export class SnapshotEncoder {
  private epoch = 0;
  private nextId = 0;
  private families = new Map<string, FamilyIds>();
  /** What this worker cannot send is said, at a bounded rate, rather than left out silently. */
  private readonly warnings = new RateLimitedWarnings();

  constructor(
    readonly source: string,
    private readonly extensions: Iterable<ClusterExtension> = [],
  ) {}

  /** Forget every id: the next snapshot sends all keys again, under a new epoch. */
  restartEpoch(): void {
    this.epoch++;
    this.nextId = 0;
    this.families = new Map();
    for (const extension of this.extensions) {
      try {
        extension.restart?.();
      } catch {
        // An extension never breaks the snapshot.
      }
    }
  }

  encode(result: CollectionResult, round: number, final = false): SnapshotMessage {
    const firstKey = this.nextId;
    const keys: string[] = [];
    const scopes: WireScope[] = [];
    const metrics: WireMetric[] = [];
    const resourceMetrics: ResourceMetrics = result.resourceMetrics;
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope = scopeMetrics.scope;
      const scopeIndex = scopes.length;
      scopes.push({ name: scope.name, version: scope.version, schemaUrl: scope.schemaUrl });
      for (const metric of scopeMetrics.metrics) {
        const shape = shapeOf(metric);
        if (metric.dataPoints.length === 0) continue;
        if (shape === undefined) {
          this.notSent(
            metric.descriptor.name,
            'it is an exponential histogram, which cannot be merged exactly',
          );
          continue;
        }
        const ids = this.familyIds(scope.name + '\u0000' + metric.descriptor.name);
        const points: WireNumber[] = [];
        let boundaries: number[] | undefined;
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          let id = ids.byObject.get(point.attributes);
          if (id === undefined) {
            const key = attributeKey(point.attributes);
            if (key === undefined) {
              this.notSent(metric.descriptor.name, 'a series has attribute values JSON cannot carry');
              continue;
            }
            id = ids.byKey.get(key);
            if (id === undefined) {
              id = this.nextId++;
              ids.byKey.set(key, id);
              keys.push(key);
            }
            ids.byObject.set(point.attributes, id);
          }
          points.push(id);
          if (shape === 'histogram') {
            const histogram = point.value as Histogram;
            boundaries ??= histogram.buckets.boundaries;
            const empty = histogram.count === 0;
            points.push(
              histogram.count,
              toWire(histogram.sum ?? 0),
              toWire(empty ? Infinity : (histogram.min ?? Infinity)),
              toWire(empty ? -Infinity : (histogram.max ?? -Infinity)),
            );
            const counts = histogram.buckets.counts;
            for (let i = 0; i < counts.length; i++) points.push(counts[i]);
          } else {
            points.push(toWire(point.value as number));
          }
        }
        metrics.push({
          scope: scopeIndex,
          name: metric.descriptor.name,
          description: metric.descriptor.description,
          unit: metric.descriptor.unit,
          valueType: metric.descriptor.valueType,
          shape,
          boundaries: boundaries ? boundaries.slice() : undefined,
          points,
        });
      }
    }
    let ext: Record<string, unknown> | undefined;
    for (const extension of this.extensions) {
      if (!extension.collect) continue;
      try {
        const payload = extension.collect();
        if (payload !== undefined) (ext ??= {})[extension.name] = payload;
      } catch {
        // An extension never breaks the snapshot: its state is simply not shipped this time.
      }
    }
    return {
      tag: PROTOCOL_TAG,
      type: 'snapshot',
      version: PROTOCOL_VERSION,
      source: this.source,
      round,
      epoch: this.epoch,
      firstKey,
      keys,
      scopes,
      metrics,
      ...(final ? { final: true } : {}),
      ...(ext ? { ext } : {}),
    };
  }

  private notSent(metric: string, why: string): void {
    this.warnings.warn(
      `not-sent:${metric}`,
      () => `otel-business-metrics: cluster worker: ${metric} is left out of the aggregate (${why})`,
    );
  }

  private familyIds(name: string): FamilyIds {
    let ids = this.families.get(name);
    if (ids === undefined) {
      ids = { byObject: new WeakMap(), byKey: new Map() };
      this.families.set(name, ids);
    }
    return ids;
  }
}
