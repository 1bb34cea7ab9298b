/**
 * Express middleware recording `http.server.request.duration` for every request, keyed by the route pattern the
 * app registered.
 *
 * Owns: the Express wiring of the core's HTTP server metrics: where the route pattern comes from (route-pattern.ts)
 * and whether a request came over TLS (`req.protocol`, which honours `trust proxy`). Must not touch: the labels,
 * caps and recording (the metrics port, `metrics/http-server-metrics.ts`, reached through the core).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { httpServerMetrics, nodeRequestObserver, type HttpMetricsOptions } from '../http';
import { routePattern } from './route-pattern';

/**
 * Middleware recording every request's duration. Mount it first
 * (`app.use(httpMetricsMiddleware({ telemetry }))`) so it sees the whole request. `http.route` is the pattern the
 * app registered (`/product/:id`), never the path the client typed; requests no route matched carry none.
 */
export function httpMetricsMiddleware(options: HttpMetricsOptions): RequestHandler {
  const observe = nodeRequestObserver<Request>(
    httpServerMetrics(options, 'httpMetricsMiddleware'),
    routePattern,
    isHttps,
  );
  return (req: Request, res: Response, next: NextFunction) => {
    observe(req, res);
    next();
  };
}

// Behind a TLS-terminating proxy only Express's `req.protocol` (with `trust proxy`) knows; it parses headers, so it
// is only asked when a forwarded protocol is present.
function isHttps(req: Request): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true;
  return req.headers['x-forwarded-proto'] !== undefined && req.protocol === 'https';
}
