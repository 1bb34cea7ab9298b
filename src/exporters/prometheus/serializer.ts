/**
 * Prometheus text exposition format 0.0.4, and OpenMetrics 1.0 text, from collected OpenTelemetry metrics.
 *
 * Owns: turning one `ResourceMetrics` into the exposition text (either format), compatible with what
 * @opentelemetry/exporter-prometheus 0.223 emits (`# HELP` / `# UNIT` / `# TYPE` lines, `otel_scope_*` labels,
 * `target_info`, number formatting, escaping, histogram line order) but with the OpenTelemetry Collector's
 * default family names (catalog/prometheus-naming.ts) and always-valid output (duplicate families merged, colliding labels
 * renamed, points that print the same label set merged into one series, whether of one metric or of two metrics in
 * one family, values of any type stringified without throwing). Must not touch: the SDK's state, I/O, the
 * catalog's definitions (only its naming functions).
 *
 * Speed: a scrape of N series must not re-format labels N x lines times. The label string of an attributes
 * object is built once and cached in a WeakMap keyed by that object: the SDK keeps the first attributes object
 * it saw for a cumulative series for the series' lifetime (and the package's core keeps one frozen object per
 * series), so later scrapes only concatenate cached strings. Histogram `le` fragments are cached per boundaries
 * array, which the SDK shares across all series of an instrument. No regular expressions run per series. The local
 * store's collections are written from their columns (series/collection.ts), never built into MetricData: those
 * objects, made only to be read once, were most of a scrape's time and garbage (tests/exporters/prometheus/
 * store-columns.test.ts holds the two ways to the same text).
 * Consequence: an attributes object must not be mutated after it was recorded (the SDK already hashes it once
 * per series; mutating it corrupts the series either way).
 * Whether two points of a metric print the same label set (`{code: 200}` and `{code: '200'}`) is decided from
 * the shape cached with each attributes object's labels (its keys and a type per value, interned): points of one
 * shape print distinct label sets, so a metric whose points share one shape, or whose shapes print distinct label
 * names (an optional `error.type`), costs one pointer comparison per point (a small map lookup where the shape
 * changes from one point to the next); only shapes that print the same names
 * (`code` as a number and as a string) cost a pass that merges by label set.
 * Two metrics in one family (same instrument on two meters, names that sanitize alike, an app's instrument named like
 * one of the store's) can print the same series only when their scopes print the same labels (always so without
 * scope labels): only such a family costs a pass over its points (the store's columns made into points for it),
 * checked once per metric that joins an existing family; a family fed by one metric is written as before.
 *
 * OpenMetrics differs from 0.0.4 in: counter families named without `_total` (samples keep it), `_created`
 * samples (the series' start time) for counters and histograms, `# UNIT` only when the family name ends with the
 * unit word (Prometheus rejects the scrape otherwise), `"` escaped in HELP, `unknown` instead of `untyped`,
 * `target_info` as an `info` family, exemplars on counter and bucket samples, and the closing `# EOF`.
 * Exponential histograms are exported in both formats as classic histograms whose `le` bounds are the
 * exponential buckets' upper bounds (exact for zero and positive values), never as an empty family.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { diag } from '../../support';
import type { InstrumentationScope } from '@opentelemetry/core';
import type {
  DataPoint,
  ExponentialHistogram,
  Histogram,
  MetricData,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  attributeValueText,
  otelToPrometheusName,
  prometheusLabelName,
  prometheusMetricName,
  type OtlpMetricShape,
  type PrometheusMetricNaming,
} from '../../catalog/prometheus-naming';
import {
  attributesAt,
  storeCollectionOf,
  toMetricData,
  type CounterColumns,
  type HistogramColumns,
  type MetricColumns,
  type StoreCollection,
} from '../../series/collection';
import type { Exemplar, ExemplarCarrier } from '../../series/exemplars';
import { DataPointType } from '../../series/otel-enums';
import { hrTimeAt } from '../../series/time';

/** The exposition formats the serializer renders: Prometheus text 0.0.4, or OpenMetrics 1.0 text. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Options of {@link serializePrometheus}. */
export interface PrometheusSerializerOptions {
  /** Omit the `otel_scope_name` / `otel_scope_version` / `otel_scope_schema_url` labels. Default false. */
  readonly withoutScopeInfo?: boolean;
  /** Omit the `target_info` family that carries the resource attributes. Default false. */
  readonly withoutTargetInfo?: boolean;
  /**
   * `'collector'` (default): family names as the OpenTelemetry Collector's Prometheus exporter produces them
   * (unit words and `_total` appended). `'upstream'`: names as @opentelemetry/exporter-prometheus 0.223
   * produces them (no unit suffix), for dashboards built on that exporter.
   */
  readonly metricNaming?: PrometheusMetricNaming;
  /**
   * `'prometheus'` (default): text format 0.0.4. `'openmetrics'`: OpenMetrics 1.0 text with exemplars,
   * `_created` samples and `# EOF` (serve it with {@link OPENMETRICS_CONTENT_TYPE}).
   */
  readonly format?: ExpositionFormat;
}

/** The `Content-Type` of the text exposition format 0.0.4. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** The `Content-Type` of OpenMetrics 1.0 text. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const NO_REGISTERED_METRICS = '# no registered metrics';
const SCOPE_NAME_LABEL = 'otel_scope_name';
const SCOPE_VERSION_LABEL = 'otel_scope_version';
const SCOPE_SCHEMA_URL_LABEL = 'otel_scope_schema_url';
const BUCKET_LABEL = 'le';
/**
 * Label names an attribute must not take, because the exporter adds them itself (scope labels, `le`) or
 * Prometheus reserves them for histograms and summaries (`le`, `quantile`; promtool flags them elsewhere).
 * Such an attribute is renamed `exported_<name>`, Prometheus's own convention for colliding labels.
 */
const RESERVED_LABELS: ReadonlySet<string> = new Set([
  SCOPE_NAME_LABEL,
  SCOPE_VERSION_LABEL,
  SCOPE_SCHEMA_URL_LABEL,
  BUCKET_LABEL,
  'quantile',
]);
const RESERVED_WITHOUT_SCOPE_LABELS: ReadonlySet<string> = new Set([BUCKET_LABEL, 'quantile']);

/** Escapes a HELP text or `# UNIT` value: backslash and newline (0.0.4 does not escape quotes there). */
export function escapeHelp(text: string): string {
  if (text.indexOf('\\') === -1 && text.indexOf('\n') === -1) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    out += ch === '\\' ? '\\\\' : ch === '\n' ? '\\n' : ch;
  }
  return out;
}

/** Escapes an OpenMetrics HELP text: backslash, newline and double quote (as label values). */
function escapeOpenMetricsHelp(text: string): string {
  return escapeLabelValue(text);
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(text: string): string {
  if (text.indexOf('\\') === -1 && text.indexOf('"') === -1 && text.indexOf('\n') === -1) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    out += ch === '\\' ? '\\\\' : ch === '"' ? '\\"' : ch === '\n' ? '\\n' : ch;
  }
  return out;
}

/** Prometheus number formatting, as upstream: JS number text, `+Inf` / `-Inf`, `NaN`. */
export function formatSampleValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return '' + value;
}

interface CachedLabels {
  /** `key="value",...` without braces; `''` for no attributes. */
  readonly text: string;
  /** True when an attribute's label name is reserved (rare; forces the slow path, which renames it). */
  readonly collides: boolean;
  /** Which other attribute sets could print the same label set (see {@link LabelShape}). */
  readonly shape: LabelShape;
  /** The label set in a canonical order, once a metric whose points may print alike needed it. */
  key?: string;
}

const labelCache = new WeakMap<Attributes, CachedLabels>();
const labelNameCache = new Map<string, string>();
const LABEL_NAME_CACHE_LIMIT = 10_000;

function labelNameOf(key: string): string {
  let name = labelNameCache.get(key);
  if (name === undefined) {
    name = prometheusLabelName(key);
    // Attribute keys are normally few; the bound only protects against hostile key churn.
    if (labelNameCache.size >= LABEL_NAME_CACHE_LIMIT) labelNameCache.clear();
    labelNameCache.set(key, name);
  }
  return name;
}

/**
 * The keys of an attributes object with a tag per value, for deciding without the values whether two points of a
 * metric may print the same label set. Within one tag distinct values print distinct text (well-formed non-empty strings;
 * finite numbers other than -0, whose shortest round-trip text is unique; booleans; arrays of those, as JSON), and
 * the tags that print nothing (`''`, `undefined`) are told apart from each other, so two attribute sets of one
 * shape print the same label set only when they are the same set, which the SDK never collects twice (it keys
 * series by a hash of these values). Two different shapes can print the same label set only when they print the
 * same label names (`{code: 200}`, `{code: '200'}`; `a.b`, `a_b`; `{b: ''}` and no `b`).
 * Interned through {@link labelShapes}: the points of a metric compare theirs by reference.
 */
interface LabelShape {
  /** Sorted keys with their values' tags; equal for two attribute sets of one shape. */
  readonly signature: string;
  /**
   * The label names printed with a non-empty value, sorted and joined. Undefined (a loose shape) when two sets of
   * this shape can print the same label set anyway: a value whose text is not unique to it (-0 and 0 both print
   * `0`; NaN and the infinities `null`; objects, BigInt, ...), keys sanitizing to one name (their values joined with
   * `;`), a key without a label name, or a reserved one (renamed per scrape).
   */
  readonly names: string | undefined;
}

const LOOSE_SHAPE: LabelShape = { signature: '', names: undefined };
const labelShapes = new Map<string, LabelShape>();
const LABEL_SHAPE_CACHE_LIMIT = 10_000;

/** A finite number other than -0: its text names it alone. */
function isDistinctNumber(value: number): boolean {
  return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
}

function isDistinctElement(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && isDistinctNumber(value as number));
}

// ES2024 string methods (Node 20 has them; the compiled lib may not declare them).
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();
const toWellFormed = (text: string): string => (text as unknown as { toWellFormed(): string }).toWellFormed();

/** The tag of an attribute value in its shape; `''` when distinct values of its kind may print alike. */
function valueTag(value: unknown): string {
  switch (typeof value) {
    case 'string':
      // A lone surrogate goes out as U+FFFD (the answer is UTF-8): '\uD800' and '\uDC00' print alike.
      return value === '' ? 'e' : isWellFormed(value) ? 's' : '';
    case 'undefined':
      return 'u';
    case 'boolean':
      return 'b';
    case 'number':
      return isDistinctNumber(value) ? 'n' : '';
    case 'object': {
      if (value === null) return 'l';
      if (!Array.isArray(value)) return '';
      // A for loop, not every(), which skips holes (printed `null`). Guarded like attributeValueText: an
      // element getter may throw.
      try {
        for (let i = 0; i < value.length; i++) if (!isDistinctElement(value[i])) return '';
      } catch {
        return '';
      }
      return 'a';
    }
    default:
      return '';
  }
}

function labelShapeOf(attributes: Attributes): LabelShape {
  const keys = Object.keys(attributes).sort();
  let signature = '';
  const names: string[] = [];
  const allNames = new Set<string>();
  let loose = false;
  for (const key of keys) {
    const value = attributes[key];
    const tag = valueTag(value);
    const name = labelNameOf(key);
    if (tag === '' || name === '' || RESERVED_LABELS.has(name) || allNames.has(name)) loose = true;
    allNames.add(name);
    if (tag !== 'e' && tag !== 'u') names.push(name);
    // Length-prefixed: a key may hold any character.
    signature += key.length + ':' + key + tag;
  }
  if (loose) return LOOSE_SHAPE;
  let shape = labelShapes.get(signature);
  if (shape === undefined) {
    shape = { signature, names: names.sort().join(',') };
    // Shapes are as few as the ways an app records attributes; the bound only protects against key churn. An
    // evicted shape still compares by its signature, only slower.
    if (labelShapes.size >= LABEL_SHAPE_CACHE_LIMIT) labelShapes.clear();
    labelShapes.set(signature, shape);
  }
  return shape;
}

/**
 * The label names and values of attributes, in insertion order. Keys that sanitize to the same label name are
 * merged into one label whose values are joined with `;` (as the Collector does), because a duplicate label name
 * makes the whole exposition invalid. `rename` lists label names to prefix with `exported_`.
 */
function labelPairs(
  attributes: Attributes,
  rename: ReadonlySet<string> | undefined,
): { names: string[]; values: string[]; collides: boolean } {
  const names: string[] = [];
  const values: string[] = [];
  let collides = false;
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    let name = labelNameOf(key);
    if (name === '') continue;
    if (RESERVED_LABELS.has(name)) {
      collides = true;
      if (rename?.has(name)) name = `exported_${name}`;
    }
    const value = attributeValueText(attributes[key]);
    const existing = names.indexOf(name);
    if (existing >= 0) {
      values[existing] += ';' + value;
    } else {
      names.push(name);
      values.push(value);
    }
  }
  return { names, values, collides };
}

/** Formats attributes as `k="v",...` in insertion order (as upstream); see {@link labelPairs}. */
function formatAttributes(
  attributes: Attributes,
  rename?: ReadonlySet<string>,
): { text: string; collides: boolean } {
  const { names, values, collides } = labelPairs(attributes, rename);
  // Joined, not `+=`: a concatenated string stays a rope of ~20 cons pieces (~580 B per cached series with
  // 4 labels) for as long as it is cached; join() builds one flat string (~100 B). Measured in bench/ (heap row).
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(names[i] + '="' + escapeLabelValue(values[i]) + '"');
  return { text: parts.join(','), collides };
}

/**
 * The label set Prometheus reads from attributes: sorted by name, empty values left out (Prometheus reads a label
 * with an empty value as no label, so `{a: 'x', b: ''}` is the label set of `{a: 'x'}`).
 */
function labelSetKey(attributes: Attributes, rename: ReadonlySet<string> | undefined): string {
  const { names, values } = labelPairs(attributes, rename);
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) {
    if (values[i] !== '') parts.push(names[i] + '="' + escapeLabelValue(toWellFormed(values[i])) + '"');
  }
  return parts.sort().join(',');
}

function cachedLabels(attributes: Attributes): CachedLabels {
  let entry = labelCache.get(attributes);
  if (entry === undefined) {
    const { text, collides } = formatAttributes(attributes);
    entry = { text, collides, shape: labelShapeOf(attributes) };
    labelCache.set(attributes, entry);
  }
  return entry;
}

/** `le="…"} ` fragments for each bucket line of a histogram with these boundaries and this many counts. */
function bucketFragments(boundaries: readonly number[], countsLength: number): string[] {
  const fragments: string[] = [];
  let infinityBoundary = false;
  for (let i = 0; i < countsLength; i++) {
    const upper = boundaries[i];
    // Upstream: when the boundaries already end with Infinity, the extra overflow count is not emitted.
    if (upper === undefined && infinityBoundary) break;
    if (upper === Infinity) infinityBoundary = true;
    const le = upper === undefined || upper === Infinity ? '+Inf' : String(upper);
    fragments.push(BUCKET_LABEL + '="' + le + '"} ');
  }
  return fragments;
}

const bucketCache = new WeakMap<
  readonly number[],
  { readonly countsLength: number; readonly fragments: string[] }
>();

function cachedBucketFragments(boundaries: readonly number[], countsLength: number): string[] {
  const entry = bucketCache.get(boundaries);
  if (entry !== undefined && entry.countsLength === countsLength) return entry.fragments;
  const fragments = bucketFragments(boundaries, countsLength);
  bucketCache.set(boundaries, { countsLength, fragments });
  return fragments;
}

function scopeLabels(scope: InstrumentationScope): string {
  let text = SCOPE_NAME_LABEL + '="' + escapeLabelValue(scope.name) + '"';
  if (scope.schemaUrl) text += ',' + SCOPE_SCHEMA_URL_LABEL + '="' + escapeLabelValue(scope.schemaUrl) + '"';
  if (scope.version) text += ',' + SCOPE_VERSION_LABEL + '="' + escapeLabelValue(scope.version) + '"';
  return text;
}

function shapeOf(metric: MetricData): OtlpMetricShape {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'monotonicSum' : 'nonMonotonicSum';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      return 'exponentialHistogram';
  }
}

function prometheusTypeOf(shape: OtlpMetricShape, openMetrics: boolean): string {
  switch (shape) {
    case 'monotonicSum':
      return 'counter';
    case 'nonMonotonicSum':
    case 'gauge':
      return 'gauge';
    case 'histogram':
    case 'exponentialHistogram':
      return 'histogram';
    default:
      return openMetrics ? 'unknown' : 'untyped';
  }
}

const familyNameCache = new Map<string, string>();
const FAMILY_NAME_CACHE_LIMIT = 10_000;

/** What a family's name and header are made of: the SDK's descriptor, or the catalog definition behind columns. */
interface Described {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

function familyNameOf(descriptor: Described, shape: OtlpMetricShape, naming: PrometheusMetricNaming): string {
  const { name, unit } = descriptor;
  const key = naming + '\u0000' + shape + '\u0000' + name + '\u0000' + unit;
  let family = familyNameCache.get(key);
  if (family === undefined) {
    family = prometheusMetricName(name, unit, shape, naming);
    if (familyNameCache.size >= FAMILY_NAME_CACHE_LIMIT) familyNameCache.clear();
    familyNameCache.set(key, family);
  }
  return family;
}

/** Metric names already reported as unserializable, so a scrape every 15 s does not flood the log. */
const reportedProblems = new Set<string>();

function reportOnce(key: string, message: string): void {
  if (reportedProblems.has(key)) return;
  if (reportedProblems.size < 1000) reportedProblems.add(key);
  diag.error(message);
}

interface Family {
  /** The family's name (its samples' names derive from it). */
  readonly name: string;
  readonly type: string;
  readonly header: string;
  samples: string;
  /** The metrics written into `samples`, in order: the sources to merge from (see {@link mergeFamily}). */
  readonly parts: FamilyPart[];
  /** Whether two of `parts` print the same scope labels, so that a series may be in both. */
  mayShareSeries: boolean;
}

/** One metric written into a family: the SDK's points, or one metric of the store's columns and its collection. */
type FamilyPart = { readonly context: SampleContext } & (
  | { readonly metric: MetricData; readonly collection: undefined }
  | { readonly metric: MetricColumns; readonly collection: StoreCollection }
);

/**
 * Labels of one series: the cached attribute labels, then the scope labels (upstream's order). On the rare
 * collision with a reserved label, the attribute is renamed `exported_<name>`.
 */
function seriesLabels(
  attributes: Attributes,
  scopeText: string,
  reservedLabels: ReadonlySet<string>,
  cached: CachedLabels = cachedLabels(attributes),
): string {
  const text = cached.collides ? formatAttributes(attributes, reservedLabels).text : cached.text;
  if (text === '') return scopeText;
  return scopeText === '' ? text : text + ',' + scopeText;
}

/** What differs per format while writing samples. */
interface SampleContext {
  readonly scopeText: string;
  readonly reservedLabels: ReadonlySet<string>;
  /** OpenMetrics: exemplars and `_created` samples. */
  readonly openMetrics: boolean;
}

/** ` # {trace_id="…",span_id="…"} value timestamp` (OpenMetrics exemplar), or `''`. */
function exemplarSuffix(exemplar: Exemplar | undefined): string {
  if (exemplar === undefined) return '';
  return (
    ' # {trace_id="' +
    escapeLabelValue(exemplar.traceId) +
    '",span_id="' +
    escapeLabelValue(exemplar.spanId) +
    '"} ' +
    formatSampleValue(exemplar.value) +
    ' ' +
    formatSampleValue(exemplar.timeUnixMs / 1000)
  );
}

function createdSeconds(point: DataPoint<unknown>): string {
  const [seconds, nanos] = point.startTime;
  return formatSampleValue(seconds + nanos / 1e9);
}

function exemplarsOf(point: DataPoint<unknown>): readonly (Exemplar | undefined)[] | undefined {
  return (point as ExemplarCarrier).exemplars;
}

/**
 * Samples of counters, up-down counters and gauges. `createdName` is set for OpenMetrics counters only
 * (`<family>_created`), which also get their exemplar. `merge` joins two points that print the same label set
 * (undefined: the points are known to print distinct ones).
 */
function serializeSingleValued(
  name: string,
  points: DataPoint<number>[],
  context: SampleContext,
  createdName: string | undefined,
  merge: PointMerge<number> | undefined,
): string {
  let out = '';
  let shape: LabelShape | undefined;
  let shapes: ShapesSeen | undefined;
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const labels = cachedLabels(point.attributes);
    if (labels.shape !== shape && merge !== undefined) {
      if (distinctShape(labels.shape, (shapes ??= new Map()))) {
        shape = labels.shape;
      } else {
        const merged = mergeSameLabelSets(points, context.reservedLabels, merge);
        if (merged !== points) return serializeSingleValued(name, merged, context, createdName, undefined);
        merge = undefined;
      }
    }
    const counter = createdName !== undefined;
    out += singleValuedSample(
      name,
      seriesLabels(point.attributes, context.scopeText, context.reservedLabels, labels),
      point.value,
      createdName,
      counter ? exemplarsOf(point)?.[0] : undefined,
      counter ? createdSeconds(point) : '',
    );
  }
  return out;
}

/** One series' sample line, then for an OpenMetrics counter (`createdName` set) its exemplar and `_created` line. */
function singleValuedSample(
  name: string,
  labels: string,
  value: number,
  createdName: string | undefined,
  exemplar: Exemplar | undefined,
  created: string,
): string {
  const braced = labels === '' ? ' ' : '{' + labels + '} ';
  let out = name + braced + formatSampleValue(value);
  if (createdName !== undefined) out += exemplarSuffix(exemplar) + '\n' + createdName + braced + created;
  return out + '\n';
}

function serializeHistogram(
  name: string,
  points: DataPoint<Histogram>[],
  context: SampleContext,
  merge: PointMerge<Histogram> | undefined,
): string {
  const names = histogramNames(name);
  let out = '';
  let shape: LabelShape | undefined;
  let shapes: ShapesSeen | undefined;
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const labels = cachedLabels(point.attributes);
    if (labels.shape !== shape && merge !== undefined) {
      if (distinctShape(labels.shape, (shapes ??= new Map()))) {
        shape = labels.shape;
      } else {
        const merged = mergeSameLabelSets(points, context.reservedLabels, merge);
        if (merged !== points) return serializeHistogram(name, merged, context, undefined);
        merge = undefined;
      }
    }
    const histogram = point.value;
    const counts = histogram.buckets.counts;
    out += histogramSamples(
      names,
      seriesLabels(point.attributes, context.scopeText, context.reservedLabels, labels),
      cachedBucketFragments(histogram.buckets.boundaries, counts.length),
      counts,
      0,
      histogram.count,
      histogram.sum,
      context.openMetrics ? exemplarsOf(point) : undefined,
      context.openMetrics ? createdSeconds(point) : undefined,
    );
  }
  return out;
}

// Points of one metric that Prometheus reads as one series. The SDK keeps `{code: 200}` and `{code: '200'}` apart
// (the values' types differ), as it does `{a: 'x'}` and `{a: 'x', b: ''}`, or `{'a.b': 'x'}` and `{a_b: 'x'}`;
// printed as they are, they would be two samples with the same labels, and Prometheus keeps one of the two,
// silently. They are merged as cluster mode merges a worker's slots of one series (cluster/aggregate.ts).

/** Joins two points of one metric that print the same label set into one. */
type PointMerge<T> = (first: DataPoint<T>, other: DataPoint<T>) => DataPoint<T>;

/** The shapes of a metric's points met so far, by the label names they print. */
type ShapesSeen = Map<string, LabelShape>;

/**
 * Whether a point of `shape` prints a label set that no earlier point of the metric (their shapes in `seen`, which
 * this adds to) can print: false for a loose shape, or another shape printing the same names.
 */
function distinctShape(shape: LabelShape, seen: ShapesSeen): boolean {
  if (shape.names === undefined) return false;
  const other = seen.get(shape.names);
  if (other === undefined) {
    seen.set(shape.names, shape);
    return true;
  }
  return other === shape || other.signature === shape.signature;
}

/** The label set a point prints, as a key (cached per attributes object unless a label is renamed). */
function labelSetKeyOf(attributes: Attributes, reservedLabels: ReadonlySet<string>): string {
  const cached = cachedLabels(attributes);
  if (cached.collides) return labelSetKey(attributes, reservedLabels);
  return (cached.key ??= labelSetKey(attributes, undefined));
}

/**
 * @internal How many merge passes ran (in a metric, or over a family fed by metrics with the same scope labels):
 * tests check that the common shapes of attributes, and meters told apart by their scope labels, need none.
 */
export const labelSetMergePasses = { count: 0 };

/**
 * The points with those that print the same label set merged into the first of them (which keeps its place and
 * its attributes); `points` itself when no two do. Only called for a metric whose points' shapes may print alike.
 */
function mergeSameLabelSets<T>(
  points: DataPoint<T>[],
  reservedLabels: ReadonlySet<string>,
  merge: PointMerge<T>,
): DataPoint<T>[] {
  labelSetMergePasses.count++;
  const at = new Map<string, number>();
  let merged: DataPoint<T>[] | undefined;
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const key = labelSetKeyOf(point.attributes, reservedLabels);
    const first = at.get(key);
    if (first === undefined) {
      at.set(key, merged === undefined ? i : merged.length);
      merged?.push(point);
    } else {
      merged ??= points.slice(0, i);
      merged[first] = merge(merged[first], point);
    }
  }
  return merged ?? points;
}

/** The earlier of two start times: a merged series started when its first part did (its `_created`). */
function earlier(a: HrTime, b: HrTime): HrTime {
  return b[0] < a[0] || (b[0] === a[0] && b[1] < a[1]) ? b : a;
}

/** One exemplar of two: the more recent. */
function latestExemplar(a: Exemplar | undefined, b: Exemplar | undefined): Exemplar | undefined {
  if (a === undefined) return b;
  return b !== undefined && b.timeUnixMs > a.timeUnixMs ? b : a;
}

function mergedPoint<T>(
  first: DataPoint<T>,
  other: DataPoint<T>,
  value: T,
  exemplars: readonly (Exemplar | undefined)[] | undefined,
): DataPoint<T> {
  const point = { ...first, startTime: earlier(first.startTime, other.startTime), value };
  return exemplars === undefined ? point : Object.assign(point, { exemplars });
}

/** Counters and up-down counters: summed. */
function sumPoints(first: DataPoint<number>, other: DataPoint<number>): DataPoint<number> {
  const a = exemplarsOf(first)?.[0];
  const b = exemplarsOf(other)?.[0];
  const exemplar = latestExemplar(a, b);
  return mergedPoint(
    first,
    other,
    first.value + other.value,
    exemplar === undefined ? undefined : [exemplar],
  );
}

/** Gauges: the larger, as cluster mode's rule for an app's gauges (`max`, cluster/rules.ts) joins them. */
function maxPoint(first: DataPoint<number>, other: DataPoint<number>): DataPoint<number> {
  return mergedPoint(first, other, other.value > first.value ? other.value : first.value, undefined);
}

function sameBoundaries(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Histograms: bucket by bucket. With different boundaries (exponential histograms, each at its own scale), on the
 * finite boundaries both share: coarser, but every count stays exact (a bucket of either lies inside one shared
 * bucket), where splitting a bucket over finer bounds would invent where its values were.
 */
function mergeHistograms(first: DataPoint<Histogram>, other: DataPoint<Histogram>): DataPoint<Histogram> {
  const a = first.value;
  const b = other.value;
  const aExemplars = exemplarsOf(first);
  const bExemplars = exemplarsOf(other);
  let boundaries = a.buckets.boundaries;
  let counts: number[];
  let exemplars: (Exemplar | undefined)[] | undefined;
  if (
    sameBoundaries(a.buckets.boundaries, b.buckets.boundaries) &&
    a.buckets.counts.length === b.buckets.counts.length
  ) {
    counts = a.buckets.counts.map((count, i) => count + b.buckets.counts[i]);
    if (aExemplars !== undefined || bExemplars !== undefined) {
      exemplars = counts.map((_, i) => latestExemplar(aExemplars?.[i], bExemplars?.[i]));
    }
  } else {
    const theirs = new Set(b.buckets.boundaries);
    boundaries = a.buckets.boundaries.filter((bound) => Number.isFinite(bound) && theirs.has(bound));
    counts = new Array<number>(boundaries.length + 1).fill(0);
    if (aExemplars !== undefined || bExemplars !== undefined) exemplars = new Array(counts.length);
    rebucket(a, aExemplars, boundaries, counts, exemplars);
    rebucket(b, bExemplars, boundaries, counts, exemplars);
  }
  const value: Histogram = {
    buckets: { boundaries, counts },
    sum: a.sum === undefined || b.sum === undefined ? undefined : a.sum + b.sum,
    count: a.count + b.count,
    min: a.min === undefined ? b.min : b.min === undefined ? a.min : Math.min(a.min, b.min),
    max: a.max === undefined ? b.max : b.max === undefined ? a.max : Math.max(a.max, b.max),
  };
  return mergedPoint(first, other, value, exemplars);
}

/** Adds a histogram's counts (and exemplars) into the bucket of `boundaries` that holds each of its buckets. */
function rebucket(
  histogram: Histogram,
  exemplars: readonly (Exemplar | undefined)[] | undefined,
  boundaries: readonly number[],
  counts: number[],
  into: (Exemplar | undefined)[] | undefined,
): void {
  const own = histogram.buckets.boundaries;
  for (let i = 0; i < histogram.buckets.counts.length; i++) {
    const upper = i < own.length ? own[i] : Infinity;
    let target = 0;
    while (target < boundaries.length && boundaries[target] < upper) target++;
    counts[target] += histogram.buckets.counts[i];
    if (into !== undefined) into[target] = latestExemplar(into[target], exemplars?.[i]);
  }
}

// Metrics of one family that Prometheus reads as one: the same instrument on two meters written without scope
// labels, two instrument names that sanitize alike (`a.b`, `a_b`), an app's instrument named like one of the
// package's own (written from the store's columns). A series both record would print twice, and Prometheus keeps
// one of the two samples. Only a family fed by two metrics that print the same scope labels can hold one: there,
// every point of the family is keyed by the label set it prints and merged by the in-metric rules above. A family
// fed by one metric (almost every one) never gets here, nor do two meters whose scope labels differ.

/** A second metric in `family`: its series may be the earlier ones' only where their scope labels are the same. */
function joinFamily(family: Family, part: FamilyPart): void {
  if (!family.mayShareSeries) {
    for (const other of family.parts) {
      if (sameScopeLabels(other.context, part.context)) {
        family.mayShareSeries = true;
        break;
      }
    }
  }
  family.parts.push(part);
}

/**
 * Whether two scopes print the same scope labels. The text is built in one order from fixed names, and only the
 * name may print an empty value (always printed, so never mistaken for a missing label): equal text is an equal
 * label set once lone surrogates, sent as U+FFFD, are replaced alike.
 */
function sameScopeLabels(a: SampleContext, b: SampleContext): boolean {
  return a.scopeText === b.scopeText || toWellFormed(a.scopeText) === toWellFormed(b.scopeText);
}

/**
 * One series of a family being merged: its point so far, the rule that merges into it, its scope, and the points
 * of another rule met for it (a gauge beside an up-down counter), merged by their own rule until the end.
 */
interface FamilySeries<T> {
  point: DataPoint<T>;
  readonly merge: PointMerge<T>;
  readonly context: SampleContext;
  byOtherRule?: Map<PointMerge<T>, DataPoint<T>>;
}

type PartPoints =
  | { readonly points: DataPoint<number>[]; readonly merge: PointMerge<number>; readonly histogram: false }
  | {
      readonly points: DataPoint<Histogram>[];
      readonly merge: PointMerge<Histogram>;
      readonly histogram: true;
    };

/** A part's points and the rule that merges two of them. The store's columns become points here only. */
function partPoints(part: FamilyPart): PartPoints {
  const metric =
    part.collection === undefined
      ? part.metric
      : toMetricData({ ...part.collection, metrics: [part.metric] })[0];
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return { points: metric.dataPoints, merge: sumPoints, histogram: false };
    case DataPointType.GAUGE:
      return { points: metric.dataPoints, merge: maxPoint, histogram: false };
    case DataPointType.HISTOGRAM:
      return { points: metric.dataPoints, merge: mergeHistograms, histogram: true };
    default:
      return { points: explicitPoints(metric.dataPoints), merge: mergeHistograms, histogram: true };
  }
}

/**
 * Rewrites the samples of a family whose parts may share series with each series once, merged (the first keeps
 * its place, attributes and scope); leaves them as written when no two parts' points print the same label set.
 */
function mergeFamily(family: Family): void {
  labelSetMergePasses.count++;
  const { reservedLabels, openMetrics } = family.parts[0].context;
  const at = new Map<string, FamilySeries<unknown>>();
  const series: FamilySeries<unknown>[] = [];
  let histogram = false;
  let merged = false;
  for (const part of family.parts) {
    const scope = toWellFormed(part.context.scopeText);
    const found = partPoints(part);
    histogram = found.histogram;
    const merge = found.merge as PointMerge<unknown>;
    for (const point of found.points as DataPoint<unknown>[]) {
      const key = scope + '\n' + labelSetKeyOf(point.attributes, reservedLabels);
      const first = at.get(key);
      if (first === undefined) {
        const entry = { point, merge, context: part.context };
        at.set(key, entry);
        series.push(entry);
      } else {
        merged = true;
        if (first.merge === merge) {
          first.point = merge(first.point, point);
        } else {
          // An up-down counter and a gauge in one gauge family: each kind's points merged by its own rule (the
          // up-down's spellings summed), the larger of the two taken at the end, so the order of parts is moot.
          first.byOtherRule ??= new Map();
          const other = first.byOtherRule.get(merge);
          first.byOtherRule.set(merge, other === undefined ? point : merge(other, point));
        }
      }
    }
  }
  if (!merged) return;
  for (const entry of series) {
    if (entry.byOtherRule === undefined) continue;
    for (const other of entry.byOtherRule.values()) {
      entry.point = (maxPoint as PointMerge<unknown>)(entry.point, other);
    }
  }
  family.samples = histogram
    ? familyHistogramSamples(family.name, series as FamilySeries<Histogram>[], openMetrics)
    : familySingleValuedSamples(family, series as FamilySeries<number>[], openMetrics);
}

function familySingleValuedSamples(
  family: Family,
  series: readonly FamilySeries<number>[],
  openMetrics: boolean,
): string {
  // As the single-metric path names them: an OpenMetrics counter family is named without `_total`.
  const counter = openMetrics && family.type === 'counter';
  const name = counter ? family.name + '_total' : family.name;
  const createdName = counter ? family.name + '_created' : undefined;
  let out = '';
  for (const { point, context } of series) {
    out += singleValuedSample(
      name,
      seriesLabels(point.attributes, context.scopeText, context.reservedLabels),
      point.value,
      createdName,
      counter ? exemplarsOf(point)?.[0] : undefined,
      counter ? createdSeconds(point) : '',
    );
  }
  return out;
}

function familyHistogramSamples(
  name: string,
  series: readonly FamilySeries<Histogram>[],
  openMetrics: boolean,
): string {
  const names = histogramNames(name);
  let out = '';
  for (const { point, context } of series) {
    const counts = point.value.buckets.counts;
    out += histogramSamples(
      names,
      seriesLabels(point.attributes, context.scopeText, context.reservedLabels),
      cachedBucketFragments(point.value.buckets.boundaries, counts.length),
      counts,
      0,
      point.value.count,
      point.value.sum,
      openMetrics ? exemplarsOf(point) : undefined,
      openMetrics ? createdSeconds(point) : undefined,
    );
  }
  return out;
}

interface HistogramNames {
  readonly name: string;
  readonly countName: string;
  readonly sumName: string;
  readonly bucketName: string;
}

function histogramNames(name: string): HistogramNames {
  return { name, countName: name + '_count', sumName: name + '_sum', bucketName: name + '_bucket{' };
}

/**
 * One histogram series' samples (its bucket counts from `offset` in `counts`). `created` is set for OpenMetrics only, which orders buckets (with their
 * exemplars), count, sum, created; text 0.0.4 keeps upstream's order: count, sum, then the cumulative buckets.
 */
function histogramSamples(
  names: HistogramNames,
  labels: string,
  fragments: readonly string[],
  counts: ArrayLike<number>,
  offset: number,
  count: number | undefined,
  sum: number | undefined,
  exemplars: readonly (Exemplar | undefined)[] | undefined,
  created: string | undefined,
): string {
  const braced = labels === '' ? ' ' : '{' + labels + '} ';
  const open = labels === '' ? names.bucketName : names.bucketName + labels + ',';
  let out = '';
  if (created !== undefined) {
    let cumulative = 0;
    for (let b = 0; b < fragments.length; b++) {
      cumulative += counts[offset + b];
      out += open + fragments[b] + formatSampleValue(cumulative) + exemplarSuffix(exemplars?.[b]) + '\n';
    }
    if (count != null) out += names.countName + braced + formatSampleValue(count) + '\n';
    if (sum != null) out += names.sumName + braced + formatSampleValue(sum) + '\n';
    return out + names.name + '_created' + braced + created + '\n';
  }
  if (count != null) out += names.countName + braced + formatSampleValue(count) + '\n';
  if (sum != null) out += names.sumName + braced + formatSampleValue(sum) + '\n';
  let cumulative = 0;
  for (let b = 0; b < fragments.length; b++) {
    cumulative += counts[offset + b];
    out += open + fragments[b] + formatSampleValue(cumulative) + '\n';
  }
  return out;
}

// The local store's columns (series/collection.ts), written without building the SDK's MetricData: a scrape of
// 10,000 series otherwise allocates 10,000 points (and their start times) only to read them once.
// No merging here: the store keys a metric's series by their label values, under the catalog's fixed keys, so no
// two of its rows print the same label set (a family an app's metric shares with one of these: mergeFamily).

/** The created time of a store row, as {@link createdSeconds} writes a point's. */
function createdSecondsAt(
  columns: CounterColumns | HistogramColumns,
  row: number,
  collectionStart: readonly [number, number],
  scratch: [number, number],
): string {
  const [seconds, nanos] = columns.perSeriesStart
    ? hrTimeAt(columns.births[columns.indices[row]], scratch)
    : collectionStart;
  return formatSampleValue(seconds + nanos / 1e9);
}

function serializeCounterColumns(
  name: string,
  columns: CounterColumns,
  collectionStart: readonly [number, number],
  context: SampleContext,
  createdName: string | undefined,
): string {
  const scratch: [number, number] = [0, 0];
  let out = '';
  for (let i = 0; i < columns.length; i++) {
    const counter = createdName !== undefined;
    out += singleValuedSample(
      name,
      seriesLabels(attributesAt(columns, i), context.scopeText, context.reservedLabels),
      columns.values[i],
      createdName,
      counter ? columns.exemplars?.[i] : undefined,
      counter ? createdSecondsAt(columns, i, collectionStart, scratch) : '',
    );
  }
  return out;
}

function serializeHistogramColumns(
  name: string,
  columns: HistogramColumns,
  collectionStart: readonly [number, number],
  context: SampleContext,
): string {
  const names = histogramNames(name);
  const buckets = columns.boundaries.length + 1;
  const fragments = cachedBucketFragments(columns.boundaries, buckets);
  const scratch: [number, number] = [0, 0];
  let out = '';
  for (let i = 0; i < columns.length; i++) {
    out += histogramSamples(
      names,
      seriesLabels(attributesAt(columns, i), context.scopeText, context.reservedLabels),
      fragments,
      columns.bucketCounts,
      i * buckets,
      columns.counts[i],
      columns.sums[i],
      context.openMetrics ? columns.exemplars?.[i] : undefined,
      context.openMetrics ? createdSecondsAt(columns, i, collectionStart, scratch) : undefined,
    );
  }
  return out;
}

/**
 * An exponential histogram as a classic one: one `le` bound per populated-or-not bucket between the lowest and
 * highest, at the bucket's upper bound (`2^((index+1) * 2^-scale)`), the zero bucket at `le="0"`,
 * negative buckets at `-2^(index * 2^-scale)`. Exact for zero and positive values; a negative value lying exactly on a
 * bucket bound lands one bucket higher than the exponential histogram put it.
 */
export function exponentialAsExplicit(histogram: ExponentialHistogram): Histogram {
  // 2^(index * 2^-scale) rather than base^index: exact at every power of two, like the SDK's own bucket mapping.
  const step = Math.pow(2, -histogram.scale);
  const bound = (index: number): number => Math.pow(2, index * step);
  const boundaries: number[] = [];
  const counts: number[] = [];
  const negative = histogram.negative;
  for (let k = negative.bucketCounts.length - 1; k >= 0; k--) {
    boundaries.push(-bound(negative.offset + k));
    counts.push(negative.bucketCounts[k]);
  }
  boundaries.push(0);
  counts.push(histogram.zeroCount);
  const positive = histogram.positive;
  for (let k = 0; k < positive.bucketCounts.length; k++) {
    boundaries.push(bound(positive.offset + k + 1));
    counts.push(positive.bucketCounts[k]);
  }
  counts.push(0); // +Inf: every value is in some exponential bucket
  return {
    buckets: { boundaries, counts },
    sum: histogram.sum,
    count: histogram.count,
    min: histogram.min,
    max: histogram.max,
  };
}

function explicitPoints(points: DataPoint<ExponentialHistogram>[]): DataPoint<Histogram>[] {
  return points.map((point) => ({ ...point, value: exponentialAsExplicit(point.value) }));
}

function targetInfo(resourceMetrics: ResourceMetrics, openMetrics: boolean): string {
  const labels = formatAttributes(resourceMetrics.resource.attributes).text;
  const sample = labels === '' ? 'target_info 1\n' : 'target_info{' + labels + '} 1\n';
  return openMetrics
    ? '# HELP target Target metadata\n# TYPE target info\n' + sample
    : '# HELP target_info Target metadata\n# TYPE target_info gauge\n' + sample;
}

/**
 * The OpenMetrics `# UNIT` word of a family, when its name ends with it (OpenMetrics requires the unit as the
 * name's suffix, and Prometheus rejects the whole scrape otherwise): `s` -> `seconds`; annotations -> none.
 */
function openMetricsUnit(family: string, unit: string): string {
  if (!unit) return '';
  const word = otelToPrometheusName('', unit, 'histogram').replace(/^_/, '');
  return word !== '' && family.endsWith('_' + word) ? word : '';
}

function familyHeader(name: string, type: string, descriptor: Described, openMetrics: boolean): string {
  const description = descriptor.description || 'description missing';
  const unit = descriptor.unit;
  if (openMetrics) {
    const word = openMetricsUnit(name, unit);
    return (
      '# HELP ' +
      name +
      ' ' +
      escapeOpenMetricsHelp(description) +
      '\n# TYPE ' +
      name +
      ' ' +
      type +
      '\n' +
      (word === '' ? '' : '# UNIT ' + name + ' ' + word + '\n')
    );
  }
  return (
    '# HELP ' +
    name +
    ' ' +
    escapeHelp(description) +
    '\n' +
    (unit ? '# UNIT ' + name + ' ' + escapeHelp(unit) + '\n' : '') +
    '# TYPE ' +
    name +
    ' ' +
    type +
    '\n'
  );
}

/**
 * The family a metric's samples go to (created on first use), its sample name and its family name; undefined,
 * reported once, for a metric with no valid name or one whose family already exists with another type.
 */
function familyFor(
  families: Map<string, Family>,
  descriptor: Described,
  shape: OtlpMetricShape,
  options: PrometheusSerializerOptions,
  part: FamilyPart,
): { family: Family; name: string; familyName: string } | undefined {
  const openMetrics = options.format === 'openmetrics';
  const name = familyNameOf(descriptor, shape, options.metricNaming ?? 'collector');
  if (name === '') {
    reportOnce(
      `empty:${descriptor.name}`,
      `Prometheus: metric "${descriptor.name}" has no valid Prometheus name; not exported`,
    );
    return undefined;
  }
  const type = prometheusTypeOf(shape, openMetrics);
  // OpenMetrics names a counter family without `_total`; its samples keep the suffix.
  const familyName =
    openMetrics && shape === 'monotonicSum' && name.endsWith('_total') ? name.slice(0, -6) : name;
  let family = families.get(familyName);
  if (family !== undefined && family.type !== type) {
    reportOnce(
      `conflict:${name}:${type}`,
      `Prometheus: metric "${descriptor.name}" maps to family "${familyName}" of type ${type}, which already exists with type ${family.type}; not exported`,
    );
    return undefined;
  }
  if (family === undefined) {
    family = {
      name: familyName,
      type,
      header: familyHeader(familyName, type, descriptor, openMetrics),
      samples: '',
      parts: [part],
      mayShareSeries: false,
    };
    families.set(familyName, family);
  } else {
    joinFamily(family, part);
  }
  return { family, name, familyName };
}

/**
 * Serializes collected metrics as Prometheus text exposition format 0.0.4 (default) or, with
 * `format: 'openmetrics'`, as OpenMetrics 1.0 text.
 *
 * Family names follow the OpenTelemetry Collector (`http.server.request.duration` with unit `s` ->
 * `http_server_request_duration_seconds`), unless `metricNaming: 'upstream'`. Families that end up with the same
 * name and type (e.g. from two meters) are merged under one HELP/TYPE header; a later family with the same
 * name but another type is dropped with a `diag.error`, since it would make the whole scrape invalid.
 * Points that print the same label set are written as one series, whether of one metric (`{code: 200}` and
 * `{code: '200'}`) or of two metrics in one family (two meters with `withoutScopeInfo`, or with the same scope;
 * `a.b` and `a_b`): counters and up-down counters summed, gauges the larger (also an up-down counter beside a
 * gauge), histograms bucket by bucket, with the earliest start (`_created`) and the latest exemplar.
 * Exponential histograms are exported as classic histograms (see {@link exponentialAsExplicit}).
 *
 * Never throws on attribute values of any type.
 */
export function serializePrometheus(
  resourceMetrics: ResourceMetrics,
  options: PrometheusSerializerOptions = {},
): string {
  const openMetrics = options.format === 'openmetrics';
  const families = new Map<string, Family>();
  const reservedLabels = options.withoutScopeInfo ? RESERVED_WITHOUT_SCOPE_LABELS : RESERVED_LABELS;
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    const context: SampleContext = {
      scopeText: options.withoutScopeInfo ? '' : scopeLabels(scopeMetrics.scope),
      reservedLabels,
      openMetrics,
    };
    const collection = storeCollectionOf(scopeMetrics);
    if (collection !== undefined) {
      for (const columns of collection.metrics) {
        const counter = columns.kind === 'counter';
        const found = familyFor(
          families,
          columns.definition,
          counter ? 'monotonicSum' : 'histogram',
          options,
          {
            metric: columns,
            collection,
            context,
          },
        );
        if (found === undefined) continue;
        const { family, name, familyName } = found;
        if (columns.kind === 'counter') {
          family.samples += serializeCounterColumns(
            openMetrics && familyName === name ? name + '_total' : name,
            columns,
            collection.startTime,
            context,
            openMetrics ? familyName + '_created' : undefined,
          );
        } else {
          family.samples += serializeHistogramColumns(name, columns, collection.startTime, context);
        }
      }
      continue;
    }
    for (const metric of scopeMetrics.metrics) {
      const shape = shapeOf(metric);
      const found = familyFor(families, metric.descriptor, shape, options, {
        metric,
        collection: undefined,
        context,
      });
      if (found === undefined) continue;
      const { family, name, familyName } = found;
      switch (metric.dataPointType) {
        case DataPointType.SUM:
        case DataPointType.GAUGE: {
          const counter = openMetrics && shape === 'monotonicSum';
          family.samples += serializeSingleValued(
            counter && familyName === name ? name + '_total' : name,
            metric.dataPoints,
            context,
            counter ? familyName + '_created' : undefined,
            metric.dataPointType === DataPointType.SUM ? sumPoints : maxPoint,
          );
          break;
        }
        case DataPointType.HISTOGRAM:
          family.samples += serializeHistogram(name, metric.dataPoints, context, mergeHistograms);
          break;
        case DataPointType.EXPONENTIAL_HISTOGRAM:
          family.samples += serializeHistogram(
            name,
            explicitPoints(metric.dataPoints),
            context,
            mergeHistograms,
          );
          break;
      }
    }
  }
  let body = '';
  for (const family of families.values()) {
    if (family.mayShareSeries) mergeFamily(family);
    body += family.header + family.samples;
  }
  const target = options.withoutTargetInfo ? '' : targetInfo(resourceMetrics, openMetrics);
  if (openMetrics) return target + body + '# EOF\n';
  if (body === '') body = NO_REGISTERED_METRICS;
  return target + body;
}
