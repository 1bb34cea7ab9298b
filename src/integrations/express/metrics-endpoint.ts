/**
 * Serves the Prometheus exposition on the application's own Express server, optionally behind authentication.
 *
 * Owns: method checks, bearer/basic authentication of scrapers, and delegation to the core's metrics handler.
 * Must not touch: the exposition itself (the core's exporter renders it) or any other route.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

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
  return (req: Request, res: Response, _next: NextFunction) => {
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
  if (typeof auth === 'function')
    return { challenge: 'Bearer realm="metrics"', verify: (req) => auth(req) === true };
  if ('bearerToken' in auth) {
    if (!auth.bearerToken) throw new TypeError('metricsMiddleware: auth.bearerToken must not be empty');
    return {
      challenge: 'Bearer realm="metrics"',
      verify: (req) => {
        const header = req.headers.authorization ?? '';
        return (
          header.startsWith('Bearer ') && sameSecret(header.slice('Bearer '.length).trim(), auth.bearerToken)
        );
      },
    };
  }
  if (!auth.username || !auth.password)
    throw new TypeError('metricsMiddleware: basic auth needs username and password');
  const expected = `${auth.username}:${auth.password}`;
  return {
    challenge: 'Basic realm="metrics", charset="UTF-8"',
    verify: (req) => {
      const header = req.headers.authorization ?? '';
      if (!header.startsWith('Basic ')) return false;
      const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
      return sameSecret(decoded, expected);
    },
  };
}

// Comparing digests keeps the comparison constant-time even when the lengths differ.
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
