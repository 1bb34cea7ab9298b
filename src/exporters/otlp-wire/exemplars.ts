/**
 * Which of the store's exemplars (series/exemplars.ts) an OTLP request carries, and their time as OTLP wants it.
 * OTLP's Exemplar holds trace_id and span_id as exactly 16 and 8 bytes: a receiver refuses the whole request over
 * one id of another length (the Collector's decoder does), so an exemplar whose ids are not 32 and 16 hex digits,
 * or whose value or time is not a finite number, is left out of the request rather than sent. The store keeps
 * only valid span contexts, so its own exemplars always pass; the check is for points that reach the encoders
 * as MetricData, whose `exemplars` nothing else vouches for.
 *
 * Owns: that rule and the time conversion, shared by protobuf.ts and json.ts. Must not touch: the layouts.
 */
import type { HrTime } from '@opentelemetry/api';
import type { Exemplar } from '../../series/exemplars';

const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;

/** Whether OTLP carries `exemplar` (see the file header); `undefined` (a bucket without one) never. */
export function otlpCarries(exemplar: unknown): exemplar is Exemplar {
  if (typeof exemplar !== 'object' || exemplar === null) return false;
  const { traceId, spanId, value, timeUnixMs } = exemplar as Record<string, unknown>;
  return (
    typeof traceId === 'string' &&
    typeof spanId === 'string' &&
    TRACE_ID.test(traceId) &&
    SPAN_ID.test(spanId) &&
    typeof value === 'number' &&
    Number.isFinite(value) &&
    typeof timeUnixMs === 'number' &&
    Number.isFinite(timeUnixMs) &&
    timeUnixMs >= 0
  );
}

/** The exemplar's time (epoch milliseconds) as an HrTime, exact to the nanosecond for a time in whole ms. */
export function exemplarTime(exemplar: Exemplar, out: HrTime = [0, 0]): HrTime {
  const seconds = Math.floor(exemplar.timeUnixMs / 1000);
  out[0] = seconds;
  out[1] = Math.min(999_999_999, Math.round((exemplar.timeUnixMs - seconds * 1000) * 1e6));
  return out;
}
