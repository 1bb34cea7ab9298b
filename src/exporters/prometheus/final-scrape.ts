/**
 * The pull endpoint's hand-over at shutdown: what a process recorded since the last scrape is only in its memory,
 * so a graceful stop keeps serving until one more scrape has read the final values, for a bounded time.
 *
 * Owns: the scrape clock (when the last two scrapes came, which answers are still being written) and the bounded
 * wait for one scrape that collected after the wait began and was written out. Must not touch: serving, routing,
 * negotiation (the pull reader and the scrape path), recording.
 *
 * Why this shape: a pull exporter cannot push its last values, and Prometheus scrapes when it likes. Waiting for
 * "the next scrape" is the only hand-over that needs nothing from the scraper; bounding it by the interval the
 * scrapes themselves showed keeps a shutdown short when nobody scrapes (never scraped: no wait at all).
 */
import type { ServerResponse } from 'node:http';

/** The automatic wait never exceeds this: a shutdown must fit a platform's grace period (Kubernetes: 30 s). */
export const MAX_AUTOMATIC_WAIT_MILLIS = 30_000;
/** ...and is never shorter than this once a scraper is known (a scrape takes time to arrive and be written). */
export const MIN_AUTOMATIC_WAIT_MILLIS = 1_000;

interface Waiting {
  collected: boolean;
  readonly settle: (handedOver: boolean) => void;
}

export class FinalScrape {
  private last = 0;
  private previous = 0;
  private scrapes = 0;
  private writing = 0;
  private waiting: Waiting | undefined;
  private outcome: Promise<boolean> | undefined;

  /**
   * @param timeoutMillis the wait once the endpoint has been scraped; undefined: twice the interval between the
   *   last two scrapes, counted from the last one (1 to 30 s), once it has been scraped twice; 0: no hand-over.
   * @throws RangeError for a negative or non-integer timeout.
   */
  constructor(private readonly timeoutMillis: number | undefined) {
    if (timeoutMillis !== undefined && (!Number.isSafeInteger(timeoutMillis) || timeoutMillis < 0)) {
      throw new RangeError(
        `Prometheus exporter finalScrapeTimeoutMillis must be a whole number of milliseconds >= 0, got ${String(timeoutMillis)}`,
      );
    }
  }

  /** A scrape starts collecting. Call the returned function once its values are collected. */
  collecting(): () => void {
    const now = Date.now();
    this.previous = this.last;
    this.last = now;
    this.scrapes++;
    // Only a collection that started after the wait began reads the final values.
    const waiting = this.waiting;
    return () => {
      if (waiting !== undefined) waiting.collected = true;
      this.check();
    };
  }

  /** An answer to a scrape is being written; it counts until the response closes. */
  answering(response: ServerResponse): void {
    this.writing++;
    response.once('close', () => {
      this.writing--;
      this.check();
    });
  }

  /** How long a shutdown should wait for a final scrape now (0: off, or nobody is known to scrape). */
  budgetMillis(now = Date.now()): number {
    if (this.outcome !== undefined) return 0;
    if (this.timeoutMillis !== undefined) return this.scrapes > 0 ? this.timeoutMillis : 0;
    if (this.scrapes < 2) return 0;
    const interval = this.last - this.previous;
    // The next scrape is expected an interval after the last one; allow it a second interval to come and be written.
    const expected = this.last + 2 * interval + MIN_AUTOMATIC_WAIT_MILLIS - now;
    return Math.min(MAX_AUTOMATIC_WAIT_MILLIS, Math.max(MIN_AUTOMATIC_WAIT_MILLIS, expected));
  }

  /**
   * Waits until a scrape that collected after this call has been written out (and no other answer is still being
   * written), or `timeoutMillis` passed. Resolves true when the final values were handed over. Called again,
   * returns the first call's outcome. The timer holds the process open while it waits: that is the point.
   */
  handOver(timeoutMillis: number): Promise<boolean> {
    if (this.outcome !== undefined) return this.outcome;
    if (!(timeoutMillis > 0)) {
      this.outcome = Promise.resolve(false);
      return this.outcome;
    }
    this.outcome = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMillis);
      const settle = (handedOver: boolean) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(handedOver);
      };
      this.waiting = { collected: false, settle };
    });
    return this.outcome;
  }

  /** Epoch milliseconds of the last scrape (0: never scraped). */
  get lastScrape(): number {
    return this.last;
  }

  private check(): void {
    const waiting = this.waiting;
    if (waiting !== undefined && waiting.collected && this.writing === 0) waiting.settle(true);
  }
}
