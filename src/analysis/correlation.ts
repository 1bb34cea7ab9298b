/**
 * The correlation report for two aligned series: statistics, strength band, lag search and the plain-language
 * sentences. Works on in-memory samples, so it is usable without Prometheus (and testable exactly).
 *
 * Owns: what a report contains and how it is worded. Must not touch: the network, the filesystem.
 * Wording rule: this module describes co-movement ("goes with", "correlation"), never cause or "impact".
 */
import { alignOnGrid, type AlignedSeries, type Sample, type SeriesAccounting } from './align';
import { formatDuration } from './duration';
import { CorrelationError } from './errors';
import {
  crossCorrelation,
  effectiveSampleSize,
  fisherInference,
  linearFit,
  pearson,
  slopeInference,
  spearman,
  strongestLag,
  type LaggedCorrelation,
} from './statistics';

/** The seed's strength bands on |r|: above 0.7 strong, above 0.4 moderate, otherwise weak. */
export type CorrelationStrength = 'strong' | 'moderate' | 'weak';

/** Classify |r| with the seed's bands (strictly greater than 0.7 / 0.4). */
export function correlationStrength(r: number): CorrelationStrength {
  const magnitude = Math.abs(r);
  if (magnitude > 0.7) return 'strong';
  if (magnitude > 0.4) return 'moderate';
  return 'weak';
}

/** How one side of the analysis is named and displayed. */
export interface MetricPresentation {
  /** Short human name for sentences and plot axes (default: the PromQL expression, or "technical"/"business"). */
  name?: string;
  /** Display unit after scaling, e.g. `ms` or `percentage points`. Default: none. */
  unit?: string;
  /** Multiply raw values by this for display, e.g. 1000 for seconds -> ms, 100 for ratio -> percent. Default 1. */
  scale?: number;
}

/** Options of the in-memory analysis. */
export interface CorrelationOptions {
  /** Grid step in seconds; both series must be sampled on it (Prometheus range queries are). */
  step: number;
  /** Grid anchor in seconds (default: earliest sample). */
  gridStart?: number;
  /** Fewest aligned pairs for a report at all. Default 10; must be at least 4 (Fisher z needs n - 3 > 0). */
  minSamples?: number;
  /** Lag search window in steps, ±maxLag. Default 12; 0 disables the search. */
  maxLag?: number;
  technical?: MetricPresentation;
  business?: MetricPresentation;
  /**
   * Technical change the slope sentence talks about, in technical display units (after `scale`), e.g. 100 for
   * "+100 ms". Default: one standard deviation of the technical series, rounded to 1, 2 or 5 × 10^k.
   */
  sentenceStep?: number;
}

/** Everything known about one side after the analysis. */
export interface SeriesSummary {
  readonly name: string;
  readonly unit: string;
  readonly scale: number;
  /** PromQL expression, when the data came from Prometheus. */
  readonly expression?: string;
  /** Labels of the single series the expression returned, when the data came from Prometheus. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly accounting: SeriesAccounting;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly standardDeviation: number;
}

/** Lag search result. Positive lag: the business series follows the technical one. */
export interface LagSummary {
  /** Window searched, ±maxLag steps. */
  readonly maxLag: number;
  /** Lag of the largest |r|, in steps (positive: business follows technical). */
  readonly steps: number;
  /** Same lag in seconds. */
  readonly seconds: number;
  readonly r: number;
  readonly n: number;
  /** Least-squares fit of business(t + lag) on technical(t), raw units. */
  readonly fit: { readonly slope: number; readonly intercept: number };
  /** r for every lag in the window (null where too few pairs overlap). */
  readonly crossCorrelation: readonly LaggedCorrelation[];
}

/**
 * The effect size in business units: how much the business series changes per `per` of the technical one, at the
 * lag where business follows technical most strongly, with a 95% confidence interval; or why it is not stated.
 */
export interface EffectSize {
  /** False when the data cannot support a figure (see `reason`). */
  readonly stated: boolean;
  /** The technical change the figure is for, in technical display units (`sentenceStep`, e.g. 100 for +100 ms). */
  readonly per: number;
  /** Lag (steps, >= 0: business at t + lag) and the same in seconds. */
  readonly lagSteps: number;
  readonly lagSeconds: number;
  /** Pearson r at that lag. */
  readonly r: number;
  /** Pairs at that lag, and the autocorrelation-adjusted number of independent ones. */
  readonly n: number;
  readonly effectiveN: number;
  /** The business change per `per`, in business display units (NaN when not stated). */
  readonly change: number;
  /** Its 95% confidence interval, in business display units ([NaN, NaN] when not stated). */
  readonly ci95: readonly [number, number];
  /** Why no figure is stated (undefined when stated). */
  readonly reason?: string;
  /** The figure as a sentence, or the refusal. */
  readonly sentence: string;
}

/** Fewest independent pairs (autocorrelation-adjusted) for an effect size to be stated. */
export const MIN_EFFECT_EFFECTIVE_N = 10;

/** The full result of a correlation analysis. */
export interface CorrelationResult {
  /** Aligned pairs used for the lag-0 statistics. */
  readonly n: number;
  readonly step: number;
  /** First and last aligned timestamp (seconds since the epoch). */
  readonly from: number;
  readonly to: number;
  readonly technical: SeriesSummary;
  readonly business: SeriesSummary;
  readonly pearson: {
    readonly r: number;
    readonly ci95: readonly [number, number];
    /** Two-sided, Fisher z, assuming independent pairs. */
    readonly pValue: number;
  };
  readonly spearman: { readonly rho: number };
  /**
   * The same inference with n replaced by the effective sample size under lag-1 autocorrelation (Bartlett).
   * Closer to honest for time series, whose neighbouring points are not independent.
   */
  readonly autocorrelationAdjusted: {
    readonly effectiveN: number;
    readonly ci95: readonly [number, number];
    readonly pValue: number;
  };
  readonly strength: CorrelationStrength;
  readonly direction: 'positive' | 'negative' | 'none';
  /** Least-squares fit business = intercept + slope · technical, in the metrics' raw units. */
  readonly fit: { readonly slope: number; readonly intercept: number };
  /** Lag search; undefined when maxLag is 0. */
  readonly lag?: LagSummary;
  /** One-line plain-language summary. */
  readonly summary: string;
  /** The slope as a sentence in display units, e.g. "+100 ms of p99 latency goes with -0.4 percentage points ...". */
  readonly slopeSentence: string;
  /** The lag as a sentence, when searched. */
  readonly lagSentence?: string;
  /** The effect size in business units, with its interval and lag, or why the data cannot support it. */
  readonly effect: EffectSize;
  /** Caveats worth showing (few points, dropped samples, Prometheus warnings). */
  readonly warnings: readonly string[];
  /** The aligned data, for plotting. */
  readonly aligned: AlignedSeries;
}

/** Format with `digits` significant digits, without exponent notation for everyday magnitudes. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e15) {
    const rounded = Number(value.toPrecision(digits));
    return rounded.toLocaleString('en-US', { maximumFractionDigits: 20, useGrouping: false });
  }
  return value.toExponential(digits - 1);
}

function signed(value: number, digits = 3): string {
  const text = formatNumber(value, digits);
  return value > 0 ? `+${text}` : text;
}

/** Round to 1, 2 or 5 × 10^k, for default sentence steps and axis ticks. */
export function niceNumber(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const exponent = Math.floor(Math.log10(value));
  const fraction = value / 10 ** exponent;
  const nice = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10;
  return Number((nice * 10 ** exponent).toPrecision(12));
}

function formatPValue(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${formatNumber(p, 2)}`;
}

function quantity(value: number, unit: string, name: string): string {
  return unit ? `${signed(value)} ${unit} of ${name}` : `${signed(value)} in ${name}`;
}

function describeSeries(
  values: readonly number[],
  presentation: Required<Pick<MetricPresentation, 'name' | 'unit' | 'scale'>>,
  accounting: SeriesAccounting,
): SeriesSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return {
    ...presentation,
    accounting,
    mean,
    min,
    max,
    standardDeviation: Math.sqrt(squares / Math.max(1, values.length - 1)),
  };
}

/** Default minimum number of aligned pairs for a report. */
export const DEFAULT_MIN_SAMPLES = 10;
/** Default lag window, in steps. */
export const DEFAULT_MAX_LAG = 12;

/**
 * Check the analysis options without touching data, so a caller can fail fast before querying Prometheus.
 * Throws `INVALID_ARGUMENT`.
 */
export function validateCorrelationOptions(options: Omit<CorrelationOptions, 'step'>): void {
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
  if (!Number.isInteger(minSamples) || minSamples < 4) {
    throw new CorrelationError('INVALID_ARGUMENT', `minSamples must be an integer >= 4, got ${minSamples}`);
  }
  if (!Number.isInteger(maxLag) || maxLag < 0) {
    throw new CorrelationError('INVALID_ARGUMENT', `maxLag must be a non-negative integer, got ${maxLag}`);
  }
  for (const [side, presentation] of [
    ['technical', options.technical],
    ['business', options.business],
  ] as const) {
    const scale = presentation?.scale;
    if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
      throw new CorrelationError(
        'INVALID_ARGUMENT',
        `The ${side} display scale must be a positive number, got ${scale}`,
      );
    }
  }
  const step = options.sentenceStep;
  if (step !== undefined && !(Number.isFinite(step) && step !== 0)) {
    throw new CorrelationError('INVALID_ARGUMENT', `sentenceStep must be a non-zero number, got ${step}`);
  }
}

/**
 * Correlate two in-memory series sampled on a common step grid. Throws `TOO_FEW_POINTS` below `minSamples`
 * aligned pairs and `CONSTANT_SERIES` when either aligned series has zero variance.
 */
export function correlateSeries(
  technicalSamples: readonly Sample[],
  businessSamples: readonly Sample[],
  options: CorrelationOptions,
): CorrelationResult {
  validateCorrelationOptions(options);
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
  const aligned = alignOnGrid(technicalSamples, businessSamples, options.step, options.gridStart);
  const technicalPresentation = {
    name: options.technical?.name ?? 'technical',
    unit: options.technical?.unit ?? '',
    scale: options.technical?.scale ?? 1,
  };
  const businessPresentation = {
    name: options.business?.name ?? 'business',
    unit: options.business?.unit ?? '',
    scale: options.business?.scale ?? 1,
  };
  const n = aligned.timestamps.length;
  if (n < minSamples) {
    const { technical: t, business: b } = aligned.accounting;
    throw new CorrelationError(
      'TOO_FEW_POINTS',
      `Only ${n} aligned point${n === 1 ? '' : 's'} (need at least ${minSamples}): ` +
        `${technicalPresentation.name} had ${t.received - t.nonFinite} finite samples (${t.nonFinite} NaN/Inf), ` +
        `${businessPresentation.name} had ${b.received - b.nonFinite} (${b.nonFinite} NaN/Inf), and only ${n} ` +
        `share a timestamp. Widen the range or check that both expressions return data over it.`,
    );
  }
  for (const [values, name] of [
    [aligned.technical, technicalPresentation.name],
    [aligned.business, businessPresentation.name],
  ] as const) {
    if (values.every((v) => v === values[0])) {
      throw new CorrelationError(
        'CONSTANT_SERIES',
        `${name} is constant (${formatNumber(values[0], 6)} at all ${n} aligned points): a correlation is undefined ` +
          `for a series that does not vary. Check the expression (e.g. a counter without rate()) or the range.`,
      );
    }
  }
  const r = pearson(aligned.technical, aligned.business);
  const rho = spearman(aligned.technical, aligned.business);
  const inference = fisherInference(r, n);
  // On the grid, not on the packed pairs: a gap must not make two distant points look like neighbours.
  const effectiveN = effectiveSampleSize(aligned.technicalGrid, aligned.businessGrid);
  const adjusted = fisherInference(r, effectiveN);
  const fit = linearFit(aligned.technical, aligned.business);
  const technical = describeSeries(aligned.technical, technicalPresentation, aligned.accounting.technical);
  const business = describeSeries(aligned.business, businessPresentation, aligned.accounting.business);
  const strength = correlationStrength(r);
  const direction = r > 0 ? 'positive' : r < 0 ? 'negative' : 'none';

  const sentenceStep =
    options.sentenceStep ?? niceNumber(technical.standardDeviation * Math.abs(technicalPresentation.scale));
  const slopeWords = (slope: number, later: string) =>
    `${quantity(sentenceStep, technicalPresentation.unit, technicalPresentation.name)} goes with ` +
    `${quantity(slope * (sentenceStep / technicalPresentation.scale) * businessPresentation.scale, businessPresentation.unit, businessPresentation.name)}${later}`;
  const slopeSentence = `${slopeWords(fit.slope, '')} (least-squares slope over ${n} points)`;

  let lag: LagSummary | undefined;
  let lagSentence: string | undefined;
  if (maxLag > 0) {
    const correlations = crossCorrelation(aligned.technicalGrid, aligned.businessGrid, maxLag, minSamples);
    const best = strongestLag(correlations);
    if (best && best.r !== null) {
      const laggedTechnical: number[] = [];
      const laggedBusiness: number[] = [];
      for (let t = Math.max(0, -best.lag); t < aligned.gridPoints && t + best.lag < aligned.gridPoints; t++) {
        const a = aligned.technicalGrid[t];
        const b = aligned.businessGrid[t + best.lag];
        if (Number.isFinite(a) && Number.isFinite(b)) {
          laggedTechnical.push(a);
          laggedBusiness.push(b);
        }
      }
      const laggedFit = linearFit(laggedTechnical, laggedBusiness);
      lag = {
        maxLag,
        steps: best.lag,
        seconds: best.lag * options.step,
        r: best.r,
        n: best.n,
        fit: laggedFit,
        crossCorrelation: correlations,
      };
      const window = `within ±${maxLag} steps (±${formatDuration(maxLag * options.step)})`;
      if (best.lag === 0) {
        lagSentence = `The strongest cross-correlation ${window} is at lag 0 (r = ${formatNumber(best.r, 2)}): the series move together.`;
      } else {
        const follower = best.lag > 0 ? businessPresentation.name : technicalPresentation.name;
        const leader = best.lag > 0 ? technicalPresentation.name : businessPresentation.name;
        lagSentence =
          `The strongest cross-correlation ${window} is at lag ${best.lag > 0 ? '+' : ''}${best.lag} steps ` +
          `(r = ${formatNumber(best.r, 2)}, n = ${best.n}): ${follower} follows ${leader} by ` +
          `${formatDuration(Math.abs(best.lag) * options.step)}. At that lag, ` +
          `${slopeWords(laggedFit.slope, best.lag > 0 ? ` ${formatDuration(best.lag * options.step)} later` : ` ${formatDuration(-best.lag * options.step)} earlier`)}.`;
      }
    }
  }

  const effect = effectSize({
    aligned,
    step: options.step,
    maxLag,
    minSamples,
    correlations: lag?.crossCorrelation,
    per: sentenceStep,
    technical: technicalPresentation,
    business: businessPresentation,
  });

  const band = strength === 'weak' ? 'Weak' : strength === 'strong' ? 'Strong' : 'Moderate';
  const significance = inference.pValue >= 0.05 ? '; not distinguishable from zero at the 5% level' : '';
  const summary =
    `${band} ${direction === 'none' ? '' : `${direction} `}correlation between ${technicalPresentation.name} and ` +
    `${businessPresentation.name}: Pearson r = ${formatNumber(r, 2)} (95% CI ${formatNumber(inference.ci95[0], 2)} ` +
    `to ${formatNumber(inference.ci95[1], 2)}, ${formatPValue(inference.pValue)}, n = ${n})${significance}.` +
    (lag && lag.steps !== 0 && Math.abs(lag.r) > Math.abs(r) + 0.1
      ? ` Stronger with a lag: ${correlationStrength(lag.r)} (r = ${formatNumber(lag.r, 2)}) with ` +
        `${lag.steps > 0 ? businessPresentation.name : technicalPresentation.name} ` +
        `${formatDuration(Math.abs(lag.seconds))} later.`
      : '');

  const warnings: string[] = [];
  if (n < 30)
    warnings.push(`Only ${n} aligned points: the interval is wide and the Fisher-z approximation rough.`);
  for (const [side, name] of [
    [technical, technicalPresentation.name],
    [business, businessPresentation.name],
  ] as const) {
    const a = side.accounting;
    if (a.nonFinite > 0) warnings.push(`${name}: ${a.nonFinite} NaN/Inf sample(s) ignored.`);
    if (a.offGrid > 0)
      warnings.push(`${name}: ${a.offGrid} sample(s) off the ${formatDuration(options.step)} grid ignored.`);
    if (a.unmatched > 0)
      warnings.push(`${name}: ${a.unmatched} sample(s) without a partner at the same timestamp.`);
  }
  if (effectiveN < n / 2) {
    warnings.push(
      `Both series are autocorrelated: the ${n} points carry about as much evidence as ${Math.round(effectiveN)} ` +
        `independent ones (adjusted ${formatPValue(adjusted.pValue)}).`,
    );
  }
  if (Math.abs(rho - r) > 0.3) {
    warnings.push(
      `Pearson r and Spearman rho disagree (${formatNumber(r, 2)} vs ${formatNumber(rho, 2)}): outliers (an incident?) or a non-linear relationship; look at the scatter plot.`,
    );
  }

  return {
    n,
    step: options.step,
    from: aligned.timestamps[0],
    to: aligned.timestamps[n - 1],
    technical,
    business,
    pearson: { r, ci95: inference.ci95, pValue: inference.pValue },
    spearman: { rho },
    autocorrelationAdjusted: { effectiveN, ci95: adjusted.ci95, pValue: adjusted.pValue },
    strength,
    direction,
    fit,
    lag,
    summary,
    slopeSentence,
    lagSentence,
    effect,
    warnings,
    aligned,
  };
}

/** The technical and business values `lag` steps apart on the grid (NaN gaps kept, for the effective size). */
function laggedGrid(aligned: AlignedSeries, lag: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let t = 0; t + lag < aligned.gridPoints; t++) {
    x.push(aligned.technicalGrid[t]);
    y.push(aligned.businessGrid[t + lag]);
  }
  return { x, y };
}

/**
 * The effect size at the non-negative lag with the strongest correlation (business cannot answer a latency it has
 * not seen yet, so a negative lag is no effect of technical on business). Refused when the data cannot support
 * it: too few independent pairs, a change larger than the technical series ever moved (an extrapolation), or an
 * interval that includes no change at all.
 */
function effectSize(args: {
  aligned: AlignedSeries;
  step: number;
  maxLag: number;
  minSamples: number;
  correlations: readonly LaggedCorrelation[] | undefined;
  per: number;
  technical: Required<Pick<MetricPresentation, 'name' | 'unit' | 'scale'>>;
  business: Required<Pick<MetricPresentation, 'name' | 'unit' | 'scale'>>;
}): EffectSize {
  const { aligned, step, per, technical, business } = args;
  const candidates = (args.correlations ?? []).filter((c) => c.lag >= 0 && c.r !== null);
  const best = strongestLag(candidates) ?? { lag: 0 };
  const lagSteps = best.lag;
  const lagSeconds = lagSteps * step;
  const grid = laggedGrid(aligned, lagSteps);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < grid.x.length; i++) {
    if (Number.isFinite(grid.x[i]) && Number.isFinite(grid.y[i])) {
      xs.push(grid.x[i]);
      ys.push(grid.y[i]);
    }
  }
  const when = lagSteps > 0 ? ` ${formatDuration(lagSeconds)} later` : ' at the same time';
  const perText = quantity(per, technical.unit, technical.name);
  const base = { per, lagSteps, lagSeconds, n: xs.length };
  const refuse = (reason: string, r: number, effectiveN: number): EffectSize => ({
    ...base,
    stated: false,
    r,
    effectiveN,
    change: Number.NaN,
    ci95: [Number.NaN, Number.NaN],
    reason,
    sentence: `Effect of ${perText} on ${business.name} not stated: ${reason}.`,
  });
  if (
    xs.length < Math.max(4, args.minSamples) ||
    xs.every((v) => v === xs[0]) ||
    ys.every((v) => v === ys[0])
  ) {
    return refuse(`only ${xs.length} usable pairs at lag ${lagSteps}`, Number.NaN, xs.length);
  }
  const r = pearson(xs, ys);
  const effectiveN = effectiveSampleSize(grid.x, grid.y);
  if (effectiveN < MIN_EFFECT_EFFECTIVE_N) {
    return refuse(
      `the ${xs.length} pairs carry about as much evidence as ${Math.round(effectiveN)} independent ones ` +
        `(autocorrelation); at least ${MIN_EFFECT_EFFECTIVE_N} are needed`,
      r,
      effectiveN,
    );
  }
  let low = Infinity;
  let high = -Infinity;
  for (const v of xs) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const spanned = (high - low) * technical.scale;
  if (spanned < Math.abs(per)) {
    return refuse(
      `${technical.name} only varied by ${formatNumber(spanned)}${technical.unit ? ` ${technical.unit}` : ''} over ` +
        `the window, so ${perText} would be an extrapolation`,
      r,
      effectiveN,
    );
  }
  const inference = slopeInference(xs, ys, effectiveN);
  const toDisplay = (slope: number) => slope * (per / technical.scale) * business.scale;
  const bounds = [toDisplay(inference.ci95[0]), toDisplay(inference.ci95[1])].sort((a, b) => a - b);
  const ci95: readonly [number, number] = [bounds[0], bounds[1]];
  if (ci95[0] <= 0 && ci95[1] >= 0) {
    return refuse(
      `its 95% interval (${formatNumber(ci95[0])} to ${formatNumber(ci95[1])}${business.unit ? ` ${business.unit}` : ''}) ` +
        `includes no change at all (r = ${formatNumber(r, 2)} at lag ${lagSteps}, effective n ≈ ${Math.round(effectiveN)})`,
      r,
      effectiveN,
    );
  }
  const change = toDisplay(inference.slope);
  return {
    ...base,
    stated: true,
    r,
    effectiveN,
    change,
    ci95,
    sentence:
      `${perText} goes with ${quantity(change, business.unit, business.name)}${when} ` +
      `(95% CI ${formatNumber(ci95[0])} to ${formatNumber(ci95[1])}; lag ${lagSteps > 0 ? '+' : ''}${lagSteps} ` +
      `step${Math.abs(lagSteps) === 1 ? '' : 's'}, r = ${formatNumber(r, 2)}, n = ${xs.length}, ` +
      `effective n ≈ ${Math.round(effectiveN)})`,
  };
}

/** A multi-line plain-text report of a result, as the CLI prints it. */
export function formatReport(result: CorrelationResult): string {
  const lines: string[] = [];
  const t = result.technical;
  const b = result.business;
  lines.push(result.summary, '');
  lines.push(`  technical  ${t.name}${t.expression && t.expression !== t.name ? `  [${t.expression}]` : ''}`);
  lines.push(`  business   ${b.name}${b.expression && b.expression !== b.name ? `  [${b.expression}]` : ''}`);
  lines.push(
    `  window     ${new Date(result.from * 1000).toISOString()} .. ${new Date(result.to * 1000).toISOString()}, ` +
      `step ${formatDuration(result.step)}, ${result.n} aligned points`,
  );
  lines.push('');
  lines.push(
    `  Pearson r      ${formatNumber(result.pearson.r, 3)}  (95% CI ${formatNumber(result.pearson.ci95[0], 3)} .. ` +
      `${formatNumber(result.pearson.ci95[1], 3)}, ${formatPValue(result.pearson.pValue)})`,
  );
  lines.push(`  Spearman rho   ${formatNumber(result.spearman.rho, 3)}`);
  const adjusted = result.autocorrelationAdjusted;
  lines.push(
    `  autocorrelation-adjusted: effective n ~ ${Math.round(adjusted.effectiveN)}, 95% CI ` +
      `${formatNumber(adjusted.ci95[0], 3)} .. ${formatNumber(adjusted.ci95[1], 3)}, ${formatPValue(adjusted.pValue)}`,
  );
  const slope = result.fit.slope;
  lines.push(
    `  fit            ${b.name} = ${formatNumber(result.fit.intercept, 4)} ${slope < 0 ? '-' : '+'} ` +
      `${formatNumber(Math.abs(slope), 4)} × ${t.name}  (raw units)`,
  );
  lines.push(`  ${result.slopeSentence}.`);
  if (result.lagSentence) lines.push(`  ${result.lagSentence}`);
  lines.push(
    `  effect size    ${result.effect.stated ? `${result.effect.sentence}.` : result.effect.sentence}`,
  );
  lines.push('');
  for (const warning of result.warnings) lines.push(`  note: ${warning}`);
  lines.push(
    '  Correlation is not causation: a shared cause (traffic, time of day, a deploy) can move both series.',
  );
  return lines.join('\n');
}

/** The JSON shape of a result (what `--json` prints): everything except the aligned arrays, times in ISO 8601. */
export interface CorrelationResultJson {
  n: number;
  step: number;
  from: string;
  to: string;
  technical: Omit<SeriesSummary, 'accounting'> & { accounting: SeriesAccounting };
  business: Omit<SeriesSummary, 'accounting'> & { accounting: SeriesAccounting };
  pearson: { r: number; ci95: [number, number]; pValue: number };
  spearman: { rho: number };
  autocorrelationAdjusted: { effectiveN: number; ci95: [number, number]; pValue: number };
  strength: CorrelationStrength;
  direction: 'positive' | 'negative' | 'none';
  fit: { slope: number; intercept: number };
  lag: (Omit<LagSummary, 'crossCorrelation'> & { crossCorrelation: LaggedCorrelation[] }) | null;
  summary: string;
  slopeSentence: string;
  lagSentence: string | null;
  effect: Omit<EffectSize, 'change' | 'ci95'> & { change: number | null; ci95: [number, number] | null };
  warnings: string[];
}

/** Plain JSON-safe object for a result (drops the aligned arrays; use `result.aligned` for data). */
export function correlationResultToJson(result: CorrelationResult): CorrelationResultJson {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  return {
    n: result.n,
    step: result.step,
    from: iso(result.from),
    to: iso(result.to),
    technical: { ...result.technical },
    business: { ...result.business },
    pearson: { r: result.pearson.r, ci95: [...result.pearson.ci95], pValue: result.pearson.pValue },
    spearman: { rho: result.spearman.rho },
    autocorrelationAdjusted: {
      effectiveN: result.autocorrelationAdjusted.effectiveN,
      ci95: [...result.autocorrelationAdjusted.ci95],
      pValue: result.autocorrelationAdjusted.pValue,
    },
    strength: result.strength,
    direction: result.direction,
    fit: { ...result.fit },
    lag: result.lag ? { ...result.lag, crossCorrelation: [...result.lag.crossCorrelation] } : null,
    summary: result.summary,
    slopeSentence: result.slopeSentence,
    lagSentence: result.lagSentence ?? null,
    // JSON has no NaN: a refused effect has null figures.
    effect: {
      ...result.effect,
      change: result.effect.stated ? result.effect.change : null,
      ci95: result.effect.stated ? [result.effect.ci95[0], result.effect.ci95[1]] : null,
    },
    warnings: [...result.warnings],
  };
}
