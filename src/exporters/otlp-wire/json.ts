/**
 * OTLP/JSON `ExportMetricsServiceRequest` bytes from a collection: the same text the upstream JSON serializer
 * (@opentelemetry/otlp-transformer 0.223) writes for the same MetricData (its key order, timestamps as decimal
 * strings, integers as JSON numbers, NaN and infinities as null), so a receiver cannot tell the two apart. The
 * store's metrics are written from their columns with each series' attributes serialised once; other metrics are
 * built as upstream builds them and passed to JSON.stringify.
 *
 * Owns: the OTLP metrics JSON layout. Must not touch: transport, compression, what is collected.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
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
  type MetricColumns,
  type StoreCollection,
} from '../../series/collection';
import { hrTimeAt } from '../../series/time';
import { SeriesMemo } from './series-cache';

/** Encodes one export request as UTF-8 JSON. */
export function encodeJsonRequest(resourceMetrics: ResourceMetrics): Uint8Array {
  const out = new JsonWriter();
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
  return out.finish();
}

const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const NULL = ascii('null');
const DIGITS = new Uint8Array(24);

/**
 * JSON written as bytes into one growable Buffer. The store's points are assembled from pre-encoded fragments
 * (each series' attributes once, the metric's constant parts once per export) and numbers written digit by digit,
 * so an export of 10,000 histogram series builds no string per point: building and encoding one string per point
 * spent most of its time flattening those strings and collecting them again.
 */
class JsonWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;

  private ensure(bytes: number): void {
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
    this.ensure(text.length * 3);
    this.pos += this.buffer.write(text, this.pos, 'utf8');
  }

  bytes(bytes: Uint8Array): void {
    const length = bytes.length;
    this.ensure(length);
    if (length > 32) {
      this.buffer.set(bytes, this.pos);
      this.pos += length;
      return;
    }
    // A loop copies a short fragment faster than set()'s call.
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) buffer[pos++] = bytes[i];
    this.pos = pos;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.pos++] = value;
  }

  /** A number as JSON.stringify writes it (integers below 2^53 digit by digit; NaN and infinities as null). */
  number(value: number): void {
    if (value >= 0 && value < 10 && (value | 0) === value) {
      // Most bucket counts of a busy exporter's many series.
      this.ensure(1);
      this.buffer[this.pos++] = 0x30 + value;
    } else if (value >= 0 && value < 0x7fffffff && (value | 0) === value) {
      this.ensure(10);
      let rest = value;
      let length = 0;
      do {
        const next = (rest / 10) | 0;
        DIGITS[length++] = 0x30 + rest - next * 10;
        rest = next;
      } while (rest > 0);
      while (length > 0) this.buffer[this.pos++] = DIGITS[--length];
    } else if (Number.isInteger(value) && value < 2 ** 53 && value > -(2 ** 53)) {
      this.ensure(17);
      let rest = value;
      if (rest < 0) {
        this.buffer[this.pos++] = 0x2d; // '-'
        rest = -rest;
      }
      let length = 0;
      do {
        DIGITS[length++] = 0x30 + (rest % 10);
        rest = Math.floor(rest / 10);
      } while (rest > 0);
      while (length > 0) this.buffer[this.pos++] = DIGITS[--length];
    } else if (Number.isFinite(value)) {
      // String(x) is what JSON.stringify writes for a finite number, and it is ASCII.
      const text = String(value);
      this.ensure(text.length);
      this.pos += this.buffer.write(text, this.pos, 'latin1');
    } else {
      this.bytes(NULL);
    }
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }
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
const POINT_START = ascii('{"attributes":');
const AS_DOUBLE = ascii(',"asDouble":');
const BUCKET_COUNTS = ascii(',"bucketCounts":[');
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
  // Each series' attributes and (with a start time per series) its start member, encoded at its first export.
  const attributesMemo = seriesAttributes.of(columns);
  const startMemo = seriesStarts.of(columns);
  const indices = columns.indices;
  const attributesOf = (i: number): Uint8Array =>
    (attributesMemo[indices[i]] ??= attributesJson(attributesAt(columns, i)));
  const startOf = (i: number): Uint8Array =>
    columns.perSeriesStart
      ? (startMemo[indices[i]] ??= startJson(hrTimeAt(columns.births[indices[i]])))
      : start;
  if (columns.kind === 'counter') {
    out.text(`${header},"sum":{"aggregationTemporality":${temporality},"isMonotonic":true,"dataPoints":[`);
    for (let i = 0; i < n; i++) {
      if (i > 0) out.byte(COMMA);
      out.bytes(POINT_START);
      out.bytes(attributesOf(i));
      out.bytes(startOf(i));
      out.bytes(end);
      out.bytes(AS_DOUBLE);
      out.number(columns.values[i]);
      out.byte(CLOSE);
    }
    out.text(']}}');
    return;
  }
  out.text(`${header},"histogram":{"aggregationTemporality":${temporality},"dataPoints":[`);
  const afterCounts = ascii(`],"explicitBounds":${JSON.stringify(columns.boundaries)},"count":`);
  const buckets = columns.boundaries.length + 1;
  const counts = columns.bucketCounts;
  for (let i = 0; i < n; i++) {
    if (i > 0) out.byte(COMMA);
    out.bytes(POINT_START);
    out.bytes(attributesOf(i));
    out.bytes(BUCKET_COUNTS);
    for (let b = 0, at = i * buckets; b < buckets; b++) {
      if (b > 0) out.byte(COMMA);
      out.number(counts[at + b]);
    }
    out.bytes(afterCounts);
    out.number(columns.counts[i]);
    out.bytes(SUM);
    out.number(columns.sums[i]);
    out.bytes(MIN);
    out.number(columns.mins[i]);
    out.bytes(MAX);
    out.number(columns.maxs[i]);
    out.bytes(startOf(i));
    out.bytes(end);
    out.byte(CLOSE);
  }
  out.text(']}}');
}

/** What a store series contributes to each of its points: its attributes, its own start time (cumulative). */
const seriesAttributes = new SeriesMemo<Uint8Array>();
const seriesStarts = new SeriesMemo<Uint8Array>();

/** A start-time member (with its leading comma). */
function startJson(time: HrTime): Uint8Array {
  return ascii(`,"startTimeUnixNano":"${hrTimeToNanos(time)}"`);
}

/** Attributes as the upstream KeyValue list, UTF-8. */
function attributesJson(attributes: Attributes): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(toAttributes(attributes)), 'utf8'));
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
  return out;
}

function toHistogramPoint(point: DataPoint<Histogram>): object {
  const histogram = point.value;
  return {
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
