/**
 * What a message from a peer must be before anything reads it. A peer is whatever posts on the package's
 * channels: a worker or thread running this package (perhaps another version of it), a bug, or hostile code in
 * the same process. Nothing a message says is stored, counted or merged until it has passed these rules; a
 * message that fails is refused whole, never thrown, and its receiver counts it
 * (`business_metrics_cluster_collection_failures_total{reason="invalid"}` in a primary). A snapshot's series key
 * that fails refuses only its own series (a worker's one bad label set does not cost the primary its good ones);
 * the bounds on the snapshot itself (how many keys, scopes, metrics, points) still refuse it whole.
 *
 * One rule per field, in one table per message type, so a field is one line and its rule is read in one place.
 * The structure of a message is checked here in one pass over it (O(keys + metrics)); the numbers of a snapshot's
 * points are checked by {@link pointRefusal} while the aggregate applies them, so each number is read once, and
 * a bad number refuses only its own series' point (one poisoned series of a worker does not freeze the rest).
 *
 * Exemplars follow the numbers' split: their list's shape and bound (at most one per counter series, one per
 * histogram bucket of the points sent) are checked with the message, and each exemplar by {@link exemplarRefusal}
 * as the aggregate applies it; a bad one refuses only itself.
 *
 * Owns: the shape rules of every message (field types, lengths, ranges), the attribute-key format and the
 * canonical identity of a series, histogram boundaries, the rules for counter, gauge and histogram numbers and
 * for exemplars.
 * Must not touch: state (which sources are known, whether an id was sent before, whether a total went down: the
 * aggregate's and the primary's), transports.
 */
import { attributeValueText } from '../catalog/prometheus-naming';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { MAX_TIMER_MILLIS } from '../config/defaults';
import {
  EXEMPLAR_STRIDE,
  PROTOCOL_TAG,
  PROTOCOL_VERSION,
  type CollectRequest,
  type ExpositionRequest,
  type ExpositionResponse,
  type HelloMessage,
  type MetricShape,
  type SnapshotMessage,
} from './protocol';

/** Longest source id (the package's are UUIDs: 36 characters). */
export const MAX_SOURCE_ID_LENGTH = 128;
/** Longest attribute key (a series' labels as JSON); the package's labels are at most 64 characters each. */
export const MAX_KEY_LENGTH = 16_384;
/** Most attributes on one series. */
export const MAX_ATTRIBUTES = 64;
/** Most series keys one source may announce in one epoch (and so in one snapshot). */
export const MAX_KEYS_PER_SOURCE = 131_072;
/** Most instrumentation scopes, and metric families, in one snapshot. */
export const MAX_SCOPES = 256;
export const MAX_METRICS = 1024;
/** Most histogram boundaries. */
export const MAX_BOUNDARIES = 1024;

/** Why a message or a point was refused: the field and the rule, e.g. `snapshot.metrics[2].points: must be an array`. */
export type Refusal = string;

/** A series key of a snapshot, parsed: its attributes (in the sender's order) and its identity. */
export interface CheckedKey {
  readonly attributes: Attributes;
  /**
   * The same for every spelling of the same label set: names sorted, values as the exposition writes them. Two
   * sources that send `{a, b}` and `{b, a}`, or `1` and `"1"`, describe one series, never two lines with the
   * same labels (a duplicate series makes Prometheus reject the whole scrape).
   */
  readonly identity: string;
  /**
   * The label set as a source's SDK tells series apart: names sorted, values with their types. One source may
   * send `{code: 200}` and `{code: '200'}` as two series (an app's own instrument recorded both ways): the same
   * identity, two series of that source, which the primary sums (aggregate.ts).
   */
  readonly exact: string;
}

export interface CheckedSnapshot {
  readonly message: SnapshotMessage;
  /**
   * `message.keys`, parsed, in order (a key's index is its series id); `null` where the key was refused: its
   * series is left out of this snapshot and of every later one that sends a point for it.
   */
  readonly keys: readonly (CheckedKey | null)[];
  /** How many of `keys` were refused. */
  readonly refusedKeys: number;
  /** Why the first refused key was refused (`snapshot.keys[3]: must be JSON`); undefined when none was. */
  readonly keyRefusal: Refusal | undefined;
}

export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

type Fields = Record<string, unknown>;
/** A field's rule: undefined when `value` passes, else what it must be. `owner` is the object holding the field. */
type Rule = (value: unknown, owner: Fields) => string | undefined;
type Table = Readonly<Record<string, Rule>>;

// ---- rules ---------------------------------------------------------------------------------------------------

const exactly =
  (expected: unknown, what: string): Rule =>
  (value) =>
    value === expected ? undefined : `must be ${what}`;

const optional =
  (rule: Rule): Rule =>
  (value, owner) =>
    value === undefined ? undefined : rule(value, owner);

const text =
  (min: number, max: number): Rule =>
  (value) =>
    typeof value === 'string' && value.length >= min && value.length <= max
      ? undefined
      : `must be a string of ${min} to ${max} characters`;

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Rule =>
  (value) =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}`;

const oneOf =
  (...allowed: readonly unknown[]): Rule =>
  (value) =>
    allowed.includes(value)
      ? undefined
      : `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const object: Rule = (value) => (isObject(value) ? undefined : 'must be an object');

/** An array of at most `max` entries, whatever they are (each is checked where it is read). */
const list =
  (max: number): Rule =>
  (value) => {
    if (!Array.isArray(value)) return 'must be an array';
    return value.length > max ? `must have at most ${max} entries` : undefined;
  };

const arrayOf =
  (max: number, item: Rule): Rule =>
  (value, owner) => {
    if (!Array.isArray(value)) return 'must be an array';
    if (value.length > max) return `must have at most ${max} entries`;
    for (let i = 0; i < value.length; i++) {
      const refusal = item(value[i], owner);
      if (refusal !== undefined) return nested(`[${i}]`, refusal);
    }
    return undefined;
  };

/** `field` + `: must ...`, or `field` + `[2].name: must ...` for a refusal inside it. */
function nested(field: string, refusal: string): string {
  return refusal.startsWith('[') || refusal.startsWith('.') ? field + refusal : `${field}: ${refusal}`;
}

const table =
  (fields: Table): Rule =>
  (value) => {
    if (!isObject(value)) return 'must be an object';
    return refusalOf(value, fields);
  };

const tag = exactly(PROTOCOL_TAG, `"${PROTOCOL_TAG}"`);
const version = exactly(PROTOCOL_VERSION, `protocol version ${PROTOCOL_VERSION}`);
const sourceId = text(1, MAX_SOURCE_ID_LENGTH);
/** A worker thread's id: the main thread is 0 and never a source. */
const threadId = optional(integer(1));
const count = integer(0);

const SCOPE: Table = {
  name: text(1, 255),
  version: optional(text(0, 255)),
  schemaUrl: optional(text(0, 2048)),
};

const SHAPES: readonly MetricShape[] = ['counter', 'updown', 'gauge', 'histogram'];

/** Histogram boundaries: finite and strictly increasing (what an explicit-bucket aggregation allows). */
const boundaries: Rule = (value, metric) => {
  if (metric.shape !== 'histogram')
    return value === undefined ? undefined : 'must be absent unless a histogram';
  if (!Array.isArray(value)) return 'must be an array (a histogram)';
  if (value.length > MAX_BOUNDARIES) return `must have at most ${MAX_BOUNDARIES} entries`;
  for (let i = 0; i < value.length; i++) {
    const bound: unknown = value[i];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) return `[${i}]: must be a finite number`;
    if (i > 0 && !(bound > (value[i - 1] as number)))
      return `[${i}]: must be greater than the boundary before it`;
  }
  return undefined;
};

/** Numbers per point after the id: 1, or count, sum, min, max and one per bucket. */
export function pointWidth(shape: MetricShape, boundaryCount: number): number {
  return shape === 'histogram' ? 4 + boundaryCount + 1 : 1;
}

const points: Rule = (value, metric) => {
  if (!Array.isArray(value)) return 'must be an array';
  const stride =
    1 + pointWidth(metric.shape as MetricShape, (metric.boundaries as unknown[] | undefined)?.length ?? 0);
  if (value.length % stride !== 0) return `must hold whole points of ${stride} entries`;
  if (value.length / stride > MAX_KEYS_PER_SOURCE) return `must have at most ${MAX_KEYS_PER_SOURCE} points`;
  return undefined;
};

/**
 * A metric's exemplars: counters and histograms only, whole exemplars, and no more than one per counter series or
 * per histogram bucket of the points the metric sends (so what a peer sends is bounded by its own points, and
 * what the primary keeps by its series: one per series, or per bucket, aggregate.ts).
 */
const exemplars: Rule = (value, metric) => {
  if (value === undefined) return undefined;
  if (metric.shape !== 'counter' && metric.shape !== 'histogram')
    return 'must be absent unless a counter or a histogram';
  if (!Array.isArray(value)) return 'must be an array';
  if (value.length % EXEMPLAR_STRIDE !== 0) return `must hold whole exemplars of ${EXEMPLAR_STRIDE} entries`;
  const buckets = ((metric.boundaries as unknown[] | undefined)?.length ?? 0) + 1;
  const stride = 1 + pointWidth(metric.shape as MetricShape, buckets - 1);
  const most = ((metric.points as unknown[]).length / stride) * (metric.shape === 'histogram' ? buckets : 1);
  return value.length / EXEMPLAR_STRIDE > most
    ? `must have at most one exemplar per ${metric.shape === 'histogram' ? 'bucket of a ' : ''}series sent (${most})`
    : undefined;
};

const METRIC: Table = {
  scope: integer(0, MAX_SCOPES - 1),
  name: text(1, 255),
  description: text(0, 4096),
  unit: text(0, 255),
  valueType: oneOf(0, 1),
  shape: oneOf(...SHAPES),
  boundaries,
  points,
  // After points: its bound is read from them.
  exemplars,
};

const HELLO: Table = { tag, type: exactly('hello', '"hello"'), version, source: sourceId, threadId };

const SNAPSHOT: Table = {
  tag,
  type: exactly('snapshot', '"snapshot"'),
  version,
  source: sourceId,
  threadId,
  round: count,
  epoch: count,
  firstKey: integer(0, MAX_KEYS_PER_SOURCE),
  // Each key is checked by checkKey, and refuses only its own series.
  keys: list(MAX_KEYS_PER_SOURCE),
  scopes: arrayOf(MAX_SCOPES, table(SCOPE)),
  metrics: arrayOf(MAX_METRICS, (metric, snapshot) => {
    const refusal = table(METRIC)(metric, snapshot);
    if (refusal !== undefined) return refusal;
    return ((metric as Fields).scope as number) < (snapshot.scopes as unknown[]).length
      ? undefined
      : '.scope: must be the index of one of the snapshot’s scopes';
  }),
  exemplarSnapshots: optional(integer(1)),
  final: optional(oneOf(true, false)),
  ext: optional(object),
};

const EXPOSITION_REQUEST: Table = {
  tag,
  type: exactly('exposition-request', '"exposition-request"'),
  source: sourceId,
  id: count,
  format: optional(oneOf('openmetrics')),
  timeoutMillis: optional(integer(1, MAX_TIMER_MILLIS)),
};

const COLLECT_REQUEST: Table = {
  tag,
  type: exactly('collect', '"collect"'),
  round: count,
  full: optional(arrayOf(4096, sourceId)),
};

const EXPOSITION_RESPONSE: Table = {
  tag,
  type: exactly('exposition', '"exposition"'),
  to: sourceId,
  id: count,
  text: optional((value) => (typeof value === 'string' ? undefined : 'must be a string')),
  error: optional(text(0, 4096)),
};

function refusalOf(message: Fields, fields: Table): Refusal | undefined {
  for (const field in fields) {
    const refusal = fields[field](message[field], message);
    if (refusal !== undefined) return nested(`.${field}`, refusal);
  }
  return undefined;
}

function checkWith<T>(raw: unknown, name: string, fields: Table): Checked<T> {
  if (!isObject(raw)) return { ok: false, refusal: `${name}: must be an object` };
  const refusal = refusalOf(raw, fields);
  return refusal === undefined ? { ok: true, value: raw as T } : { ok: false, refusal: name + refusal };
}

/** Whether a message carries the package's tag (the cluster IPC channel also carries the app's own messages). */
function isTagged(raw: unknown): raw is Fields {
  return isObject(raw) && raw.tag === PROTOCOL_TAG;
}

// ---- attribute keys ------------------------------------------------------------------------------------------

/** Why an attribute value cannot travel in a key as is (undefined: it can); encode.ts sends such values as text. */
export function attributeValueRefusal(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'must be finite';
    default:
      if (!Array.isArray(value) || value.length > 128)
        return 'must be a string, number, boolean or short array';
      for (const item of value as unknown[]) {
        if (typeof item !== 'string' && typeof item !== 'boolean' && !Number.isFinite(item)) {
          return 'must be an array of strings, numbers or booleans';
        }
      }
      return undefined;
  }
}

const keyText = text(2, MAX_KEY_LENGTH);

/** Parses a key made by `attributeKey()` (encode.ts): `[name, value, name, value, ...]` as JSON. */
export function checkKey(key: unknown): Checked<CheckedKey> {
  // The length first: a key past the bound is never parsed.
  const tooLong = keyText(key, {});
  if (tooLong !== undefined) return { ok: false, refusal: tooLong };
  let entries: unknown;
  try {
    entries = JSON.parse(key as string);
  } catch {
    return { ok: false, refusal: 'must be JSON' };
  }
  if (!Array.isArray(entries) || entries.length % 2 !== 0 || entries.length > 2 * MAX_ATTRIBUTES) {
    return { ok: false, refusal: `must be a JSON array of at most ${MAX_ATTRIBUTES} name, value pairs` };
  }
  const attributes: Record<string, AttributeValue> = {};
  const names = new Set<string>();
  for (let i = 0; i < entries.length; i += 2) {
    const name: unknown = entries[i];
    const value: unknown = entries[i + 1];
    if (typeof name !== 'string' || name.length === 0 || name.length > 256 || name === '__proto__') {
      return { ok: false, refusal: `[${i}]: must be an attribute name of 1 to 256 characters` };
    }
    if (names.has(name))
      return { ok: false, refusal: `[${i}]: must not repeat the attribute ${JSON.stringify(name)}` };
    const refusal = attributeValueRefusal(value);
    if (refusal !== undefined) return { ok: false, refusal: `[${i + 1}]: ${refusal}` };
    names.add(name);
    attributes[name] = value as AttributeValue;
  }
  const exact: unknown[] = [];
  for (const name of [...names].sort()) exact.push(name, attributes[name]);
  return {
    ok: true,
    value: {
      attributes: Object.freeze(attributes),
      identity: identityOf(attributes),
      exact: JSON.stringify(exact),
    },
  };
}

/** The identity of a label set (see {@link CheckedKey.identity}). */
export function identityOf(attributes: Attributes): string {
  const canonical: string[] = [];
  for (const name of Object.keys(attributes).sort())
    canonical.push(name, attributeValueText(attributes[name]!));
  return JSON.stringify(canonical);
}

// ---- messages ------------------------------------------------------------------------------------------------

/** A message a primary receives from a source: a hello, a snapshot (with its keys parsed), an exposition request. */
export type PrimaryBound =
  | { readonly type: 'hello'; readonly message: HelloMessage }
  | { readonly type: 'snapshot'; readonly snapshot: CheckedSnapshot }
  | { readonly type: 'exposition-request'; readonly message: ExpositionRequest };

/**
 * Checks a message that arrived at a primary. `undefined` when it is not the package's at all (no tag: an app's
 * own message on the shared cluster IPC channel, not a refusal) or a message meant for sources.
 */
export function checkPrimaryBound(raw: unknown): Checked<PrimaryBound> | undefined {
  if (!isTagged(raw)) return undefined;
  const type = raw.type;
  switch (type) {
    case 'hello': {
      const checked = checkWith<HelloMessage>(raw, 'hello', HELLO);
      return checked.ok ? { ok: true, value: { type, message: checked.value } } : checked;
    }
    case 'snapshot': {
      const checked = checkSnapshot(raw);
      return checked.ok ? { ok: true, value: { type, snapshot: checked.value } } : checked;
    }
    case 'exposition-request': {
      const checked = checkWith<ExpositionRequest>(raw, 'exposition-request', EXPOSITION_REQUEST);
      return checked.ok ? { ok: true, value: { type, message: checked.value } } : checked;
    }
    case 'collect':
    case 'exposition':
      // A primary's own requests and answers, seen on a channel it shares (threads): not for it.
      return undefined;
    default:
      return { ok: false, refusal: `message.type: must be hello, snapshot or exposition-request` };
  }
}

/**
 * Checks a snapshot (also the primary's own, so every snapshot takes one path) and parses its keys. A key that
 * breaks a rule is `null` in `keys`, counted in `refusedKeys`: the snapshot is refused whole only for what is not
 * one series' own (its shape, its bounds).
 */
export function checkSnapshot(raw: unknown): Checked<CheckedSnapshot> {
  const checked = checkWith<SnapshotMessage>(raw, 'snapshot', SNAPSHOT);
  if (!checked.ok) return checked;
  const message = checked.value;
  const keys = new Array<CheckedKey | null>(message.keys.length);
  let refusedKeys = 0;
  let keyRefusal: Refusal | undefined;
  for (let i = 0; i < message.keys.length; i++) {
    const key = checkKey(message.keys[i]);
    if (key.ok) {
      keys[i] = key.value;
      continue;
    }
    keys[i] = null;
    refusedKeys++;
    keyRefusal ??= nested(`snapshot.keys[${i}]`, key.refusal);
  }
  return { ok: true, value: { message, keys, refusedKeys, keyRefusal } };
}

/** A message a source receives from its primary: a collection request, or the answer to an exposition request. */
export type SourceBound = CollectRequest | ExpositionResponse;

/** Checks a message that arrived at a source; `undefined` for what is not the package's or not for sources. */
export function checkSourceBound(raw: unknown): Checked<SourceBound> | undefined {
  if (!isTagged(raw)) return undefined;
  switch (raw.type) {
    case 'collect':
      return checkWith<CollectRequest>(raw, 'collect', COLLECT_REQUEST);
    case 'exposition':
      return checkWith<ExpositionResponse>(raw, 'exposition', EXPOSITION_RESPONSE);
    case 'hello':
    case 'snapshot':
    case 'exposition-request':
      // Other sources' messages to the primary, seen on a channel sources share (threads): not for this one.
      return undefined;
    default:
      return { ok: false, refusal: 'message.type: must be collect or exposition' };
  }
}

// ---- numbers -------------------------------------------------------------------------------------------------

const isWireInfinity = (value: unknown, which: 'Inf' | '-Inf'): boolean =>
  value === which || value === (which === 'Inf' ? Infinity : -Infinity);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * The numbers of one point of a snapshot's metric, at `points[at]` (the series id) and after it: why they are
 * refused, or undefined. Counters: finite and not negative. Up-down counters: finite. Gauges: a number, or the
 * wire's `'NaN'`, `'Inf'`, `'-Inf'` (a gauge may really be any of them). Histograms: a whole count, a finite
 * sum that is not negative, min and max (finite, or unknown), whole bucket counts that add up to the count.
 */
export function pointRefusal(
  shape: MetricShape,
  points: readonly unknown[],
  at: number,
  width: number,
): Refusal | undefined {
  if (!isCount(points[at])) return 'the series id must be an integer >= 0';
  const first = points[at + 1];
  switch (shape) {
    case 'counter':
      return isFiniteNumber(first) && first >= 0 ? undefined : 'a counter must be a finite number >= 0';
    case 'updown':
      return isFiniteNumber(first) ? undefined : 'an up-down counter must be a finite number';
    case 'gauge':
      return typeof first === 'number' || first === 'NaN' || first === 'Inf' || first === '-Inf'
        ? undefined
        : 'a gauge must be a number';
    case 'histogram': {
      const count = first;
      const sum = points[at + 2];
      const min = points[at + 3];
      const max = points[at + 4];
      if (!isCount(count)) return 'a histogram count must be an integer >= 0';
      if (!isFiniteNumber(sum) || sum < 0) return 'a histogram sum must be a finite number >= 0';
      if (!isFiniteNumber(min) && !isWireInfinity(min, 'Inf'))
        return 'a histogram min must be finite or "Inf"';
      if (!isFiniteNumber(max) && !isWireInfinity(max, '-Inf'))
        return 'a histogram max must be finite or "-Inf"';
      if (isFiniteNumber(min) && isFiniteNumber(max) && min > max)
        return 'a histogram min must not exceed its max';
      let buckets = 0;
      for (let i = at + 5; i <= at + width; i++) {
        const bucket = points[i];
        if (!isCount(bucket)) return 'a histogram bucket must be an integer >= 0';
        buckets += bucket;
      }
      return buckets === count ? undefined : 'a histogram’s buckets must add up to its count';
    }
  }
}

// ---- exemplars -----------------------------------------------------------------------------------------------

/**
 * How far ahead of the primary's clock an exemplar's time may be. Sources share the primary's machine, so its
 * clock; a time far ahead could only pin a bucket's exemplar (the latest wins, aggregate.ts) against every real one.
 */
export const MAX_EXEMPLAR_CLOCK_AHEAD_MS = 60_000;

// Either case, as the API's isSpanContextValid accepts them (a custom id generator may write upper case): the
// store keeps what the API calls valid, so a primary refusing what one process prints would count healthy workers.
const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const ALL_ZEROS = /^0+$/;

/**
 * One exemplar of a metric's `exemplars`, at `list[at]`: why it is refused, or undefined. What the package keeps
 * (series/exemplars.ts) and nothing else: the series id; the bucket (0 for a counter; for a histogram, the one its
 * value falls in, as the store buckets values: the upper bound inclusive); the trace and span ids as the
 * OpenTelemetry API calls them valid (32 and 16 hex digits, not all zeros); a finite value; a time
 * (epoch ms) from 0 to {@link MAX_EXEMPLAR_CLOCK_AHEAD_MS} past `now`.
 */
export function exemplarRefusal(
  shape: MetricShape,
  boundaries: readonly number[] | undefined,
  list: readonly unknown[],
  at: number,
  now: number,
): Refusal | undefined {
  if (!isCount(list[at])) return 'an exemplar’s series id must be an integer >= 0';
  const bucket = list[at + 1];
  const traceId = list[at + 2];
  const spanId = list[at + 3];
  const value = list[at + 4];
  const time = list[at + 5];
  const bounds = shape === 'histogram' ? (boundaries ?? []) : [];
  if (!isCount(bucket) || bucket > bounds.length)
    return `an exemplar’s bucket must be an integer from 0 to ${bounds.length}`;
  if (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || ALL_ZEROS.test(traceId))
    return 'an exemplar’s trace id must be 32 hex digits, not all zeros';
  if (typeof spanId !== 'string' || !SPAN_ID.test(spanId) || ALL_ZEROS.test(spanId))
    return 'an exemplar’s span id must be 16 hex digits, not all zeros';
  if (!isFiniteNumber(value)) return 'an exemplar’s value must be a finite number';
  if ((bucket > 0 && !(value > bounds[bucket - 1])) || (bucket < bounds.length && !(value <= bounds[bucket])))
    return 'an exemplar’s value must lie in its bucket';
  if (!isFiniteNumber(time) || time < 0 || time > now + MAX_EXEMPLAR_CLOCK_AHEAD_MS)
    return `an exemplar’s time must be epoch milliseconds from 0 to ${MAX_EXEMPLAR_CLOCK_AHEAD_MS} ms ahead`;
  return undefined;
}
