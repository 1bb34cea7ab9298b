/**
 * Reproducible synthetic series with a designed relationship, shared by the unit and end-to-end tests:
 * a p99 latency (seconds) following an AR(1) process and a conversion ratio that follows the latency `lag` steps
 * later with a chosen correlation.
 */

/** Deterministic uniform [0, 1) generator (LCG), so every run sees the same data. */
export function uniformSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
}

/** Standard normal deviates (Box-Muller) from a seeded uniform source. */
export function normalSource(seed: number): () => number {
  const uniform = uniformSource(seed);
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface DesignedPair {
  /** p99 latency in seconds, one value per step. */
  latency: number[];
  /** Conversion ratio (0..1), one value per step. */
  conversion: number[];
}

export interface Design {
  points: number;
  /** Business follows technical by this many steps. */
  lag: number;
  /** Correlation between latency[t - lag] and conversion[t]. */
  r: number;
  /** AR(1) coefficient of the latency process. */
  phi: number;
  /** Conversion change per second of latency (negative: slower goes with fewer conversions). */
  slopePerSecond: number;
  seed: number;
}

export const DEFAULT_DESIGN: Design = {
  points: 864,
  lag: 2,
  r: -0.7,
  phi: 0.6,
  slopePerSecond: -0.04,
  seed: 42,
};

/**
 * Latency: 0.25 s + AR(1) noise with a stationary standard deviation of 50 ms. Conversion: 3% + slope ·
 * (latency `lag` steps earlier − 0.25) + independent noise sized so the population correlation is `r`.
 * Values are rounded to 9 significant digits, so their decimal text (as written to OpenMetrics) is exact.
 */
export function designedPair(design: Design = DEFAULT_DESIGN): DesignedPair {
  const normal = normalSource(design.seed);
  const latencySd = 0.05;
  const innovationSd = latencySd * Math.sqrt(1 - design.phi ** 2);
  const noiseSd = Math.abs(design.slopePerSecond) * latencySd * Math.sqrt(1 / design.r ** 2 - 1);
  const deviation: number[] = [];
  let previous = normal() * latencySd;
  for (let i = 0; i < design.points + design.lag; i++) {
    previous = design.phi * previous + innovationSd * normal();
    deviation.push(previous);
  }
  const round = (v: number) => Number(v.toPrecision(9));
  const latency: number[] = [];
  const conversion: number[] = [];
  for (let t = 0; t < design.points; t++) {
    latency.push(round(0.25 + deviation[t + design.lag]));
    conversion.push(round(0.03 + design.slopePerSecond * deviation[t] + noiseSd * normal()));
  }
  return { latency, conversion };
}
