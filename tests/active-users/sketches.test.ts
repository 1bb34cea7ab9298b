/**
 * Distinct-user counting in one process: the keyed hash against the HalfSipHash reference vectors, HyperLogLog
 * accuracy (1,000,000 ids within 2%, repeats not counted, small counts within the small-range error), unions,
 * the UTC day windows with an injected clock (roll-over at midnight, old days dropped), and the argument rules
 * of trackActiveUser (dropped and counted; strict TypeError; the id never in a message).
 */
import { DEFAULT_LABEL_POLICIES } from '../../src/catalog/labels';
import { ActiveUsersCounter, type ActiveUsersOptions } from '../../src/active-users/tracker';
import { DaySketches, DAY_MS, RETAINED_DAYS } from '../../src/active-users/day-sketches';
import { estimateUnion, foldRegisters, HyperLogLog } from '../../src/active-users/hyperloglog';
import { halfSipHash64Bytes, UserIdHasher } from '../../src/active-users/user-hash';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';

const KEY = 'test-key-0123456789abcdef';
const hex = (high: number, low: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(low, 0);
  bytes.writeUInt32LE(high, 4);
  return bytes.toString('hex');
};

function sketchOf(ids: Iterable<string>, hasher = new UserIdHasher(KEY), precision = 14): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (const id of ids) sketch.add(hasher.hash(id), hasher.low);
  return sketch;
}

function* range(from: number, to: number, prefix = 'user-'): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe('keyed hash (HalfSipHash, 64-bit output)', () => {
  it('the reference implementation matches the published HalfSipHash-2-4 vectors (key 00..07, input 00..n-1)', () => {
    const key = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
    // vectors_hsip64[0] and [4] of github.com/veorq/SipHash vectors.h
    expect(hex(...halfSipHash64Bytes(bytes(0), key))).toBe('218d1f59b9b83cc8');
    expect(hex(...halfSipHash64Bytes(bytes(4), key))).toBe('d5e78a175be52ea1');
  });

  it('hashes an id whose code units fit in a byte as HalfSipHash-1-3 of its Latin-1 bytes, for every length mod 4', () => {
    const latin1Key = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
    const hasher = UserIdHasher.withRawKeys(latin1Key, Uint8Array.from([1, 1, 2, 3, 5, 8, 13, 21]));
    for (const id of ['', 'a', 'ab', 'abc', 'abcd', 'user-42', 'caf\u00e9-\u00ff\u0001', 'x'.repeat(255)]) {
      const high = hasher.hash(id);
      const bytes = Buffer.from(id, 'latin1');
      expect(hex(high, hasher.low)).toBe(hex(...halfSipHash64Bytes(bytes, latin1Key, 1, 3)));
      expect(hex(high, hasher.low)).not.toBe(hex(...halfSipHash64Bytes(bytes, latin1Key)));
    }
  });

  it('hashes any other id as HalfSipHash-1-3 of its UTF-16LE bytes under the second key, wherever the wide character is', () => {
    const wideKey = Uint8Array.from([1, 1, 2, 3, 5, 8, 13, 21]);
    const hasher = UserIdHasher.withRawKeys(Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]), wideKey);
    for (const id of [
      '\u0161',
      'ü-€-😀',
      '€bcde',
      'abcd€',
      'abcdefg€',
      'user-42-\u4e2d',
      'y'.repeat(254) + '€',
    ]) {
      const high = hasher.hash(id);
      expect(hex(high, hasher.low)).toBe(
        hex(...halfSipHash64Bytes(Buffer.from(id, 'utf16le'), wideKey, 1, 3)),
      );
    }
  });

  it('separates the encodings: a Latin-1 id and a wider id with the same bytes get different digests', () => {
    const hasher = new UserIdHasher(KEY);
    // Both are the bytes 61 01: "a\u0001" in Latin-1, "\u0161" in UTF-16LE.
    expect(Buffer.from('a\u0001', 'latin1').equals(Buffer.from('\u0161', 'utf16le'))).toBe(true);
    const latin1 = hex(hasher.hash('a\u0001'), hasher.low);
    expect(hex(hasher.hash('\u0161'), hasher.low)).not.toBe(latin1);
  });

  it('depends on the key: one key gives one digest in every process, another key a different one', () => {
    const a = new UserIdHasher(KEY);
    const b = new UserIdHasher(KEY);
    const other = new UserIdHasher(`${KEY}!`);
    const random = new UserIdHasher();
    const digest = (h: UserIdHasher) => hex(h.hash('user-1'), h.low);
    expect(digest(a)).toBe(digest(b));
    expect(digest(other)).not.toBe(digest(a));
    expect(digest(random)).not.toBe(digest(a));
  });

  it('refuses keys that are too short or not bytes', () => {
    expect(() => new UserIdHasher('short')).toThrow(/at least 16 bytes/);
    expect(() => new UserIdHasher(42 as unknown as string)).toThrow(/string or a Uint8Array/);
  });
});

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

describe('UTC day windows', () => {
  const DAY0 = Date.UTC(2026, 10, 2) / DAY_MS; // a Monday
  const hasher = new UserIdHasher(KEY);
  const add = (sketches: DaySketches, tier: string, day: number, ids: Iterable<string>) => {
    const state = sketches.tier(tier);
    for (const id of ids) sketches.add(state, day, hasher.hash(id), hasher.low);
  };

  it('daily resets at UTC midnight; weekly and monthly are unions of the last 7 and 30 days', () => {
    const sketches = new DaySketches(14);
    // 100 users a day, 50 of them new each day: day d has users [50d, 50d + 100).
    for (let d = 0; d < 40; d++) add(sketches, 'pro', DAY0 + d, range(50 * d, 50 * d + 100));
    const today = DAY0 + 39;
    expect(sketches.estimate('pro', 'daily', today)).toBe(100);
    const weekly = sketches.estimate('pro', 'weekly', today); // days 33..39: [1650, 2050)
    expect(Math.abs(weekly - 400)).toBeLessThanOrEqual(4);
    const monthly = sketches.estimate('pro', 'monthly', today); // days 10..39: [500, 2050)
    expect(Math.abs(monthly - 1550)).toBeLessThanOrEqual(16);
    // The next UTC day: nobody yet today, the week and month lose their oldest day.
    expect(sketches.estimate('pro', 'daily', today + 1)).toBe(0);
    expect(Math.abs(sketches.estimate('pro', 'weekly', today + 1) - 350)).toBeLessThanOrEqual(4);
    expect(sketches.estimate('free', 'daily', today)).toBe(0);
  });

  it('keeps only the days the longest window covers', () => {
    const sketches = new DaySketches(14);
    for (let d = 0; d < 45; d++) add(sketches, 'free', DAY0 + d, range(d, d + 1));
    const kept = sketches.snapshot().map((s) => s.day - DAY0);
    expect(kept).toEqual(Array.from({ length: RETAINED_DAYS }, (_, i) => 45 - RETAINED_DAYS + i));
    // A clock that jumps back beyond every window adds nothing.
    add(sketches, 'free', DAY0, range(0, 10));
    expect(sketches.snapshot()).toHaveLength(RETAINED_DAYS);
  });

  it('snapshots merge register-wise: two processes seeing the same user count it once', () => {
    const a = new DaySketches(14);
    const b = new DaySketches(14);
    add(a, 'pro', DAY0, range(0, 3000));
    add(b, 'pro', DAY0, range(2000, 5000));
    a.merge(b.snapshot(), DAY0);
    expect(Math.abs(a.estimate('pro', 'daily', DAY0) - 5000)).toBeLessThanOrEqual(50);
  });
});

describe('trackActiveUser arguments', () => {
  let harness: GuardHarness;
  let clock: number;
  const counter = (options: ActiveUsersOptions = {}, strict = false) => {
    harness = createGuardHarness({ strict });
    return new ActiveUsersCounter(
      { hashKey: KEY, ...options },
      {
        reporter: harness.reporter,
        now: () => clock,
        tierPolicy: DEFAULT_LABEL_POLICIES.user_tier,
        maxLabelLength: 64,
        family: 'business_active_users',
        warn: () => undefined,
      },
    );
  };
  const SECRET_ID = 'alice@example.com-SECRET';
  beforeEach(() => {
    clock = Date.UTC(2026, 10, 28, 12);
  });
  afterEach(() => harness.close());

  it('drops and counts non-string, empty and oversized ids and unknown tiers; never quotes the id', async () => {
    const tracker = counter();
    tracker.track(12345, { userTier: 'pro' });
    tracker.track('', { userTier: 'pro' });
    tracker.track(SECRET_ID.repeat(50_000), { userTier: 'pro' }); // ~1 MB
    tracker.track(SECRET_ID, { userTier: 'platinum' });
    tracker.track(SECRET_ID, null);
    tracker.track(SECRET_ID, { userTier: 'pro' });
    expect(
      await harness.count('dropped', { metric: 'business_active_users', reason: 'invalid_argument' }),
    ).toBe(4);
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'too_large' })).toBe(1);
    expect(tracker.localEstimate('pro', 'daily')).toBe(1);
    expect(tracker.localEstimate('platinum', 'daily')).toBe(0);
    expect(harness.warnings.length).toBeGreaterThan(0);
    for (const warning of harness.warnings) {
      expect(warning).not.toMatch(/alice|SECRET|12345/);
      expect(warning.length).toBeLessThan(400);
    }
  });

  it('strict mode throws a TypeError naming the rule, without the id', () => {
    const tracker = counter({}, true);
    const thrown = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return error as Error;
      }
      throw new Error('did not throw');
    };
    const tooLong = thrown(() => tracker.track(SECRET_ID.repeat(20), { userTier: 'pro' }));
    expect(tooLong).toBeInstanceOf(TypeError);
    expect(tooLong.message).toMatch(/userId must be at most 256 characters \(activeUsers.maxUserIdLength\)/);
    expect(tooLong.message).not.toMatch(/alice|SECRET/);
    expect(thrown(() => tracker.track(42, { userTier: 'pro' })).message).toMatch(
      /userId must be a non-empty string \(got a value of type number\)/,
    );
    expect(thrown(() => tracker.track('u1', { userTier: 'gold' })).message).toMatch(
      /metadata.userTier must be one of free, pro, enterprise, unknown/,
    );
  });

  it('a capped tier policy admits new tiers up to its cap, then drops', async () => {
    harness = createGuardHarness();
    const tracker = new ActiveUsersCounter(
      { hashKey: KEY },
      {
        reporter: harness.reporter,
        now: () => clock,
        tierPolicy: { kind: 'capped', maxValues: 2 },
        maxLabelLength: 64,
        family: 'business_active_users',
        warn: () => undefined,
      },
    );
    for (const tier of ['a', 'b', 'c', 'a']) tracker.track('u1', { userTier: tier });
    expect(tracker.localEstimate('a', 'daily')).toBe(1);
    expect(tracker.localEstimate('b', 'daily')).toBe(1);
    expect(
      await harness.count('dropped', { metric: 'business_active_users', reason: 'invalid_argument' }),
    ).toBe(1);
  });

  it('reports every window of every tracked tier with frozen attributes, and rolls at UTC midnight', () => {
    const tracker = counter();
    for (const id of range(0, 20)) tracker.track(id, { userTier: 'free' });
    const values = () => {
      const seen: Record<string, number> = {};
      tracker.forEachValue((value, attributes) => {
        expect(Object.isFrozen(attributes)).toBe(true);
        seen[`${attributes.window}/${attributes.user_tier}`] = value;
      });
      return seen;
    };
    expect(values()).toEqual({ 'daily/free': 20, 'weekly/free': 20, 'monthly/free': 20 });
    clock = Date.UTC(2026, 10, 29, 0, 0, 0, 1); // just after UTC midnight
    for (const id of range(10, 15)) tracker.track(id, { userTier: 'free' });
    expect(values()).toEqual({ 'daily/free': 5, 'weekly/free': 20, 'monthly/free': 20 });
  });

  it('a Redis store is refused at construction without a shared hash key, or with a precision under 14', () => {
    const redis = { url: 'redis://127.0.0.1:1' };
    expect(() => counter({ hashKey: undefined, redis })).toThrow(/needs activeUsers.hashKey/);
    // Redis's own HyperLogLogs have 2^14 registers: finer sketches fold into them, coarser ones cannot.
    expect(() => counter({ precision: 12, redis })).toThrow(/needs activeUsers.precision 14 or more/);
  });
});
