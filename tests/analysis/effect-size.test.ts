/**
 * The effect size in business units: "+100 ms of p95 goes with -0.4 percentage points of conversion 10m later (95%
 * CI ...)". Checked against designed data whose true slope is known: the interval holds it, holds it in about 95% of
 * repeated draws (the autocorrelation adjustment keeps it honest), and the report refuses to state a figure when
 * the data cannot support one.
 */
import { correlateSeries, correlationResultToJson, formatReport } from '../../src/analysis/correlation';
import { slopeInference, studentT975 } from '../../src/analysis/statistics';
import { DEFAULT_DESIGN, designedPair, normalSource } from './synthetic';

const STEP = 300;
const T0 = 1_700_000_100;
const samples = (values: number[]) => values.map((value, i) => ({ timestamp: T0 + i * STEP, value }));
const presentation = {
  step: STEP,
  technical: { name: 'p95 latency', unit: 'ms', scale: 1000 },
  business: { name: 'conversion', unit: 'percentage points', scale: 100 },
  sentenceStep: 100,
};
/** The designed change: slopePerSecond × 0.1 s × 100 percentage points. */
const TRUE_CHANGE = DEFAULT_DESIGN.slopePerSecond * 0.1 * 100;

describe('effect size', () => {
  it('states the change per +100 ms at the lag where business follows, with an interval holding the truth', () => {
    const pair = designedPair();
    const result = correlateSeries(samples(pair.latency), samples(pair.conversion), presentation);
    const effect = result.effect;
    expect(effect.stated).toBe(true);
    expect(effect.lagSteps).toBe(DEFAULT_DESIGN.lag);
    expect(effect.lagSeconds).toBe(600);
    expect(effect.per).toBe(100);
    expect(effect.ci95[0]).toBeLessThan(TRUE_CHANGE);
    expect(effect.ci95[1]).toBeGreaterThan(TRUE_CHANGE);
    expect(effect.change).toBeGreaterThan(effect.ci95[0]);
    expect(effect.change).toBeLessThan(effect.ci95[1]);
    expect(effect.ci95[1] - effect.ci95[0]).toBeLessThan(0.25);
    expect(effect.effectiveN).toBeLessThan(effect.n);
    expect(effect.r).toBeCloseTo(result.lag!.r, 12);
    expect(effect.sentence).toMatch(
      /^\+100 ms of p95 latency goes with -0\.\d+ percentage points of conversion 10m later \(95% CI -0\.\d+ to -0\.\d+; lag \+2 steps, r = -0\.\d+, n = 862, effective n ≈ \d+\)$/,
    );
    expect(formatReport(result)).toContain(`  effect size    ${effect.sentence}.`);
    const json = JSON.parse(JSON.stringify(correlationResultToJson(result)));
    expect(json.effect).toMatchObject({ stated: true, lagSteps: 2, change: effect.change });
  });

  it('holds the true change in about 95% of repeated draws (the interval is not too narrow)', () => {
    let held = 0;
    const draws = 60;
    for (let seed = 1; seed <= draws; seed++) {
      const pair = designedPair({ ...DEFAULT_DESIGN, points: 288, seed, r: -0.4 });
      const { effect } = correlateSeries(samples(pair.latency), samples(pair.conversion), presentation);
      if (effect.stated && effect.ci95[0] <= TRUE_CHANGE && TRUE_CHANGE <= effect.ci95[1]) held++;
    }
    // Binomial(60, 0.95): below 52 happens in fewer than 1% of runs of a correct 95% interval.
    expect(held).toBeGreaterThanOrEqual(52);
  });

  it('refuses when the interval includes no change at all (unrelated series)', () => {
    const latency = designedPair().latency;
    const normal = normalSource(7);
    const unrelated = latency.map(() => 0.03 + 0.005 * normal());
    const { effect } = correlateSeries(samples(latency), samples(unrelated), presentation);
    expect(effect.stated).toBe(false);
    expect(effect.reason).toMatch(
      /its 95% interval \(-?[\d.]+ to -?[\d.]+ percentage points\) includes no change/,
    );
    expect(effect.sentence).toMatch(/^Effect of \+100 ms of p95 latency on conversion not stated: /);
    expect(Number.isNaN(effect.change)).toBe(true);
  });

  it('refuses to extrapolate beyond what the technical series spanned', () => {
    const pair = designedPair();
    const { effect } = correlateSeries(samples(pair.latency), samples(pair.conversion), {
      ...presentation,
      sentenceStep: 1000,
    });
    expect(effect.stated).toBe(false);
    expect(effect.reason).toMatch(
      /^p95 latency only varied by \d+ ms over the window, so \+1000 ms of p95 latency would be an extrapolation$/,
    );
    const json = JSON.parse(
      JSON.stringify(
        correlationResultToJson(
          correlateSeries(samples(pair.latency), samples(pair.conversion), {
            ...presentation,
            sentenceStep: 1000,
          }),
        ),
      ),
    );
    expect(json.effect).toMatchObject({ stated: false, change: null, ci95: null });
  });

  it('refuses when autocorrelation leaves too few independent pairs', () => {
    // Twelve points of two slow trends: strongly autocorrelated, so they say about as much as two or three.
    const latency = Array.from({ length: 12 }, (_, i) => 0.2 + 0.01 * i + 0.001 * Math.sin(i));
    const conversion = latency.map((v, i) => 0.05 - 0.1 * v + 0.0005 * Math.cos(3 * i));
    const { effect } = correlateSeries(samples(latency), samples(conversion), {
      ...presentation,
      maxLag: 0,
      sentenceStep: 10,
    });
    expect(effect.stated).toBe(false);
    expect(effect.reason).toMatch(
      /carry about as much evidence as \d+ independent ones \(autocorrelation\); at least 10/,
    );
  });

  it('never states an effect at a negative lag (business cannot follow what it has not seen)', () => {
    const pair = designedPair();
    // Swap the roles: now "technical" follows "business" by two steps, so the strongest lag is -2.
    const result = correlateSeries(samples(pair.conversion), samples(pair.latency), {
      step: STEP,
      sentenceStep: 0.001,
    });
    expect(result.lag!.steps).toBe(-2);
    expect(result.effect.lagSteps).toBeGreaterThanOrEqual(0);
  });
});

describe('statistics behind it', () => {
  it("Student's t quantile matches the tables", () => {
    // Two-sided 95%: t(0.975, df).
    for (const [df, exact] of [
      // From the exact tail: the normal-quantile expansion used before read 9.71, 4.17 and 3.159 for the first three.
      [1, 12.706205],
      [2, 4.302653],
      [3, 3.182446],
      [4, 2.776445],
      [5, 2.570582],
      [10, 2.228139],
      [30, 2.042272],
      [1000, 1.962339],
    ]) {
      expect(Math.abs(studentT975(df) - exact) / exact).toBeLessThan(0.002);
    }
    // Exact to the tables' six decimals, and a fractional df falls between its neighbours.
    expect(studentT975(1)).toBeCloseTo(12.706205, 5);
    expect(studentT975(3)).toBeCloseTo(3.182446, 5);
    expect(studentT975(30)).toBeCloseTo(2.042272, 5);
    expect(studentT975(1.5)).toBeLessThan(studentT975(1));
    expect(studentT975(1.5)).toBeGreaterThan(studentT975(2));
  });

  it('gives the textbook interval for independent pairs, and a wider one for fewer effective pairs', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const y = [2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.2, 19.9];
    const plain = slopeInference(x, y);
    // Reference: slope, SSE and Sxx by hand (numpy polyfit + scipy t.ppf(0.975, 8) = 2.306004).
    const meanX = 5.5;
    const meanY = y.reduce((a, b) => a + b) / 10;
    const sxx = x.reduce((s, v) => s + (v - meanX) ** 2, 0);
    const slope = x.reduce((s, v, i) => s + (v - meanX) * (y[i] - meanY), 0) / sxx;
    const sse = y.reduce((s, v, i) => s + (v - (meanY + slope * (x[i] - meanX))) ** 2, 0);
    const se = Math.sqrt(sse / 8 / sxx);
    expect(plain.slope).toBeCloseTo(slope, 12);
    expect(plain.standardError).toBeCloseTo(se, 12);
    expect(plain.ci95[0]).toBeCloseTo(slope - 2.306004 * se, 2);
    const adjusted = slopeInference(x, y, 5);
    expect(adjusted.ci95[1] - adjusted.ci95[0]).toBeGreaterThan(plain.ci95[1] - plain.ci95[0]);
    expect(adjusted.degreesOfFreedom).toBe(3);
  });
});
