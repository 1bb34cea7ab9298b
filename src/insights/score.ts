/**
 * Apdex and the 0-100 experience score: the formulas, in one place, for the recording rules (as PromQL) and for
 * anything that computes them from a scrape in memory (the demo shop's dashboard).
 *
 * Owns: the score's definition, the default Apdex threshold and which thresholds a histogram can support.
 * Must not touch: I/O, the SDK, rule files.
 */
import { HTTP_METRICS } from '../catalog/metrics';

/**
 * Default Apdex threshold T, in seconds: a request served within T is "satisfied", within 4T "tolerating",
 * slower "frustrated". 250 ms of server time puts 4T at 1 s, the limit within which a person's flow of thought
 * stays uninterrupted (Nielsen's 0.1 s / 1 s / 10 s limits), and leaves the browser room to render. Apdex needs
 * both T and 4T to be bucket boundaries of the duration histogram: with the semantic conventions' buckets only
 * 0.025 s, 0.25 s and 2.5 s qualify (see {@link apdexThresholdsSupported}).
 */
export const DEFAULT_APDEX_THRESHOLD_SECONDS = 0.25;

/**
 * How strongly errors pull the score down: score = 100 × Apdex × (1 − error rate)^weight. With 10, each 1% of
 * failed requests costs about 10% of the score (1% → ×0.904, 5% → ×0.599, 10% → ×0.349), so a service that
 * fails one request in twenty cannot look "good" however fast it answers.
 */
export const EXPERIENCE_ERROR_WEIGHT = 10;

/** The histogram buckets Apdex reads by default: the catalog's `http.server.request.duration` boundaries. */
export const HTTP_DURATION_BUCKETS: readonly number[] = HTTP_METRICS.serverRequestDuration.buckets;

/**
 * The thresholds T for which both T and 4T are bucket boundaries, the only ones an exact Apdex can be read at
 * from a classic histogram (between boundaries only an interpolation, i.e. a guess, is possible).
 * `apdexThresholdsSupported()` with the semantic conventions' buckets is `[0.025, 0.25, 2.5]`.
 */
export function apdexThresholdsSupported(buckets: readonly number[] = HTTP_DURATION_BUCKETS): number[] {
  const bounds = new Set(buckets);
  return buckets.filter((bound) => bounds.has(quadruple(bound)));
}

/** 4T without binary noise (4 × 0.025 is 0.1, not 0.1000000000000000055...). */
export function quadruple(threshold: number): number {
  return Number((4 * threshold).toPrecision(12));
}

/**
 * Throw a RangeError naming the supported thresholds unless T and 4T are both boundaries of `buckets`.
 * Interpolating inside a bucket (as `histogram_quantile` does) would silently turn the Apdex into a guess.
 */
export function checkApdexThreshold(
  threshold: number,
  buckets: readonly number[] = HTTP_DURATION_BUCKETS,
): void {
  if (!(Number.isFinite(threshold) && threshold > 0)) {
    throw new RangeError(`Apdex threshold must be a positive number of seconds, got ${String(threshold)}`);
  }
  const bounds = new Set(buckets);
  const missing = [threshold, quadruple(threshold)].filter((bound) => !bounds.has(bound));
  if (missing.length > 0) {
    throw new RangeError(
      `Apdex threshold ${threshold} s needs bucket boundaries at T and 4T, but the histogram has none at ` +
        `${missing.join(' s and ')} s. With boundaries ${buckets.join(', ')} the thresholds that work are ` +
        `${apdexThresholdsSupported(buckets).join(', ') || 'none'} s; for another T, add T and 4T to the ` +
        `histogram's buckets (a View with an explicit-bucket aggregation) and pass them here too.`,
    );
  }
}

/**
 * Apdex from cumulative counts: (satisfied + tolerating / 2) / total, where `withinT` counts requests of at most
 * T and `within4T` those of at most 4T (so tolerating = within4T − withinT). Null without requests.
 */
export function apdex(withinT: number, within4T: number, total: number): number | null {
  if (!(total > 0)) return null;
  return (withinT + within4T) / 2 / total;
}

/**
 * The 0-100 experience score: 100 × Apdex × (1 − errorRate)^{@link EXPERIENCE_ERROR_WEIGHT}. Non-decreasing in
 * Apdex and non-increasing in the error rate (strictly, inside (0, 1)); 100 only when every request is satisfied
 * and none failed. Inputs are clamped to 0..1. Null when either input is unknown (no traffic).
 */
export function experienceScore(apdexValue: number | null, errorRate: number | null): number | null {
  if (
    apdexValue === null ||
    errorRate === null ||
    !Number.isFinite(apdexValue) ||
    !Number.isFinite(errorRate)
  )
    return null;
  const a = Math.min(1, Math.max(0, apdexValue));
  const e = Math.min(1, Math.max(0, errorRate));
  return 100 * a * (1 - e) ** EXPERIENCE_ERROR_WEIGHT;
}
