/**
 * The Express router that receives engagement batches from browsers and records them as business metrics.
 *
 * Owns: the Express wiring of the core's engagement endpoint (`integrations/http/beacon.ts`): the client address
 * (`req.ip`, which honours `trust proxy`), reading the body (or taking it from an app-wide `express.json()` that
 * already parsed it), writing the answer; loading Express itself when a router is made (the server entry points
 * share one file, dist/bundle.js, so a static `require('express')` here would reach every app's bundler, Express
 * or not). Must not touch: the endpoint's contract and limits, validation, what is
 * recorded (all the core's).
 */
import type { Request, Response, Router } from 'express';
import { engagementEndpoint, loadOptionalPeer, nodeBodyOf, type EngagementOptions } from '../http';

/** Express, loaded when a router is made: no literal `require('express')` reaches an app's bundler. */
function expressRouter(): Router {
  const express = loadOptionalPeer<{ Router: () => Router }>({
    name: 'express',
    neededBy: 'otel-business-metrics/express engagementRouter',
    note: 'Express 4.18 or later',
  });
  return express.Router();
}

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
  const router = expressRouter();
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
