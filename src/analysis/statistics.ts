/**
 * Numerically stable bivariate statistics: Pearson r, Spearman rho, Fisher-z confidence intervals and p-values,
 * least-squares fit, lagged cross-correlation, effective sample size under autocorrelation.
 *
 * Owns: the mathematics, on plain arrays of finite numbers. Must not touch: I/O, Prometheus, wording.
 *
 * Why not the textbook formula: `n·Σxy − Σx·Σy` subtracts two huge, nearly equal numbers when the values sit
 * far from zero (latency in ns, epoch-like gauges, 1e9 + small variations), and the difference is lost to
 * rounding. Everything here works on deviations from the mean (two-pass, with the rounding-error correction of
 * the "corrected two-pass algorithm", Chan, Golub & LeVeque 1983), which keeps full precision.
 */
import { CorrelationError } from './errors';

/** Two-sided 97.5th percentile of the standard normal distribution, for 95% intervals. */
export const Z_975 = 1.959963984540054;

/** Mean and centred second moments of a paired sample. */
export interface CenteredMoments {
  readonly n: number;
  readonly meanX: number;
  readonly meanY: number;
  /** Σ(x − x̄)² */
  readonly sxx: number;
  /** Σ(y − ȳ)² */
  readonly syy: number;
  /** Σ(x − x̄)(y − ȳ) */
  readonly sxy: number;
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) {
    throw new CorrelationError(
      'INVALID_ARGUMENT',
      `Paired samples differ in length (${x.length} vs ${y.length})`,
    );
  }
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const first = sum / values.length;
  // Second pass: the mean of the residuals corrects the rounding error of the first sum.
  let residual = 0;
  for (let i = 0; i < values.length; i++) residual += values[i] - first;
  return first + residual / values.length;
}

/** Centred sums of squares and cross-products, computed on deviations from the mean (two-pass). */
export function centeredMoments(x: ArrayLike<number>, y: ArrayLike<number>): CenteredMoments {
  checkPaired(x, y);
  const n = x.length;
  if (n === 0) return { n, meanX: NaN, meanY: NaN, sxx: 0, syy: 0, sxy: 0 };
  const meanX = mean(x);
  const meanY = mean(y);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  return { n, meanX, meanY, sxx, syy, sxy };
}

function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * Pearson's product-moment correlation, computed stably. Throws `CONSTANT_SERIES` when either input has zero
 * variance (r is undefined there, and returning 0 would claim "no correlation" without evidence) and
 * `TOO_FEW_POINTS` below two pairs.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  if (x.length < 2)
    throw new CorrelationError('TOO_FEW_POINTS', `Pearson r needs at least 2 pairs, got ${x.length}`);
  if (isConstant(x))
    throw new CorrelationError('CONSTANT_SERIES', 'The first series is constant (zero variance)');
  if (isConstant(y))
    throw new CorrelationError('CONSTANT_SERIES', 'The second series is constant (zero variance)');
  const m = centeredMoments(x, y);
  const r = m.sxy / Math.sqrt(m.sxx * m.syy);
  // Rounding can push |r| a hair past 1 for perfectly collinear data.
  return Math.max(-1, Math.min(1, r));
}

/**
 * The textbook single-pass formula, `(nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²))`, as the seed used it.
 * Exported from this module only, for the tests that show where it fails (no entry point exports it); do not
 * use it for analysis.
 */
export function naivePearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  const n = x.length;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  let sx2 = 0;
  let sy2 = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
    sxy += x[i] * y[i];
    sx2 += x[i] * x[i];
    sy2 += y[i] * y[i];
  }
  return (n * sxy - sx * sy) / Math.sqrt((n * sx2 - sx * sx) * (n * sy2 - sy * sy));
}

/** Ranks 1..n, tied values sharing the average of the ranks they span (the "fractional ranking"). */
export function averageRanks(values: ArrayLike<number>): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson r of the average ranks, which is exact with ties. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Upper tail of the standard normal distribution, Q(z) = P(Z > z) (Hart's rational approximation as given by
 * G. West, "Better approximations to cumulative normal functions", 2005). Absolute error below 1e-14; relative
 * error below 1e-10 up to z = 5 and below 1e-8 beyond, so tiny p-values keep their magnitude, unlike `1 − Φ(z)`.
 */
export function normalUpperTail(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 1 - normalUpperTail(-z);
  if (z > 37) return 0;
  const e = Math.exp((-z * z) / 2);
  if (z < 7.07106781186547) {
    let numerator = 3.52624965998911e-2 * z + 0.700383064443688;
    numerator = numerator * z + 6.37396220353165;
    numerator = numerator * z + 33.912866078383;
    numerator = numerator * z + 112.079291497871;
    numerator = numerator * z + 221.213596169931;
    numerator = numerator * z + 220.206867912376;
    let denominator = 8.83883476483184e-2 * z + 1.75566716318264;
    denominator = denominator * z + 16.064177579207;
    denominator = denominator * z + 86.7807322029461;
    denominator = denominator * z + 296.564248779674;
    denominator = denominator * z + 637.333633378831;
    denominator = denominator * z + 793.826512519948;
    denominator = denominator * z + 440.413735824752;
    return (e * numerator) / denominator;
  }
  let fraction = z + 0.65;
  fraction = z + 4 / fraction;
  fraction = z + 3 / fraction;
  fraction = z + 2 / fraction;
  fraction = z + 1 / fraction;
  return e / fraction / 2.506628274631;
}

/** Fisher-z inference for a correlation coefficient. */
export interface FisherInference {
  /** Lower and upper bound of the 95% confidence interval for the population correlation. */
  readonly ci95: readonly [number, number];
  /** Two-sided p-value for the null hypothesis "population correlation is 0". */
  readonly pValue: number;
}

/**
 * 95% confidence interval and two-sided p-value for r via Fisher's z transform: atanh(r) is approximately normal
 * with standard error 1/√(n − 3). The approximation assumes independent pairs from a bivariate normal
 * distribution; it is good from n ≈ 10 and reasonable down to the minimum of n = 4 enforced here. `n` may be
 * fractional (an effective sample size).
 */
export function fisherInference(r: number, n: number): FisherInference {
  if (!(n >= 4)) {
    throw new CorrelationError('TOO_FEW_POINTS', `A Fisher-z confidence interval needs n >= 4, got ${n}`);
  }
  if (!(r >= -1 && r <= 1)) throw new CorrelationError('INVALID_ARGUMENT', `r must lie in [-1, 1], got ${r}`);
  if (Math.abs(r) === 1) return { ci95: [r, r], pValue: 0 };
  const z = Math.atanh(r);
  const se = 1 / Math.sqrt(n - 3);
  return {
    ci95: [Math.tanh(z - Z_975 * se), Math.tanh(z + Z_975 * se)],
    pValue: Math.min(1, 2 * normalUpperTail(Math.abs(z) / se)),
  };
}

/** Ordinary least-squares line y = intercept + slope·x. */
export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
}

/** Least-squares fit of y on x, from centred sums (stable for large offsets). */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>): LinearFit {
  checkPaired(x, y);
  if (x.length < 2 || isConstant(x)) {
    throw new CorrelationError(
      'CONSTANT_SERIES',
      'A least-squares slope needs at least two distinct x values',
    );
  }
  const m = centeredMoments(x, y);
  const slope = m.sxy / m.sxx;
  return { slope, intercept: m.meanY - slope * m.meanX };
}

/**
 * Lag-1 autocorrelation of a series sampled on a regular grid (the usual estimator: lag-1 centred
 * cross-products over the full-sample sum of squares). Non-finite values are gaps: they are left out of the mean
 * and of every product, so a gap never pairs two points that are not neighbours. Returns 0 for fewer than 3
 * finite values or a constant series.
 */
export function lag1Autocorrelation(values: ArrayLike<number>): number {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  if (finite.length < 3 || isConstant(finite)) return 0;
  const m = mean(finite);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    const d = values[i] - m;
    denominator += d * d;
    if (i > 0 && Number.isFinite(values[i - 1])) numerator += d * (values[i - 1] - m);
  }
  return numerator / denominator;
}

/**
 * Effective number of independent pairs for the correlation of two autocorrelated series, with the AR(1)
 * approximation of Bartlett (1935): n·(1 − ρx·ρy)/(1 + ρx·ρy), where ρ are the lag-1 autocorrelations. Metrics
 * sampled every few minutes are strongly autocorrelated, so the plain Fisher p-value overstates significance.
 * `x` and `y` are on a common grid and may contain NaN gaps; n counts the grid points where both are finite.
 * Clamped to [min(n, 4), n].
 */
export function effectiveSampleSize(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  const maskedX: number[] = [];
  const maskedY: number[] = [];
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const both = Number.isFinite(x[i]) && Number.isFinite(y[i]);
    if (both) n++;
    maskedX.push(both ? x[i] : NaN);
    maskedY.push(both ? y[i] : NaN);
  }
  const product = lag1Autocorrelation(maskedX) * lag1Autocorrelation(maskedY);
  const nEff = (n * (1 - product)) / (1 + product);
  return Math.max(Math.min(n, 4), Math.min(n, nEff));
}

/** Correlation of x(t) with y(t + lag·step) for one lag. */
export interface LaggedCorrelation {
  /** In steps; positive means y follows x. */
  readonly lag: number;
  /** Pairs that overlap at this lag (both values present and finite). */
  readonly n: number;
  /** Pearson r over those pairs, or null when fewer than `minSamples` pairs or a constant subset. */
  readonly r: number | null;
}

/**
 * Cross-correlation of two series on a common regular grid, for lags −maxLag..+maxLag.
 *
 * Sign convention: at lag k the pairs are (x[t], y[t + k]). A positive lag therefore means **y follows x**
 * (with x technical and y business: the business metric moves k steps after the technical one). Each lag is a
 * full Pearson r over its own overlapping pairs (not the biased ACF estimator), so values are comparable to the
 * lag-0 r. `x` and `y` may hold NaN for missing grid points; those pairs are skipped.
 */
export function crossCorrelation(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxLag: number,
  minSamples = 3,
): LaggedCorrelation[] {
  checkPaired(x, y);
  if (!Number.isInteger(maxLag) || maxLag < 0) {
    throw new CorrelationError('INVALID_ARGUMENT', `maxLag must be a non-negative integer, got ${maxLag}`);
  }
  const result: LaggedCorrelation[] = [];
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let t = Math.max(0, -lag); t < x.length && t + lag < y.length; t++) {
      const a = x[t];
      const b = y[t + lag];
      if (Number.isFinite(a) && Number.isFinite(b)) {
        xs.push(a);
        ys.push(b);
      }
    }
    let r: number | null = null;
    if (xs.length >= Math.max(2, minSamples) && !isConstant(xs) && !isConstant(ys)) r = pearson(xs, ys);
    result.push({ lag, n: xs.length, r });
  }
  return result;
}

/**
 * The lag with the largest |r| in a cross-correlation. Ties (within 1e-12) go to the smallest |lag|, then to
 * the positive lag, so an unlagged relationship is reported as lag 0. Returns undefined when no lag has an r.
 */
export function strongestLag(correlations: readonly LaggedCorrelation[]): LaggedCorrelation | undefined {
  let best: LaggedCorrelation | undefined;
  for (const candidate of correlations) {
    if (candidate.r === null) continue;
    if (best === undefined || best.r === null) {
      best = candidate;
      continue;
    }
    const difference = Math.abs(candidate.r) - Math.abs(best.r);
    if (
      difference > 1e-12 ||
      (Math.abs(difference) <= 1e-12 &&
        (Math.abs(candidate.lag) < Math.abs(best.lag) ||
          (Math.abs(candidate.lag) === Math.abs(best.lag) && candidate.lag > best.lag)))
    ) {
      best = candidate;
    }
  }
  return best;
}

/**
 * The 97.5th percentile of Student's t distribution with `df` degrees of freedom (for 95% intervals), solved from the
 * distribution's own tail (the regularized incomplete beta function): exact to the tables' digits at every df
 * (12.7062 at 1, 2.5706 at 5, 1.9623 at 1000). `df` may be fractional (an effective size - 2). A normal-quantile
 * expansion was used before: it read 9.71 at df = 1 and was still 0.1% low at 5.
 */
export function studentT975(df: number): number {
  if (!(df >= 1))
    throw new CorrelationError('INVALID_ARGUMENT', `degrees of freedom must be >= 1, got ${df}`);
  return tQuantileByTail(df, 0.025);
}

/** The t with P(T > t) = `tail` for `df` degrees of freedom, by bisection on the exact tail (below 50%). */
function tQuantileByTail(df: number, tail: number): number {
  let low = 0;
  let high = 1;
  while (studentTail(high, df) > tail) high *= 2;
  for (let i = 0; i < 100 && high - low > 1e-12 * high; i++) {
    const mid = (low + high) / 2;
    if (studentTail(mid, df) > tail) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** P(T > t) for t >= 0: half the regularized incomplete beta I_x(df/2, 1/2) at x = df / (df + t²). */
function studentTail(t: number, df: number): number {
  return regularizedBeta(df / (df + t * t), df / 2, 0.5) / 2;
}

/** I_x(a, b) by its continued fraction (Lentz's method), on the side where it converges fast. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
  return (front * betaContinuedFraction(x, a, b)) / a;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const numerator of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** ln Γ(z) for z > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
function logGamma(z: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const w = z - 1;
  let sum = g[0];
  for (let i = 1; i < 9; i++) sum += g[i] / (w + i);
  const t = w + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** A least-squares slope with its 95% confidence interval. */
export interface SlopeInference extends LinearFit {
  /** Standard error of the slope, widened for autocorrelation (× √(n / effective n)). */
  readonly standardError: number;
  readonly ci95: readonly [number, number];
  /** Degrees of freedom of the t quantile: effective n − 2. */
  readonly degreesOfFreedom: number;
}

/**
 * The least-squares slope of y on x with a 95% confidence interval: standard error √(SSE / (n − 2) / Sxx), widened
 * by √(n / effectiveN) for autocorrelated series (an effective sample size from {@link effectiveSampleSize}) and a
 * Student t quantile with effectiveN − 2 degrees of freedom. Needs effectiveN > 3.
 */
export function slopeInference(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  effectiveN: number = x.length,
): SlopeInference {
  const fit = linearFit(x, y);
  const n = x.length;
  if (!(n >= 3 && effectiveN > 3)) {
    throw new CorrelationError(
      'TOO_FEW_POINTS',
      `A slope interval needs more than 3 independent pairs (n = ${n}, effective n = ${effectiveN})`,
    );
  }
  const m = centeredMoments(x, y);
  const residual = Math.max(0, m.syy - fit.slope * m.sxy);
  const standardError = Math.sqrt(residual / (n - 2) / m.sxx) * Math.sqrt(n / Math.min(n, effectiveN));
  const degreesOfFreedom = Math.min(n, effectiveN) - 2;
  const half = studentT975(degreesOfFreedom) * standardError;
  return { ...fit, standardError, ci95: [fit.slope - half, fit.slope + half], degreesOfFreedom };
}
