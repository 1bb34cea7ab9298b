/**
 * One HyperLogLog sketch per user tier and UTC day, and the daily / weekly / monthly windows as unions of the
 * right day sketches.
 *
 * Owns: day numbering (days since the epoch, UTC), which clock readings are trusted to move the current day,
 * which days a window covers, dropping days older than the longest window, caching window estimates between
 * collections, and the byte snapshot other processes merge. Must not touch: id hashing, validation, Redis, metrics
 * (a refused reading is returned; the caller counts it).
 *
 * A window ending today covers today and the previous days: `daily` is the current UTC calendar day (it starts
 * again at 0 at UTC midnight), `weekly` the last 7 UTC days including today, `monthly` the last 30.
 *
 * The current day (the last roll) moves on a plausible step only: to the next day (midnight), to any later day the
 * monotonic clock vouches for (it advanced as much as the wall clock since the last trusted reading: the process ran
 * through the gap, idle), or to any other day once the clock has stayed there for {@link CLOCK_LEAP_CONFIRM_MS}. A
 * single reading far ahead (an NTP step, an RTC that is wrong for a moment, a bad injected clock) would otherwise
 * drop every retained day at once, and every later reading of the real day would fall before all windows.
 */
import { estimateUnion, HyperLogLog } from './hyperloglog';

/** The windows of `business_active_users`, and how many UTC days each covers. */
export const ACTIVE_USER_WINDOW_DAYS = Object.freeze({ daily: 1, weekly: 7, monthly: 30 } as const);
export type ActiveUserWindowName = keyof typeof ACTIVE_USER_WINDOW_DAYS;
export const ACTIVE_USER_WINDOWS = Object.keys(ACTIVE_USER_WINDOW_DAYS) as ActiveUserWindowName[];
/** Days kept: the longest window. */
export const RETAINED_DAYS = Math.max(...Object.values(ACTIVE_USER_WINDOW_DAYS));

export const DAY_MS = 86_400_000;

/**
 * How long the clock must keep reading a day more than one day after the current one (or before every window of it)
 * before that day becomes the current one. Meanwhile such readings are refused.
 */
export const CLOCK_LEAP_CONFIRM_MS = 5 * 60_000;

/**
 * How far the wall clock's advance since the last trusted reading may differ from the monotonic clock's for a leap
 * to be believed at once: a minute (an NTP step, a stamp up to 100 ms old), plus {@link MONOTONIC_DRIFT} of the
 * monotonic time elapsed (the two clocks' rates differ by NTP's slewing, at most 500 ppm).
 */
export const MONOTONIC_AGREEMENT_MS = 60_000;
/** The share of the elapsed monotonic time added to {@link MONOTONIC_AGREEMENT_MS}: 1000 ppm. */
export const MONOTONIC_DRIFT = 0.001;

/** The largest distance from the epoch a Date can hold, in ms. */
const MAX_DATE_MS = 8.64e15;

/** Why a clock reading is not used: more than a day ahead of the current day, or before every window of it. */
export type ClockRefusal = 'ahead' | 'behind';

/** UTC day number of an epoch-milliseconds time. */
export function utcDay(epochMillis: number): number {
  return Math.floor(epochMillis / DAY_MS);
}

/** `YYYY-MM-DD` of a UTC day number (Redis keys, messages). */
export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The registers of one tier-day, as exchanged between processes. */
export interface DaySketchSnapshot {
  readonly tier: string;
  readonly day: number;
  readonly registers: Uint8Array;
}

interface CachedEstimate {
  day: number;
  version: number;
  value: number;
}

/** All day sketches of one tier. */
class TierSketches {
  /** Day number -> sketch. At most RETAINED_DAYS entries. */
  readonly days = new Map<number, HyperLogLog>();
  /** Bumped on every register change, so cached estimates know when to recompute. */
  version = 0;
  today: HyperLogLog | undefined;
  todayNumber = -1;
  private readonly cache = new Map<ActiveUserWindowName, CachedEstimate>();

  constructor(
    readonly tier: string,
    private readonly precision: number,
  ) {}

  sketchOf(day: number): HyperLogLog {
    let sketch = this.days.get(day);
    if (sketch === undefined) {
      sketch = new HyperLogLog(this.precision);
      this.days.set(day, sketch);
    }
    return sketch;
  }

  estimate(window: ActiveUserWindowName, today: number): number {
    const cached = this.cache.get(window);
    if (cached && cached.day === today && cached.version === this.version) return cached.value;
    const registers: Uint8Array[] = [];
    for (let day = today - ACTIVE_USER_WINDOW_DAYS[window] + 1; day <= today; day++) {
      const sketch = this.days.get(day);
      if (sketch) registers.push(sketch.registers);
    }
    const value = estimateUnion(registers, this.precision);
    this.cache.set(window, { day: today, version: this.version, value });
    return value;
  }

  dropOutside(firstKept: number, lastKept: number): void {
    for (const day of this.days.keys()) {
      if (day < firstKept || day > lastKept) {
        this.days.delete(day);
        this.version++;
      }
    }
  }
}

export class DaySketches {
  private readonly tiers = new Map<string, TierSketches>();
  /** The current UTC day: the last one the clock was trusted to move to. */
  private lastRoll = -Infinity;
  /** A day the clock leapt to, and the first reading of it, until it is confirmed or the clock comes back. */
  private leap: { day: number; since: number } | undefined;
  /** The last trusted wall reading and the monotonic reading taken with it (with a monotonic clock only). */
  private trustedAt = NaN;
  private trustedMonotonic = NaN;

  /**
   * @param monotonic A clock that does not jump with the wall clock (`performance.now()`), in ms, read only when the
   *   current day moves or a reading is refused. Give it only when the readings come from the real wall clock (the
   *   monotonic clock says nothing about an injected one); without it, every leap waits for the confirmation.
   */
  constructor(
    readonly precision: number,
    private readonly monotonic?: () => number,
  ) {}

  /** The per-tier handle the hot path keeps (resolved once per tier string). */
  tier(tier: string): TierSketches {
    let state = this.tiers.get(tier);
    if (state === undefined) {
      state = new TierSketches(tier, this.precision);
      this.tiers.set(tier, state);
    }
    return state;
  }

  /**
   * Add a hashed user to `tier` on the UTC day of `epochMillis`, or return why that reading is refused (nothing is
   * added). Allocation-free once the tier-day sketch exists.
   */
  add(state: TierSketches, epochMillis: number, high: number, low: number): ClockRefusal | undefined {
    const day = Math.floor(epochMillis / DAY_MS);
    if (day !== state.todayNumber || this.leap !== undefined) {
      const refused = this.place(day, epochMillis);
      if (refused !== undefined) return refused;
      if (day !== state.todayNumber) {
        state.today = state.sketchOf(day);
        state.todayNumber = day;
      }
    }
    if (state.today!.add(high, low)) state.version++;
    return undefined;
  }

  /**
   * The day whose windows a collection at `epochMillis` reports: the reading's day, or the current day while the
   * reading is refused (a leap not confirmed yet). It counts as a reading: it moves and confirms as `add` does.
   */
  today(epochMillis: number): number {
    const day = Math.floor(epochMillis / DAY_MS);
    return this.place(day, epochMillis) === undefined ? day : this.currentDay;
  }

  /**
   * Estimated distinct users of `tier` in `window` ending on `today` (0 for a tier never seen). Nothing is dropped
   * here: pass a day from {@link today}.
   */
  estimate(tier: string, window: ActiveUserWindowName, today: number): number {
    const state = this.tiers.get(tier);
    return state ? state.estimate(window, today) : 0;
  }

  /** The current UTC day (NaN before the first reading). */
  get currentDay(): number {
    return this.lastRoll === -Infinity ? NaN : this.lastRoll;
  }

  /** Tiers that have at least one user in the retained days. */
  get tierNames(): string[] {
    return [...this.tiers.keys()];
  }

  /**
   * Trusts a reading of `day`, rolling when it moves the current day; or says why not. Trusted: the first reading,
   * the current day, the next one (midnight), and earlier days some window still covers (a clock set back a little:
   * the call counts on its own day). Any other day is a leap: refused until readings of it (or of the day after it)
   * have gone on for CLOCK_LEAP_CONFIRM_MS by the same clock, with no trusted reading in between; then it becomes
   * the current day. A leap ahead that the monotonic clock vouches for ({@link vouched}) is trusted at once.
   */
  private place(day: number, at: number): ClockRefusal | undefined {
    // A reading that is no time (NaN, beyond the range of a Date) is never a day to roll to.
    if (!(Math.abs(at) <= MAX_DATE_MS)) return 'behind';
    if (
      this.lastRoll === -Infinity ||
      (day <= this.lastRoll + 1 && day > this.lastRoll - RETAINED_DAYS) ||
      (day > this.lastRoll && this.vouched(at))
    ) {
      this.trust(at);
      if (day > this.lastRoll) this.roll(day);
      return undefined;
    }
    const leap = this.leap;
    if (leap === undefined || day < leap.day || day > leap.day + 1 || at < leap.since) {
      this.leap = { day, since: at };
    } else if (at - leap.since >= CLOCK_LEAP_CONFIRM_MS) {
      this.trust(at);
      this.roll(day);
      return undefined;
    }
    return day > this.lastRoll ? 'ahead' : 'behind';
  }

  /** `at` is believed: it ends any leap, and is the reading the next leap's wall advance is measured from. */
  private trust(at: number): void {
    this.leap = undefined;
    if (this.monotonic === undefined) return;
    this.trustedAt = at;
    this.trustedMonotonic = this.monotonic();
  }

  /**
   * Whether the monotonic clock vouches for a leap to `at`: since the last trusted reading, the wall clock advanced
   * as much as the monotonic clock, within {@link MONOTONIC_AGREEMENT_MS} plus {@link MONOTONIC_DRIFT} of the
   * elapsed time. So the process was running (idle, with no reading) through the gap, and the days are real. A bad
   * wall reading, or a process suspended while the monotonic clock stood still, is not vouched for: it waits for
   * the confirmation.
   */
  private vouched(at: number): boolean {
    if (this.monotonic === undefined) return false;
    const elapsed = this.monotonic() - this.trustedMonotonic;
    // NaN (no trusted reading yet, a monotonic clock that reads no number) compares false: not vouched.
    return (
      elapsed >= 0 &&
      Math.abs(at - this.trustedAt - elapsed) <= MONOTONIC_AGREEMENT_MS + elapsed * MONOTONIC_DRIFT
    );
  }

  /**
   * Make `today` the current day: drop the sketches of days no window ending on it covers (and, once the clock is
   * confirmed to have gone back, those of the days after it: recorded by the clock now disbelieved).
   */
  private roll(today: number): void {
    this.lastRoll = today;
    for (const state of this.tiers.values()) {
      state.dropOutside(today - RETAINED_DAYS + 1, today + 1);
      if (state.todayNumber !== today) {
        state.today = undefined;
        state.todayNumber = -1;
      }
    }
  }

  /** Every retained tier-day sketch, not copied (the Redis store reads and encodes them at a flush). */
  *sketches(): IterableIterator<{ tier: string; day: number; version: number; registers: Uint8Array }> {
    for (const state of this.tiers.values()) {
      for (const [day, sketch] of state.days)
        yield { tier: state.tier, day, version: sketch.version, registers: sketch.registers };
    }
  }

  /** Copies of the registers of every retained tier-day from `fromDay` on (the cluster snapshot). */
  snapshot(fromDay = -Infinity): DaySketchSnapshot[] {
    const result: DaySketchSnapshot[] = [];
    for (const state of this.tiers.values()) {
      for (const [day, sketch] of state.days) {
        if (day >= fromDay) result.push({ tier: state.tier, day, registers: sketch.registers.slice() });
      }
    }
    return result;
  }

  /**
   * Merge another process's tier-day registers (register-wise maximum: a user counted twice counts once) into the
   * days a window ending on `today` covers (pass a day from {@link today}), and the day after it.
   */
  merge(snapshots: readonly DaySketchSnapshot[], today: number): void {
    for (const { tier, day, registers } of snapshots) {
      if (day < today - RETAINED_DAYS + 1 || day > today + 1) continue; // too old, or from a clock far ahead
      if (registers.length !== 1 << this.precision) {
        throw new RangeError(
          `active-users snapshot has ${registers.length} registers; this process uses precision ${this.precision}`,
        );
      }
      const state = this.tier(tier);
      state.sketchOf(day).merge(registers);
      state.version++;
    }
  }
}
