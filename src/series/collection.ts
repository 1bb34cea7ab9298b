/**
 * One collection of the local store, column by column: per metric, which series have a point (attributes and birth
 * times are read through the series' table, which never changes them) and their values, copied into typed arrays at
 * collection time. A writer that knows this shape (the OTLP encoder, exporters/otlp-wire/, the Prometheus
 * serializer, and the cluster snapshot encoder, cluster/encode.ts, which declares its own copy of the shape because
 * src/cluster may not import src/series and gets `storeCollectionOf` from init.ts) writes straight from the columns;
 * every other reader of the collection (an app's exporter) reads the ordinary SDK `MetricData`, which is built from
 * the columns the first time `metrics` is read, exactly as the store built it before columns existed.
 *
 * Owns: the column shapes, the ScopeMetrics that carries them, their conversion to MetricData, and the arrays given
 * back by a writer that has finished with a collection, for the next one. Must not touch:
 * which values a collection holds (local-store.ts decides cumulative or delta), encoding.
 *
 * Why columns: 10,000 histogram series became 10,000 point objects, 20,000 arrays and the upstream transformer's
 * walk over them on every OTLP export; copying the numbers into a few Float64Arrays is a fraction of that, and a
 * collection nobody materialises never allocates the points.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { DataPoint, Histogram, MetricData, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricDefinition } from '../catalog/metrics';
import type { Exemplar, ExemplarCarrier } from './exemplars';
import { AggregationTemporality, DataPointType, ValueType } from './otel-enums';
import { hrTimeAt } from './time';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A series as a collection reads it: what never changes once the series is born. */
export interface SeriesCell {
  readonly attributes: Attributes;
}

/**
 * Which series a row is: `indices[row]` is the series' position in `series`, the metric's list of series, which
 * only ever grows and never reorders, and in `births`, when each was born. Attributes and births are read through
 * them (they never change), so a collection copies only the values; an encoder may keep what it derives from a
 * series (encoded attributes) by (`series`, index) instead of hashing the attributes.
 */
export interface SeriesIdentity {
  readonly series: readonly SeriesCell[];
  /** Per series, when it was born: a `performance.now()` reading (series/time.ts hrTimeAt makes it an HrTime). */
  readonly births: Float64Array;
  readonly indices: Int32Array;
  /** Cumulative: each point starts when its series was born. Delta: at the collection's startTime. */
  readonly perSeriesStart: boolean;
}

/** The attributes of row `row`. */
export function attributesAt(columns: SeriesIdentity, row: number): Attributes {
  return columns.series[columns.indices[row]].attributes;
}

/** The start time of row `row`'s point: its series' birth (cumulative) or the collection's start (delta). */
export function startTimeAt(columns: SeriesIdentity, row: number, collectionStart: HrTime): HrTime {
  return columns.perSeriesStart ? hrTimeAt(columns.births[columns.indices[row]]) : collectionStart;
}

/** The counter series of one metric in one collection (only series with a point: see local-store.ts). */
export interface CounterColumns extends SeriesIdentity {
  readonly kind: 'counter';
  readonly definition: MetricDefinition;
  /** Series count: the first `length` entries of each column are this collection's. */
  readonly length: number;
  /** The value to report (cumulative total or delta). */
  readonly values: Float64Array;
  /** Per series, its exemplar (cumulative collections only); undefined when no series has one. */
  readonly exemplars: readonly (Exemplar | undefined)[] | undefined;
}

/** The histogram series of one metric in one collection. */
export interface HistogramColumns extends SeriesIdentity {
  readonly kind: 'histogram';
  readonly definition: MetricDefinition;
  readonly length: number;
  /** Shared by every series of the metric (the catalog's buckets). */
  readonly boundaries: readonly number[];
  /** `boundaries.length + 1` bucket counts per series, series after series. */
  readonly bucketCounts: Float64Array;
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
  /** Per series, its per-bucket exemplars (cumulative collections only); undefined when no series has any. */
  readonly exemplars: readonly (readonly (Exemplar | undefined)[] | undefined)[] | undefined;
}

export type MetricColumns = CounterColumns | HistogramColumns;

/** Everything one collection of the store holds: one end time for every point. */
export interface StoreCollection {
  readonly scope: InstrumentationScope;
  readonly temporality: AggregationTemporality;
  /** The start time of every point of a metric without a start time per series (delta). */
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly metrics: readonly MetricColumns[];
}

const COLLECTIONS = new WeakMap<ScopeMetrics, StoreCollection>();
/** Collections whose writer gave their arrays back (releaseCollection): they may hold another collection's now. */
const RELEASED = new WeakSet<StoreCollection>();

/**
 * Column arrays given back by the writer that finished with their collection, kept for the next collection of the
 * same series count. Why: a collection's columns are typed arrays outside the JavaScript heap (1.1 MB for 10,000
 * histogram series), and V8 runs full garbage collections by the external memory allocated since the last one; a
 * new set per OTLP export had a long-running exporter collect the whole heap every few exports, which doubled its
 * CPU per export after ~80 exports (bench `otlp-export-grpc`: 9-11 ms instead of 4.5). Bounded: at most
 * SPARE_PER_LENGTH arrays of each length and SPARE_LIMIT_BYTES in all; beyond that an array is left to the GC.
 */
const SPARE_LIMIT_BYTES = 64 * 1024 * 1024;
const SPARE_PER_LENGTH = 8;
const spareFloats = new Map<number, Float64Array[]>();
const spareInts = new Map<number, Int32Array[]>();
let spareBytes = 0;

function takeSpare<T extends Float64Array | Int32Array>(
  spares: Map<number, T[]>,
  length: number,
): T | undefined {
  const list = spares.get(length);
  const spare = list?.pop();
  if (spare === undefined) return undefined;
  if (list!.length === 0) spares.delete(length);
  spareBytes -= spare.byteLength;
  return spare;
}

function keepSpare<T extends Float64Array | Int32Array>(spares: Map<number, T[]>, array: T): void {
  if (array.length === 0 || spareBytes + array.byteLength > SPARE_LIMIT_BYTES) return;
  let list = spares.get(array.length);
  if (list === undefined) spares.set(array.length, (list = []));
  // A collection is given back once (RELEASED), so an array is never kept twice.
  if (list.length >= SPARE_PER_LENGTH) return;
  list.push(array);
  spareBytes += array.byteLength;
}

/**
 * A column of `length` numbers for a new collection: a given-back one if there is one (its old contents stay:
 * a collection writes every field of each row it keeps and is read only up to its `length`), else a new one.
 */
export function float64Column(length: number): Float64Array {
  return takeSpare(spareFloats, length) ?? new Float64Array(length);
}

/** As {@link float64Column}, for row indices. */
export function int32Column(length: number): Int32Array {
  return takeSpare(spareInts, length) ?? new Int32Array(length);
}

/**
 * Gives the columns of every store collection in `request` back for later collections, once a writer has written
 * all it needs from them (the OTLP serializers, right after encoding, inside the export call). After that its
 * `metrics`, if never read before, is empty: the arrays may already hold another collection. Only a writer that
 * reads nothing more may call it; an app's own exporter never does, so what it keeps stays intact.
 */
export function releaseCollection(request: { readonly scopeMetrics: readonly ScopeMetrics[] }): void {
  for (const scopeMetrics of request.scopeMetrics) {
    const collection = COLLECTIONS.get(scopeMetrics);
    if (collection === undefined || RELEASED.has(collection)) continue;
    RELEASED.add(collection);
    for (const columns of collection.metrics) {
      keepSpare(spareInts, columns.indices);
      if (columns.kind === 'counter') keepSpare(spareFloats, columns.values);
      else {
        keepSpare(spareFloats, columns.bucketCounts);
        keepSpare(spareFloats, columns.sums);
        keepSpare(spareFloats, columns.counts);
        keepSpare(spareFloats, columns.mins);
        keepSpare(spareFloats, columns.maxs);
      }
    }
  }
}

/**
 * The ScopeMetrics a store producer returns: `metrics` is built from the columns on first read (and kept), so a
 * reader that never reads it (the OTLP encoder) never pays for the objects.
 */
export function storeScopeMetrics(collection: StoreCollection): ScopeMetrics {
  let metrics: MetricData[] | undefined;
  const scopeMetrics: ScopeMetrics = {
    scope: collection.scope,
    // An own, enumerable accessor: spread, JSON.stringify and structured clone see `metrics` like a field.
    get metrics(): MetricData[] {
      if (metrics === undefined && RELEASED.has(collection)) return [];
      return (metrics ??= toMetricData(collection));
    },
  };
  COLLECTIONS.set(scopeMetrics, collection);
  return scopeMetrics;
}

/**
 * The columns behind a ScopeMetrics of the local store, or undefined for any other ScopeMetrics. Also after
 * releaseCollection, on purpose: the OTLP transport counts a request's points (column lengths) after the encoder
 * gave the arrays back; only lengths may be read then, the arrays may hold another collection's numbers.
 */
export function storeCollectionOf(scopeMetrics: ScopeMetrics): StoreCollection | undefined {
  return COLLECTIONS.get(scopeMetrics);
}

/** The SDK MetricData of a collection (the shapes and order the store has always produced). */
export function toMetricData(collection: StoreCollection): MetricData[] {
  const { startTime, endTime, temporality } = collection;
  const out: MetricData[] = [];
  for (const columns of collection.metrics) {
    const descriptor = {
      name: columns.definition.name,
      description: columns.definition.description,
      unit: columns.definition.unit,
      valueType: ValueType.DOUBLE,
    };
    if (columns.kind === 'counter') {
      const dataPoints: DataPoint<number>[] = new Array(columns.length);
      for (let i = 0; i < columns.length; i++) {
        const point: DataPoint<number> & Mutable<ExemplarCarrier> = {
          startTime: startTimeAt(columns, i, startTime),
          endTime,
          attributes: attributesAt(columns, i),
          value: columns.values[i],
        };
        // Only the package's serializers read this (see exemplars.ts); exemplar objects are never mutated.
        const exemplar = columns.exemplars?.[i];
        if (exemplar !== undefined) point.exemplars = [exemplar];
        dataPoints[i] = point;
      }
      out.push({
        descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints,
      });
    } else {
      const buckets = columns.boundaries.length + 1;
      const dataPoints: DataPoint<Histogram>[] = new Array(columns.length);
      for (let i = 0; i < columns.length; i++) {
        const counts = new Array<number>(buckets);
        for (let b = 0, at = i * buckets; b < buckets; b++) counts[b] = columns.bucketCounts[at + b];
        const point: DataPoint<Histogram> & Mutable<ExemplarCarrier> = {
          startTime: startTimeAt(columns, i, startTime),
          endTime,
          attributes: attributesAt(columns, i),
          value: {
            buckets: { boundaries: columns.boundaries as number[], counts },
            sum: columns.sums[i],
            count: columns.counts[i],
            min: columns.mins[i],
            max: columns.maxs[i],
          },
        };
        const exemplars = columns.exemplars?.[i];
        if (exemplars !== undefined) point.exemplars = exemplars;
        dataPoints[i] = point;
      }
      out.push({
        descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints,
      });
    }
  }
  return out;
}
