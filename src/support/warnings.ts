/**
 * Warnings at a bounded rate: a condition that repeats (bad input, an unreachable collector or Redis) is said once
 * a minute per key, with the count of what was suppressed in between, through OpenTelemetry's `diag`.
 *
 * Owns: the rate limit and the suppressed count. Must not touch: what the warning is about (callers build the
 * text, through `describe`/`safeMessage` when it quotes anything from outside).
 */
import { diag } from './diag';

const WARNING_INTERVAL_MS = 60_000;

/** One warning per key per minute; the next one says how many were suppressed in between. */
export class RateLimitedWarnings {
  private readonly lastWarned = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** `message` may be a function: under a flood of bad input, the text is only built for warnings emitted. */
  warn(key: string, message: string | (() => string)): void {
    const now = this.now();
    const state = this.lastWarned.get(key);
    if (state && now - state.at < WARNING_INTERVAL_MS) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    if (state) {
      state.at = now;
      state.suppressed = 0;
    } else {
      this.lastWarned.set(key, { at: now, suppressed: 0 });
    }
    const text = typeof message === 'string' ? message : message();
    diag.warn(suppressed > 0 ? `${text} (${suppressed} similar warnings suppressed)` : text);
  }
}
