/**
 * The browser engagement client: queues feature, milestone and session-end events and delivers them in batches to
 * the Express engagement router with `navigator.sendBeacon`, falling back to `fetch(..., { keepalive: true })`.
 *
 * Owns: batching, delivery (retries after a failed `fetch`, the `dropped` count, which an answer's `refused` adds to), keeping batches within what the
 * router accepts, and the page-lifecycle hooks (`pagehide`, `visibilitychange`, `pageshow`). Must not
 * touch: Node APIs or the OpenTelemetry SDK (this file ships in browser bundles, which must stay small), and must
 * never throw into the page: telemetry failures are swallowed.
 */
import {
  DEFAULT_ENGAGEMENT_ENDPOINT,
  ENGAGEMENT_CONTEXT_PATTERN,
  ENGAGEMENT_LIMITS,
  ENGAGEMENT_NAME_PATTERN,
  type EngagementBatch,
  type EngagementEvent,
  type EngagementSession,
} from './protocol';

export interface EngagementClientOptions {
  /**
   * URL of the engagement router, on the page's own origin (mount the router there or proxy it): the router does
   * not answer CORS preflights, so a cross-origin endpoint never receives a batch. Default `/api/engagement`.
   */
  readonly endpoint?: string;
  /**
   * The user's tier. Like `entryPage`, printable ASCII without spaces, at most 128 characters (what the router
   * accepts): other characters become `_`, an empty value `unknown`, and the client warns once.
   */
  readonly userTier: string;
  /** The page the session started on; prefer a route pattern (`/product/:id`) to a full URL. */
  readonly entryPage: string;
  readonly isNewUser: boolean;
  /**
   * Flush as soon as this many events are queued (at most 50), once the current task's synchronous code is done. A
   * flush sends everything queued, up to 50 events per request. Default 20.
   */
  readonly maxBatch?: number;
  /** Flush queued events at least this often, in milliseconds. Default 5000; 0 turns the timer off. */
  readonly flushIntervalMs?: number;
  /**
   * When the session ends by itself: `pagehide` (default; single-page apps, where leaving the page ends the visit)
   * or `manual` (multi-page sites, where every navigation fires `pagehide`: call `endSession()` yourself or let the
   * server end sessions on idle).
   */
  readonly sessionEnd?: 'pagehide' | 'manual';
  /**
   * Session start in epoch milliseconds, for sessions that began on an earlier page. Default (and for a value that
   * is not a finite number): now. The duration sent is rounded to whole milliseconds and held to 0 to 24 hours.
   */
  readonly sessionStartTime?: number;
  /**
   * Most events kept waiting: while no transport takes them, or after the `fetch` fallback failed (network error,
   * 429, 5xx) and waits for `Retry-After`. Beyond it the oldest are dropped and counted in `dropped`. Default 200;
   * held to `maxBatch`..1000 (a value that is not a finite number means `maxBatch`).
   * A beacon's events leave the client at once: the browser never says whether they arrived.
   */
  readonly maxQueue?: number;
}

// Read once: each `ENGAGEMENT_LIMITS.x` would cost its full spelling in the minified bundle.
const { maxEventsPerBatch, maxNameLength, maxContextLength, maxSessionDurationMs } = ENGAGEMENT_LIMITS;

/** What the endpoint answers a well-formed batch (`202`, or `400` when it refused every event). */
interface EngagementAnswer {
  readonly accepted?: number;
  readonly refused?: number;
  readonly refusals?: ReadonlyArray<{
    readonly index: number;
    readonly reason: string;
    readonly error: string;
  }>;
}

export interface EngagementClient {
  /**
   * Record a feature interaction (`dashboard_export`). A name the router would refuse (empty, longer than 64
   * characters, outside `ENGAGEMENT_NAME_PATTERN`) is dropped and counted in `dropped`, so it cannot cost the
   * events batched with it.
   */
  trackFeature(name: string): void;
  /** Record a milestone (`first_chart_created`); names as for `trackFeature`. */
  trackMilestone(name: string): void;
  /** End the session now (logout, unmount) and deliver everything queued. Later calls do nothing. */
  endSession(): void;
  /**
   * Deliver queued events now. Returns false when there was nothing to send, delivery could not start, or a failed
   * `fetch` asked to wait (`Retry-After`, else 5 s: the client retries by itself then).
   */
  flush(): boolean;
  /** Events waiting to be sent. */
  readonly pending: number;
  /**
   * Events this client gave up on: names the router would refuse, events beyond `maxQueue`, batches the
   * endpoint refused for good on the `fetch` fallback (a 4xx other than 429), and the events of an accepted batch
   * it refused (its answer's `refused`: names outside its allow-lists). The first drop is reported once with
   * `console.warn`; later ones are only counted.
   */
  readonly dropped: number;
  /** Remove listeners and timers (does not flush; call `endSession` or `flush` first if you need that). */
  dispose(): void;
}

/** Create a client bound to the current page's `window`. Safe to call during server-side rendering (it no-ops). */
export function createEngagementClient(options: EngagementClientOptions): EngagementClient {
  // Plain JavaScript callers can forget it; the page must not break for that.
  options ??= {} as EngagementClientOptions;
  const endpoint = options.endpoint ?? DEFAULT_ENGAGEMENT_ENDPOINT;
  const maxBatch = clamp(options.maxBatch ?? 20, 1, maxEventsPerBatch);
  // clamp(): a NaN or Infinity would leave the queue unbounded while delivery fails.
  const maxQueue = clamp(options.maxQueue ?? 200, maxBatch, 1000);
  const flushIntervalMs = options.flushIntervalMs ?? 5000;
  const endOnPagehide = (options.sessionEnd ?? 'pagehide') === 'pagehide';
  const session: EngagementSession = {
    userTier: contextValue(options.userTier),
    entryPage: contextValue(options.entryPage),
    isNewUser: options.isNewUser === true,
  };
  if (session.userTier !== options.userTier || session.entryPage !== options.entryPage) {
    // A developer's mistake in the page's code, the same for every event: said once, at creation.
    warn(`userTier/entryPage must be 1-128 printable ASCII, no spaces; sending ${JSON.stringify(session)}`);
  }
  // Only a DOM window: React Native has a `window` without events, some runtimes one without `document`.
  const global = typeof window === 'undefined' ? undefined : window;
  const win = global && typeof global.addEventListener === 'function' && global.document ? global : undefined;
  let queue: EngagementEvent[] = [];
  const startOption = options.sessionStartTime;
  let sessionStartTime = Number.isFinite(startOption) ? (startOption as number) : Date.now();
  let sessionEnded = false;
  let disposed = false;
  let dropped = 0;

  const drop = (count: number, why: string): void => {
    // One warning per client: enough for a developer to notice, never a flood in a user's console.
    if (dropped === 0) warn(`dropped events (counted in .dropped): ${why}`);
    dropped += count;
  };

  let pausedUntil = 0;
  let retryTimer: number | undefined;

  /** Keep the newest `maxQueue` events; the dropped ones are counted. */
  const trim = (): void => {
    const over = queue.length - maxQueue;
    if (over > 0) {
      queue = queue.slice(over);
      drop(over, `more than maxQueue (${maxQueue}) waiting`);
    }
  };

  /** The endpoint is down or busy: put the events back in front and wait before the next request. */
  const retryLater = (events: readonly EngagementEvent[], retryAfter?: string | null): void => {
    if (disposed) return;
    queue = events.concat(queue);
    trim();
    const seconds = parseFloat(retryAfter ?? '');
    const wait = seconds > 0 ? Math.min(seconds, 3600) * 1000 : 5000;
    pausedUntil = Date.now() + wait;
    if (win) {
      if (retryTimer !== undefined) win.clearTimeout(retryTimer);
      retryTimer = win.setTimeout(() => {
        retryTimer = undefined;
        flush();
      }, wait);
    }
  };

  const send = (events: readonly EngagementEvent[]): boolean => {
    const batch: EngagementBatch = { session, events };
    const body = JSON.stringify(batch);
    try {
      const nav = globalThis.navigator as Navigator | undefined;
      // A Blob carries the JSON content type; sendBeacon with a string would send text/plain. Its `true` only
      // means the browser queued the request: whether it arrived is never known to the page.
      if (
        nav &&
        typeof nav.sendBeacon === 'function' &&
        nav.sendBeacon(endpoint, new Blob([body], { type: 'application/json' }))
      ) {
        return true;
      }
      if (typeof fetch === 'function') {
        // keepalive lets the request outlive the page, like a beacon, when sendBeacon is missing or refused.
        fetch(endpoint, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          keepalive: true,
          credentials: 'same-origin',
        })
          .then(
            (response) => {
              const status = response.status;
              if (status === 429 || status >= 500) retryLater(events, response.headers?.get('retry-after'));
              // Refused for good (400, 413, ...): sending it again would be refused again.
              else if (status >= 400) drop(events.length, `the endpoint answered ${status}`);
              // Accepted, perhaps in part: the events the endpoint refused (names outside its allow-lists: the
              // answer and the server's log say which) are counted here, and like the rest never sent again.
              else
                return response.json().then((answer: EngagementAnswer) => {
                  if (answer.refused! > 0) drop(answer.refused! | 0, 'refused by the endpoint');
                });
            },
            () => retryLater(events),
          )
          .catch(() => undefined);
        return true;
      }
    } catch {
      // Telemetry must never break the page.
    }
    return false;
  };

  const flush = (force?: boolean): boolean => {
    if (queue.length === 0 || (!force && Date.now() < pausedUntil)) return false;
    while (queue.length > 0) {
      // A batch holds at most one session end (the router refuses two); a retried batch can put a second in line.
      let count = 0;
      let ends = 0;
      while (
        count < queue.length &&
        count < maxEventsPerBatch &&
        (queue[count]?.kind !== 'session_end' || !ends++)
      ) {
        count++;
      }
      if (!send(queue.slice(0, count))) return false;
      queue = queue.slice(count);
    }
    return true;
  };

  let flushQueued = false;
  const enqueue = (event: EngagementEvent): void => {
    if (disposed) return;
    queue.push(event);
    // A full queue goes out now rather than losing its oldest events to a burst within one task.
    if (queue.length > maxQueue) flush();
    trim();
    // One flush per microtask, however many events a loop tracks: each request costs a token of the router's
    // per-client rate limit (a burst of 20, then 2 per second), and a flush packs up to 50 events per request.
    if (queue.length >= maxBatch && !flushQueued) {
      flushQueued = true;
      void Promise.resolve().then(() => {
        flushQueued = false;
        if (!disposed) flush();
      });
    }
  };

  const endSession = (): void => {
    if (sessionEnded || disposed) return;
    sessionEnded = true;
    // The router accepts whole milliseconds and durations of 0 to 24 hours only: a fractional start
    // (performance.timeOrigin), a tab left open for days or a start from a clock ahead of this one would otherwise
    // lose the batch, and the session end with it. (Date.now() is whole milliseconds: a time value is an integer.)
    const endedAt = Date.now();
    const start = Math.min(endedAt, Math.max(endedAt - maxSessionDurationMs, Math.round(sessionStartTime)));
    enqueue({ kind: 'session_end', sessionStartTime: start, endedAt });
    flush();
  };

  const onPagehide = safe((): void => {
    if (endOnPagehide) endSession();
    // The page's last chance: send even while paused after a failure.
    flush(true);
  });
  const onVisibilityChange = safe((): void => {
    // Hidden is the last state a mobile browser reliably reports before it discards the page.
    // It may be the page's last chance, as pagehide: send even while paused after a failure.
    if (win && win.document.visibilityState === 'hidden') flush(true);
  });
  const onPageshow = safe((event: PageTransitionEvent): void => {
    // Restored from the back/forward cache: the user is back, which is a new visit for a pagehide-ended session.
    if (event.persisted && endOnPagehide && sessionEnded) {
      sessionEnded = false;
      sessionStartTime = Date.now();
    }
  });

  win?.addEventListener('pagehide', onPagehide);
  win?.document.addEventListener('visibilitychange', onVisibilityChange);
  win?.addEventListener('pageshow', onPageshow);
  const timer = win && flushIntervalMs > 0 ? win.setInterval(() => flush(), flushIntervalMs) : undefined;

  const track = (kind: 'feature' | 'milestone', value: unknown): void => {
    if (disposed) return;
    const name = String(value);
    // The router refuses the whole batch for one bad name: drop that event alone, before it is batched.
    if (name.length > maxNameLength || !ENGAGEMENT_NAME_PATTERN.test(name)) {
      drop(1, `${kind} name ${JSON.stringify(name.slice(0, 80))}: not ENGAGEMENT_NAME_PATTERN, 1-64 chars`);
      return;
    }
    enqueue({ kind, name });
  };

  return {
    trackFeature: safe((name) => track('feature', name)),
    trackMilestone: safe((name) => track('milestone', name)),
    endSession: safe(endSession),
    flush: safe(() => flush()),
    get pending() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
    dispose: safe(() => {
      disposed = true;
      win?.removeEventListener('pagehide', onPagehide);
      win?.document.removeEventListener('visibilitychange', onVisibilityChange);
      win?.removeEventListener('pageshow', onPageshow);
      if (timer !== undefined) win?.clearInterval(timer);
      if (retryTimer !== undefined) win?.clearTimeout(retryTimer);
    }),
  };
}

/** `fn`, which returns `false` instead of throwing into the page (a name whose `toString` throws, a broken DOM). */
function safe<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R | false {
  return (...args) => {
    try {
      return fn(...args);
    } catch {
      return false;
    }
  };
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : min;
}

function warn(message: string): void {
  // eslint-disable-next-line no-console -- a browser has no diag logger; the page's developer reads the console
  console.warn(`otel-business-metrics: ${message}`);
}

/** A session context value the router accepts: offending characters become `_`, cut to the limit, never empty. */
function contextValue(value: unknown): string {
  let text = '';
  try {
    text = String(value ?? '');
  } catch {
    // A value whose toString throws is no context: sent as `unknown`.
  }
  const chars = Array.from(text, (char) => (ENGAGEMENT_CONTEXT_PATTERN.test(char) ? char : '_'));
  return chars.join('').slice(0, maxContextLength) || 'unknown';
}
