/**
 * The package's one deadline on a promise.
 *
 * Owns: racing work against a timer that never keeps the process alive, and the error that says what ran late.
 * Must not touch: the work itself (it is not cancelled: the caller decides what a late answer means).
 */

/** The work did not settle within its deadline. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly millis: number,
  ) {
    super(`${what} did not finish within ${millis} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles as `work` does, or rejects with a {@link TimeoutError} after `millis`, whichever comes first. The timer is
 * unref'd (a pending deadline never holds the process open) and cleared as soon as the race is decided.
 */
export function withTimeout<T>(work: PromiseLike<T>, millis: number, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, millis)), millis);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
