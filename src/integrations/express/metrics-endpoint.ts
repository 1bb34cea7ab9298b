/**
 * Serves the Prometheus exposition on the application's own Express server, optionally behind authentication.
 *
 * Owns: method checks, applying scraper authentication (its rules are the core's `scraper-auth.ts`, shared with the
 * standalone server), and delegation to the core's metrics handler.
 * Must not touch: the exposition itself (the core's exporter renders it) or any other route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { scraperAuth, warnIfExposed } from '../../exporters/prometheus/scraper-auth';

/** The core's `telemetry.metricsHandler` signature. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The telemetry handle returned by `initBusinessMetrics`, or the handler itself. */
export type MetricsSource = { readonly metricsHandler?: MetricsRequestHandler } | MetricsRequestHandler;

/** Scraper authentication: a bearer token, basic credentials, or your own check. */
export type MetricsAuth =
  | { readonly bearerToken: string }
  | { readonly username: string; readonly password: string }
  | ((req: Request) => boolean);

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
  const check = options.auth ? authChecker(options.auth) : undefined;
  let warned = check !== undefined;
  return (req: Request, res: Response, _next: NextFunction) => {
    // The app, not this handler, decides where it listens: the first request shows the address it arrived on.
    if (!warned) {
      warned = true;
      warnIfExposed('metricsMiddleware', req.socket.localAddress, false);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      res.status(405).type('text/plain').send('use GET to scrape metrics\n');
      return;
    }
    if (check && !check.verify(req)) {
      res.setHeader('WWW-Authenticate', check.challenge);
      res.status(401).type('text/plain').send('metrics require authentication\n');
      return;
    }
    const handler = typeof source === 'function' ? source : source.metricsHandler;
    if (!handler) {
      res
        .status(503)
        .type('text/plain')
        .send('metrics unavailable: initialise otel-business-metrics with the prometheus exporter\n');
      return;
    }
    handler(req, res);
  };
}

interface AuthChecker {
  readonly challenge: string;
  verify(req: Request): boolean;
}

function authChecker(auth: MetricsAuth): AuthChecker {
  if (typeof auth === 'function') {
    return {
      challenge: 'Bearer realm="metrics"',
      verify: (req) => {
        try {
          return auth(req) === true;
        } catch {
          // A throwing check denies: a scraper must never get metrics because the check broke.
          return false;
        }
      },
    };
  }
  const check = scraperAuth(auth, 'metricsMiddleware: auth');
  return { challenge: check.challenge, verify: (req) => check.isAuthorized(req.headers.authorization) };
}
