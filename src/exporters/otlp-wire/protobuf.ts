/**
 * OTLP/protobuf `ExportMetricsServiceRequest` bytes from a collection. The store's metrics are written straight
 * from their columns (series/collection.ts): every size is computed first, so the request is one exactly sized
 * buffer written front to back, and each series' attributes are encoded once and reused by every export. Any
 * other metric (the SDK's observable gauges, self-metrics, an app's own instruments) is written from its
 * MetricData with the upstream transformer's layout (@opentelemetry/otlp-transformer 0.223), which this file
 * follows field for field and byte for byte (tests/exporters/otlp-wire/ compare the two). Beyond upstream, it writes
 * the store's exemplars (series/exemplars.ts: a counter series' one, a histogram's one per bucket, as OTLP's flat
 * list; receivers bucket them by value): the SDK 2.x data model has none, so upstream cannot. A point without
 * exemplars is exactly upstream's, and a metric whose columns hold none takes the same code as before exemplars.
 *
 * Owns: the OTLP metrics protobuf layout. Must not touch: transport, compression, what is collected.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
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
  type StoreCollection,
} from '../../series/collection';
import type { Exemplar, ExemplarCarrier } from '../../series/exemplars';
import { hrTimeAt } from '../../series/time';
import { exemplarTime, otlpCarries } from './exemplars';
import { nanosParts, ProtobufWriter, varintSize } from './protobuf-writer';
import { SeriesBytesMemo, type SeriesBytes } from './series-cache';

// Wire types.
const VARINT = 0;
const I64 = 1;
const LEN = 2;

/** Tag byte of a field below 16. */
const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/** A length-delimited field's total size: tag byte, length varint, body. */
const fieldSize = (bodySize: number): number => 1 + varintSize(bodySize) + bodySize;

/**
 * Encodes one export request. `reuse`, when given, may return a buffer of exactly the request's size to write it
 * into instead of a new one (its earlier bytes are overwritten).
 */
export function encodeProtobufRequest(
  resourceMetrics: ResourceMetrics,
  reuse?: (size: number) => Buffer | undefined,
): Buffer {
  const resource = encodedResource(resourceMetrics.resource);
  const schemaUrl = resourceMetrics.resource.schemaUrl;
  const scopes = resourceMetrics.scopeMetrics.map(planScope);
  let body = fieldSize(resource.length);
  for (const scope of scopes) body += fieldSize(scope.size);
  if (schemaUrl) body += fieldSize(Buffer.byteLength(schemaUrl, 'utf8'));
  const total = fieldSize(body);

  const writer = new ProtobufWriter(total, reuse?.(total));
  writer.byte(tag(1, LEN)); // ExportMetricsServiceRequest.resource_metrics
  writer.uint32(body);
  writer.byte(tag(1, LEN)); // ResourceMetrics.resource
  writer.bytes(resource);
  for (const scope of scopes) {
    writer.byte(tag(2, LEN)); // ResourceMetrics.scope_metrics
    writer.uint32(scope.size);
    scope.write(writer);
  }
  if (schemaUrl) {
    writer.byte(tag(3, LEN));
    writer.string(schemaUrl);
  }
  return writer.finish();
}

interface ScopePlan {
  readonly size: number;
  write(writer: ProtobufWriter): void;
}

function planScope(scopeMetrics: ScopeMetrics): ScopePlan {
  const collection = storeCollectionOf(scopeMetrics);
  if (collection !== undefined) return planStoreScope(collection);
  // Not the store's: a few SDK metrics, encoded on their own and copied.
  const writer = new ProtobufWriter(1024);
  writeScopeMetrics(writer, scopeMetrics);
  const bytes = writer.finish();
  return { size: bytes.length, write: (out) => out.raw(bytes) };
}

// ------------------------------------------------------------------------------------------ the store's columns
function planStoreScope(collection: StoreCollection): ScopePlan {
  const scope = encodedScope(collection.scope);
  const temporality = protoTemporality(collection.temporality);
  const plans = collection.metrics.map((columns) =>
    columns.kind === 'counter' ? planCounter(columns) : planHistogram(columns),
  );
  let size = fieldSize(scope.length);
  for (const plan of plans) size += fieldSize(plan.size);
  if (collection.scope.schemaUrl) size += fieldSize(Buffer.byteLength(collection.scope.schemaUrl, 'utf8'));
  return {
    size,
    write(writer) {
      writer.byte(tag(1, LEN)); // ScopeMetrics.scope
      writer.bytes(scope);
      for (const plan of plans) {
        writer.byte(tag(2, LEN)); // ScopeMetrics.metrics
        writer.uint32(plan.size);
        plan.write(writer, collection.startTime, collection.endTime, temporality);
      }
      if (collection.scope.schemaUrl) {
        writer.byte(tag(3, LEN));
        writer.string(collection.scope.schemaUrl);
      }
    },
  };
}

interface MetricPlan {
  readonly size: number;
  /** `startTime` is every point's unless the columns have a start time per series. */
  write(writer: ProtobufWriter, startTime: HrTime, endTime: HrTime, temporality: number): void;
}

/** Sum data points: start, time, as_double, attributes (field 7), exemplars (field 5). */
function planCounter(columns: CounterColumns): MetricPlan {
  const header = encodedMetricHeader(columns.definition);
  const n = columns.length;
  const attributes = attributesOf(columns, 7);
  const indices = columns.indices;
  const exemplars = columns.exemplars;
  let points = 0;
  if (exemplars === undefined) {
    for (let i = 0; i < n; i++) points += fieldSize(27 + attributes.get(indices[i])!.length);
  } else {
    for (let i = 0; i < n; i++)
      points += fieldSize(
        27 + attributes.get(indices[i])!.length + (exemplars[i] !== undefined ? EXEMPLAR_FIELD : 0),
      );
  }
  const data = points + 2 + 2; // aggregation_temporality, is_monotonic
  return {
    size: header.length + fieldSize(data),
    write(writer, startTime, endTime, temporality) {
      writer.raw(header);
      writer.byte(tag(7, LEN)); // Metric.sum
      writer.uint32(data);
      writeCounterPoints(writer, columns, attributes, startTime, endTime);
      writer.byte(tag(2, VARINT));
      writer.byte(temporality);
      writer.byte(tag(3, VARINT));
      writer.byte(1);
    },
  };
}

/**
 * The points of planCounter: a function that ends with its loop, as writeHistogramPoints (why: there). A point
 * carries its series' exemplar, if it has one; without any, a point costs one check.
 */
function writeCounterPoints(
  writer: ProtobufWriter,
  columns: CounterColumns,
  attributes: SeriesBytes,
  startTime: HrTime,
  endTime: HrTime,
): void {
  const { indices, values, exemplars } = columns;
  const starts = columns.perSeriesStart ? startsOf(columns) : undefined;
  const shared = nanosParts(startTime[0], startTime[1], [0, 0]);
  const end = nanosParts(endTime[0], endTime[1], [0, 0]);
  for (let i = 0; i < columns.length; i++) {
    const index = indices[i];
    const encoded = attributes.get(index)!;
    const exemplar = exemplars?.[i];
    writer.byte(tag(1, LEN)); // Sum.data_points
    writer.uint32(27 + encoded.length + (exemplar !== undefined ? EXEMPLAR_FIELD : 0));
    writer.byte(tag(2, I64));
    if (starts !== undefined) writer.fixed64Parts(starts[2 * index], starts[2 * index + 1]);
    else writer.fixed64Parts(shared[0], shared[1]);
    writer.byte(tag(3, I64));
    writer.fixed64Parts(end[0], end[1]);
    writer.byte(tag(4, I64)); // as_double
    writer.double(values[i]);
    writer.raw(encoded);
    if (exemplar !== undefined) writeExemplar(writer, 5, exemplar, false);
  }
}

/** The encoded attributes (repeated KeyValue field `field`, tags included) of every series of `columns`. */
function attributesOf(columns: CounterColumns | HistogramColumns, field: number): SeriesBytes {
  const memo = attributesMemo.of(columns);
  const indices = columns.indices;
  for (let i = 0; i < columns.length; i++) {
    const index = indices[i];
    if (memo.get(index) === undefined) memo.set(index, encodeAttributes(attributesAt(columns, i), field));
  }
  return memo;
}

/** Histogram data points: start, time, count, sum, bucket_counts, explicit_bounds, attributes (field 9), min,
 * max, exemplars (field 8). */
function planHistogram(columns: HistogramColumns): MetricPlan {
  const header = encodedMetricHeader(columns.definition);
  const bounds = encodedBounds(columns.boundaries);
  const buckets = columns.boundaries.length + 1;
  const countsField = fieldSize(buckets * 8);
  const fixed = 9 * 6 + countsField + bounds.length;
  const n = columns.length;
  const attributes = attributesOf(columns, 9);
  const indices = columns.indices;
  const exemplars = columns.exemplars;
  let points = 0;
  if (exemplars === undefined) {
    for (let i = 0; i < n; i++) points += fieldSize(fixed + attributes.get(indices[i])!.length);
  } else {
    for (let i = 0; i < n; i++)
      points += fieldSize(fixed + attributes.get(indices[i])!.length + exemplarsSize(exemplars[i]));
  }
  const data = points + 2; // aggregation_temporality
  return {
    size: header.length + fieldSize(data),
    write(writer, startTime, endTime, temporality) {
      writer.raw(header);
      writer.byte(tag(9, LEN)); // Metric.histogram
      writer.uint32(data);
      writeHistogramPoints(writer, columns, attributes, fixed, bounds, startTime, endTime);
      writer.byte(tag(2, VARINT));
      writer.byte(temporality);
    },
  };
}

/**
 * The points of planHistogram, `fixed` bytes each besides their attributes. A function of its own that ends with
 * its loop: V8 optimises it during its first long loop, before the code after the loop ever ran, and that code,
 * without type feedback, deoptimised the function at the end of every export while it lived in the closure. A point
 * without exemplars costs one check for them.
 */
function writeHistogramPoints(
  writer: ProtobufWriter,
  columns: HistogramColumns,
  attributes: SeriesBytes,
  fixed: number,
  bounds: Uint8Array,
  startTime: HrTime,
  endTime: HrTime,
): void {
  const { perSeriesStart, counts, sums, mins, maxs, indices, bucketCounts, exemplars } = columns;
  const n = columns.length;
  const buckets = columns.boundaries.length + 1;
  const starts = perSeriesStart ? startsOf(columns) : undefined;
  // Every point's size is known, so each point is one bounds check and then plain stores (this loop is most
  // of an export's encoding); the end time, and the start time unless it is per series, are the same for all.
  const [endLow, endHigh] = nanosParts(endTime[0], endTime[1], [0, 0]);
  const shared = nanosParts(startTime[0], startTime[1], [0, 0]);
  // Locals, not an array: a uint32 above 2^31 stored into an array is a heap number per point.
  let startLow = shared[0];
  let startHigh = shared[1];
  for (let i = 0; i < n; i++) {
    const index = indices[i];
    const attributesBytes = attributes.get(index)!;
    const own = exemplars?.[i];
    const size = fixed + attributesBytes.length + exemplarsSize(own);
    writer.ensure(size + 5);
    const buffer = writer.buffer;
    const view = writer.view;
    let pos = writer.pos;
    buffer[pos++] = tag(1, LEN); // Histogram.data_points
    for (let v = size; ; v >>>= 7) {
      if (v < 0x80) {
        buffer[pos++] = v;
        break;
      }
      buffer[pos++] = (v & 0x7f) | 0x80;
    }
    if (starts !== undefined) {
      startLow = starts[2 * index];
      startHigh = starts[2 * index + 1];
    }
    buffer[pos] = tag(2, I64);
    view.setUint32(pos + 1, startLow, true);
    view.setUint32(pos + 5, startHigh, true);
    buffer[pos + 9] = tag(3, I64);
    view.setUint32(pos + 10, endLow, true);
    view.setUint32(pos + 14, endHigh, true);
    buffer[pos + 18] = tag(4, I64);
    const count = counts[i];
    view.setUint32(pos + 19, count >>> 0, true);
    view.setUint32(pos + 23, (count / 0x100000000) >>> 0, true);
    buffer[pos + 27] = tag(5, I64);
    view.setFloat64(pos + 28, sums[i], true);
    pos += 36;
    buffer[pos++] = tag(6, LEN); // bucket_counts, packed
    pos = putVarint(buffer, pos, buckets * 8);
    for (let b = 0, at = i * buckets; b < buckets; b++, pos += 8) {
      const bucket = bucketCounts[at + b];
      view.setUint32(pos, bucket >>> 0, true);
      view.setUint32(pos + 4, (bucket / 0x100000000) >>> 0, true);
    }
    buffer.set(bounds, pos);
    pos += bounds.length;
    buffer.set(attributesBytes, pos);
    pos += attributesBytes.length;
    buffer[pos] = tag(11, I64);
    view.setFloat64(pos + 1, mins[i], true);
    buffer[pos + 9] = tag(12, I64);
    view.setFloat64(pos + 10, maxs[i], true);
    writer.pos = pos + 18;
    // Its buckets' exemplars, in bucket order (OTLP's list is flat; a receiver finds each one's bucket by value).
    if (own !== undefined)
      for (const exemplar of own) if (exemplar !== undefined) writeExemplar(writer, 8, exemplar, false);
  }
}

/**
 * Each store series' start time (its birth) as the [low, high] halves of its fixed64 nanoseconds, at 2 * its index
 * in the metric's list of series: converted at the first export that reads it (0, 0 until then), where turning
 * the birth into an HrTime and nanoseconds per point was a tenth of the point loop.
 */
const seriesStarts = new WeakMap<readonly object[], Uint32Array>();

function startsOf(columns: CounterColumns | HistogramColumns): Uint32Array {
  const { series, births, indices } = columns;
  let starts = seriesStarts.get(series);
  if (starts === undefined || starts.length < 2 * series.length) {
    const grown = new Uint32Array(2 * Math.max(series.length, starts?.length ?? 0));
    if (starts !== undefined) grown.set(starts);
    starts = grown;
    seriesStarts.set(series, starts);
  }
  const scratch: HrTime = [0, 0];
  const parts: [number, number] = [0, 0];
  for (let i = 0; i < columns.length; i++) {
    const index = indices[i];
    // A start whose halves are both 0 is the epoch: never a series' birth, so it means "not converted yet".
    if (starts[2 * index] !== 0 || starts[2 * index + 1] !== 0) continue;
    hrTimeAt(births[index], scratch);
    nanosParts(scratch[0], scratch[1], parts);
    starts[2 * index] = parts[0];
    starts[2 * index + 1] = parts[1];
  }
  return starts;
}

/** A varint at `pos`; returns the position after it. */
function putVarint(buffer: Buffer, pos: number, value: number): number {
  let v = value;
  while (v > 0x7f) {
    buffer[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[pos++] = v;
  return pos;
}

// ------------------------------------------------------------------------------------------------- exemplars
/** An Exemplar's body: time_unix_nano, as_double or as_int, span_id (8 bytes), trace_id (16 bytes). */
const EXEMPLAR_BODY = 9 + 9 + 10 + 18;
/** A point's exemplars field holding one: tag, length, body. */
const EXEMPLAR_FIELD = 2 + EXEMPLAR_BODY;

/**
 * The bytes of a histogram row's exemplars. The columns' exemplars are the store's, kept only for valid span
 * contexts (series/exemplars.ts), so every one present is written.
 */
function exemplarsSize(exemplars: readonly (unknown | undefined)[] | undefined): number {
  if (exemplars === undefined) return 0;
  let size = 0;
  for (let b = 0; b < exemplars.length; b++) if (exemplars[b] !== undefined) size += EXEMPLAR_FIELD;
  return size;
}

const exemplarTimeScratch: HrTime = [0, 0];

/** Exemplar as field `field` of a data point, its fields in number order (no filtered attributes: none kept). */
function writeExemplar(writer: ProtobufWriter, field: number, exemplar: Exemplar, asInt: boolean): void {
  writer.byte(tag(field, LEN));
  writer.byte(EXEMPLAR_BODY);
  const time = exemplarTime(exemplar, exemplarTimeScratch);
  writer.byte(tag(2, I64)); // time_unix_nano
  writer.hrTime(time[0], time[1]);
  if (!asInt) {
    writer.byte(tag(3, I64)); // as_double
    writer.double(exemplar.value);
  }
  writer.byte(tag(4, LEN)); // span_id
  writer.byte(8);
  putHex(writer, exemplar.spanId, 8);
  writer.byte(tag(5, LEN)); // trace_id
  writer.byte(16);
  putHex(writer, exemplar.traceId, 16);
  if (asInt) {
    writer.byte(tag(6, I64)); // as_int
    writer.sfixed64(Math.trunc(exemplar.value));
  }
}

/**
 * `bytes` bytes from hex digits. The store's ids are valid hex (series/exemplars.ts) and MetricData's are checked
 * (writeExemplars); were one still to hold a non-hex digit, the id would take its planned bytes all the same, zeros
 * from that digit on, so the request's sizes, planned before writing, stay right.
 */
function putHex(writer: ProtobufWriter, hex: string, bytes: number): void {
  writer.ensure(bytes);
  const written = writer.buffer.write(hex, writer.pos, bytes, 'hex');
  writer.buffer.fill(0, writer.pos + written, writer.pos + bytes);
  writer.pos += bytes;
}

/** A MetricData point's exemplars (only the store's points have any), those OTLP carries (exemplars.ts). */
function writeExemplars(
  writer: ProtobufWriter,
  point: DataPoint<unknown>,
  field: number,
  asInt: boolean,
): void {
  const exemplars = (point as ExemplarCarrier).exemplars;
  // Any producer's point may carry a field of that name: only a list is read, so no export fails over one point.
  if (!Array.isArray(exemplars)) return;
  for (const exemplar of exemplars) if (otlpCarries(exemplar)) writeExemplar(writer, field, exemplar, asInt);
}

// ----------------------------------------------------------------------------------------- cached encodings
/** Each store series' attributes, encoded at its first export (a series never changes attributes). */
const attributesMemo = new SeriesBytesMemo();

/** The attributes as repeated KeyValue field `field`, tags included (a view: SeriesBytes copies it). */
function encodeAttributes(attributes: Attributes, field: number): Uint8Array {
  const writer = new ProtobufWriter(64);
  writeAttributes(writer, attributes, field);
  return writer.finish();
}

const boundsCache = new WeakMap<readonly number[], Uint8Array>();

/** Histogram.explicit_bounds (field 7, packed doubles), tag included; nothing when there are no bounds. */
function encodedBounds(boundaries: readonly number[]): Uint8Array {
  let bytes = boundsCache.get(boundaries);
  if (bytes === undefined) {
    const writer = new ProtobufWriter(16 + boundaries.length * 8);
    if (boundaries.length > 0) {
      writer.byte(tag(7, LEN));
      writer.uint32(boundaries.length * 8);
      for (const bound of boundaries) writer.double(bound);
    }
    bytes = new Uint8Array(writer.finish());
    boundsCache.set(boundaries, bytes);
  }
  return bytes;
}

interface MetricDescription {
  readonly name: string;
  readonly description?: string;
  readonly unit?: string;
}

const headerCache = new WeakMap<MetricDescription, Uint8Array>();

/** Metric.name, description, unit (the last two only when not empty). */
function encodedMetricHeader(definition: MetricDescription): Uint8Array {
  let bytes = headerCache.get(definition);
  if (bytes === undefined) {
    const writer = new ProtobufWriter(128);
    writeMetricHeader(writer, definition);
    bytes = new Uint8Array(writer.finish());
    headerCache.set(definition, bytes);
  }
  return bytes;
}

const resourceCache = new WeakMap<Resource, Uint8Array>();

/** The Resource message body (attributes, dropped_attributes_count 0), as the upstream writer writes it. */
function encodedResource(resource: Resource): Uint8Array {
  let bytes = resourceCache.get(resource);
  if (bytes === undefined) {
    const writer = new ProtobufWriter(512);
    writeAttributes(writer, resource.attributes, 1);
    writer.byte(tag(2, VARINT));
    writer.byte(0);
    bytes = new Uint8Array(writer.finish());
    // A resource with attributes still pending may change; only a settled one is cached.
    if (!resource.asyncAttributesPending) resourceCache.set(resource, bytes);
  }
  return bytes;
}

const scopeCache = new WeakMap<InstrumentationScope, Uint8Array>();

/** The InstrumentationScope message body. */
function encodedScope(scope: InstrumentationScope): Uint8Array {
  let bytes = scopeCache.get(scope);
  if (bytes === undefined) {
    const writer = new ProtobufWriter(128);
    writer.byte(tag(1, LEN));
    writer.string(scope.name);
    if (scope.version) {
      writer.byte(tag(2, LEN));
      writer.string(scope.version);
    }
    const withAttributes = scope as InstrumentationScope & {
      attributes?: Attributes;
      droppedAttributesCount?: number;
    };
    if (withAttributes.attributes) writeAttributes(writer, withAttributes.attributes, 3);
    if (withAttributes.droppedAttributesCount) {
      writer.byte(tag(4, VARINT));
      writer.uint32(withAttributes.droppedAttributesCount);
    }
    bytes = new Uint8Array(writer.finish());
    scopeCache.set(scope, bytes);
  }
  return bytes;
}

// -------------------------------------------------------------------------------- any MetricData (upstream layout)
function writeScopeMetrics(writer: ProtobufWriter, scopeMetrics: ScopeMetrics): void {
  writer.byte(tag(1, LEN));
  writer.bytes(encodedScope(scopeMetrics.scope));
  for (const metric of scopeMetrics.metrics) {
    writer.byte(tag(2, LEN));
    const mark = writer.begin();
    writeMetric(writer, metric);
    writer.end(mark);
  }
  if (scopeMetrics.scope.schemaUrl) {
    writer.byte(tag(3, LEN));
    writer.string(scopeMetrics.scope.schemaUrl);
  }
}

function writeMetricHeader(writer: ProtobufWriter, definition: MetricDescription): void {
  writer.byte(tag(1, LEN));
  writer.string(definition.name);
  if (definition.description) {
    writer.byte(tag(2, LEN));
    writer.string(definition.description);
  }
  if (definition.unit) {
    writer.byte(tag(3, LEN));
    writer.string(definition.unit);
  }
}

function writeMetric(writer: ProtobufWriter, metric: MetricData): void {
  writeMetricHeader(writer, metric.descriptor);
  const temporality = protoTemporality(metric.aggregationTemporality);
  switch (metric.dataPointType) {
    case DataPointType.GAUGE:
    case DataPointType.SUM: {
      const sum = metric.dataPointType === DataPointType.SUM;
      writer.byte(tag(sum ? 7 : 5, LEN));
      const mark = writer.begin();
      for (const point of metric.dataPoints) {
        writer.byte(tag(1, LEN));
        const at = writer.begin();
        writeNumberPoint(writer, point, metric.descriptor.valueType);
        writer.end(at);
      }
      if (sum) {
        if (temporality !== 0) {
          writer.byte(tag(2, VARINT));
          writer.byte(temporality);
        }
        if (metric.isMonotonic) {
          writer.byte(tag(3, VARINT));
          writer.byte(1);
        }
      }
      writer.end(mark);
      break;
    }
    case DataPointType.HISTOGRAM:
      writeHistogramMetric(writer, 9, metric.dataPoints, writeHistogramPoint, temporality);
      break;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      writeHistogramMetric(writer, 10, metric.dataPoints, writeExponentialHistogramPoint, temporality);
      break;
  }
}

/** Metric.histogram (field 9) or Metric.exponential_histogram (10): the points, then the temporality. */
function writeHistogramMetric<Point>(
  writer: ProtobufWriter,
  field: number,
  points: readonly Point[],
  writePoint: (writer: ProtobufWriter, point: Point) => void,
  temporality: number,
): void {
  writer.byte(tag(field, LEN));
  const mark = writer.begin();
  for (const point of points) {
    writer.byte(tag(1, LEN));
    const at = writer.begin();
    writePoint(writer, point);
    writer.end(at);
  }
  if (temporality !== 0) {
    writer.byte(tag(2, VARINT));
    writer.byte(temporality);
  }
  writer.end(mark);
}

function writeTime(writer: ProtobufWriter, field: number, time: HrTime): void {
  writer.byte(tag(field, I64));
  writer.hrTime(time[0], time[1]);
}

function writeNumberPoint(writer: ProtobufWriter, point: DataPoint<number>, valueType: ValueType): void {
  writeTime(writer, 2, point.startTime);
  writeTime(writer, 3, point.endTime);
  if (valueType === ValueType.INT) {
    writer.byte(tag(6, I64));
    writer.sfixed64(point.value);
  } else {
    writer.byte(tag(4, I64));
    writer.double(point.value);
  }
  if (point.attributes) writeAttributes(writer, point.attributes, 7);
  writeExemplars(writer, point, 5, valueType === ValueType.INT);
}

function writeHistogramPoint(writer: ProtobufWriter, point: DataPoint<Histogram>): void {
  const histogram = point.value;
  writeTime(writer, 2, point.startTime);
  writeTime(writer, 3, point.endTime);
  writer.byte(tag(4, I64));
  writer.fixed64(histogram.count);
  if (histogram.sum !== undefined) {
    writer.byte(tag(5, I64));
    writer.double(histogram.sum);
  }
  const counts = histogram.buckets.counts;
  if (counts.length > 0) {
    writer.byte(tag(6, LEN));
    writer.uint32(counts.length * 8);
    for (const count of counts) writer.fixed64(count);
  }
  const boundaries = histogram.buckets.boundaries;
  if (boundaries.length > 0) {
    writer.byte(tag(7, LEN));
    writer.uint32(boundaries.length * 8);
    for (const bound of boundaries) writer.double(bound);
  }
  if (point.attributes) writeAttributes(writer, point.attributes, 9);
  if (histogram.min !== undefined) {
    writer.byte(tag(11, I64));
    writer.double(histogram.min);
  }
  if (histogram.max !== undefined) {
    writer.byte(tag(12, I64));
    writer.double(histogram.max);
  }
  writeExemplars(writer, point, 8, false);
}

function writeExponentialHistogramPoint(
  writer: ProtobufWriter,
  point: DataPoint<ExponentialHistogram>,
): void {
  const histogram = point.value;
  if (point.attributes) writeAttributes(writer, point.attributes, 1);
  writeTime(writer, 2, point.startTime);
  writeTime(writer, 3, point.endTime);
  writer.byte(tag(4, I64));
  writer.fixed64(histogram.count);
  if (histogram.sum !== undefined) {
    writer.byte(tag(5, I64));
    writer.double(histogram.sum);
  }
  if (histogram.scale !== 0) {
    writer.byte(tag(6, VARINT));
    writer.sint32(histogram.scale);
  }
  writer.byte(tag(7, I64));
  writer.fixed64(histogram.zeroCount);
  for (const [field, buckets] of [
    [8, histogram.positive],
    [9, histogram.negative],
  ] as const) {
    writer.byte(tag(field, LEN));
    const mark = writer.begin();
    if (buckets.offset !== 0) {
      writer.byte(tag(1, VARINT));
      writer.sint32(buckets.offset);
    }
    if (buckets.bucketCounts.length > 0) {
      writer.byte(tag(2, LEN));
      const at = writer.begin();
      for (const count of buckets.bucketCounts) writer.int64(count);
      writer.end(at);
    }
    writer.end(mark);
  }
  if (histogram.min !== undefined) {
    writer.byte(tag(12, I64));
    writer.double(histogram.min);
  }
  if (histogram.max !== undefined) {
    writer.byte(tag(13, I64));
    writer.double(histogram.max);
  }
}

// ------------------------------------------------------------------------------------------------- attributes
function writeAttributes(writer: ProtobufWriter, attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    writer.byte(tag(field, LEN));
    const mark = writer.begin();
    writeKeyValue(writer, key, attributes[key]);
    writer.end(mark);
  }
}

function writeKeyValue(writer: ProtobufWriter, key: string, value: unknown): void {
  writer.byte(tag(1, LEN));
  writer.string(key);
  writer.byte(tag(2, LEN));
  const mark = writer.begin();
  writeAnyValue(writer, value as AttributeValue);
  writer.end(mark);
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** AnyValue, with the upstream transformer's choices (an integer-valued number is int_value). */
function writeAnyValue(writer: ProtobufWriter, value: unknown): void {
  if (typeof value === 'string') {
    writer.byte(tag(1, LEN));
    writer.string(value);
  } else if (typeof value === 'boolean') {
    writer.byte(tag(2, VARINT));
    writer.byte(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      writer.byte(tag(3, VARINT));
      writer.int64(value);
    } else {
      writer.byte(tag(4, I64));
      writer.double(value);
    }
  } else if (value instanceof Uint8Array) {
    writer.byte(tag(7, LEN));
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.byte(tag(5, LEN));
    const mark = writer.begin();
    for (const item of value) {
      writer.byte(tag(1, LEN));
      const at = writer.begin();
      writeAnyValue(writer, item);
      writer.end(at);
    }
    writer.end(mark);
  } else if (typeof value === 'object' && value !== null) {
    writer.byte(tag(6, LEN));
    const mark = writer.begin();
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      writer.byte(tag(1, LEN));
      const at = writer.begin();
      writeKeyValue(writer, key, record[key]);
      writer.end(at);
    }
    writer.end(mark);
  }
  // Anything else (undefined, null, a function): an empty AnyValue, as upstream.
}

function protoTemporality(temporality: AggregationTemporality): number {
  if (temporality === AggregationTemporality.DELTA) return 1;
  if (temporality === AggregationTemporality.CUMULATIVE) return 2;
  return 0;
}
