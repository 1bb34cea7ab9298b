/**
 * A HyperLogLog sketch: 2^p one-byte registers over 64-bit hashes, register-wise merge, and Ertl's improved
 * estimator (O. Ertl, "New cardinality estimation algorithms for HyperLogLog sketches", 2017; the estimator
 * Redis 5+ uses), which needs neither the bias tables of HLL++ nor a switch to linear counting: its sigma term
 * is the small-range correction, so it is within linear counting's error for small counts and unbiased above.
 *
 * Owns: register layout, update, merge, estimate, the byte form used over IPC. Must not touch: hashing of ids
 * (user-hash.ts), days and tiers (day-sketches.ts), I/O.
 */

/** Smallest and largest accepted precision. 4 bits give 16 registers (26% error); 18 give 256 KiB per sketch. */
export const MIN_PRECISION = 4;
export const MAX_PRECISION = 18;
/** 2^14 registers = 16 KiB per sketch, standard error 1.04 / sqrt(2^14) = 0.81%. */
export const DEFAULT_PRECISION = 14;

/** @throws RangeError naming the option when `precision` is not an integer in [4, 18]. */
export function checkPrecision(precision: unknown, where = 'activeUsers.precision'): number {
  if (
    typeof precision !== 'number' ||
    !Number.isInteger(precision) ||
    precision < MIN_PRECISION ||
    precision > MAX_PRECISION
  ) {
    throw new RangeError(
      `${where} must be an integer from ${MIN_PRECISION} to ${MAX_PRECISION} (got ${String(precision)})`,
    );
  }
  return precision;
}

export class HyperLogLog {
  readonly registers: Uint8Array;
  /** Bumped whenever a register grows (by add or merge): copies elsewhere know when they are stale. */
  version = 0;
  /** Bits of the hash left after the register index: registers hold 1..q+1 (0 = never touched). */
  private readonly q: number;

  constructor(
    readonly precision: number,
    registers?: Uint8Array,
  ) {
    checkPrecision(precision, 'HyperLogLog precision');
    this.q = 64 - precision;
    const m = 1 << precision;
    if (registers !== undefined && registers.length !== m) {
      throw new RangeError(`a precision-${precision} sketch has ${m} registers (got ${registers.length})`);
    }
    this.registers = registers ?? new Uint8Array(m);
  }

  /** Add the 64-bit hash `high:low` (unsigned 32-bit halves). Returns true when a register grew. */
  add(high: number, low: number): boolean {
    const p = this.precision;
    const index = high >>> (32 - p);
    // The rank is 1 + the number of leading zeros in the q bits after the index (q + 1 when all are zero).
    const rest = high << p;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 33 - p + Math.clz32(low);
    if (this.registers[index] >= rank) return false;
    this.registers[index] = rank;
    this.version++;
    return true;
  }

  /** Register-wise maximum with `other` (same precision): the sketch of the union of both sets. */
  merge(other: HyperLogLog | Uint8Array): void {
    const source = other instanceof HyperLogLog ? other.registers : other;
    const target = this.registers;
    if (source.length !== target.length) {
      throw new RangeError(
        `cannot merge sketches of different precision (${source.length} vs ${target.length})`,
      );
    }
    let grew = false;
    for (let i = 0; i < target.length; i++) {
      if (source[i] > target[i]) {
        target[i] = source[i];
        grew = true;
      }
    }
    if (grew) this.version++;
  }

  /** Estimated number of distinct hashes added. */
  estimate(): number {
    const histogram = new Float64Array(this.q + 2);
    for (let i = 0; i < this.registers.length; i++) histogram[this.registers[i]]++;
    return estimateFromHistogram(histogram, this.precision);
  }
}

/**
 * The registers of the same hashes at a lower precision, exactly (not an approximation): register j at precision
 * p goes to j >> (p - target); the d = p - target index bits it drops start the lower precision's rank bits, so
 * its rank there is 1 + their leading zeros when they are not all zero, else d + its rank at p. An empty register
 * contributes nothing.
 */
export function foldRegisters(registers: Uint8Array, target: number): Uint8Array {
  const precision = Math.log2(registers.length);
  checkPrecision(precision, 'HyperLogLog precision');
  checkPrecision(target, 'target precision');
  if (target > precision) throw new RangeError(`cannot unfold precision ${precision} to ${target}`);
  if (target === precision) return registers;
  const d = precision - target;
  const folded = new Uint8Array(1 << target);
  for (let j = 0; j < registers.length; j++) {
    const rank = registers[j];
    if (rank === 0) continue;
    const dropped = j & ((1 << d) - 1);
    // Leading zeros of the d dropped bits: clz32 counts them in 32 bits, of which 32 - d are above them.
    const folding = dropped !== 0 ? Math.clz32(dropped) - (32 - d) + 1 : d + rank;
    const i = j >>> d;
    if (folding > folded[i]) folded[i] = folding;
  }
  return folded;
}

/**
 * The estimate of the union of `sketches` (same precision), without building the union: one pass of
 * register-wise maxima into a histogram.
 */
export function estimateUnion(sketches: readonly Uint8Array[], precision: number): number {
  const m = 1 << precision;
  const histogram = new Float64Array(64 - precision + 2);
  if (sketches.length === 0) return 0;
  if (sketches.length === 1) {
    const only = sketches[0];
    for (let i = 0; i < m; i++) histogram[only[i]]++;
  } else {
    for (let i = 0; i < m; i++) {
      let max = 0;
      for (let s = 0; s < sketches.length; s++) {
        const value = sketches[s][i];
        if (value > max) max = value;
      }
      histogram[max]++;
    }
  }
  return estimateFromHistogram(histogram, precision);
}

/** Ertl's improved raw estimator over the register-value histogram (`histogram[k]` = registers equal to k). */
export function estimateFromHistogram(histogram: Float64Array, precision: number): number {
  const m = 1 << precision;
  const q = 64 - precision;
  let z = m * tau(1 - histogram[q + 1] / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  // alpha_infinity = 1 / (2 ln 2)
  return Math.round(((0.5 / Math.LN2) * m * m) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (previous !== z);
  return z / 3;
}
