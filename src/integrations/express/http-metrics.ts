/**
 * Technical HTTP server metrics named per the OpenTelemetry HTTP semantic conventions, so business and technical
 * metrics can be read side by side from the same exposition.
 *
 * Owns: the `http.server.request.duration` histogram (unit `s`, the conventions' advised buckets), its attributes
 * (`http.request.method`, `http.route`, `http.response.status_code`, `url.scheme`, `error.type`) and the lifetime
 * cap on distinct routes. Must not touch: business metrics, request handling (it only observes `finish`/`close`),
 * how a route's pattern is found (route-pattern.ts).
 */
import type { Meter } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OTHER_LABEL_VALUE } from '../../catalog/labels';
import { RateLimitedWarnings } from '../../guard/reporter';
import { routePattern } from './route-pattern';

/** Instrument name from the HTTP semantic conventions. */
export const HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';

/** Bucket boundaries the semantic conventions advise for `http.server.request.duration`, in seconds. */
export const HTTP_SERVER_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

// Methods the conventions list; anything else is recorded as `_OTHER` to bound cardinality.
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/** Distinct `http.route` values kept for the life of the process by default. */
export const DEFAULT_MAX_ROUTES = 100;

export interface HttpMetricsOptions {
  /** The meter to create the histogram on, e.g. `telemetry.meterProvider.getMeter('shop')`. */
  readonly meter: Meter;
  /**
   * Most distinct `http.route` values over the life of the process (default 100); routes beyond it are
   * recorded as `other`. Routes are the app's own patterns, so this only binds for apps with more routes.
   */
  readonly maxRoutes?: number;
}

/**
 * Middleware recording every request's duration. Mount it first (`app.use(httpMetricsMiddleware({ meter }))`) so it
 * sees the whole request; `http.route` is the matched route template (`/product/:id`), never the raw path.
 */
export function httpMetricsMiddleware(options: HttpMetricsOptions): RequestHandler {
  const maxRoutes = options.maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (!Number.isSafeInteger(maxRoutes) || maxRoutes < 0) {
    throw new RangeError(
      `httpMetricsMiddleware: maxRoutes must be an integer >= 0 (got ${String(maxRoutes)})`,
    );
  }
  const histogram = options.meter.createHistogram(HTTP_SERVER_REQUEST_DURATION, {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: [...HTTP_SERVER_DURATION_BUCKETS] },
  });
  // The SDK's cardinality limit applies per collection, so a lifetime cap is kept here: patterns are app-defined,
  // but an app with route-per-tenant registrations (or RegExp routes) must not grow the histogram without bound.
  const routes = new Set<string>();
  const warnings = new RateLimitedWarnings();
  const boundedRoute = (route: string): string => {
    if (routes.has(route)) return route;
    if (routes.size < maxRoutes) {
      routes.add(route);
      return route;
    }
    warnings.warn(
      'http.route:cap',
      `httpMetricsMiddleware: more than ${maxRoutes} distinct http.route values (maxRoutes); ` +
        `recorded as "${OTHER_LABEL_VALUE}"`,
    );
    return OTHER_LABEL_VALUE;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    let recorded = false;
    const record = (aborted: boolean) => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const method = KNOWN_METHODS.has(req.method) ? req.method : '_OTHER';
      const attributes: Record<string, string | number> = {
        'http.request.method': method,
        'url.scheme': req.protocol === 'https' ? 'https' : 'http',
      };
      const route = routePattern(req);
      if (route !== undefined) attributes['http.route'] = boundedRoute(route);
      if (aborted) {
        // The client went away before the response finished: no status code was delivered.
        attributes['error.type'] = 'aborted';
      } else {
        attributes['http.response.status_code'] = res.statusCode;
        if (res.statusCode >= 500) attributes['error.type'] = String(res.statusCode);
      }
      histogram.record(seconds, attributes);
    };
    res.once('finish', () => record(false));
    res.once('close', () => record(!res.writableFinished));
    next();
  };
}
