/**
 * OTLP/JSON `ExportMetricsServiceRequest` bytes from a collection: the same text the upstream JSON serializer
 * (@opentelemetry/otlp-transformer 0.223) writes for the same MetricData (its key order, timestamps as decimal
 * strings, integers as JSON numbers, NaN and infinities as null), so a receiver cannot tell the two apart. The
 * store's metrics are written from their columns with each series' attributes serialised once; other metrics are
 * built as upstream builds them and passed to JSON.stringify. Beyond upstream, a point carries the store's
 * exemplars (series/exemplars.ts) last, as `exemplars: [{ timeUnixNano, asDouble | asInt, spanId, traceId }]`
 * with the ids in hex (OTLP/JSON); a point without any is exactly upstream's text.
 *
 * Owns: the OTLP metrics JSON layout. Must not touch: transport, compression, what is collected.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '../../series/otel-enums';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  attributesAt,
  storeCollectionOf,
  type CounterColumns,
  type HistogramColumns,
  type MetricColumns,
  type StoreCollection,
} from '../../series/collection';
import type { Exemplar, ExemplarCarrier } from '../../series/exemplars';
import { hrTimeAt } from '../../series/time';
import { exemplarTime, otlpCarries } from './exemplars';
import { SeriesBytesMemo, type SeriesBytes } from './series-cache';

/** Encodes one export request as UTF-8 JSON. */
export function encodeJsonRequest(resourceMetrics: ResourceMetrics): Uint8Array {
  const out = new JsonWriter(sizeHint);
  const schemaUrl = resourceMetrics.resource.schemaUrl;
  out.text(`{"resourceMetrics":[{"resource":${resourceJson(resourceMetrics.resource)},`);
  if (schemaUrl) out.text(`"schemaUrl":${JSON.stringify(schemaUrl)},`);
  out.text('"scopeMetrics":[');
  resourceMetrics.scopeMetrics.forEach((scopeMetrics, i) => {
    if (i > 0) out.text(',');
    const collection = storeCollectionOf(scopeMetrics);
    if (collection !== undefined) writeStoreScope(out, collection);
    else out.text(JSON.stringify(toScopeMetrics(scopeMetrics)));
  });
  out.text(']}]}');
  const bytes = out.finish();
  // The next request is most likely about this size: starting there spares the growth copies (each of them a
  // buffer of up to the request's size, garbage at once) that were most of what an export allocated.
  sizeHint = Math.max(MIN_CAPACITY, bytes.length + (bytes.length >>> 4));
  return bytes;
}

const MIN_CAPACITY = 64 * 1024;
/** The capacity a request's buffer starts with: a little more than the last request took. */
let sizeHint = MIN_CAPACITY;

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

/** The most bytes `putNumber` writes: String() of a finite double is at most 24 characters ("-1.2345678901234567e-308"). */
const MAX_NUMBER = 24;

/**
 * JSON written as bytes into one growable Buffer. The store's points are assembled from pre-encoded fragments
 * (each series' attributes once, the metric's constant parts once per export) and numbers written digit by digit,
 * so an export of 10,000 histogram series builds no string per point: building and encoding one string per point
 * spent most of its time flattening those strings and collecting them again. A point's bytes are bounded before it
 * is written (`reserve`), so it is written with plain stores into `buffer` from `pos`.
 */
class JsonWriter {
  buffer: Buffer;
  pos = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Room for at least `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.pos + bytes) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buffer.copy(next, 0, 0, this.pos);
    this.buffer = next;
  }

  /** Any text, UTF-8 encoded. */
  text(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.reserve(text.length * 3);
    this.pos += this.buffer.write(text, this.pos, 'utf8');
  }

  /**
   * Starts item `i` of a list (a comma before all but the first) with `head`, `room` more bytes reserved (the
   * comma's included); returns the position in `buffer` to write the rest at, which the caller sets `pos` to.
   */
  point(i: number, head: Uint8Array, room: number): number {
    this.reserve(room + head.length);
    let pos = this.pos;
    if (i > 0) this.buffer[pos++] = COMMA;
    return putBytes(this.buffer, pos, head);
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }
}

/**
 * `bytes` at `pos` of `buffer` (room reserved); returns the position after them. TypedArray#set copies a whole
 * array in a few nanoseconds at any length, where a loop took 2 ns per byte.
 */
function putBytes(buffer: Buffer, pos: number, bytes: Uint8Array): number {
  buffer.set(bytes, pos);
  return pos + bytes.length;
}

const DIGITS = new Uint8Array(24);

/**
 * A number as JSON.stringify writes it (integers below 2^53 digit by digit; NaN and infinities as null) at `pos`
 * of `buffer` (MAX_NUMBER bytes reserved); returns the position after it.
 */
function putNumber(buffer: Buffer, pos: number, value: number): number {
  if (value >= 0 && value < 10 && (value | 0) === value) {
    // Most bucket counts of a busy exporter's many series.
    buffer[pos] = 0x30 + value;
    return pos + 1;
  }
  if (value >= 0 && value < 0x7fffffff && (value | 0) === value) {
    let rest = value;
    let length = 0;
    do {
      const next = (rest / 10) | 0;
      DIGITS[length++] = 0x30 + rest - next * 10;
      rest = next;
    } while (rest > 0);
    while (length > 0) buffer[pos++] = DIGITS[--length];
    return pos;
  }
  if (Number.isInteger(value) && value < 2 ** 53 && value > -(2 ** 53)) {
    let rest = value;
    if (rest < 0) {
      buffer[pos++] = 0x2d; // '-'
      rest = -rest;
    }
    let length = 0;
    do {
      DIGITS[length++] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
    while (length > 0) buffer[pos++] = DIGITS[--length];
    return pos;
  }
  if (Number.isFinite(value)) {
    // String(x) is what JSON.stringify writes for a finite number, and it is ASCII.
    const text = String(value);
    for (let i = 0; i < text.length; i++) buffer[pos++] = text.charCodeAt(i);
    return pos;
  }
  buffer[pos] = 0x6e; // null
  buffer[pos + 1] = 0x75;
  buffer[pos + 2] = 0x6c;
  buffer[pos + 3] = 0x6c;
  return pos + 4;
}

// ------------------------------------------------------------------------------------------ the store's columns
function writeStoreScope(out: JsonWriter, collection: StoreCollection): void {
  const start = ascii(`,"startTimeUnixNano":"${hrTimeToNanos(collection.startTime)}"`);
  const end = ascii(`,"timeUnixNano":"${hrTimeToNanos(collection.endTime)}"`);
  const temporality = jsonTemporality(collection.temporality);
  out.text(`{"scope":${JSON.stringify(toScope(collection.scope))},"metrics":[`);
  collection.metrics.forEach((columns, i) => {
    if (i > 0) out.text(',');
    writeStoreMetric(out, columns, start, end, temporality);
  });
  out.text(']');
  const schemaUrl = collection.scope.schemaUrl;
  if (schemaUrl !== undefined) out.text(`,"schemaUrl":${JSON.stringify(schemaUrl)}`);
  out.text('}');
}

const COMMA = 0x2c;
const CLOSE = 0x7d;
const AS_DOUBLE = ascii(',"asDouble":');
const SUM = ascii(',"sum":');
const MIN = ascii(',"min":');
const MAX = ascii(',"max":');

/**
 * A metric's points in upstream's key order: attributes, start, time, asDouble for a sum; attributes,
 * bucketCounts, explicitBounds, count, sum, min, max, start, time for a histogram. `start` (with its leading comma)
 * is every point's unless the columns have a start time per series; `end` is the time member.
 */
function writeStoreMetric(
  out: JsonWriter,
  columns: MetricColumns,
  start: Uint8Array,
  end: Uint8Array,
  temporality: number,
): void {
  const { name, description, unit } = columns.definition;
  const header = JSON.stringify({ name, description, unit }).slice(0, -1);
  const n = columns.length;
  const histogram = columns.kind === 'histogram';
  // What each series' points begin with (up to the values) and, with a start time per series, its start member,
  // encoded at its first export.
  const heads = (histogram ? histogramHeads : counterHeads).of(columns);
  const starts = seriesStarts.of(columns);
  const { indices, perSeriesStart, births } = columns;
  for (let i = 0; i < n; i++) {
    const index = indices[i];
    if (heads.get(index) === undefined) heads.set(index, headJson(attributesAt(columns, i), histogram));
    if (perSeriesStart && starts.get(index) === undefined)
      starts.set(index, startJson(hrTimeAt(births[index])));
  }
  const perSeries = perSeriesStart ? starts : undefined;
  if (columns.kind === 'counter') {
    out.text(`${header},"sum":{"aggregationTemporality":${temporality},"isMonotonic":true,"dataPoints":[`);
    writeCounterPoints(out, columns, heads, perSeries, start, end);
  } else {
    out.text(`${header},"histogram":{"aggregationTemporality":${temporality},"dataPoints":[`);
    writeHistogramPoints(out, columns, heads, perSeries, start, end);
  }
  out.text(']}}');
}

/*
 * The point loops are functions of their own that end with their loop: V8 optimises them during their first long
 * loop, before any code after the loop ran, and such code without type feedback deoptimised writeStoreMetric at
 * the end of every metric of every export while the loops were in it. A point's exemplars (the store's, kept only
 * for valid span contexts: series/exemplars.ts) go before its closing brace; without any, a point costs one check.
 */

/** A counter's points; `starts` is each series' own start member, or undefined when every point has `start`. */
function writeCounterPoints(
  out: JsonWriter,
  columns: CounterColumns,
  heads: SeriesBytes,
  starts: SeriesBytes | undefined,
  start: Uint8Array,
  end: Uint8Array,
): void {
  const { indices, values, exemplars } = columns;
  // A point with a start of its own writes that instead of `start`: room for the longer of the two.
  const room = 2 + Math.max(start.length, starts?.longest ?? 0) + end.length + AS_DOUBLE.length + MAX_NUMBER;
  for (let i = 0; i < columns.length; i++) {
    const index = indices[i];
    let pos = out.point(i, heads.get(index)!, room);
    const buffer = out.buffer;
    pos = putBytes(buffer, pos, starts !== undefined ? starts.get(index)! : start);
    pos = putBytes(buffer, pos, end);
    pos = putBytes(buffer, pos, AS_DOUBLE);
    pos = putNumber(buffer, pos, values[i]);
    const exemplar = exemplars?.[i];
    if (exemplar === undefined) {
      buffer[pos++] = CLOSE;
      out.pos = pos;
    } else {
      out.pos = pos;
      out.text(`,"exemplars":[${exemplarJson(exemplar, false)}]}`);
    }
  }
}

/** A histogram's points, as writeCounterPoints. */
function writeHistogramPoints(
  out: JsonWriter,
  columns: HistogramColumns,
  heads: SeriesBytes,
  starts: SeriesBytes | undefined,
  start: Uint8Array,
  end: Uint8Array,
): void {
  const afterCounts = ascii(`],"explicitBounds":${JSON.stringify(columns.boundaries)},"count":`);
  const buckets = columns.boundaries.length + 1;
  const { indices, bucketCounts, counts, sums, mins, maxs, exemplars } = columns;
  const room =
    2 +
    buckets * (MAX_NUMBER + 1) +
    afterCounts.length +
    MAX_NUMBER * 4 +
    SUM.length +
    MIN.length +
    MAX.length +
    Math.max(start.length, starts?.longest ?? 0) +
    end.length;
  for (let i = 0; i < columns.length; i++) {
    const index = indices[i];
    let pos = out.point(i, heads.get(index)!, room);
    const buffer = out.buffer;
    for (let b = 0, at = i * buckets; b < buckets; b++) {
      if (b > 0) buffer[pos++] = COMMA;
      pos = putNumber(buffer, pos, bucketCounts[at + b]);
    }
    pos = putBytes(buffer, pos, afterCounts);
    pos = putNumber(buffer, pos, counts[i]);
    pos = putBytes(buffer, pos, SUM);
    pos = putNumber(buffer, pos, sums[i]);
    pos = putBytes(buffer, pos, MIN);
    pos = putNumber(buffer, pos, mins[i]);
    pos = putBytes(buffer, pos, MAX);
    pos = putNumber(buffer, pos, maxs[i]);
    pos = putBytes(buffer, pos, starts !== undefined ? starts.get(index)! : start);
    pos = putBytes(buffer, pos, end);
    const own = exemplars?.[i];
    const list = own === undefined ? undefined : exemplarsJson(own);
    if (list === undefined) {
      buffer[pos++] = CLOSE;
      out.pos = pos;
    } else {
      out.pos = pos;
      out.text(`,"exemplars":[${list}]}`);
    }
  }
}

/** A histogram point's exemplars, in bucket order (OTLP's list is flat), or undefined when no bucket has one. */
function exemplarsJson(own: readonly (Exemplar | undefined)[]): string | undefined {
  let list: string | undefined;
  for (const exemplar of own) {
    if (exemplar === undefined) continue;
    const json = exemplarJson(exemplar, false);
    list = list === undefined ? json : list + ',' + json;
  }
  return list;
}

/**
 * One OTLP/JSON Exemplar, in the field order of upstream's IExemplar: time, value (asInt on an integer point),
 * span and trace ids as hex. No filteredAttributes: none are kept.
 */
function exemplarObject(exemplar: Exemplar, asInt: boolean): object {
  const out: Record<string, unknown> = { timeUnixNano: hrTimeToNanos(exemplarTime(exemplar)) };
  if (asInt) out.asInt = Math.trunc(exemplar.value);
  else out.asDouble = exemplar.value;
  out.spanId = exemplar.spanId;
  out.traceId = exemplar.traceId;
  return out;
}

const exemplarJson = (exemplar: Exemplar, asInt: boolean): string =>
  JSON.stringify(exemplarObject(exemplar, asInt));

/** A MetricData point's exemplars OTLP carries (exemplars.ts), as the objects JSON.stringify writes; or none. */
function exemplarsOf(point: DataPoint<unknown>, asInt: boolean): object[] | undefined {
  const exemplars = (point as ExemplarCarrier).exemplars;
  // Any producer's point may carry a field of that name: only a list is read, so no export fails over one point.
  if (!Array.isArray(exemplars)) return undefined;
  const carried = exemplars.filter(otlpCarries).map((exemplar) => exemplarObject(exemplar, asInt));
  return carried.length > 0 ? carried : undefined;
}

/** What a store series contributes to each of its points: its attributes, its own start time (cumulative). */
const counterHeads = new SeriesBytesMemo();
const histogramHeads = new SeriesBytesMemo();
const seriesStarts = new SeriesBytesMemo();

/** A start-time member (with its leading comma). */
function startJson(time: HrTime): Uint8Array {
  return Buffer.from(`,"startTimeUnixNano":"${hrTimeToNanos(time)}"`, 'latin1');
}

/** A point's opening up to its values: `{"attributes":[...]` and, for a histogram, `,"bucketCounts":[`. UTF-8. */
function headJson(attributes: Attributes, histogram: boolean): Uint8Array {
  const json = `{"attributes":${JSON.stringify(toAttributes(attributes))}`;
  return Buffer.from(histogram ? `${json},"bucketCounts":[` : json, 'utf8');
}

const resourceCache = new WeakMap<Resource, string>();

function resourceJson(resource: Resource): string {
  let json = resourceCache.get(resource);
  if (json === undefined) {
    const out: Record<string, unknown> = {
      attributes: toAttributes(resource.attributes),
      droppedAttributesCount: 0,
    };
    if (resource.schemaUrl) out.schemaUrl = resource.schemaUrl;
    json = JSON.stringify(out);
    if (!resource.asyncAttributesPending) resourceCache.set(resource, json);
  }
  return json;
}

// ---------------------------------------------------------------------- any MetricData (upstream's objects)
function toScopeMetrics(scopeMetrics: ScopeMetrics): object {
  return {
    scope: toScope(scopeMetrics.scope),
    metrics: scopeMetrics.metrics.map(toMetric),
    schemaUrl: scopeMetrics.scope.schemaUrl,
  };
}

function toScope(scope: InstrumentationScope): object {
  const out: Record<string, unknown> = { name: scope.name, version: scope.version };
  const withAttributes = scope as InstrumentationScope & {
    attributes?: Attributes;
    droppedAttributesCount?: number;
  };
  if (withAttributes.attributes && Object.keys(withAttributes.attributes).length > 0) {
    out.attributes = toAttributes(withAttributes.attributes);
    out.droppedAttributesCount = withAttributes.droppedAttributesCount ?? 0;
  }
  return out;
}

function toMetric(metric: MetricData): object {
  const out: Record<string, unknown> = {
    name: metric.descriptor.name,
    description: metric.descriptor.description,
    unit: metric.descriptor.unit,
  };
  const aggregationTemporality = jsonTemporality(metric.aggregationTemporality);
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      out.sum = {
        aggregationTemporality,
        isMonotonic: metric.isMonotonic,
        dataPoints: metric.dataPoints.map((point) => toNumberPoint(point, metric.descriptor.valueType)),
      };
      break;
    case DataPointType.GAUGE:
      out.gauge = {
        dataPoints: metric.dataPoints.map((point) => toNumberPoint(point, metric.descriptor.valueType)),
      };
      break;
    case DataPointType.HISTOGRAM:
      out.histogram = { aggregationTemporality, dataPoints: metric.dataPoints.map(toHistogramPoint) };
      break;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      out.exponentialHistogram = {
        aggregationTemporality,
        dataPoints: metric.dataPoints.map(toExponentialHistogramPoint),
      };
      break;
  }
  return out;
}

function toNumberPoint(point: DataPoint<number>, valueType: ValueType): object {
  const out: Record<string, unknown> = {
    attributes: toAttributes(point.attributes),
    startTimeUnixNano: hrTimeToNanos(point.startTime),
    timeUnixNano: hrTimeToNanos(point.endTime),
  };
  if (valueType === ValueType.INT) out.asInt = point.value;
  else if (valueType === ValueType.DOUBLE) out.asDouble = point.value;
  const exemplars = exemplarsOf(point, valueType === ValueType.INT);
  if (exemplars !== undefined) out.exemplars = exemplars;
  return out;
}

function toHistogramPoint(point: DataPoint<Histogram>): object {
  const histogram = point.value;
  const out = {
    attributes: toAttributes(point.attributes),
    bucketCounts: histogram.buckets.counts,
    explicitBounds: histogram.buckets.boundaries,
    count: histogram.count,
    sum: histogram.sum,
    min: histogram.min,
    max: histogram.max,
    startTimeUnixNano: hrTimeToNanos(point.startTime),
    timeUnixNano: hrTimeToNanos(point.endTime),
  };
  const exemplars = exemplarsOf(point, false);
  return exemplars === undefined ? out : { ...out, exemplars };
}

function toExponentialHistogramPoint(point: DataPoint<ExponentialHistogram>): object {
  const histogram = point.value;
  return {
    attributes: toAttributes(point.attributes),
    count: histogram.count,
    min: histogram.min,
    max: histogram.max,
    sum: histogram.sum,
    positive: { offset: histogram.positive.offset, bucketCounts: histogram.positive.bucketCounts },
    negative: { offset: histogram.negative.offset, bucketCounts: histogram.negative.bucketCounts },
    scale: histogram.scale,
    zeroCount: histogram.zeroCount,
    startTimeUnixNano: hrTimeToNanos(point.startTime),
    timeUnixNano: hrTimeToNanos(point.endTime),
  };
}

function toAttributes(attributes: Attributes): object[] {
  return Object.keys(attributes).map((key) => ({ key, value: toAnyValue(attributes[key]) }));
}

function toAnyValue(value: unknown): object {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return {
      kvlistValue: { values: Object.keys(record).map((key) => ({ key, value: toAnyValue(record[key]) })) },
    };
  }
  return {};
}

/** Nanoseconds since the epoch as a decimal string (exact: BigInt). */
function hrTimeToNanos(time: HrTime): string {
  return (BigInt(Math.trunc(time[0])) * 1_000_000_000n + BigInt(Math.trunc(time[1]))).toString();
}

function jsonTemporality(temporality: AggregationTemporality): number {
  return temporality === AggregationTemporality.DELTA ? 1 : 2;
}
