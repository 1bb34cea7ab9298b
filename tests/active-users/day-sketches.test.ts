/**
 * src/active-users/day-sketches.ts, the per-tier ring of UTC-day sketches, with injected clock readings: daily
 * resets at UTC midnight, weekly and monthly are unions of the last 7 and 30 days, only the days the longest window
 * covers are kept (a clock jumping back adds nothing), a clock leaping ahead or back drops nothing until it has
 * stayed there (at once when the monotonic clock vouches for it), and snapshots merge register-wise.
 */
import {
  ACTIVE_USER_WINDOW_DAYS,
  CLOCK_LEAP_CONFIRM_MS,
  DaySketches,
  DAY_MS,
  dayLabel,
  MONOTONIC_AGREEMENT_MS,
  MONOTONIC_DRIFT,
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
  /** Adds every id at `at` (a day number: its noon, UTC), returning what each add answered. */
  const add = (
    sketches: DaySketches,
    tier: string,
    day: number,
    ids: Iterable<string>,
    at = (day + 0.5) * DAY_MS,
  ) => {
    const state = sketches.tier(tier);
    const answers = new Set<string | undefined>();
    for (const id of ids) answers.add(sketches.add(state, at, hasher.hash(id), hasher.low));
    return [...answers];
  };

  it('daily resets at UTC midnight; weekly and monthly are unions of the last 7 and 30 days', () => {
    const sketches = new DaySketches(14);
    // 100 users a day, 50 of them new each day: day d has users [50d, 50d + 100).
    for (let d = 0; d < 40; d++) add(sketches, 'pro', DAY0 + d, range(50 * d, 50 * d + 100));
    const today = DAY0 + 39;
    expect(Math.abs(sketches.estimate('pro', 'daily', today) - 100)).toBeLessThanOrEqual(2);
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
    // A clock that jumps back beyond every window adds nothing (and says so: the caller counts it).
    expect(add(sketches, 'free', DAY0, range(0, 10))).toEqual(['behind']);
    expect(sketches.snapshot()).toHaveLength(RETAINED_DAYS);
  });

  it('one reading a year ahead drops nothing: refused, and the real day goes on counting once the clock is back', () => {
    const sketches = new DaySketches(14);
    const noon = (DAY0 + 0.5) * DAY_MS;
    expect(add(sketches, 'free', DAY0, range(0, 1000), noon)).toEqual([undefined]);
    expect(add(sketches, 'free', DAY0 + 365, ['x'], noon + 365 * DAY_MS)).toEqual(['ahead']);
    // A collection at the bad reading reports the current day's windows, and does not confirm the leap either.
    expect(sketches.today(noon + 365 * DAY_MS)).toBe(DAY0);
    // The clock is corrected an hour later.
    expect(add(sketches, 'free', DAY0, range(1000, 2000), noon + 3_600_000)).toEqual([undefined]);
    const today = sketches.today(noon + 3_600_000);
    expect(today).toBe(DAY0);
    // HyperLogLog's error at precision 14 is 0.81%: 2000 users within 2%.
    expect(Math.abs(sketches.estimate('free', 'monthly', today) - 2000)).toBeLessThanOrEqual(40);
    expect(Math.abs(sketches.estimate('free', 'daily', today) - 2000)).toBeLessThanOrEqual(40);
    // Bad readings again and again, each a while after a good one: never confirmed, since good ones come between.
    for (let i = 1; i <= 3; i++) {
      expect(
        add(sketches, 'free', DAY0 + 365, ['x'], noon + 365 * DAY_MS + i * CLOCK_LEAP_CONFIRM_MS),
      ).toEqual(['ahead']);
      expect(add(sketches, 'free', DAY0, ['y'], noon + 3_600_000 + i)).toEqual([undefined]);
    }
    expect(sketches.snapshot().map((s) => s.day)).toEqual([DAY0]);
  });

  it('a clock that stays days ahead (a process idle or suspended for days) is believed after a while', () => {
    const sketches = new DaySketches(14);
    add(sketches, 'pro', DAY0, range(0, 500));
    const later = (DAY0 + 3.5) * DAY_MS;
    expect(add(sketches, 'pro', DAY0 + 3, ['early'], later)).toEqual(['ahead']);
    expect(add(sketches, 'pro', DAY0 + 3, ['early'], later + CLOCK_LEAP_CONFIRM_MS - 1)).toEqual(['ahead']);
    expect(add(sketches, 'pro', DAY0 + 3, range(500, 600), later + CLOCK_LEAP_CONFIRM_MS)).toEqual([
      undefined,
    ]);
    const today = sketches.today(later + CLOCK_LEAP_CONFIRM_MS);
    expect(today).toBe(DAY0 + 3);
    expect(Math.abs(sketches.estimate('pro', 'daily', today) - 100)).toBeLessThanOrEqual(2);
    // Three days on, the first day is still in the week and the month.
    expect(Math.abs(sketches.estimate('pro', 'weekly', today) - 600)).toBeLessThanOrEqual(6);
    // Collections alone confirm as well: a leap of 40 days, read by two collections 5 minutes apart.
    const far = (DAY0 + 43.5) * DAY_MS;
    expect(sketches.today(far)).toBe(DAY0 + 3);
    expect(sketches.today(far + CLOCK_LEAP_CONFIRM_MS)).toBe(DAY0 + 43);
    expect(sketches.snapshot()).toEqual([]); // every day it kept is older than every window now
  });

  it('a clock set back beyond every window (the first reading was the bad one) is believed after a while', () => {
    const sketches = new DaySketches(14);
    const wrong = (DAY0 + 400.5) * DAY_MS;
    add(sketches, 'free', DAY0 + 400, ['at-the-wrong-time'], wrong);
    const right = (DAY0 + 0.5) * DAY_MS;
    expect(add(sketches, 'free', DAY0, ['a'], right)).toEqual(['behind']);
    expect(add(sketches, 'free', DAY0, range(0, 100), right + CLOCK_LEAP_CONFIRM_MS)).toEqual([undefined]);
    expect(sketches.snapshot().map((s) => s.day)).toEqual([DAY0]);
    const today = sketches.today(right + CLOCK_LEAP_CONFIRM_MS);
    expect(Math.abs(sketches.estimate('free', 'daily', today) - 100)).toBeLessThanOrEqual(2);
  });

  it('a clock set back within the windows counts on its own day; a reading that is not a time is refused', () => {
    const sketches = new DaySketches(14);
    add(sketches, 'free', DAY0 + 10, range(0, 10));
    expect(add(sketches, 'free', DAY0 + 2, range(10, 30))).toEqual([undefined]);
    expect(sketches.estimate('free', 'daily', DAY0 + 2)).toBe(20);
    expect(sketches.estimate('free', 'monthly', sketches.today((DAY0 + 10.5) * DAY_MS))).toBe(30);
    expect(add(sketches, 'free', DAY0 + 10, ['n'], NaN)).toEqual(['behind']);
    expect(sketches.today(NaN)).toBe(DAY0 + 10);
  });

  describe('with a monotonic clock (the real wall clock is read)', () => {
    // The monotonic clock, in ms; a test moves it with the wall readings it passes, or not (a suspended process).
    let monotonic = 0;
    const withMonotonic = () => {
      monotonic = 1_000;
      return new DaySketches(14, () => monotonic);
    };

    it('a process that ran idle through days without a call believes the new day at once (a cluster worker)', () => {
      const sketches = withMonotonic();
      const friday = (DAY0 + 4) * DAY_MS + 22 * 3_600_000;
      expect(add(sketches, 'free', DAY0 + 4, ['friday'], friday)).toEqual([undefined]);
      // Sunday 09:00: 35 hours later by both clocks, nothing on Saturday.
      monotonic += 35 * 3_600_000;
      const sunday = friday + 35 * 3_600_000;
      expect(add(sketches, 'free', DAY0 + 6, range(0, 10), sunday)).toEqual([undefined]);
      expect(sketches.today(sunday)).toBe(DAY0 + 6);
      expect(sketches.estimate('free', 'daily', DAY0 + 6)).toBe(10);
      expect(sketches.estimate('free', 'weekly', DAY0 + 6)).toBe(11);
      // 40 days on, collections only: believed at once as well, every retained day now older than every window.
      monotonic += 40 * DAY_MS;
      expect(sketches.today(sunday + 40 * DAY_MS)).toBe(DAY0 + 46);
      expect(sketches.snapshot()).toEqual([]);
    });

    it('the two clocks may differ by a minute plus 1000 ppm of the time elapsed; more waits for the confirmation', () => {
      const elapsed = 3 * DAY_MS;
      const slack = MONOTONIC_AGREEMENT_MS + elapsed * MONOTONIC_DRIFT;
      for (const [offset, answer] of [
        [slack, undefined],
        [-slack, undefined],
        [slack + 1_000, 'ahead'],
        [-(slack + 1_000), 'ahead'],
      ] as const) {
        const sketches = withMonotonic();
        const start = (DAY0 + 0.5) * DAY_MS;
        add(sketches, 'pro', DAY0, ['a'], start);
        monotonic += elapsed;
        expect(add(sketches, 'pro', DAY0 + 3, ['b'], start + elapsed + offset)).toEqual([answer]);
      }
    });

    it('a bad reading far ahead, or a process suspended while the monotonic clock stood still, still waits', () => {
      const sketches = withMonotonic();
      const noon = (DAY0 + 0.5) * DAY_MS;
      add(sketches, 'free', DAY0, range(0, 100), noon);
      // One reading a year ahead, a second later by the monotonic clock: refused, and the real day goes on.
      monotonic += 1_000;
      expect(add(sketches, 'free', DAY0 + 365, ['x'], noon + 365 * DAY_MS)).toEqual(['ahead']);
      monotonic += 1_000;
      expect(add(sketches, 'free', DAY0, ['y'], noon + 2_000)).toEqual([undefined]);
      // Suspended for two days: the wall clock moved, the monotonic clock did not. Believed after the confirmation.
      const resumed = noon + 2 * DAY_MS;
      expect(add(sketches, 'free', DAY0 + 2, ['z'], resumed)).toEqual(['ahead']);
      monotonic += CLOCK_LEAP_CONFIRM_MS;
      expect(add(sketches, 'free', DAY0 + 2, ['z'], resumed + CLOCK_LEAP_CONFIRM_MS)).toEqual([undefined]);
      expect(sketches.today(resumed + CLOCK_LEAP_CONFIRM_MS)).toBe(DAY0 + 2);
      // The confirmed reading is the new reference: a later idle gap is vouched for from there.
      monotonic += 3 * DAY_MS;
      expect(add(sketches, 'free', DAY0 + 5, ['w'], resumed + CLOCK_LEAP_CONFIRM_MS + 3 * DAY_MS)).toEqual([
        undefined,
      ]);
      // A clock set back beyond every window is never vouched for, whatever the monotonic clock says.
      monotonic += 1_000;
      expect(add(sketches, 'free', DAY0 - 40, ['v'], (DAY0 - 40 + 0.5) * DAY_MS)).toEqual(['behind']);
    });
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
