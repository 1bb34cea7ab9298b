/**
 * The messages between a primary (the process or main thread that serves the aggregate) and its sources
 * (cluster workers, worker threads), and the compact snapshot a source sends.
 *
 * Owns: message shapes, the protocol version, the tag that marks the package's messages, non-finite numbers on the
 * wire. Must not touch: transports, recording, serialisation, what extensions ship (extensions.ts).
 *
 * A snapshot is cumulative (everything the source recorded since it started), so a lost or late snapshot never
 * loses counts: the next one carries them. To stay small, a series' attributes travel once per source epoch:
 * the first snapshot that contains a series gives it an id and its attribute key; later ones send the id and
 * the numbers only. A primary that misses a key asks for a full snapshot (new epoch) instead of guessing.
 *
 * Every message is plain JSON (cluster IPC defaults to JSON serialisation): non-finite numbers travel as the
 * strings `'NaN'`, `'Inf'`, `'-Inf'`.
 *
 * Exemplars (the trace behind a counter series or a histogram bucket) travel only when they changed: unlike the
 * numbers, the latest one is not repeated in every snapshot, since with tracing on it would double a steady-state
 * snapshot. A snapshot says how many snapshots of its epoch carried exemplars so far (`exemplarSnapshots`): a
 * primary that missed one of them (lost, or refused whole) asks for a full snapshot, which sends every exemplar
 * the source holds again, as it sends every key. Fields a primary of an older version does not know are ignored
 * there, so no version bump: an older primary simply shows no exemplars.
 */

/** Marks the package's messages on a channel the app may share (cluster IPC). */
export const PROTOCOL_TAG = 'otel-business-metrics/cluster';
/** Bumped when a message shape changes incompatibly; a primary ignores snapshots of another version. */
export const PROTOCOL_VERSION = 1;
/** The BroadcastChannel worker threads and their main thread share (requests from the main thread). */
export const THREAD_REQUEST_CHANNEL = 'otel-business-metrics/cluster/requests';
/** The BroadcastChannel worker threads answer on (only the main thread listens to it). */
export const THREAD_RESPONSE_CHANNEL = 'otel-business-metrics/cluster/responses';

/** How a family's series combine across sources (see docs/several-processes.md). */
export type MetricShape = 'counter' | 'updown' | 'gauge' | 'histogram';

/** A number on the wire: finite numbers as is, the rest as a string. */
export type WireNumber = number | 'NaN' | 'Inf' | '-Inf';

export interface WireScope {
  readonly name: string;
  readonly version?: string;
  readonly schemaUrl?: string;
}

export interface WireMetric {
  /** Index into the snapshot's `scopes`. */
  readonly scope: number;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  /** `ValueType` of the descriptor (0 INT, 1 DOUBLE). */
  readonly valueType: number;
  readonly shape: MetricShape;
  /** Histogram bucket boundaries. */
  readonly boundaries?: number[];
  /**
   * The series, flat: `[id, v...]` for counters, up-down counters and gauges (one value); for histograms
   * `[id, count, sum, min, max, bucket0, ..., bucketN]` (`boundaries.length + 1` buckets).
   */
  readonly points: WireNumber[];
  /**
   * Counters and histograms only: the series' exemplars that changed since the source's previous snapshot of this
   * epoch, flat, {@link EXEMPLAR_STRIDE} entries each: `[id, bucket, traceId, spanId, value, timeUnixMs]` (bucket
   * 0 for a counter; ids and times as series/exemplars.ts keeps them). Absent when none changed.
   */
  readonly exemplars?: WireExemplarEntry[];
}

/** One entry of {@link WireMetric.exemplars}. */
export type WireExemplarEntry = number | string;

/** Entries per exemplar in {@link WireMetric.exemplars}. */
export const EXEMPLAR_STRIDE = 6;

/** Primary -> source: send a snapshot. */
export interface CollectRequest {
  readonly tag: typeof PROTOCOL_TAG;
  readonly type: 'collect';
  readonly round: number;
  /** Source ids that must start a new epoch (send every attribute key again). */
  readonly full?: string[];
}

/** Source -> primary: I record, ask me (sent once at start). */
export interface HelloMessage {
  readonly tag: typeof PROTOCOL_TAG;
  readonly type: 'hello';
  readonly version: number;
  readonly source: string;
  /** The worker thread's id (for `watchThread`); absent in a process. */
  readonly threadId?: number;
}

/** Source -> primary: everything recorded so far. */
export interface SnapshotMessage {
  readonly tag: typeof PROTOCOL_TAG;
  readonly type: 'snapshot';
  readonly version: number;
  readonly source: string;
  readonly threadId?: number;
  /** The request this answers; 0 for an unsolicited one (the final snapshot). */
  readonly round: number;
  /** Attribute-key epoch: changes when the source restarts its numbering. */
  readonly epoch: number;
  /** Id of the first key in `keys`; ids are dense, in order of first appearance within an epoch. */
  readonly firstKey: number;
  /** Attribute keys of the series first sent in this snapshot (see attributeKey()). */
  readonly keys: string[];
  readonly scopes: WireScope[];
  readonly metrics: WireMetric[];
  /**
   * How many snapshots of this epoch, this one included, carried exemplars; absent while none has. A primary
   * that counts fewer missed one, and asks for a full snapshot (see the file header).
   */
  readonly exemplarSnapshots?: number;
  /** The source stops recording: this is its last word (its totals stay in the aggregate). */
  readonly final?: boolean;
  /** Extension payloads by extension name (see ClusterExtension). */
  readonly ext?: Record<string, unknown>;
}

/** Source -> primary: send me the aggregate exposition (a worker serving `/metrics` on the app's shared port). */
export interface ExpositionRequest {
  readonly tag: typeof PROTOCOL_TAG;
  readonly type: 'exposition-request';
  readonly source: string;
  readonly id: number;
  /** The format the worker's scraper negotiated; absent means Prometheus text 0.0.4. */
  readonly format?: 'openmetrics';
  /**
   * Within how long (ms) the worker needs the answer: sent when its scraper's own deadline is shorter than the
   * worker's usual wait. Absent: the primary's usual collection, as before the field existed (and a primary that
   * does not know it ignores it: the worker still gives up at its own deadline).
   */
  readonly timeoutMillis?: number;
}

/** Primary -> source: the aggregate exposition text, or why there is none. */
export interface ExpositionResponse {
  readonly tag: typeof PROTOCOL_TAG;
  readonly type: 'exposition';
  /** The requesting source (threads share one channel). */
  readonly to: string;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

export type ClusterMessage =
  CollectRequest | HelloMessage | SnapshotMessage | ExpositionRequest | ExpositionResponse;

export function isClusterMessage(message: unknown): message is ClusterMessage {
  return (
    typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === PROTOCOL_TAG
  );
}

export function toWire(value: number): WireNumber {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : '-Inf';
}

export function fromWire(value: WireNumber): number {
  if (typeof value === 'number') return value;
  return value === 'Inf' ? Infinity : value === '-Inf' ? -Infinity : NaN;
}
