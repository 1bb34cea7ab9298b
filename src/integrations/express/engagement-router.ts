/**
 * The Express router that receives engagement batches from browsers and records them as business metrics.
 *
 * Owns: the Express wiring of the core's engagement endpoint (`integrations/http/beacon.ts`): the client address
 * (`req.ip`, which honours `trust proxy`), reading the body (or taking it from an app-wide `express.json()` that
 * already parsed it), writing the answer. Must not touch: the endpoint's contract and limits, validation, what is
 * recorded (all the core's).
 */
import express, { type Request, type Response, type Router } from 'express';
import { engagementEndpoint, nodeBodyOf, type EngagementOptions } from '../http';

/**
 * Options of {@link engagementRouter}. Configure `features` and `milestones` (the names your pages report) and
 * `resolveSession` (what your server knows about the session): everything else a browser sends is anonymous input.
 * The rate limit is keyed by `req.ip`: set Express's `trust proxy` behind a proxy.
 */
export type EngagementRouterOptions = EngagementOptions<Request>;

/**
 * Create the router. Mount it where the browser client posts (default `/api/engagement`):
 * `app.use('/api/engagement', engagementRouter())`.
 */
export function engagementRouter(options: EngagementRouterOptions = {}): Router {
  const endpoint = engagementEndpoint<Request>(options, 'engagementRouter');
  const router = express.Router();
  router.all('/', (req: Request, res: Response) => {
    void endpoint({
      method: req.method,
      header: (name) => req.get(name),
      client: req.ip ?? req.socket.remoteAddress,
      raw: req,
      // An app-wide `express.json()` may have read the stream already: then what it parsed is the body.
      body: nodeBodyOf(req),
    }).then((answer) => {
      if (res.headersSent) return;
      res.status(answer.status).set(answer.headers).send(answer.body);
    });
  });
  return router;
}
