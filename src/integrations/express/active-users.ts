/**
 * Express middleware that feeds `trackActiveUser` from the request's session: one call per request of a signed-in
 * (or otherwise identified) user, before the route runs.
 *
 * Owns: the Express signature of the core's active-user counter (`integrations/http/active-users.ts`). Must not
 * touch: hashing, sketches (the core's), the response.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { activeUserCounter, userFromSession, type ActiveUser, type ActiveUserRecorder } from '../http';

export { userFromSession };
export type { ActiveUser, ActiveUserRecorder };

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

/**
 * Count the request's user as active today: `app.use(activeUsersMiddleware({ resolveUser }))` after your session
 * middleware. The id is hashed inside `trackActiveUser` and never stored, logged or exported.
 */
export function activeUsersMiddleware(options: ActiveUsersMiddlewareOptions = {}): RequestHandler {
  const count = activeUserCounter(
    options.resolveUser ?? userFromSession,
    options.metrics,
    'activeUsersMiddleware',
  );
  return (req: Request, res: Response, next: NextFunction) => {
    count(req, res);
    next();
  };
}
