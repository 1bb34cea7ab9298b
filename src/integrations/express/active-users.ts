/**
 * Express middleware that feeds `trackActiveUser` from the request's session: one call per request of a signed-in
 * (or otherwise identified) user, before the route runs.
 *
 * Owns: where the user id and tier come from (a resolver over the request; by default an `express-session`-style
 * `req.session.userId` / `req.session.userTier`), and keeping the app's request unaffected by anything the resolver
 * or the recorder does. Must not touch: hashing, sketches (the core's), the response.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { diag } from '@opentelemetry/api';
import { businessMetrics } from '../../metrics/singleton';

/** The user a request belongs to, or undefined for anonymous requests (not counted). */
export interface ActiveUser {
  readonly userId: string;
  readonly userTier: string;
}

/** What the middleware records into: the `businessMetrics` singleton, a `BusinessMetrics`, or your own. */
export interface ActiveUserRecorder {
  trackActiveUser(userId: string, metadata: { userTier: string }): void;
}

export interface ActiveUsersMiddlewareOptions {
  /**
   * Who the request's user is, from your session or auth layer. Default: `req.session.userId` and
   * `req.session.userTier` (express-session and cookie-session style); requests without a `userId` are skipped,
   * and a missing tier is recorded as `unknown`.
   */
  readonly resolveUser?: (req: Request, res: Response) => ActiveUser | undefined;
  /** Default: the `businessMetrics` singleton. */
  readonly metrics?: ActiveUserRecorder;
}

/** The default resolver: an express-session-style `req.session`. */
export function userFromSession(req: Request): ActiveUser | undefined {
  const session = (req as Request & { session?: { userId?: unknown; userTier?: unknown } }).session;
  if (typeof session !== 'object' || session === null) return undefined;
  const { userId, userTier } = session;
  if (typeof userId !== 'string' || userId === '') return undefined;
  return { userId, userTier: typeof userTier === 'string' && userTier !== '' ? userTier : 'unknown' };
}

/**
 * Count the request's user as active today: `app.use(activeUsersMiddleware({ resolveUser }))` after your session
 * middleware. The id is hashed inside `trackActiveUser` and never stored, logged or exported.
 */
export function activeUsersMiddleware(options: ActiveUsersMiddlewareOptions = {}): RequestHandler {
  const resolveUser = options.resolveUser ?? userFromSession;
  const metrics = options.metrics ?? (businessMetrics as unknown as ActiveUserRecorder);
  let warned = false;
  return (req: Request, res: Response, next: NextFunction) => {
    let user: ActiveUser | undefined;
    try {
      user = resolveUser(req, res);
    } catch (error) {
      // A throwing resolver is the app's bug, but it must not turn into failed requests. Warn once, without the
      // error text (it could quote the session).
      if (!warned) {
        warned = true;
        diag.warn(
          `otel-business-metrics: activeUsersMiddleware's resolveUser threw (${error instanceof Error ? error.name : typeof error}); ` +
            'those requests are not counted as active users',
        );
      }
    }
    // Outside the try: only strict mode throws here, and then the developer should see it.
    if (user !== undefined) metrics.trackActiveUser(user.userId, { userTier: user.userTier });
    next();
  };
}
