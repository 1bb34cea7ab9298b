/**
 * Serves the Prometheus exposition on the application's own Express server, optionally behind authentication.
 *
 * Owns: the Express signature of the core's metrics endpoint (`integrations/http/metrics-endpoint.ts`, which
 * answers through the package's one scrape path). Must not touch: the checks, the answers, the exposition.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { metricsEndpoint, type MetricsAuth as CoreMetricsAuth, type MetricsSource } from '../http';

export type { MetricsRequestHandler, MetricsSource } from '../http';

/** Scraper authentication: a bearer token, basic credentials, or your own check. */
export type MetricsAuth = CoreMetricsAuth<Request>;

export interface MetricsMiddlewareOptions {
  /** Require credentials; without this option the endpoint is open (bind the server to a private interface). */
  readonly auth?: MetricsAuth;
}

/**
 * A handler serving the exposition: `app.get('/metrics', metricsMiddleware(telemetry, { auth: { bearerToken } }))`.
 * Initialise the core with `prometheus: { preventServerStart: true }` so it does not also open its own port.
 */
export function metricsMiddleware(
  source: MetricsSource,
  options: MetricsMiddlewareOptions = {},
): RequestHandler {
  const endpoint = metricsEndpoint<Request>(source, options, 'metricsMiddleware');
  return (req: Request, res: Response, _next: NextFunction) => endpoint.serveNode(req, res, req);
}
