/**
 * Feeding `trackActiveUser` from a request: one call per request of a signed-in (or otherwise identified) user,
 * before the route runs, for every adapter.
 *
 * Owns: keeping the app's request unaffected by anything the app's resolver or the recorder does (a throwing
 * resolver is warned about once, without its text, and the request goes on), and the default resolver over an
 * `express-session`-style `session`. Must not touch: hashing, sketches (the core's), responses, frameworks.
 */
import { diag } from '../../support';
import { businessMetrics } from '../../metrics/singleton';

/** The user a request belongs to, or undefined for anonymous requests (not counted). */
export interface ActiveUser {
  readonly userId: string;
  readonly userTier: string;
}

/** What is recorded into: the `businessMetrics` singleton, a `BusinessMetrics`, or your own. */
export interface ActiveUserRecorder {
  trackActiveUser(userId: string, metadata: { userTier: string }): void;
}

/**
 * The default resolver: `request.session.userId` and `request.session.userTier` (express-session,
 * cookie-session, @fastify/session style); requests without a `userId` are skipped, a missing tier is `unknown`.
 */
export function userFromSession(request: unknown): ActiveUser | undefined {
  const session = (request as { session?: { userId?: unknown; userTier?: unknown } } | null)?.session;
  if (typeof session !== 'object' || session === null) return undefined;
  const { userId, userTier } = session;
  if (typeof userId !== 'string' || userId === '') return undefined;
  return { userId, userTier: typeof userTier === 'string' && userTier !== '' ? userTier : 'unknown' };
}

/**
 * A function to call once per request: resolves its user and counts them as active today. `where` names the
 * adapter's option in the warning.
 */
export function activeUserCounter<Args extends unknown[]>(
  resolveUser: (...args: Args) => ActiveUser | undefined,
  metrics: ActiveUserRecorder = businessMetrics as unknown as ActiveUserRecorder,
  where: string,
): (...args: Args) => void {
  let warned = false;
  return (...args) => {
    let user: ActiveUser | undefined;
    try {
      user = resolveUser(...args);
    } catch (error) {
      // A throwing resolver is the app's bug, but it must not turn into failed requests. Warn once, without the
      // error text (it could quote the session).
      if (!warned) {
        warned = true;
        diag.warn(
          `otel-business-metrics: ${where}'s resolveUser threw (${error instanceof Error ? error.name : typeof error}); ` +
            'those requests are not counted as active users',
        );
      }
    }
    // Outside the try: only strict mode throws here, and then the developer should see it.
    if (user !== undefined) metrics.trackActiveUser(user.userId, { userTier: user.userTier });
  };
}
