/**
 * Technical HTTP server metrics named per the OpenTelemetry HTTP semantic conventions, so business and technical
 * metrics can be read side by side from the same exposition.
 *
 * Owns: the `http.server.request.duration` histogram (unit `s`, the conventions' advised buckets) and its attributes
 * (`http.request.method`, `http.route`, `http.response.status_code`, `url.scheme`, `error.type`). Must not touch:
 * business metrics, or request handling (it only observes `finish`/`close`).
 */
import type { Meter } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

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

export interface HttpMetricsOptions {
  /** The meter to create the histogram on, e.g. `telemetry.meterProvider.getMeter('shop')`. */
  readonly meter: Meter;
}

/**
 * Middleware recording every request's duration. Mount it first (`app.use(httpMetricsMiddleware({ meter }))`) so it
 * sees the whole request; `http.route` is the matched route template (`/product/:id`), never the raw path.
 */
export function httpMetricsMiddleware(options: HttpMetricsOptions): RequestHandler {
  const histogram = options.meter.createHistogram(HTTP_SERVER_REQUEST_DURATION, {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: [...HTTP_SERVER_DURATION_BUCKETS] },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    let recorded = false;
    // Express restores req.baseUrl once routing has unwound, so the route template is read when the headers go
    // out (still inside the matched handler); `finish` is too late for mounted routers.
    let routeAtHeaders: string | undefined;
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
      routeAtHeaders ??= routeTemplate(req);
      return writeHead.apply(this, args);
    } as Response['writeHead'];
    const record = (aborted: boolean) => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const method = KNOWN_METHODS.has(req.method) ? req.method : '_OTHER';
      const attributes: Record<string, string | number> = {
        'http.request.method': method,
        'url.scheme': req.protocol === 'https' ? 'https' : 'http',
      };
      const route = routeAtHeaders ?? routeTemplate(req);
      if (route) attributes['http.route'] = route;
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

function routeTemplate(req: Request): string | undefined {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return undefined;
  const baseUrl = req.baseUrl ?? '';
  const template = `${baseUrl}${path === '/' && baseUrl ? '' : path}`;
  return template || '/';
}
