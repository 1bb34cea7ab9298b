/**
 * src/active-users/hyperloglog.ts, distinct counting in one sketch: 1,000,000 ids within 2%, repeats not counted,
 * small counts within the small-range error, unions (register-wise maximum) of overlapping sets, exact folding
 * of a finer sketch to precision 14, and the precision checked.
 */
import { estimateUnion, foldRegisters, HyperLogLog } from '../../src/active-users/hyperloglog';
import { UserIdHasher } from '../../src/active-users/user-hash';

const KEY = 'test-key-0123456789abcdef';

function sketchOf(ids: Iterable<string>, hasher = new UserIdHasher(KEY), precision = 14): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (const id of ids) sketch.add(hasher.hash(id), hasher.low);
  return sketch;
}

function* range(from: number, to: number, prefix = 'user-'): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe('HyperLogLog (precision 14, Ertl estimator)', () => {
  it('folds a finer sketch to precision 14 exactly: the same registers as a precision-14 sketch of the same ids', () => {
    const hasher = new UserIdHasher(KEY);
    for (const precision of [14, 15, 16, 18]) {
      const fine = new HyperLogLog(precision);
      const coarse = new HyperLogLog(14);
      for (const id of range(0, 200_000)) {
        const high = hasher.hash(id);
        fine.add(high, hasher.low);
        coarse.add(high, hasher.low);
      }
      expect(Buffer.from(foldRegisters(fine.registers, 14)).equals(Buffer.from(coarse.registers))).toBe(true);
    }
    expect(() => foldRegisters(new HyperLogLog(12).registers, 14)).toThrow(
      /cannot unfold precision 12 to 14/,
    );
  });

  it('estimates 1,000,000 distinct ids within 2%, and repeats do not count', () => {
    const sketch = sketchOf(range(0, 1_000_000));
    const first = sketch.estimate();
    expect(Math.abs(first - 1_000_000) / 1_000_000).toBeLessThan(0.02);
    const hasher = new UserIdHasher(KEY);
    for (let pass = 0; pass < 3; pass++)
      for (const id of range(0, 200_000)) sketch.add(hasher.hash(id), hasher.low);
    expect(sketch.estimate()).toBe(first);
  });

  it('small counts are exact or within the small-range correction error (3 sigma of linear counting)', () => {
    const m = 1 << 14;
    for (const n of [1, 2, 10, 100, 500, 1000, 3000]) {
      const estimate = sketchOf(range(0, n, `small-${n}-`)).estimate();
      const t = n / m;
      const sigma = Math.sqrt(m * (Math.exp(t) - t - 1));
      expect({ n, error: Math.abs(estimate - n) <= Math.max(0, 3 * sigma) }).toEqual({ n, error: true });
      if (n <= 10) expect(estimate).toBe(n);
    }
    expect(new HyperLogLog(14).estimate()).toBe(0);
  });

  it('a union (register-wise maximum) estimates the union of the sets, whatever the overlap', () => {
    const a = sketchOf(range(0, 60_000));
    const b = sketchOf(range(40_000, 100_000));
    const union = estimateUnion([a.registers, b.registers], 14);
    expect(Math.abs(union - 100_000) / 100_000).toBeLessThan(0.02);
    a.merge(b);
    expect(a.estimate()).toBe(union);
  });

  it('precision is configurable and checked', () => {
    const small = sketchOf(range(0, 50_000), new UserIdHasher(KEY), 10);
    expect(small.registers.length).toBe(1024);
    expect(Math.abs(small.estimate() - 50_000) / 50_000).toBeLessThan(0.1); // 3.25% standard error
    expect(() => new HyperLogLog(3)).toThrow(RangeError);
    expect(() => new HyperLogLog(19)).toThrow(RangeError);
  });
});
