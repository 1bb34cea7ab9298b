/**
 * Source side: one collection of the source's readers (what its own /metrics would show) -> a compact,
 * cumulative snapshot for the primary.
 *
 * Owns: series ids and the attribute keys sent once per epoch, and which exemplars were sent (per id and bucket, and
 * the count of snapshots that carried some). Must not touch: recording, transports.
 *
 * Cost: the numbers, plus one array read per series of the local store (its columns, below) or one WeakMap lookup
 * per series of any other producer (attribute objects of the package's cells are frozen and live as long as their
 * series); an attribute key (entries as JSON) is built only for a series the source has not sent in this epoch,
 * or for attribute objects the SDK rebuilds at each collection.
 *
 * The local store's series are read from its columns (`ColumnsLookup`), as the OTLP encoders and the Prometheus
 * serializer read them, not from the SDK `MetricData` the store would build for them: building those objects for
 * every series at every collection was most of a worker's CPU per scrape and its garbage (bench/RESULTS.md,
 * cluster-scrape). Both ways give the same snapshot (tests/cluster/encode-columns.test.ts). A node:cluster worker
 * whose own worker threads have spoken sends its relay's aggregate instead (worker.ts), which is MetricData: that
 * worker pays the build for each collection again.
 *
 * Exemplars (a counter series' one, a histogram's one per bucket: series/exemplars.ts) are sent when they changed
 * since this epoch's previous snapshot (protocol.ts says how a primary that missed one gets them again). The
 * encoder remembers the last one sent per series id and bucket, so memory follows the ids. Without tracing the
 * columns hold no exemplars (`exemplars` undefined): a test per metric, no work per series; MetricData points are
 * read for an `exemplars` field, one property read per point on that path.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  PROTOCOL_TAG,
  PROTOCOL_VERSION,
  toWire,
  type MetricShape,
  type WireExemplarEntry,
  type SnapshotMessage,
  type WireMetric,
  type WireNumber,
  type WireScope,
} from './protocol';
import { attributeValueText } from '../catalog/prometheus-naming';
import { RateLimitedWarnings } from '../support';
import { attributeValueRefusal } from './validate';
import type { ClusterExtension } from './extensions';

/**
 * The attribute key of a series: its entries in insertion order, as JSON (the package builds every series'
 * labels in catalog order, so sources agree, and the aggregate keeps the single-process label order). A value the
 * wire does not carry as is (undefined, NaN, a function: JSON would make it null, which the primary refuses, and
 * with it the whole snapshot) is sent as the text the single-process exposition writes for it, so the aggregate
 * shows the same label. Attributes that cannot be read (a getter that throws) make the series unsendable
 * (undefined). The primary parses keys with validate.ts's `checkKey`, which refuses what this function never makes.
 */
export function attributeKey(attributes: Attributes): string | undefined {
  try {
    const entries: unknown[] = [];
    for (const key of Object.keys(attributes)) {
      const value = attributes[key];
      entries.push(key, attributeValueRefusal(value) === undefined ? value : attributeValueText(value));
    }
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

/** `ValueType.DOUBLE` on the wire (protocol.ts): the store records doubles; a source does not load the API for it. */
const WIRE_DOUBLE = 1;

/**
 * An exemplar as the store keeps it (series/exemplars.ts's `Exemplar`, declared here for the reason
 * {@link SnapshotColumns} is): the value recorded in a sampled span, when (epoch ms), and that span's ids.
 */
export interface SnapshotExemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timeUnixMs: number;
}

/** What the encoder reads of a metric's columns, for both shapes. */
interface ColumnsIdentity {
  readonly definition: { readonly name: string; readonly description: string; readonly unit: string };
  /** Rows: the first `length` entries of each column are this collection's. */
  readonly length: number;
  /** The metric's series, which only ever grow and never reorder; `indices[row]` is a row's series. */
  readonly series: readonly { readonly attributes: Attributes }[];
  readonly indices: Int32Array;
}

/** A counter's columns (cumulative values: the pull producer's). */
export interface CounterSnapshotColumns extends ColumnsIdentity {
  readonly kind: 'counter';
  readonly values: Float64Array;
  /** By row, its series' exemplar; undefined when no series has one. */
  readonly exemplars: readonly (SnapshotExemplar | undefined)[] | undefined;
}

/** A histogram's columns: `boundaries.length + 1` bucket counts per row, row after row. */
export interface HistogramSnapshotColumns extends ColumnsIdentity {
  readonly kind: 'histogram';
  readonly boundaries: readonly number[];
  readonly bucketCounts: Float64Array;
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
  /** By row, its series' exemplars by bucket; undefined when no series has any. */
  readonly exemplars: readonly (readonly (SnapshotExemplar | undefined)[] | undefined)[] | undefined;
}

/**
 * One collection of the local store as the encoder reads it: series/collection.ts's `StoreCollection` has this
 * shape. It is declared here, not imported, because src/cluster may not import src/series: init.ts hands the
 * lookup over (`storeCollectionOf`).
 */
export interface SnapshotColumns {
  readonly metrics: readonly (CounterSnapshotColumns | HistogramSnapshotColumns)[];
}

/** The store's columns behind a ScopeMetrics of a collection, or undefined for any other producer's. */
export type ColumnsLookup = (scopeMetrics: ScopeMetrics) => SnapshotColumns | undefined;

interface FamilyIds {
  byObject: WeakMap<Attributes, number>;
  byKey: Map<string, number>;
  /** For a family read from columns: the ids by series index, valid for that list of series. */
  seriesList?: readonly unknown[];
  bySeries?: number[];
}

export class SnapshotEncoder {
  private epoch = 0;
  private nextId = 0;
  private families = new Map<string, FamilyIds>();
  /** By series id, the exemplar last sent: one for a counter, one per bucket (an array) for a histogram. */
  private sentExemplars: (SnapshotExemplar | (SnapshotExemplar | undefined)[] | undefined)[] = [];
  /** Snapshots of this epoch that carried exemplars (protocol.ts, `exemplarSnapshots`). */
  private exemplarSnapshots = 0;
  /** What this worker cannot send is said, at a bounded rate, rather than left out silently. */
  private readonly warnings = new RateLimitedWarnings();

  constructor(
    readonly source: string,
    private readonly extensions: Iterable<ClusterExtension> = [],
    private readonly columnsOf?: ColumnsLookup,
  ) {}

  /** Forget every id: the next snapshot sends all keys again, under a new epoch. */
  restartEpoch(): void {
    this.epoch++;
    this.nextId = 0;
    this.families = new Map();
    this.sentExemplars = [];
    this.exemplarSnapshots = 0;
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
      const columns = this.columnsOf?.(scopeMetrics);
      if (columns !== undefined) {
        for (const metric of columns.metrics) {
          const encoded = this.encodeColumns(metric, scope.name, scopeIndex, keys);
          if (encoded !== undefined) metrics.push(encoded);
        }
        continue;
      }
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
        const exemplars: WireExemplarEntry[] = [];
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          let id = ids.byObject.get(point.attributes);
          if (id === undefined) {
            id = this.newSeries(ids, point.attributes, metric.descriptor.name, keys);
            if (id === undefined) continue;
          }
          points.push(id);
          const carried = (point as { exemplars?: unknown }).exemplars;
          if (Array.isArray(carried) && (shape === 'counter' || shape === 'histogram')) {
            if (shape === 'histogram') this.histogramExemplars(exemplars, id, carried);
            else this.counterExemplar(exemplars, id, carried[0]);
          }
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
          ...(exemplars.length > 0 ? { exemplars } : {}),
        });
      }
    }
    const carried = metrics.some((metric) => metric.exemplars !== undefined);
    if (carried) this.exemplarSnapshots++;
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
      ...(this.exemplarSnapshots > 0 ? { exemplarSnapshots: this.exemplarSnapshots } : {}),
      ...(final ? { final: true } : {}),
      ...(ext ? { ext } : {}),
    };
  }

  /**
   * One metric of the local store, from its columns: the same wire metric as from the MetricData the store builds
   * for them (series/collection.ts toMetricData: a monotonic sum or a histogram of doubles, rows in order).
   */
  private encodeColumns(
    columns: CounterSnapshotColumns | HistogramSnapshotColumns,
    scopeName: string,
    scopeIndex: number,
    keys: string[],
  ): WireMetric | undefined {
    const rows = columns.length;
    if (rows === 0) return undefined;
    const name = columns.definition.name;
    const ids = this.familyIds(scopeName + '\u0000' + name);
    if (ids.seriesList !== columns.series) {
      ids.seriesList = columns.series;
      ids.bySeries = [];
    }
    const bySeries = ids.bySeries!;
    const points: WireNumber[] = [];
    const histogram = columns.kind === 'histogram' ? columns : undefined;
    const buckets = histogram ? histogram.boundaries.length + 1 : 0;
    for (let row = 0; row < rows; row++) {
      const index = columns.indices[row];
      let id: number | undefined = bySeries[index];
      if (id === undefined) {
        const attributes = columns.series[index].attributes;
        id = ids.byObject.get(attributes) ?? this.newSeries(ids, attributes, name, keys);
        if (id === undefined) continue;
        bySeries[index] = id;
      }
      points.push(id);
      if (histogram !== undefined) {
        const count = histogram.counts[row];
        const empty = count === 0;
        points.push(
          count,
          toWire(histogram.sums[row]),
          toWire(empty ? Infinity : histogram.mins[row]),
          toWire(empty ? -Infinity : histogram.maxs[row]),
        );
        const bucketCounts = histogram.bucketCounts;
        for (let b = 0, at = row * buckets; b < buckets; b++) points.push(bucketCounts[at + b]);
      } else {
        points.push(toWire((columns as CounterSnapshotColumns).values[row]));
      }
    }
    // A pass of its own, so the loop above stays as it was for the metrics that have none (no tracing).
    let exemplars: WireExemplarEntry[] | undefined;
    if (columns.exemplars !== undefined) {
      exemplars = [];
      for (let row = 0; row < rows; row++) {
        const own = columns.exemplars[row];
        const id = bySeries[columns.indices[row]];
        if (own === undefined || id === undefined) continue;
        if (histogram !== undefined) this.histogramExemplars(exemplars, id, own as readonly unknown[]);
        else this.counterExemplar(exemplars, id, own);
      }
    }
    return {
      scope: scopeIndex,
      name,
      description: columns.definition.description,
      unit: columns.definition.unit,
      valueType: WIRE_DOUBLE,
      shape: histogram ? 'histogram' : 'counter',
      boundaries: histogram ? histogram.boundaries.slice() : undefined,
      points,
      ...(exemplars !== undefined && exemplars.length > 0 ? { exemplars } : {}),
    };
  }

  /** Appends a counter series' exemplar to `out` if it is not the one last sent for it. */
  private counterExemplar(out: WireExemplarEntry[], id: number, exemplar: unknown): void {
    const sent = this.sentExemplars[id];
    if (!isExemplar(exemplar) || (!Array.isArray(sent) && sameExemplar(sent, exemplar))) return;
    this.sentExemplars[id] = exemplar;
    pushExemplar(out, id, 0, exemplar);
  }

  /** Appends a histogram series' exemplars, bucket by bucket, that are not the ones last sent for it. */
  private histogramExemplars(out: WireExemplarEntry[], id: number, exemplars: readonly unknown[]): void {
    let sent = this.sentExemplars[id];
    if (!Array.isArray(sent)) this.sentExemplars[id] = sent = [];
    for (let bucket = 0; bucket < exemplars.length; bucket++) {
      const exemplar = exemplars[bucket];
      if (!isExemplar(exemplar) || sameExemplar(sent[bucket], exemplar)) continue;
      sent[bucket] = exemplar;
      pushExemplar(out, id, bucket, exemplar);
    }
  }

  /** The id of a series not yet seen under these attributes in this epoch; undefined when it cannot be sent. */
  private newSeries(
    ids: FamilyIds,
    attributes: Attributes,
    metricName: string,
    keys: string[],
  ): number | undefined {
    const key = attributeKey(attributes);
    if (key === undefined) {
      this.notSent(metricName, 'a series has attributes that cannot be read');
      return undefined;
    }
    let id = ids.byKey.get(key);
    if (id === undefined) {
      id = this.nextId++;
      ids.byKey.set(key, id);
      keys.push(key);
    }
    ids.byObject.set(attributes, id);
    return id;
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

/**
 * Whether a point's entry has an exemplar's fields at all (a MetricData point's `exemplars` come from any
 * producer); whether their values are sound is for the primary to judge (validate.ts).
 */
function isExemplar(value: unknown): value is SnapshotExemplar {
  return typeof value === 'object' && value !== null;
}

/** The same exemplar: the same object (the store's are never changed), or one with the same fields. */
function sameExemplar(a: SnapshotExemplar | undefined, b: SnapshotExemplar): boolean {
  return (
    a === b ||
    (a !== undefined &&
      a.timeUnixMs === b.timeUnixMs &&
      a.spanId === b.spanId &&
      a.traceId === b.traceId &&
      a.value === b.value)
  );
}

/** `EXEMPLAR_STRIDE` entries (protocol.ts); a field a producer left out travels as null, refused by the primary. */
function pushExemplar(
  out: WireExemplarEntry[],
  id: number,
  bucket: number,
  exemplar: SnapshotExemplar,
): void {
  out.push(id, bucket, exemplar.traceId, exemplar.spanId, exemplar.value, exemplar.timeUnixMs);
}
