/**
 * Exemplars: the trace behind a business number. When a measurement is recorded inside an active, sampled
 * OpenTelemetry span, the series keeps that span's trace and span id with the value and the time: one exemplar
 * per counter series and one per histogram bucket, each overwritten by the next, so memory never grows.
 *
 * Owns: the exemplar shape carried on collected data points (the SDK 2.x `DataPoint` has no exemplar field; the
 * package's producer adds `exemplars` to its own points, which the SDK's reader passes through untouched to the
 * package's serializer), reading the active span, and the gate that keeps the hot path free without tracing.
 * Must not touch: span creation, sampling decisions (the trace SDK's), serialization.
 *
 * The gate: reading the active span costs a context lookup per measurement (~10-20 ns with AsyncLocalStorage),
 * a third of a counter update. Without a registered context manager no span can ever be active, so the lookup
 * is skipped behind one boolean, `exemplarGate.armed`: true only while a context manager really propagates
 * contexts. It is probed through the public API (enter a context, see whether `context.active()` returns it)
 * when a store is created and at every collection, so a trace SDK registered after startup is seen from the
 * next scrape on, and one disabled later stops costing anything.
 */
import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';

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

const PROBE_KEY = createContextKey('otel-business-metrics exemplar probe');
const PROBE_CONTEXT = ROOT_CONTEXT.setValue(PROBE_KEY, true);

/** True when a context manager is registered that makes `context.with` visible to `context.active()`. */
export function contextPropagates(): boolean {
  try {
    return context.with(PROBE_CONTEXT, () => context.active().getValue(PROBE_KEY) === true);
  } catch {
    return false;
  }
}

/** Re-evaluates the gate; cheap (~1 µs), called at store creation and at every collection. */
export function refreshExemplarGate(): void {
  exemplarGate.armed = contextPropagates();
}

/** The active span's context if there is one and it is sampled (only sampled traces can be looked up later). */
export function sampledSpanContext(): SpanContext | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const spanContext = span.spanContext();
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? spanContext : undefined;
}

/** An exemplar for `value` if the caller runs inside a sampled span; `undefined` otherwise. */
export function exemplarFor(value: number): Exemplar | undefined {
  const spanContext = sampledSpanContext();
  if (spanContext === undefined) return undefined;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId, value, timeUnixMs: Date.now() };
}
