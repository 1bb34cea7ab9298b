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
import { storeCollectionOf, type MetricColumns, type StoreCollection } from '../../series/collection';

/** Encodes one export request as UTF-8 JSON. */
export function encodeJsonRequest(resourceMetrics: ResourceMetrics): Uint8Array {
  const out = new TextWriter();
  const schemaUrl = resourceMetrics.resource.schemaUrl;
  out.write(`{"resourceMetrics":[{"resource":${resourceJson(resourceMetrics.resource)},`);
  if (schemaUrl) out.write(`"schemaUrl":${JSON.stringify(schemaUrl)},`);
  out.write('"scopeMetrics":[');
  resourceMetrics.scopeMetrics.forEach((scopeMetrics, i) => {
    if (i > 0) out.write(',');
    const collection = storeCollectionOf(scopeMetrics);
    if (collection !== undefined) writeStoreScope(out, collection);
    else out.write(JSON.stringify(toScopeMetrics(scopeMetrics)));
  });
  out.write(']}]}');
  return out.finish();
}

/**
 * UTF-8 text written piece by piece into one growable Buffer: measured 3x cheaper for 10,000 histogram series
 * than joining the pieces into one string and encoding that (V8 flattens the joined rope, then copies it again).
 */
class TextWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;

  write(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.pos + text.length * 3 > this.buffer.length) this.grow(text.length * 3);
    this.pos += this.buffer.write(text, this.pos, 'utf8');
  }

  private grow(bytes: number): void {
    let capacity = this.buffer.length * 2;
    while (capacity < this.pos + bytes) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buffer.copy(next, 0, 0, this.pos);
    this.buffer = next;
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }
}

// ------------------------------------------------------------------------------------------ the store's columns
function writeStoreScope(out: TextWriter, collection: StoreCollection): void {
  const start = `"startTimeUnixNano":"${hrTimeToNanos(collection.startTime)}",`;
  const end = `"timeUnixNano":"${hrTimeToNanos(collection.endTime)}"`;
  const temporality = jsonTemporality(collection.temporality);
  out.write(`{"scope":${JSON.stringify(toScope(collection.scope))},"metrics":[`);
  collection.metrics.forEach((columns, i) => {
    if (i > 0) out.write(',');
    writeStoreMetric(out, columns, start, end, temporality);
  });
  out.write(']');
  const schemaUrl = collection.scope.schemaUrl;
  if (schemaUrl !== undefined) out.write(`,"schemaUrl":${JSON.stringify(schemaUrl)}`);
  out.write('}');
}

/** `start` is every point's unless the columns have a start time per series. */
function writeStoreMetric(
  out: TextWriter,
  columns: MetricColumns,
  start: string,
  end: string,
  temporality: number,
): void {
  const { name, description, unit } = columns.definition;
  const starts = columns.startTimes;
  const header = JSON.stringify({ name, description, unit }).slice(0, -1);
  const n = columns.length;
  if (columns.kind === 'counter') {
    out.write(`${header},"sum":{"aggregationTemporality":${temporality},"isMonotonic":true,"dataPoints":[`);
    for (let i = 0; i < n; i++) {
      out.write(
        `${i > 0 ? ',' : ''}{"attributes":${attributesJson(columns.attributes[i])},` +
          `${starts !== undefined ? startJson(starts[i]) : start}${end},"asDouble":${number(columns.values[i])}}`,
      );
    }
    out.write(']}}');
    return;
  }
  out.write(`${header},"histogram":{"aggregationTemporality":${temporality},"dataPoints":[`);
  const afterCounts = `],"explicitBounds":${boundsJson(columns.boundaries)},"count":`;
  const buckets = columns.boundaries.length + 1;
  const counts = columns.bucketCounts;
  for (let i = 0; i < n; i++) {
    let bucketCounts = '';
    for (let b = 0, at = i * buckets; b < buckets; b++)
      bucketCounts += (b ? ',' : '') + count(counts[at + b]);
    out.write(
      `${i > 0 ? ',' : ''}{"attributes":${attributesJson(columns.attributes[i])},"bucketCounts":[` +
        `${bucketCounts}${afterCounts}${count(columns.counts[i])},"sum":${number(columns.sums[i])},` +
        `"min":${number(columns.mins[i])},"max":${number(columns.maxs[i])},` +
        `${starts !== undefined ? startJson(starts[i]) : start}${end}}`,
    );
  }
  out.write(']}}');
}

/** Decimal text of the small integers most counts are. */
const SMALL_INTEGERS = Array.from({ length: 1024 }, (_, i) => String(i));

/** A count (a non-negative integer) as JSON.stringify writes it. */
function count(value: number): string {
  return value < 1024 && (value | 0) === value ? SMALL_INTEGERS[value] : number(value);
}

/** A number as JSON.stringify writes it. */
function number(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

const startCache = new WeakMap<HrTime, string>();

/** A series' start time (the same HrTime object as long as the series lives) as its JSON member, made once. */
function startJson(time: HrTime): string {
  let json = startCache.get(time);
  if (json === undefined) {
    json = `"startTimeUnixNano":"${hrTimeToNanos(time)}",`;
    startCache.set(time, json);
  }
  return json;
}

const attributesCache = new WeakMap<Attributes, string>();

/** A series' attributes (frozen, as long-lived as the series) as the upstream KeyValue list, serialised once. */
function attributesJson(attributes: Attributes): string {
  let json = attributesCache.get(attributes);
  if (json === undefined) {
    json = JSON.stringify(toAttributes(attributes));
    attributesCache.set(attributes, json);
  }
  return json;
}

const boundsCache = new WeakMap<readonly number[], string>();

function boundsJson(boundaries: readonly number[]): string {
  let json = boundsCache.get(boundaries);
  if (json === undefined) {
    json = JSON.stringify(boundaries);
    boundsCache.set(boundaries, json);
  }
  return json;
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
