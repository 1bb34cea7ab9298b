/**
 * The Express router that receives engagement batches from browsers and records them as business metrics.
 *
 * Owns: the HTTP contract of the engagement endpoint (POST, JSON only, size limit, per-client rate limit, JSON error
 * bodies with a clear message) and the mapping of accepted events onto the seed's engagement semantics. Must not
 * touch: the metric definitions (the core's), or anything outside the requests it is mounted for.
 */
import { diag } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ENGAGEMENT_LIMITS, type EngagementBatch, type EngagementSession } from '../../browser/protocol';
import { EngagementTracker } from '../../trackers/engagement';
import { BrowserNames, DEFAULT_MAX_BROWSER_NAMES } from './browser-names';
import { TokenBucketLimiter, type TokenBucketOptions } from './rate-limit';
import { validateEngagementBatch, type EngagementValidationOptions } from './validate';

/**
 * Options of {@link engagementRouter}. Configure `features` and `milestones` (the names your pages report) and
 * `resolveSession` (what your server knows about the session): everything else a browser sends is anonymous input.
 */
export interface EngagementRouterOptions extends EngagementValidationOptions {
  /**
   * Entry pages accepted from browsers (route patterns such as `/product/:id`); others are recorded as `other`.
   * Ignored when `resolveSession` supplies the entry page.
   */
  readonly entryPages?: readonly string[];
  /**
   * Without an allow-list for a kind (features, milestones, entry pages), at most this many distinct names
   * browsers report are kept for the life of the router (default 20); later names are recorded as `other`. This
   * keeps anonymous clients from filling the core's label vocabularies and pushing out server-side values.
   */
  readonly maxBrowserNames?: number;
  /** Largest accepted body in bytes; at most 16 kB (the browser client never sends more). */
  readonly maxBodyBytes?: number;
  /** Per-client token bucket, keyed by `req.ip` (an IPv6 client by its /56: see `ipv6PrefixLength`; set Express's
   * `trust proxy` behind a proxy), or `false` for none. */
  readonly rateLimit?: TokenBucketOptions | false;
  /**
   * Replace what the browser claims about the session with what the server knows: the tier, the new-user flag and
   * the entry page from your session store. Its result is trusted as is. Browsers are untrusted: without this, a
   * client can report any tier the core's label policy accepts and any entry page (bounded by `entryPages` or
   * `maxBrowserNames`).
   */
  readonly resolveSession?: (req: Request, claimed: EngagementSession) => EngagementSession;
  /** Called after a batch was recorded (logging, your own counters). */
  readonly onBatch?: (batch: EngagementBatch, req: Request) => void;
}

/** Status and message of a refused request; the body is `{ "error": message }`. */
function refuse(res: Response, status: number, message: string): void {
  res.status(status).json({ error: message });
}

/**
 * Create the router. Mount it where the browser client posts (default `/api/engagement`):
 * `app.use('/api/engagement', engagementRouter())`.
 */
export function engagementRouter(options: EngagementRouterOptions = {}): Router {
  const maxBodyBytes = Math.min(
    options.maxBodyBytes ?? ENGAGEMENT_LIMITS.maxBodyBytes,
    ENGAGEMENT_LIMITS.maxBodyBytes,
  );
  const limiter = options.rateLimit === false ? undefined : new TokenBucketLimiter(options.rateLimit ?? {});
  const maxNames = options.maxBrowserNames ?? DEFAULT_MAX_BROWSER_NAMES;
  if (!Number.isSafeInteger(maxNames) || maxNames < 0) {
    throw new RangeError(
      `engagementRouter: maxBrowserNames must be an integer >= 0 (got ${String(maxNames)})`,
    );
  }
  const features = new BrowserNames('features', options.features, maxNames);
  const milestones = new BrowserNames('milestones', options.milestones, maxNames);
  const entryPages = new BrowserNames('entryPages', options.entryPages, maxNames);
  const open = (['features', 'milestones'] as const).filter((kind) => options[kind] === undefined);
  if (open.length > 0) {
    diag.warn(
      `engagementRouter: no ${open.join(' or ')} allow-list; anonymous browsers may report any ` +
        `${maxNames} names of each (maxBrowserNames), the rest become "other". Configure ${open.join(' and ')}.`,
    );
  }
  const router = express.Router();

  router.post(
    '/',
    (req: Request, res: Response, next: NextFunction) => {
      if (limiter) {
        const verdict = limiter.take(req.ip ?? req.socket.remoteAddress ?? 'unknown');
        if (!verdict.allowed) {
          res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
          return refuse(res, 429, 'too many engagement requests from this client; retry later');
        }
      }
      if (!req.is('application/json')) {
        return refuse(res, 415, 'engagement events must be sent as application/json');
      }
      next();
    },
    express.json({ limit: maxBodyBytes, strict: true, type: 'application/json' }),
    (req: Request, res: Response) => {
      const result = validateEngagementBatch(req.body, options);
      if (!result.ok) return refuse(res, 400, result.error);
      const claimed = result.batch.session;
      const session = options.resolveSession
        ? options.resolveSession(req, claimed)
        : { ...claimed, entryPage: entryPages.admit(claimed.entryPage) };
      const events = result.batch.events.map((event) =>
        event.kind === 'feature'
          ? { kind: event.kind, name: features.admit(event.name) }
          : event.kind === 'milestone'
            ? { kind: event.kind, name: milestones.admit(event.name) }
            : event,
      );
      recordBatch({ session, events });
      options.onBatch?.({ session, events }, req);
      res.status(202).json({ accepted: result.batch.events.length });
    },
  );

  router.all('/', (_req: Request, res: Response) => {
    res.setHeader('Allow', 'POST');
    refuse(res, 405, 'use POST to send engagement events');
  });

  // body-parser reports its failures as errors with a `type`; turn them into JSON answers instead of HTML pages.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
    if (type === 'entity.too.large') return refuse(res, 413, `request body exceeds ${maxBodyBytes} bytes`);
    if (type === 'entity.parse.failed') return refuse(res, 400, 'request body is not valid JSON');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return refuse(res, 415, 'unsupported body encoding or charset');
    }
    if (type === 'request.aborted' || type === 'request.size.invalid')
      return refuse(res, 400, 'request body incomplete');
    // Anything else (a malformed path, a throwing resolveSession or onBatch) still answers JSON: Express's default
    // page would show an anonymous client the stack trace and the server's file paths.
    const status =
      typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return refuse(res, status, 'bad request');
    diag.error(`engagementRouter: request failed: ${error instanceof Error ? error.message : String(error)}`);
    return refuse(res, 500, 'internal error');
  });

  return router;
}

/** Record an accepted batch with the seed's engagement semantics (see `EngagementTracker`). */
export function recordBatch(batch: EngagementBatch): void {
  const base = {
    userTier: batch.session.userTier,
    entryPage: batch.session.entryPage,
    isNewUser: batch.session.isNewUser,
  };
  const tracker = new EngagementTracker(base);
  for (const event of batch.events) {
    if (event.kind === 'feature') tracker.trackFeatureUsage(event.name);
    else if (event.kind === 'milestone') tracker.trackMilestone(event.name);
    else {
      // Measure the duration on the browser's clock (start and end come from it), anchored at the server's now,
      // so a browser clock that is off by hours still yields the right duration.
      const durationMs = event.endedAt - event.sessionStartTime;
      new EngagementTracker({ ...base, sessionStartTime: new Date(Date.now() - durationMs) }).endSession();
    }
  }
}
