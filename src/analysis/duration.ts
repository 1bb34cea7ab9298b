/**
 * Parsing of Prometheus-style durations (`7d`, `1h30m`, `30s`, `250ms`) and of query time ranges.
 *
 * Owns: turning user input into seconds and an absolute [start, end] range on the step grid.
 * Must not touch: the network.
 */
import { CorrelationError } from './errors';

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  y: 365 * 86400,
};

/** Prometheus refuses range queries that would return more than this many points per series. */
export const PROMETHEUS_MAX_POINTS_PER_SERIES = 11000;

/**
 * Parse a Prometheus duration (`5m`, `1h30m`, `7d`, `250ms`) or a plain number of seconds (`300`, `0.5`).
 * Throws `INVALID_ARGUMENT` for anything else, including zero and negative values.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = String(text).trim();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else if (/^(\d+(ms|s|m|h|d|w|y))+$/.test(trimmed)) {
    seconds = 0;
    for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
      seconds += Number(match[1]) * UNIT_SECONDS[match[2]];
    }
  } else {
    throw new CorrelationError(
      'INVALID_ARGUMENT',
      `Invalid ${what} "${text}": use a Prometheus duration such as 30s, 5m, 6h, 7d or 1h30m, or a number of seconds`,
    );
  }
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new CorrelationError('INVALID_ARGUMENT', `Invalid ${what} "${text}": it must be greater than zero`);
  }
  return seconds;
}

/** A point in time: a Date, milliseconds since the epoch as a number, or an RFC 3339 / ISO 8601 string. */
export type TimeInput = Date | number | string;

/** Convert a {@link TimeInput} to seconds since the epoch. Numbers are epoch milliseconds, as `Date.now()` gives. */
export function parseTime(input: TimeInput, what = 'time'): number {
  let millis: number;
  if (input instanceof Date) millis = input.getTime();
  else if (typeof input === 'number') millis = input;
  else if (/^\d+(\.\d+)?$/.test(input.trim())) millis = Number(input.trim()) * 1000;
  else millis = Date.parse(input);
  if (!Number.isFinite(millis)) {
    throw new CorrelationError(
      'INVALID_ARGUMENT',
      `Invalid ${what} "${String(input)}": use an ISO 8601 time such as 2026-11-20T00:00:00Z or unix seconds`,
    );
  }
  return millis / 1000;
}

/** Absolute query window, in seconds since the epoch, aligned to multiples of the step. */
export interface QueryWindow {
  readonly start: number;
  readonly end: number;
  readonly step: number;
  /** Number of grid points per series in the window. */
  readonly points: number;
}

/** How to express the time window of an analysis. */
export interface TimeRangeOptions {
  /** A duration ending at `end` (or now), e.g. `7d`. Ignored when `start` is given. */
  range?: string;
  /** Explicit start; requires `end` or defaults it to now. */
  start?: TimeInput;
  /** Explicit end; defaults to now. */
  end?: TimeInput;
  /** Resolution of the step grid, e.g. `5m`. */
  step: string | number;
  /** The clock, for tests. Defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Resolve a range/start/end/step into an absolute window on the step grid.
 *
 * Start and end are snapped to multiples of the step (start rounded up, end down) so both queries evaluate at
 * exactly the same timestamps, and repeated runs evaluate at the same instants (stable results, cache friendly).
 * Throws `TOO_MANY_POINTS` before any query is sent when Prometheus would refuse the query anyway.
 */
export function resolveQueryWindow(options: TimeRangeOptions): QueryWindow {
  const step = typeof options.step === 'number' ? options.step : parseDuration(options.step, 'step');
  if (!(step > 0) || !Number.isFinite(step)) {
    throw new CorrelationError(
      'INVALID_ARGUMENT',
      `Invalid step ${String(options.step)}: it must be greater than zero`,
    );
  }
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  const rawEnd = options.end === undefined ? nowSeconds : parseTime(options.end, 'end');
  let rawStart: number;
  if (options.start !== undefined) rawStart = parseTime(options.start, 'start');
  else if (options.range !== undefined) rawStart = rawEnd - parseDuration(options.range, 'range');
  else throw new CorrelationError('INVALID_ARGUMENT', 'Give either a range (e.g. 7d) or a start time');
  const start = Math.ceil(rawStart / step) * step;
  const end = Math.floor(rawEnd / step) * step;
  if (!(end > start)) {
    throw new CorrelationError(
      'INVALID_ARGUMENT',
      `The time window is empty: start ${new Date(rawStart * 1000).toISOString()} is not before end ` +
        `${new Date(rawEnd * 1000).toISOString()} (after snapping to the ${formatDuration(step)} step)`,
    );
  }
  const points = Math.floor((end - start) / step) + 1;
  if (points > PROMETHEUS_MAX_POINTS_PER_SERIES) {
    const span = rawEnd - rawStart;
    const minimumStep = Math.ceil(span / (PROMETHEUS_MAX_POINTS_PER_SERIES - 1));
    throw new CorrelationError(
      'TOO_MANY_POINTS',
      `A ${formatDuration(span)} range at a ${formatDuration(step)} step is ${Math.floor(span / step) + 1} points ` +
        `per series; Prometheus refuses range queries above ${PROMETHEUS_MAX_POINTS_PER_SERIES} points. ` +
        `Use a step of at least ${formatDuration(minimumStep)} or a shorter range.`,
    );
  }
  return { start, end, step, points };
}

/** Format seconds as a compact Prometheus-style duration (`1d2h`, `5m`, `30s`, `250ms`). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  if (rest < 1) return `${sign}${Math.round(rest * 1000)}ms`;
  let text = '';
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (rest >= size) {
      const count = Math.floor(rest / size);
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  if (rest > 0) text += `${Number(rest.toFixed(3))}s`;
  return sign + text;
}
