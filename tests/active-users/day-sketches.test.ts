/**
 * src/active-users/day-sketches.ts, the per-tier ring of UTC-day sketches, with an injected day: daily resets at
 * UTC midnight, weekly and monthly are unions of the last 7 and 30 days, only the days the longest window covers
 * are kept (a clock jumping back adds nothing), and snapshots merge register-wise.
 */
import {
  ACTIVE_USER_WINDOW_DAYS,
  DaySketches,
  DAY_MS,
  dayLabel,
  RETAINED_DAYS,
  utcDay,
} from '../../src/active-users/day-sketches';
import { UserIdHasher } from '../../src/active-users/user-hash';

const KEY = 'test-key-0123456789abcdef';

function* range(from: number, to: number, prefix = 'user-'): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe('UTC days', () => {
  it('numbers days from the epoch in UTC, whatever the time of day, and labels them YYYY-MM-DD', () => {
    expect(utcDay(0)).toBe(0);
    expect(utcDay(Date.UTC(2026, 11, 3, 0, 0, 0, 0))).toBe(utcDay(Date.UTC(2026, 11, 3, 23, 59, 59, 999)));
    expect(utcDay(Date.UTC(2026, 11, 4)) - utcDay(Date.UTC(2026, 11, 3, 23, 59, 59, 999))).toBe(1);
    expect(utcDay(-1)).toBe(-1); // before 1970: still whole days, never a fraction
    expect(dayLabel(utcDay(Date.UTC(2026, 11, 3, 23, 59)))).toBe('2026-12-03');
    expect(dayLabel(0)).toBe('1970-01-01');
  });

  it('keeps as many days as the longest window: daily 1, weekly 7, monthly 30', () => {
    expect(ACTIVE_USER_WINDOW_DAYS).toEqual({ daily: 1, weekly: 7, monthly: 30 });
    expect(Object.isFrozen(ACTIVE_USER_WINDOW_DAYS)).toBe(true);
    expect(RETAINED_DAYS).toBe(30);
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
