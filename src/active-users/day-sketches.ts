/**
 * One HyperLogLog sketch per user tier and UTC day, and the daily / weekly / monthly windows as unions of the
 * right day sketches.
 *
 * Owns: day numbering (days since the epoch, UTC), which days a window covers, dropping days older than the
 * longest window, caching window estimates between collections, and the byte snapshot other processes merge.
 * Must not touch: id hashing, validation, Redis, metrics.
 *
 * A window ending today covers today and the previous days: `daily` is the current UTC calendar day (it starts
 * again at 0 at UTC midnight), `weekly` the last 7 UTC days including today, `monthly` the last 30.
 */
import { estimateUnion, HyperLogLog } from './hyperloglog';

/** The windows of `business_active_users`, and how many UTC days each covers. */
export const ACTIVE_USER_WINDOW_DAYS = Object.freeze({ daily: 1, weekly: 7, monthly: 30 } as const);
export type ActiveUserWindowName = keyof typeof ACTIVE_USER_WINDOW_DAYS;
export const ACTIVE_USER_WINDOWS = Object.keys(ACTIVE_USER_WINDOW_DAYS) as ActiveUserWindowName[];
/** Days kept: the longest window. */
export const RETAINED_DAYS = Math.max(...Object.values(ACTIVE_USER_WINDOW_DAYS));

export const DAY_MS = 86_400_000;

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

  dropBefore(firstKept: number): void {
    for (const day of this.days.keys()) {
      if (day < firstKept) {
        this.days.delete(day);
        this.version++;
      }
    }
  }
}

export class DaySketches {
  private readonly tiers = new Map<string, TierSketches>();
  private lastRoll = -Infinity;

  constructor(readonly precision: number) {}

  /** The per-tier handle the hot path keeps (resolved once per tier string). */
  tier(tier: string): TierSketches {
    let state = this.tiers.get(tier);
    if (state === undefined) {
      state = new TierSketches(tier, this.precision);
      this.tiers.set(tier, state);
    }
    return state;
  }

  /** Add a hashed user to `tier` on `day`. Allocation-free once the tier-day sketch exists. */
  add(state: TierSketches, day: number, high: number, low: number): void {
    if (day !== state.todayNumber) {
      if (day > this.lastRoll) this.roll(day);
      else if (day <= this.lastRoll - RETAINED_DAYS) return; // a clock that jumped back beyond every window
      state.today = state.sketchOf(day);
      state.todayNumber = day;
    }
    if (state.today!.add(high, low)) state.version++;
  }

  /** Estimated distinct users of `tier` in `window` ending on `today` (0 for a tier never seen). */
  estimate(tier: string, window: ActiveUserWindowName, today: number): number {
    if (today > this.lastRoll) this.roll(today);
    const state = this.tiers.get(tier);
    return state ? state.estimate(window, today) : 0;
  }

  /** Tiers that have at least one user in the retained days. */
  get tierNames(): string[] {
    return [...this.tiers.keys()];
  }

  /** Drop sketches of days no window ending on `today` covers. */
  roll(today: number): void {
    this.lastRoll = today;
    for (const state of this.tiers.values()) {
      state.dropBefore(today - RETAINED_DAYS + 1);
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

  /** Merge another process's tier-day registers (register-wise maximum: a user counted twice counts once). */
  merge(snapshots: readonly DaySketchSnapshot[], today: number): void {
    if (today > this.lastRoll) this.roll(today);
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
