/**
 * The browser engagement client: queues feature, milestone and session-end events and delivers them in batches to
 * the Express engagement router with `navigator.sendBeacon`, falling back to `fetch(..., { keepalive: true })`.
 *
 * Owns: batching, delivery, and the page-lifecycle hooks (`pagehide`, `visibilitychange`, `pageshow`). Must not
 * touch: Node APIs or the OpenTelemetry SDK (this file ships in browser bundles, which must stay small), and must
 * never throw into the page: telemetry failures are swallowed.
 */
import {
  DEFAULT_ENGAGEMENT_ENDPOINT,
  ENGAGEMENT_LIMITS,
  type EngagementBatch,
  type EngagementEvent,
  type EngagementSession,
} from './protocol';

export interface EngagementClientOptions {
  /** URL of the engagement router. Default `/api/engagement`. */
  readonly endpoint?: string;
  readonly userTier: string;
  /** The page the session started on; prefer a route pattern (`/product/:id`) to a full URL. */
  readonly entryPage: string;
  readonly isNewUser: boolean;
  /** Flush as soon as this many events are queued (at most 50). Default 20. */
  readonly maxBatch?: number;
  /** Flush queued events at least this often, in milliseconds. Default 5000; 0 turns the timer off. */
  readonly flushIntervalMs?: number;
  /**
   * When the session ends by itself: `pagehide` (default; single-page apps, where leaving the page ends the visit)
   * or `manual` (multi-page sites, where every navigation fires `pagehide`: call `endSession()` yourself or let the
   * server end sessions on idle).
   */
  readonly sessionEnd?: 'pagehide' | 'manual';
  /** Session start in epoch milliseconds, for sessions that began on an earlier page. Default: now. */
  readonly sessionStartTime?: number;
  /** Most events kept while the endpoint is unreachable; the oldest are dropped beyond it. Default 200. */
  readonly maxQueue?: number;
}

export interface EngagementClient {
  /** Record a feature interaction (`dashboard_export`). */
  trackFeature(name: string): void;
  /** Record a milestone (`first_chart_created`). */
  trackMilestone(name: string): void;
  /** End the session now (logout, unmount) and deliver everything queued. Later calls do nothing. */
  endSession(): void;
  /** Deliver queued events now. Returns false when there was nothing to send or delivery could not start. */
  flush(): boolean;
  /** Events waiting to be sent. */
  readonly pending: number;
  /** Remove listeners and timers (does not flush; call `endSession` or `flush` first if you need that). */
  dispose(): void;
}

/** Create a client bound to the current page's `window`. Safe to call during server-side rendering (it no-ops). */
export function createEngagementClient(options: EngagementClientOptions): EngagementClient {
  const endpoint = options.endpoint ?? DEFAULT_ENGAGEMENT_ENDPOINT;
  const maxBatch = clamp(options.maxBatch ?? 20, 1, ENGAGEMENT_LIMITS.maxEventsPerBatch);
  const maxQueue = Math.max(maxBatch, options.maxQueue ?? 200);
  const flushIntervalMs = options.flushIntervalMs ?? 5000;
  const endOnPagehide = (options.sessionEnd ?? 'pagehide') === 'pagehide';
  const session: EngagementSession = {
    userTier: truncate(options.userTier, ENGAGEMENT_LIMITS.maxContextLength),
    entryPage: truncate(options.entryPage, ENGAGEMENT_LIMITS.maxContextLength),
    isNewUser: options.isNewUser === true,
  };
  const win: Window | undefined = typeof window === 'undefined' ? undefined : window;
  let queue: EngagementEvent[] = [];
  let sessionStartTime = options.sessionStartTime ?? Date.now();
  let sessionEnded = false;
  let disposed = false;

  const send = (events: readonly EngagementEvent[]): boolean => {
    const batch: EngagementBatch = { session, events };
    const body = JSON.stringify(batch);
    try {
      const nav = typeof navigator === 'undefined' ? undefined : navigator;
      if (nav && typeof nav.sendBeacon === 'function') {
        // A Blob carries the JSON content type; sendBeacon with a string would send text/plain.
        if (nav.sendBeacon(endpoint, new Blob([body], { type: 'application/json' }))) return true;
      }
      if (typeof fetch === 'function') {
        // keepalive lets the request outlive the page, like a beacon, when sendBeacon is missing or refused.
        void fetch(endpoint, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          keepalive: true,
          credentials: 'same-origin',
        }).catch(() => undefined);
        return true;
      }
    } catch {
      // Telemetry must never break the page.
    }
    return false;
  };

  const flush = (): boolean => {
    if (queue.length === 0) return false;
    let sentAll = true;
    while (queue.length > 0) {
      const chunk = queue.slice(0, maxBatch);
      if (!send(chunk)) {
        sentAll = false;
        break;
      }
      queue = queue.slice(chunk.length);
    }
    return sentAll;
  };

  const enqueue = (event: EngagementEvent): void => {
    if (disposed) return;
    queue.push(event);
    if (queue.length > maxQueue) queue = queue.slice(queue.length - maxQueue);
    if (queue.length >= maxBatch) flush();
  };

  const endSession = (): void => {
    if (sessionEnded || disposed) return;
    sessionEnded = true;
    enqueue({ kind: 'session_end', sessionStartTime, endedAt: Date.now() });
    flush();
  };

  const onPagehide = (): void => {
    if (endOnPagehide) endSession();
    else flush();
  };
  const onVisibilityChange = (): void => {
    // Hidden is the last state a mobile browser reliably reports before it discards the page.
    if (win && win.document.visibilityState === 'hidden') flush();
  };
  const onPageshow = (event: PageTransitionEvent): void => {
    // Restored from the back/forward cache: the user is back, which is a new visit for a pagehide-ended session.
    if (event.persisted && endOnPagehide && sessionEnded) {
      sessionEnded = false;
      sessionStartTime = Date.now();
    }
  };

  win?.addEventListener('pagehide', onPagehide);
  win?.document.addEventListener('visibilitychange', onVisibilityChange);
  win?.addEventListener('pageshow', onPageshow);
  const timer = win && flushIntervalMs > 0 ? win.setInterval(flush, flushIntervalMs) : undefined;

  return {
    trackFeature: (name) =>
      enqueue({ kind: 'feature', name: truncate(name, ENGAGEMENT_LIMITS.maxNameLength) }),
    trackMilestone: (name) =>
      enqueue({ kind: 'milestone', name: truncate(name, ENGAGEMENT_LIMITS.maxNameLength) }),
    endSession,
    flush,
    get pending() {
      return queue.length;
    },
    dispose() {
      disposed = true;
      win?.removeEventListener('pagehide', onPagehide);
      win?.document.removeEventListener('visibilitychange', onVisibilityChange);
      win?.removeEventListener('pageshow', onPageshow);
      if (timer !== undefined) win?.clearInterval(timer);
    },
  };
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : min;
}

function truncate(value: unknown, max: number): string {
  return String(value ?? '').slice(0, max);
}
