/**
 * The in-memory analysis: alignment with gaps and NaN, the report's numbers and wording, coded errors.
 */
import { alignOnGrid } from '../../src/analysis/align';
import {
  correlateSeries,
  correlationResultToJson,
  correlationStrength,
  formatReport,
} from '../../src/analysis/correlation';
import { resolveQueryWindow, parseDuration, formatDuration } from '../../src/analysis/duration';
import { referencePearson } from '../support/reference-statistics';
import { DEFAULT_DESIGN, designedPair } from './synthetic';

const STEP = 300;
const T0 = 1_700_000_100; // a multiple of 300

function samples(values: number[], start = T0, step = STEP) {
  return values.map((value, i) => ({ timestamp: start + i * step, value }));
}

describe('alignOnGrid', () => {
  it('inner-joins on timestamps and accounts for NaN, Inf, gaps and off-grid samples', () => {
    const technical = [
      ...samples([1, 2, NaN, 4, 5, 6]),
      { timestamp: T0 + 7 * STEP + 17, value: 9 }, // off the grid
    ];
    const business = samples([10, Infinity, 30, 40, -Infinity, 60, 70, 80]).filter((_, i) => i !== 3); // gap at 3
    const aligned = alignOnGrid(technical, business, STEP, T0);
    expect(aligned.timestamps).toEqual([T0, T0 + 5 * STEP]);
    expect(aligned.technical).toEqual([1, 6]);
    expect(aligned.business).toEqual([10, 60]);
    expect(aligned.gridPoints).toBe(8);
    expect(Number.isNaN(aligned.technicalGrid[2])).toBe(true);
    expect(aligned.accounting.technical).toEqual({ received: 7, nonFinite: 1, offGrid: 1, unmatched: 3 });
    expect(aligned.accounting.business).toEqual({ received: 7, nonFinite: 2, offGrid: 0, unmatched: 3 });
  });

  it('matches timestamps with float noise from JSON to the millisecond', () => {
    const aligned = alignOnGrid(
      [{ timestamp: T0 + 0.0000001, value: 1 }],
      [{ timestamp: T0, value: 2 }],
      STEP,
    );
    expect(aligned.timestamps.length).toBe(1);
  });
});

describe('correlateSeries', () => {
  const pair = designedPair();

  it('recovers the designed correlation, lag and slope, and words it as correlation', () => {
    const result = correlateSeries(samples(pair.latency), samples(pair.conversion), {
      step: STEP,
      technical: { name: 'p99 latency', unit: 'ms', scale: 1000 },
      business: { name: 'conversion', unit: 'percentage points', scale: 100 },
      sentenceStep: 100,
    });
    expect(result.n).toBe(DEFAULT_DESIGN.points);
    expect(result.lag?.steps).toBe(2);
    expect(result.lag?.seconds).toBe(600);
    expect(result.lag?.r).toBeGreaterThan(-0.76);
    expect(result.lag?.r).toBeLessThan(-0.64);
    // At lag 0 the AR(1) latency carries phi^lag of the relationship: -0.7 * 0.36 ~ -0.25.
    expect(result.pearson.r).toBeGreaterThan(-0.35);
    expect(result.pearson.r).toBeLessThan(-0.15);
    expect(result.lag?.r).toBeCloseTo(
      referencePearson(pair.latency.slice(0, -2), pair.conversion.slice(2)),
      12,
    );
    expect(result.fit.slope).toBeLessThan(0);
    expect(result.slopeSentence).toMatch(
      /^\+100 ms of p99 latency goes with -0\.\d+ percentage points of conversion/,
    );
    expect(result.lagSentence).toContain('conversion follows p99 latency by 10m');
    expect(result.strength).toBe('weak');
    expect(result.summary).toMatch(
      /^Weak negative correlation between p99 latency and conversion: Pearson r = -0\.\d+/,
    );
    expect(result.summary).toMatch(
      / Stronger with a lag: moderate \(r = -0\.\d+\) with conversion 10m later\.$/,
    );
    const report = formatReport(result);
    expect(report).toContain('Correlation is not causation');
    expect(`${report} ${result.summary} ${result.slopeSentence}`).not.toMatch(/impact|caus(es|ed)\b/i);
    expect(result.pearson.ci95[0]).toBeLessThan(result.pearson.r);
    expect(result.pearson.ci95[1]).toBeGreaterThan(result.pearson.r);
    expect(result.autocorrelationAdjusted.effectiveN).toBeLessThan(result.n);
    const json = JSON.parse(JSON.stringify(correlationResultToJson(result)));
    expect(json).not.toHaveProperty('aligned');
    expect(json.lag.crossCorrelation).toHaveLength(25);
    expect(json.from).toBe(new Date(T0 * 1000).toISOString());
  });

  it('picks a readable default step for the sentence (one standard deviation, rounded)', () => {
    const result = correlateSeries(samples(pair.latency), samples(pair.conversion), {
      step: STEP,
      maxLag: 0,
    });
    expect(result.lag).toBeUndefined();
    expect(result.slopeSentence).toMatch(/^\+0\.05 in technical goes with -0\.\d+ in business/);
  });

  it('uses the seed strength bands', () => {
    expect(correlationStrength(0.71)).toBe('strong');
    expect(correlationStrength(-0.7)).toBe('moderate');
    expect(correlationStrength(0.41)).toBe('moderate');
    expect(correlationStrength(-0.4)).toBe('weak');
  });

  it('throws TOO_FEW_POINTS below the minimum, naming the counts', () => {
    const run = () =>
      correlateSeries(samples([1, 2, 3, 4, 5, 6, 7, 8, 9]), samples([1, 3, 2, 5, 4, 6, NaN, 8, 9]), {
        step: STEP,
      });
    expect(run).toThrow(expect.objectContaining({ code: 'TOO_FEW_POINTS' }));
    expect(run).toThrow(/Only 8 aligned points \(need at least 10\)/);
    expect(() =>
      correlateSeries(samples([1, 2, 3, 4, 5]), samples([2, 1, 4, 3, 5]), { step: STEP, minSamples: 4 }),
    ).not.toThrow();
    expect(() => correlateSeries(samples([1]), samples([1]), { step: STEP, minSamples: 3 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('warns when one outlier drives Pearson r but not Spearman rho', () => {
    const noise = designedPair({ ...DEFAULT_DESIGN, points: 40, r: -0.05, seed: 9 });
    const technical = [...noise.latency, 5]; // one incident: 5 s p99 ...
    const business = [...noise.conversion, 0.5]; // ... in the same interval as an absurd conversion spike
    const result = correlateSeries(samples(technical), samples(business), { step: STEP, maxLag: 0 });
    expect(result.pearson.r).toBeGreaterThan(0.8);
    expect(Math.abs(result.spearman.rho)).toBeLessThan(0.4);
    expect(result.warnings.join('\n')).toMatch(
      /Pearson r and Spearman rho disagree \(0\.\d+ vs -?0\.\d+\): outliers/,
    );
  });

  it('validates display options before looking at data', () => {
    const data = samples(pair.latency.slice(0, 20));
    for (const options of [
      { technical: { scale: 0 } },
      { business: { scale: -100 } },
      { sentenceStep: 0 },
      { maxLag: -1 },
      { minSamples: 2.5 },
    ]) {
      expect(() => correlateSeries(data, data, { step: STEP, ...options })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('throws CONSTANT_SERIES for a series without variance', () => {
    const flat = Array.from({ length: 20 }, () => 0.03);
    const varying = Array.from({ length: 20 }, (_, i) => i);
    expect(() =>
      correlateSeries(samples(varying), samples(flat), { step: STEP, business: { name: 'conversion' } }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONSTANT_SERIES',
        message: expect.stringMatching(/^conversion is constant \(0\.03/),
      }),
    );
  });
});

describe('durations and windows', () => {
  it('parses Prometheus durations', () => {
    expect(parseDuration('7d')).toBe(604800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('250ms')).toBe(0.25);
    expect(parseDuration('300')).toBe(300);
    expect(() => parseDuration('5 minutes')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseDuration('0s')).toThrow(/greater than zero/);
    expect(formatDuration(90061)).toBe('1d1h1m1s');
    expect(formatDuration(600)).toBe('10m');
  });

  it('snaps the window to the step grid', () => {
    const now = Date.UTC(2026, 10, 26, 12, 7, 31);
    const window = resolveQueryWindow({ range: '1h', step: '5m', now: () => now });
    expect(window.end).toBe(Date.UTC(2026, 10, 26, 12, 5) / 1000);
    expect(window.start).toBe(Date.UTC(2026, 10, 26, 11, 10) / 1000);
    expect(window.points).toBe(12);
    const explicit = resolveQueryWindow({
      start: '2026-11-20T00:00:00Z',
      end: '2026-11-21T00:00:00Z',
      step: 3600,
    });
    expect(explicit.points).toBe(25);
  });

  it("refuses windows above Prometheus's 11,000 points with the step that would work", () => {
    expect(() => resolveQueryWindow({ range: '7d', step: '30s' })).toThrow(
      expect.objectContaining({
        code: 'TOO_MANY_POINTS',
        message: expect.stringMatching(/20161 points.*above 11000 points.*at least 55s/),
      }),
    );
    expect(resolveQueryWindow({ range: '7d', step: '55s', now: () => 0 }).points).toBeLessThanOrEqual(11000);
    expect(resolveQueryWindow({ range: '7d', step: '1m', now: () => 0 }).points).toBe(10081);
    expect(() =>
      resolveQueryWindow({ start: '2026-11-21T00:00:00Z', end: '2026-11-20T00:00:00Z', step: '5m' }),
    ).toThrow(/empty/);
  });
});
