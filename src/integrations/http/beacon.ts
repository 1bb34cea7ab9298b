/**
 * The engagement endpoint browsers post their batches to, as a function from a request to an answer
 * (`{ status, headers, body }`): every adapter (the Express router, the Fastify plugin, NestJS, Web handlers)
 * hands it the request and writes back what it returns, so all of them refuse the same requests alike.
 *
 * A malformed request is refused whole (405, 413, 415, 429, 400). In a well-formed batch each event is judged on
 * its own: the accepted ones are recorded, each refused one (outside the allow-lists, or a session end outside the
 * server's time bounds) is counted in `business_metrics_dropped_total` and listed in the answer:
 * `202 { accepted }` (with `refused` and `refusals` when some were), or `400` with the counts when none was accepted.
 *
 * Owns: the HTTP contract of the engagement endpoint (POST only, JSON only, the size limit, the per-client rate
 * limit, JSON error bodies with a message a client developer can act on, the accepted/refused answer), the bounded
 * browser vocabularies per endpoint, and the mapping of accepted events onto the seed's engagement semantics.
 * Must not touch: the metric definitions (the core's), frameworks, writing responses.
 */
import { diag } from '../../support';
import { ENGAGEMENT_LIMITS, type EngagementBatch, type EngagementSession } from '../../browser/protocol';
import { countRefusedEngagementEvent } from '../../metrics/refused-input';
import { EngagementTracker } from '../../trackers/engagement';
import { decodeJsonBody, type BodyReader } from './body';
import { BrowserNames, DEFAULT_MAX_BROWSER_NAMES } from './browser-names';
import { TokenBucketLimiter, type TokenBucketOptions } from './rate-limit';
import { screenEngagementBatch, type EngagementRefusal, type EngagementValidationOptions } from './validate';

/**
 * Options of an engagement endpoint. Configure `features` and `milestones` (the names your pages report) and
 * `resolveSession` (what your server knows about the session): everything else a browser sends is anonymous input.
 * `Req` is the framework's request type, handed to `resolveSession` and `onBatch`.
 */
export interface EngagementOptions<Req> extends EngagementValidationOptions {
  /**
   * Entry pages accepted from browsers (route patterns such as `/product/:id`); others are recorded as `other`.
   * Ignored when `resolveSession` supplies the entry page.
   */
  readonly entryPages?: readonly string[];
  /**
   * Without an allow-list for a kind (features, milestones, entry pages), at most this many distinct names
   * browsers report are kept for the life of the endpoint (default 20); later names are recorded as `other`. This
   * keeps anonymous clients from filling the core's label vocabularies and pushing out server-side values.
   */
  readonly maxBrowserNames?: number;
  /** Largest accepted body in bytes; at most 16 kB (the browser client never sends more). */
  readonly maxBodyBytes?: number;
  /**
   * Per-client token bucket, keyed by the client's address (an IPv6 client by its /56: see `ipv6PrefixLength`), or
   * `false` for none. Behind a proxy, tell the framework to trust it so the address is the client's. A request
   * costs one token whatever its events, taken before its body is read: refused events give none back.
   */
  readonly rateLimit?: TokenBucketOptions | false;
  /**
   * Replace what the browser claims about the session with what the server knows: the tier, the new-user flag and
   * the entry page from your session store. Its result is trusted as is. Browsers are untrusted: without this, a
   * client can report any tier the core's label policy accepts and any entry page (bounded by `entryPages` or
   * `maxBrowserNames`).
   */
  readonly resolveSession?: (req: Req, claimed: EngagementSession) => EngagementSession;
  /**
   * Called after a batch was recorded (logging, your own counters), with the events recorded: refused ones are
   * left out, and a batch with none accepted is not handed over.
   */
  readonly onBatch?: (batch: EngagementBatch, req: Req) => void;
}

/** What the endpoint reads of a request. */
export interface BeaconRequest<Req> {
  readonly method: string;
  /** `Content-Type`, `Content-Encoding` and `Content-Length` (lower-case names). */
  header(
    name: 'content-type' | 'content-encoding' | 'content-length' | 'transfer-encoding',
  ): string | undefined;
  /** The client's address as the framework knows it (proxies resolved by its trust settings). */
  readonly client: string | undefined;
  readonly body: BodyReader;
  /**
   * Whether the request has a body, where the request itself knows (a Web `Request`: `body !== null`, with or
   * without `Content-Length`, as in-process requests and streamed uploads come). Otherwise the headers decide.
   */
  readonly hasBody?: boolean;
  /** The framework's request, for `resolveSession` and `onBatch`. */
  readonly raw: Req;
}

/** The answer to write: JSON bodies only, for refusals too (never a framework's HTML page). */
export interface BeaconAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An engagement endpoint: a request in, an answer out. Never rejects. */
export type EngagementEndpoint<Req> = (request: BeaconRequest<Req>) => Promise<BeaconAnswer>;

const JSON_TYPE = 'application/json; charset=utf-8';

function answer(status: number, body: unknown, extra: Record<string, string> = {}): BeaconAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...extra }, body: JSON.stringify(body) };
}

function refuse(status: number, message: string, extra?: Record<string, string>): BeaconAnswer {
  return answer(status, { error: message }, extra);
}

/** A request with no body at all (an empty one, or none: no length and no chunked encoding on Node). */
function bodiless(request: BeaconRequest<unknown>): boolean {
  const length = request.header('content-length');
  if (length !== undefined && length.trim() === '0') return true;
  if (request.hasBody !== undefined) return !request.hasBody;
  return request.header('transfer-encoding') === undefined && length === undefined;
}

/**
 * Build an endpoint. `where` names the adapter's function in configuration errors and warnings.
 * @throws RangeError for a malformed `maxBrowserNames` or rate limit.
 */
export function engagementEndpoint<Req>(
  options: EngagementOptions<Req> = {},
  where = 'engagementRouter',
): EngagementEndpoint<Req> {
  const maxBodyBytes = Math.min(
    options.maxBodyBytes ?? ENGAGEMENT_LIMITS.maxBodyBytes,
    ENGAGEMENT_LIMITS.maxBodyBytes,
  );
  const limiter = options.rateLimit === false ? undefined : new TokenBucketLimiter(options.rateLimit ?? {});
  const maxNames = options.maxBrowserNames ?? DEFAULT_MAX_BROWSER_NAMES;
  if (!Number.isSafeInteger(maxNames) || maxNames < 0) {
    throw new RangeError(`${where}: maxBrowserNames must be an integer >= 0 (got ${String(maxNames)})`);
  }
  const features = new BrowserNames('features', options.features, maxNames);
  const milestones = new BrowserNames('milestones', options.milestones, maxNames);
  const entryPages = new BrowserNames('entryPages', options.entryPages, maxNames);
  const open = (['features', 'milestones'] as const).filter((kind) => options[kind] === undefined);
  if (open.length > 0) {
    diag.warn(
      `${where}: no ${open.join(' or ')} allow-list; anonymous browsers may report any ` +
        `${maxNames} names of each (maxBrowserNames), the rest become "other". Configure ${open.join(' and ')}.`,
    );
  }

  const countRefused = (refused: readonly EngagementRefusal[]): void => {
    for (const event of refused) countRefusedEngagementEvent(where, event.kind, event.reason, event.error);
  };

  const accept = (request: BeaconRequest<Req>, value: unknown): BeaconAnswer => {
    const result = screenEngagementBatch(value, options);
    if (!result.ok) return refuse(400, result.error);
    const { refused } = result;
    // A batch accepted whole gets the answer it always got, `{ accepted }`: clients that read it exactly keep working.
    const counts = {
      accepted: result.batch.events.length,
      ...(refused.length > 0 && {
        refused: refused.length,
        refusals: refused.map(({ index, reason, error }) => ({ index, reason, error })),
      }),
    };
    if (counts.accepted === 0) {
      // Every event was refused (a batch holds at least one): nothing recorded, as for a malformed batch.
      countRefused(refused);
      return answer(400, { error: refused[0]!.error, ...counts });
    }
    const claimed = result.batch.session;
    const session = options.resolveSession
      ? options.resolveSession(request.raw, claimed)
      : { ...claimed, entryPage: entryPages.admit(claimed.entryPage) };
    const events = result.batch.events.map((event) =>
      event.kind === 'feature'
        ? { kind: event.kind, name: features.admit(event.name) }
        : event.kind === 'milestone'
          ? { kind: event.kind, name: milestones.admit(event.name) }
          : event,
    );
    recordBatch({ session, events });
    // Counted once the batch is recorded: a throwing resolveSession answers 500, which a client retries.
    countRefused(refused);
    try {
      options.onBatch?.({ session, events }, request.raw);
    } catch (error) {
      // The batch is recorded: a 500 would have the client send it again and record it twice.
      diag.error(
        `${where}: onBatch threw (the batch was recorded and answered 202): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return answer(202, counts);
  };

  let warnedConsumed = false;
  return async (request) => {
    try {
      if (request.method !== 'POST') {
        return refuse(405, 'use POST to send engagement events', { allow: 'POST' });
      }
      if (limiter) {
        const verdict = limiter.take(request.client ?? 'unknown');
        if (!verdict.allowed) {
          return refuse(429, 'too many engagement requests from this client; retry later', {
            'retry-after': String(verdict.retryAfterSeconds),
          });
        }
      }
      const contentType = request.header('content-type');
      const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json' || bodiless(request)) {
        return refuse(415, 'engagement events must be sent as application/json');
      }
      const read = await request.body(maxBodyBytes);
      if (read.kind === 'consumed' && !warnedConsumed) {
        warnedConsumed = true;
        diag.warn(
          `${where}: the request body was read before the engagement endpoint (by the app's middleware?); ` +
            'its batches are refused with 500 until the endpoint is mounted before that middleware',
        );
      }
      const body = decodeJsonBody(read, contentType, request.header('content-encoding'), maxBodyBytes);
      if (!body.ok) return refuse(body.status, body.message);
      return accept(request, body.value);
    } catch (error) {
      // A throwing resolveSession (the app's code) still answers JSON, without the error's text: a
      // framework's default page would show an anonymous client the stack trace and the server's file paths.
      diag.error(`${where}: request failed: ${error instanceof Error ? error.message : String(error)}`);
      return refuse(500, 'internal error');
    }
  };
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
