/**
 * src/insights/score.ts directly: which Apdex thresholds a classic histogram can give exactly (T and 4T both
 * boundaries), the RangeError for any other naming the ones that work, Apdex from cumulative counts, and the 0-100
 * experience score (its formula, bounds, monotonicity and unknown inputs). The rules that evaluate the same in
 * PromQL: tests/insights/rules.test.ts.
 */
import {
  apdex,
  apdexThresholdsSupported,
  checkApdexThreshold,
  EXPERIENCE_ERROR_WEIGHT,
  experienceScore,
  HTTP_DURATION_BUCKETS,
  quadruple,
} from '../../src/insights/score';

describe('Apdex thresholds', () => {
  it('are 0.025, 0.25 and 2.5 s with the semantic conventions buckets, and follow the buckets given', () => {
    expect(apdexThresholdsSupported()).toEqual([0.025, 0.25, 2.5]);
    expect(HTTP_DURATION_BUCKETS).toContain(10);
    expect(apdexThresholdsSupported([0.5, 1, 2, 8])).toEqual([0.5, 2]);
    expect(apdexThresholdsSupported([1, 3])).toEqual([]);
  });

  it('quadruples without binary noise', () => {
    expect(quadruple(0.025)).toBe(0.1);
    expect(quadruple(0.075)).toBe(0.3);
    expect(quadruple(2.5)).toBe(10);
  });

  it('refuses T without both boundaries, naming what is missing and what works', () => {
    expect(() => checkApdexThreshold(0.25)).not.toThrow();
    expect(() => checkApdexThreshold(0.5)).toThrow(RangeError);
    expect(() => checkApdexThreshold(0.5)).toThrow(
      /none at 2 s\. .*the thresholds that work are 0\.025, 0\.25, 2\.5 s/,
    );
    expect(() => checkApdexThreshold(0.1)).toThrow(/none at 0\.4 s/);
    expect(() => checkApdexThreshold(3, [1, 3])).toThrow(/none at 12 s.*that work are none s/);
    for (const bad of [0, -1, Number.NaN, Infinity])
      expect(() => checkApdexThreshold(bad)).toThrow(/must be a positive number of seconds/);
  });
});

describe('apdex', () => {
  it('is (satisfied + tolerating / 2) / total from cumulative counts, null without requests', () => {
    // 60 within T, 30 more within 4T, 10 frustrated.
    expect(apdex(60, 90, 100)).toBe(0.75);
    expect(apdex(100, 100, 100)).toBe(1);
    expect(apdex(0, 0, 10)).toBe(0);
    expect(apdex(0, 0, 0)).toBeNull();
    expect(apdex(1, 1, Number.NaN)).toBeNull();
  });
});

describe('experienceScore', () => {
  it('is 100 x Apdex x (1 - error rate)^10', () => {
    expect(EXPERIENCE_ERROR_WEIGHT).toBe(10);
    expect(experienceScore(1, 0)).toBe(100);
    expect(experienceScore(0.8, 0)).toBeCloseTo(80, 12);
    expect(experienceScore(1, 0.05)).toBeCloseTo(100 * 0.95 ** 10, 12);
    expect(experienceScore(0.9, 0.1)).toBeCloseTo(90 * 0.9 ** 10, 12);
  });

  it('clamps inputs to 0..1 and is null for unknown ones', () => {
    expect(experienceScore(1.5, -0.2)).toBe(100);
    expect(experienceScore(-1, 0)).toBe(0);
    expect(experienceScore(1, 2)).toBe(0);
    expect(experienceScore(null, 0)).toBeNull();
    expect(experienceScore(1, null)).toBeNull();
    expect(experienceScore(Number.NaN, 0)).toBeNull();
    expect(experienceScore(1, Infinity)).toBeNull();
  });

  it('never rises with the error rate and never falls with Apdex', () => {
    let previous = Infinity;
    for (let e = 0; e <= 1.0001; e += 0.05) {
      const score = experienceScore(0.9, e)!;
      expect(score).toBeLessThanOrEqual(previous);
      previous = score;
    }
    previous = -Infinity;
    for (let a = 0; a <= 1.0001; a += 0.05) {
      const score = experienceScore(a, 0.02)!;
      expect(score).toBeGreaterThanOrEqual(previous);
      previous = score;
    }
  });
});
