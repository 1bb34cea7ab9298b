/**
 * Waiting for an event in a test: the condition is polled until it holds, and at a deadline the wait fails
 * loudly, naming what it waited for and what was still missing. A fixed sleep instead is outlasted by a loaded
 * machine and costs its whole length on a quiet one; a loop that gives up silently passes on what never came.
 */

export interface WaitOptions {
  /** How long the event may take (ms); 30 s unless told. */
  readonly timeoutMillis?: number;
  /** Between two checks (ms); 250 unless told. */
  readonly intervalMillis?: number;
  /** Adds context to the failure (logs, say), given what was still missing. */
  readonly context?: (missing: string) => string;
}

/**
 * What a check says: `undefined` or `true` when the event has happened; otherwise `false`, or better what is still
 * missing (it goes into the failure message).
 */
export type WaitCheck = () => Promise<string | boolean | undefined> | string | boolean | undefined;

/** Polls `check` until the event has happened; throws `not within <ms> ms: <what> (<missing>)` at the deadline. */
export async function waitUntil(what: string, check: WaitCheck, options: WaitOptions = {}): Promise<void> {
  const { timeoutMillis = 30_000, intervalMillis = 250, context } = options;
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const result = await check();
    if (result === undefined || result === true) return;
    const missing = result === false ? 'not yet' : result;
    if (Date.now() >= deadline) {
      throw new Error(`not within ${timeoutMillis} ms: ${what} (${context ? context(missing) : missing})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMillis));
  }
}
