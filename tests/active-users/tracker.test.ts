/**
 * src/active-users/tracker.ts, trackActiveUser's counter: bad ids and tiers dropped and counted (the id never in a
 * message), a strict TypeError naming the rule, capped tier policies, every window of every tier reported with
 * frozen attributes and rolled at UTC midnight (injected clock), and a Redis store refused without a shared key.
 */
import { DEFAULT_LABEL_POLICIES } from '../../src/catalog/labels';
import { ActiveUsersCounter, type ActiveUsersOptions } from '../../src/active-users/tracker';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';
import { retainedBytes } from '../support/heap';

const KEY = 'test-key-0123456789abcdef';

function* range(from: number, to: number, prefix = 'user-'): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe('trackActiveUser arguments', () => {
  let harness: GuardHarness;
  let clock: number;
  const counter = (options: ActiveUsersOptions = {}, strict = false, monotonicNow?: () => number) => {
    harness = createGuardHarness({ strict });
    return new ActiveUsersCounter(
      { hashKey: KEY, ...options },
      {
        reporter: harness.reporter,
        now: () => clock,
        monotonicNow,
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

  it('keeps nothing of huge spellings of a tier: they are counted, not cached', () => {
    const tracker = counter();
    // 64 distinct 1 MB spellings of `pro` fill the tier cache's bound: 64 MB kept as they came.
    const retained = retainedBytes(() => {
      for (let i = 0; i < 64; i++)
        tracker.track(`user-${i}`, { userTier: `pro${' '.repeat(1_000_000 + i)}` });
    });
    expect(retained).toBeLessThan(5_000_000);
    // All 64 users in `pro` (a HyperLogLog estimate: within a few of 64).
    expect(Math.abs(tracker.localEstimate('pro', 'daily') - 64)).toBeLessThanOrEqual(3);
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

  it('one clock reading a year ahead loses nothing: that call is dropped and counted, the real day goes on', async () => {
    const tracker = counter();
    for (const id of range(0, 1000)) tracker.track(id, { userTier: 'free' });
    const real = clock;
    clock = real + 365 * 86_400_000; // one bad reading (an NTP step, an RTC wrong for a moment, a bad injected clock)
    tracker.track(SECRET_ID, { userTier: 'free' });
    clock = real + 3_600_000; // corrected an hour later
    for (const id of range(1000, 2000)) tracker.track(id, { userTier: 'free' });
    // HyperLogLog's error at precision 14 is 0.81%: 2000 users within 2%.
    expect(Math.abs(tracker.localEstimate('free', 'monthly') - 2000)).toBeLessThanOrEqual(40);
    expect(Math.abs(tracker.localEstimate('free', 'daily') - 2000)).toBeLessThanOrEqual(40);
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'future_time' })).toBe(
      1,
    );
    expect(harness.warnings.join('\n')).toMatch(
      /the clock must read a UTC day .*2026-11-28.*\(got 2027-11-28T12:00:00\.000Z\)/,
    );
    expect(harness.warnings.join('\n')).not.toMatch(/alice|SECRET/);
    // A clock that stays there is believed after CLOCK_LEAP_CONFIRM_MS (5 minutes): the month then starts afresh.
    clock = real + 365 * 86_400_000;
    tracker.track('after-the-leap', { userTier: 'free' });
    clock += 5 * 60_000;
    tracker.track('after-the-leap', { userTier: 'free' });
    expect(tracker.localEstimate('free', 'monthly')).toBe(1);
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'future_time' })).toBe(
      2,
    );
  });

  it("strict mode counts a clock leap and never throws: the clock is not the caller's mistake", async () => {
    const tracker = counter({}, true);
    tracker.track('before', { userTier: 'free' });
    clock += 2 * 86_400_000; // a laptop waking after two days, fake timers jumping two days
    for (const id of range(0, 3)) expect(() => tracker.track(id, { userTier: 'free' })).not.toThrow();
    clock = Date.UTC(2026, 10, 28, 12) - 40 * 86_400_000; // a clock set back beyond every window
    expect(() => tracker.track('back', { userTier: 'free' })).not.toThrow();
    clock = NaN; // an injected clock that reads no time: still not an argument of the call
    expect(() => tracker.track('nan', { userTier: 'free' })).not.toThrow();
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'future_time' })).toBe(
      3,
    );
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'invalid_time' })).toBe(
      2,
    );
    expect(harness.warnings.join('\n')).toMatch(
      /trackActiveUser: the clock must read a UTC day .*\[reason=future_time\]/,
    );
    // The caller's own arguments are still strict.
    expect(() => tracker.track('', { userTier: 'free' })).toThrow(TypeError);
  });

  it('a cluster worker idle for a day loses no call: its collections move the day, and so does the monotonic clock', async () => {
    const friday = Date.UTC(2026, 10, 27, 22);
    const sunday = Date.UTC(2026, 10, 29, 9);
    const sundayCalls = (tracker: ActiveUsersCounter) => {
      clock = sunday;
      for (const id of range(0, 10)) tracker.track(id, { userTier: 'free' });
      return tracker.localEstimate('free', 'daily');
    };
    // Collections on Saturday (snapshots to the primary), no call: Sunday's calls are on the next day.
    let tracker = counter();
    tracker.reportThroughPrimary();
    clock = friday;
    tracker.track('friday', { userTier: 'free' });
    clock = Date.UTC(2026, 10, 28, 12);
    tracker.forEachValue(() => {
      throw new Error('a worker reports through the primary');
    });
    expect(sundayCalls(tracker)).toBe(10);
    await harness.close();
    // No collection at all (exporters 'none', a scraper that is down), but the process ran: the monotonic clock
    // advanced as much as the wall clock, and vouches for the two days.
    let monotonic = 0;
    tracker = counter({}, false, () => monotonic);
    clock = friday;
    tracker.track('friday', { userTier: 'free' });
    monotonic += sunday - friday;
    expect(sundayCalls(tracker)).toBe(10);
    expect(tracker.localEstimate('free', 'weekly')).toBe(11);
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'future_time' })).toBe(
      0,
    );
  });

  it('a clock that reads no time (NaN, beyond a Date) drops the call as invalid_time; nothing throws or hangs', async () => {
    const tracker = counter();
    const values = () => {
      const seen: Record<string, number> = {};
      tracker.forEachValue(
        (value, attributes) => (seen[`${attributes.window}/${attributes.user_tier}`] = value),
      );
      return seen;
    };
    for (const bad of [NaN, 1e300, -Infinity]) {
      clock = bad;
      tracker.track(SECRET_ID, { userTier: 'pro' });
      expect(values()).toEqual({});
    }
    expect(await harness.count('dropped', { metric: 'business_active_users', reason: 'invalid_time' })).toBe(
      3,
    );
    expect(harness.warnings.join('\n')).toMatch(/the clock must read a time .*\(got NaN\)/);
    clock = Date.UTC(2026, 10, 28, 12);
    tracker.track(SECRET_ID, { userTier: 'pro' });
    expect(values()).toEqual({ 'daily/pro': 1, 'weekly/pro': 1, 'monthly/pro': 1 });
    clock = NaN; // once there is a current day, a collection at a bad reading reports its windows
    expect(values()).toEqual({ 'daily/pro': 1, 'weekly/pro': 1, 'monthly/pro': 1 });
  });

  it('a Redis store is refused at construction without a shared hash key, or with a precision under 14', () => {
    const redis = { url: 'redis://127.0.0.1:1' };
    expect(() => counter({ hashKey: undefined, redis })).toThrow(/needs activeUsers.hashKey/);
    // Redis's own HyperLogLogs have 2^14 registers: finer sketches fold into them, coarser ones cannot.
    expect(() => counter({ precision: 12, redis })).toThrow(/needs activeUsers.precision 14 or more/);
  });
});
