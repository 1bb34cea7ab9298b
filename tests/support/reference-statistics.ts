/**
 * Textbook statistics written independently of src/analysis, as oracles for its tests: an expected value must
 * not be computed by the code under test.
 *
 * Owns: Pearson's r by its definition (two passes: means, then centred sums). Must not touch: src/.
 */

/** Pearson's product-moment correlation of two equally long series: cov(x, y) / (sd(x) sd(y)). */
export function referencePearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2)
    throw new Error('referencePearson: two series of equal length >= 2');
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i] / n;
    meanY += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
