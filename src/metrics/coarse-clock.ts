/**
 * The clock for stamps that only need whole seconds or days: the one-second slots of the revenue minute and the
 * UTC day of an active user. Why not `Date.now()` on every call: on the VMs we measured it costs ~40 ns, a third
 * of a recordRevenue call, and those stamps cannot use millisecond freshness. (Durations, which can, keep
 * reading the clock on every call.)
 *
 * Owns: when the default clock is read again. Must not touch: what the stamps mean (RevenueWindow, DaySketches).
 *
 * The same technique as lru-cache's `ttlResolution` or nginx's cached time: a reading is reused for at most
 * {@link MAX_STAMP_AGE_MILLIS} of event-loop time and at most {@link MAX_STAMP_USES} calls, whichever ends first
 * (the call limit bounds the age while the event loop is blocked and the expiry timer cannot run).
 */

/** How long a reading is reused at most (event-loop time): well under the one-second slots it stamps. */
export const MAX_STAMP_AGE_MILLIS = 100;
/** How many calls reuse one reading at most. */
export const MAX_STAMP_USES = 64;

/**
 * `Date.now` as Node provides it, or undefined when a fake clock had already replaced it when this module loaded.
 * While `Date.now` is anything else (Jest's or sinon's fake timers), every call reads it, so a test that moves
 * the faked time sees it at once.
 */
const NATIVE_DATE_NOW = /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(Date.now))
  ? Date.now
  : undefined;

export class CoarseClock {
  private reading = 0;
  private usesLeft = 0;
  private expiry: ReturnType<typeof setTimeout> | undefined;

  /** Epoch milliseconds, at most {@link MAX_STAMP_AGE_MILLIS} or {@link MAX_STAMP_USES} calls old. Never throws. */
  readonly now = (): number => {
    if (--this.usesLeft >= 0 && Date.now === NATIVE_DATE_NOW) return this.reading;
    return this.read();
  };

  private read(): number {
    const now = Date.now();
    if (Date.now !== NATIVE_DATE_NOW) {
      this.usesLeft = 0;
      return now;
    }
    this.reading = now;
    this.usesLeft = MAX_STAMP_USES - 1;
    if (this.expiry === undefined) {
      // Armed only while the clock is in use: an idle process has no timer. unref: it never keeps a process up.
      this.expiry = setTimeout(this.expire, MAX_STAMP_AGE_MILLIS);
      this.expiry.unref?.();
    }
    return now;
  }

  private readonly expire = (): void => {
    this.expiry = undefined;
    this.usesLeft = 0;
  };
}

/** The stamp clock for a recorder: an injected clock as it is (tests move it between calls), else a CoarseClock. */
export function stampClock(injected: (() => number) | undefined): () => number {
  return injected ?? new CoarseClock().now;
}
