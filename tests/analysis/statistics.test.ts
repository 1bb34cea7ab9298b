/**
 * Statistics against independently computed answers. Reference values come from exact rational arithmetic
 * (Python `fractions.Fraction` + 50-digit `decimal`) and from Python's `math.erfc`/`math.atanh`, not from this code.
 */
import {
  averageRanks,
  crossCorrelation,
  effectiveSampleSize,
  fisherInference,
  lag1Autocorrelation,
  linearFit,
  naivePearson,
  normalUpperTail,
  pearson,
  spearman,
  strongestLag,
} from '../../src/analysis/statistics';
import { CorrelationError } from '../../src/analysis/errors';

const ANSCOMBE_X = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
const ANSCOMBE = [
  {
    x: ANSCOMBE_X,
    y: [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68],
    r: 0.81642051634484,
    slope: 0.5000909090909091,
    intercept: 3.000090909090909,
  },
  {
    x: ANSCOMBE_X,
    y: [9.14, 8.14, 8.74, 8.77, 9.26, 8.1, 6.13, 3.1, 9.13, 7.26, 4.74],
    r: 0.816236506000243,
    slope: 0.5,
    intercept: 3.000909090909091,
  },
  {
    x: ANSCOMBE_X,
    y: [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73],
    r: 0.816286739489598,
    slope: 0.49972727272727274,
    intercept: 3.0024545454545453,
  },
  {
    x: [8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8],
    y: [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.5, 5.56, 7.91, 6.89],
    r: 0.816521436888503,
    slope: 0.4999090909090909,
    intercept: 3.0017272727272726,
  },
];

describe('pearson', () => {
  it.each(ANSCOMBE.map((set, i) => [i + 1, set] as const))(
    'gives r = 0.816 for Anscombe set %i',
    (_, set) => {
      const r = pearson(set.x, set.y);
      // "0.816 for every set" is the classic rounding; set 4 is 0.81652, so compare to the third decimal.
      expect(Math.abs(r - 0.816)).toBeLessThan(0.001);
      expect(r).toBeCloseTo(set.r, 13);
      const fit = linearFit(set.x, set.y);
      expect(fit.slope).toBeCloseTo(set.slope, 12);
      expect(fit.intercept).toBeCloseTo(set.intercept, 11);
    },
  );

  it('keeps full precision with a 1e9 offset where the textbook formula collapses', () => {
    const small = [1, 2, 3, 4, 5, 6, 7, 8];
    const smallY = [2, 1, 4, 3, 6, 5, 8, 9].map((v) => v * 0.5);
    const exact = 0.9320546490018; // exact rational arithmetic, identical with and without the offset
    const x = small.map((v) => 1e9 + v);
    const y = smallY.map((v) => 1e9 + v);
    expect(pearson(small, smallY)).toBeCloseTo(exact, 13);
    expect(pearson(x, y)).toBeCloseTo(exact, 12);
    const naive = naivePearson(x, y);
    // The seed's sum-of-products formula loses every significant digit here (NaN, 0, or far off).
    expect(Number.isFinite(naive) && Math.abs(naive - exact) < 1e-3).toBe(false);
    // And the slope/intercept stay exact in the offset frame.
    const fit = linearFit(x, y);
    expect(fit.slope).toBeCloseTo(0.5357142857142857, 9);
    expect(fit.intercept).toBeCloseTo(464285714.25, 0);
  });

  it('stays within [-1, 1] for perfectly collinear data', () => {
    const x = Array.from({ length: 1000 }, (_, i) => 0.1 * i + 1e6);
    expect(
      pearson(
        x,
        x.map((v) => 3 * v - 7),
      ),
    ).toBeCloseTo(1, 14);
    expect(
      pearson(
        x,
        x.map((v) => -0.3 * v),
      ),
    ).toBeCloseTo(-1, 14);
    expect(
      Math.abs(
        pearson(
          x,
          x.map((v) => -0.3 * v),
        ),
      ),
    ).toBeLessThanOrEqual(1);
  });

  it('refuses constant series and tiny samples with coded errors', () => {
    expect(() => pearson([1, 1, 1, 1], [1, 2, 3, 4])).toThrow(
      expect.objectContaining({ code: 'CONSTANT_SERIES' }),
    );
    expect(() => pearson([1, 2, 3, 4], [0.1, 0.1, 0.1, 0.1])).toThrow(CorrelationError);
    expect(() => pearson([1], [2])).toThrow(expect.objectContaining({ code: 'TOO_FEW_POINTS' }));
    expect(() => pearson([1, 2], [1])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('spearman', () => {
  it('gives tied values the average of their ranks', () => {
    expect(averageRanks([1, 2, 2, 3, 4, 4, 4, 5, 6, 7])).toEqual([1, 2.5, 2.5, 4, 6, 6, 6, 8, 9, 10]);
    expect(averageRanks([3, 1, 2])).toEqual([3, 1, 2]);
  });

  it('matches the exact tie-corrected rho', () => {
    const x = [1, 2, 2, 3, 4, 4, 4, 5, 6, 7];
    const y = [2, 1, 3, 3, 5, 4, 6, 6, 8, 7];
    expect(spearman(x, y)).toBeCloseTo(0.93812095999547, 13);
  });

  it('is 1 for any monotone relationship, where Pearson is not', () => {
    const x = Array.from({ length: 20 }, (_, i) => i + 1);
    const y = x.map((v) => Math.exp(v / 2));
    expect(spearman(x, y)).toBeCloseTo(1, 14);
    expect(pearson(x, y)).toBeLessThan(0.8);
  });
});

describe('Fisher z inference', () => {
  it.each([
    [0.5, 30, 0.17043136511180007, 0.7289585563883555, 0.004313470570616629],
    [-0.3, 50, -0.5337751868855203, -0.02362507738883365, 0.03384113931494633],
    [0.1, 12, -0.5027547960527657, 0.6373254087470491, 0.7634098863118199],
  ])('r = %d, n = %d', (r, n, low, high, p) => {
    const inference = fisherInference(r, n);
    expect(inference.ci95[0]).toBeCloseTo(low, 12);
    expect(inference.ci95[1]).toBeCloseTo(high, 12);
    expect(inference.pValue / p).toBeCloseTo(1, 10);
  });

  it('requires n >= 4', () => {
    expect(() => fisherInference(0.5, 3)).toThrow(expect.objectContaining({ code: 'TOO_FEW_POINTS' }));
    expect(fisherInference(0.5, 4).ci95[0]).toBeLessThan(0);
    expect(fisherInference(1, 10)).toEqual({ ci95: [1, 1], pValue: 0 });
  });

  it.each([
    [0, 0.5],
    [1, 0.15865525393145707],
    [1.959963984540054, 0.025],
    [3, 0.0013498980316300957],
    [5, 2.866515718791946e-7],
    [8, 6.220960574271819e-16],
    [10, 7.619853024160593e-24],
  ])('normal upper tail Q(%d) is accurate to 1e-8 relative, deep into the tail', (z, q) => {
    expect(Math.abs(normalUpperTail(z) - q) / q).toBeLessThan(z <= 5 ? 1e-10 : 1e-8);
    expect(normalUpperTail(-z)).toBeCloseTo(1 - q, 15);
  });
});

describe('cross-correlation and lag', () => {
  // A deterministic pseudo-random source so the synthetic series are reproducible.
  function lcg(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  it('finds a business series that follows the technical one by 3 steps (positive lag)', () => {
    const random = lcg(7);
    const technical = Array.from({ length: 400 }, () => random());
    const business = technical.map((_, t) => (t >= 3 ? -2 * technical[t - 3] : 0) + 0.3 * random());
    const lags = crossCorrelation(technical, business, 6, 10);
    expect(lags.map((l) => l.lag)).toEqual([-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6]);
    const best = strongestLag(lags);
    expect(best?.lag).toBe(3);
    expect(best?.r).toBeLessThan(-0.9);
    expect(Math.abs(lags.find((l) => l.lag === 0)?.r ?? 1)).toBeLessThan(0.2);
  });

  it('finds a negative lag when the technical series follows the business one', () => {
    const random = lcg(11);
    const business = Array.from({ length: 300 }, () => random());
    const technical = business.map((_, t) => (t >= 2 ? business[t - 2] : 0) + 0.2 * random());
    expect(strongestLag(crossCorrelation(technical, business, 5, 10))?.lag).toBe(-2);
  });

  it('skips missing grid points and reports r = null where too few pairs overlap', () => {
    const x = [1, 2, NaN, 4, 5, 6, 7, 8];
    const y = [2, 4, 6, NaN, 10, 12, 14, 16];
    const lags = crossCorrelation(x, y, 7, 4);
    const zero = lags.find((l) => l.lag === 0);
    expect(zero).toEqual({ lag: 0, n: 6, r: 1 });
    expect(lags.find((l) => l.lag === 7)).toEqual({ lag: 7, n: 1, r: null });
  });

  it('prefers lag 0 on ties', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(strongestLag(crossCorrelation(x, x, 3, 4))?.lag).toBe(0);
  });
});

describe('effective sample size', () => {
  it('is about n for independent noise and much smaller for two smooth AR(1) series', () => {
    let state = 3;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32 - 0.5;
    };
    const n = 2000;
    const a = Array.from({ length: n }, random);
    const b = Array.from({ length: n }, random);
    expect(effectiveSampleSize(a, b)).toBeGreaterThan(0.9 * n);
    const smooth = (noise: number[]) => {
      const out: number[] = [];
      noise.forEach((v, i) => out.push(i === 0 ? v : 0.9 * out[i - 1] + v));
      return out;
    };
    // Bartlett: n (1 - 0.81) / (1 + 0.81) ~ 0.105 n for two AR(1) series with phi = 0.9.
    const nEff = effectiveSampleSize(smooth(a), smooth(b));
    expect(nEff / n).toBeGreaterThan(0.07);
    expect(nEff / n).toBeLessThan(0.15);
  });

  it('treats NaN as gaps: only grid neighbours count, n is the number of complete pairs', () => {
    // Alternating values have lag-1 autocorrelation -1 only when neighbours are really adjacent.
    const alternating = [1, -1, 1, -1, 1, -1, 1, -1, 1, -1];
    expect(lag1Autocorrelation(alternating)).toBeCloseTo(-0.9, 12);
    const gapped = [1, NaN, 1, NaN, 1, NaN, 1, NaN, 1, -1];
    // Only one adjacent finite pair (1, -1), so the estimate is small, not the -1 a packed array would give.
    expect(Math.abs(lag1Autocorrelation(gapped))).toBeLessThan(0.5);
    expect(effectiveSampleSize([1, 2, NaN, 4, 5, 3], [2, 1, 3, NaN, 6, 1])).toBeLessThanOrEqual(4);
  });
});
