/**
 * The store's clock: OpenTelemetry's `hrTime()` (@opentelemetry/core 2.x), computed the same way from the same
 * readings, so a time the store reports is the one the SDK would have reported at that instant (a test compares
 * the two), without loading @opentelemetry/core for an app that never needs the SDK.
 *
 * A series' birth is kept as its `performance.now()` reading (one float in its table's column, see
 * series-table.ts) and turned into an HrTime only when a collection reports it: an HrTime per series is two
 * arrays, 64 bytes of heap for every series for its whole life.
 *
 * Owns: turning `performance` readings into HrTime and nanoseconds. Must not touch: which instant a series or a
 * collection is stamped with (the table and the store decide).
 */
import type { HrTime } from '@opentelemetry/api';

// The object core reads (its `otperformance` is the global `performance`, taken when core loads).
const clock = performance;

/**
 * `hrTime(performanceMillis)` of @opentelemetry/core: the time origin and the reading each made an HrTime by core's
 * millisToHrTime (whole seconds, the rest rounded to nanoseconds), then added. Written into `out` when given (an
 * encoder's scratch pair: no allocation per point).
 */
export function hrTimeAt(performanceMillis: number, out: HrTime = [0, 0]): HrTime {
  const origin = clock.timeOrigin;
  out[0] = Math.trunc(origin / 1000) + Math.trunc(performanceMillis / 1000);
  out[1] = Math.round((origin % 1000) * 1_000_000) + Math.round((performanceMillis % 1000) * 1_000_000);
  if (out[1] >= 1_000_000_000) {
    out[1] -= 1_000_000_000;
    out[0] += 1;
  }
  return out;
}

/** Now, as `hrTime()` of @opentelemetry/core returns it. */
export function hrTimeNow(): HrTime {
  return hrTimeAt(clock.now());
}

/** A `performance.now()` reading, for stamping a series' birth (see {@link hrTimeAt}). */
export function performanceNow(): number {
  return clock.now();
}

/** An epoch time in milliseconds as `millisToHrTime` of @opentelemetry/core returns it (the SDK's collection time). */
export function hrTimeFromEpochMillis(epochMillis: number): HrTime {
  return [Math.trunc(epochMillis / 1000), Math.round((epochMillis % 1000) * 1_000_000)];
}
