/**
 * Exemplars: the trace behind a business number. When a measurement is recorded inside an active, sampled
 * OpenTelemetry span, the series keeps that span's trace and span id with the value and the time: one exemplar
 * per counter series and one per histogram bucket, each overwritten by the next, so memory never grows.
 *
 * Owns: the exemplar shape carried on collected data points (the SDK 2.x `DataPoint` has no exemplar field; the
 * package's producer adds `exemplars` to its own points, which the SDK's reader passes through untouched to the
 * package's serializers, Prometheus and OTLP), reading the active span, and the gate that keeps the hot path free
 * without tracing.
 * Must not touch: span creation, sampling decisions (the trace SDK's), serialization.
 *
 * The gate: reading the active span costs a context lookup per measurement (~10-20 ns with AsyncLocalStorage),
 * a third of a counter update. Without a registered context manager no span can ever be active, so the lookup
 * is skipped behind one boolean, `exemplarGate.armed`: true only while a context manager really propagates
 * contexts (counters do not even test it: their add method is swapped when it changes, cells.ts). It is probed
 * when a store is created and at every collection: first the API's global registry (no context manager
 * registered: disarmed, and the API is not even loaded, support/otel-api.ts), then through the public API (enter a
 * context, see whether `context.active()` returns it), so a trace SDK registered after startup is seen from the
 * next scrape on, and one disabled later stops costing anything.
 *
 * What is kept: only a span context the OpenTelemetry API calls valid (`isSpanContextValid`: 32 and 16 hex
 * digits, not all zeros) and sampled, so a context propagated from a hostile header or a broken tracer never
 * reaches the exposition; and only within OpenMetrics's limit of 128 UTF-8 characters for an exemplar's label
 * names and values together (a valid context needs 63). The check runs once per span context: a request that
 * records several measurements in one span pays it once.
 */
import type { Context, ContextAPI, SpanContext, TraceAPI } from '@opentelemetry/api';
import { otelApi, registeredWithApi } from '../support';

/** One exemplar: the value recorded, when, and the span it was recorded in. */
export interface Exemplar {
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters. */
  readonly spanId: string;
  readonly value: number;
  /** Epoch milliseconds. */
  readonly timeUnixMs: number;
}

/**
 * A collected data point that may carry exemplars: for a counter, index 0; for a histogram, one entry per
 * bucket index of `buckets.counts` (`undefined` where that bucket has none).
 */
export interface ExemplarCarrier {
  readonly exemplars?: readonly (Exemplar | undefined)[];
}

/** Whether measurements look for an active span at all (see the file header). */
export const exemplarGate = { armed: false };

/** What the gate and the lookup use of the API, set when a context manager is first seen registered. */
let tracing:
  | { readonly context: ContextAPI; readonly trace: TraceAPI; readonly probe: Context; readonly key: symbol }
  | undefined;
const PROBE_KEY_NAME = 'otel-business-metrics exemplar probe';

/**
 * True when a context manager is registered that makes `context.with` visible to `context.active()`. Without any
 * registered (the API's global holds none), no span can be active and the API is not even loaded (otel-api.ts).
 */
export function contextPropagates(): boolean {
  try {
    if (registeredWithApi()?.context === undefined) return false;
    if (tracing === undefined) {
      const api = otelApi();
      const key = api.createContextKey(PROBE_KEY_NAME);
      tracing = { context: api.context, trace: api.trace, probe: api.ROOT_CONTEXT.setValue(key, true), key };
    }
    const { context, probe, key } = tracing;
    return context.with(probe, () => context.active().getValue(key) === true);
  } catch {
    return false;
  }
}

/** Re-evaluates the gate; cheap (~1 µs), called at store creation and at every collection. */
export function refreshExemplarGate(): void {
  const armed = contextPropagates();
  if (armed === exemplarGate.armed) return;
  exemplarGate.armed = armed;
  for (const listener of gateListeners) listener(armed);
}

const gateListeners: ((armed: boolean) => void)[] = [];

/** Calls `listener` whenever the gate opens or closes (cells.ts swaps its counters' add then). */
export function onExemplarGateChange(listener: (armed: boolean) => void): void {
  gateListeners.push(listener);
}

/** OpenMetrics 1.0: an exemplar's label names and values together are at most 128 UTF-8 characters. */
export const OPENMETRICS_EXEMPLAR_LABELS_MAX = 128;

/** Characters (code points) of the exemplar label set `{trace_id="…",span_id="…"}`'s names and values. */
export function exemplarLabelSetLength(traceId: string, spanId: string): number {
  return 'trace_id'.length + codePoints(traceId) + 'span_id'.length + codePoints(spanId);
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A surrogate pair is one character.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** `TraceFlags.SAMPLED` (the API's enum, a W3C trace-flags bit). */
const SAMPLED = 1;

/** The ids of the last span context that passed the checks (so a span that records often is checked once). */
let checkedTraceId: string | undefined;
let checkedSpanId: string | undefined;

/**
 * An exemplar for `value` if the caller runs inside a valid, sampled span (only sampled traces can be looked up
 * later); `undefined` otherwise. Never throws: a span whose `spanContext()` throws counts as no span.
 */
export function exemplarFor(value: number): Exemplar | undefined {
  let traceId: unknown;
  let spanId: unknown;
  try {
    // Only called while the gate is armed, which loaded the API (contextPropagates).
    const span = tracing!.trace.getSpan(tracing!.context.active());
    if (span === undefined) return undefined;
    const spanContext: SpanContext = span.spanContext();
    if ((spanContext.traceFlags & SAMPLED) !== SAMPLED) return undefined;
    // Read once: what is checked is what is kept, whatever getters the object has.
    traceId = spanContext.traceId;
    spanId = spanContext.spanId;
  } catch {
    return undefined;
  }
  if (traceId !== checkedTraceId || spanId !== checkedSpanId) {
    if (!exemplarIdsAllowed(traceId, spanId)) return undefined;
    checkedTraceId = traceId as string;
    checkedSpanId = spanId as string;
  }
  return { traceId: traceId as string, spanId: spanId as string, value, timeUnixMs: Date.now() };
}

function exemplarIdsAllowed(traceId: unknown, spanId: unknown): boolean {
  return (
    typeof traceId === 'string' &&
    typeof spanId === 'string' &&
    otelApi().isSpanContextValid({ traceId, spanId, traceFlags: SAMPLED }) &&
    exemplarLabelSetLength(traceId, spanId) <= OPENMETRICS_EXEMPLAR_LABELS_MAX
  );
}
