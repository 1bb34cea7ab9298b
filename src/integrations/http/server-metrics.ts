/**
 * HTTP server metrics for every adapter: the metrics port's recorder (`metrics/http-server-metrics.ts`, which owns
 * the labels, caps and the one shared histogram), fed with what each framework knows of a finished request.
 *
 * Owns: timing a Node request until its response closes (`nodeRequestObserver`: the finished-or-aborted decision
 * from `close`), and the recorder bound to the live handle for adapters that cannot be handed one. Must not touch:
 * labels, caps and recording (the port's), how a framework finds the route pattern (each adapter's), frameworks.
 */
import { diag } from '../../support';
import {
  DEFAULT_MAX_ROUTES,
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  httpServerMetrics,
  type HttpServerMetrics,
  type HttpServerMetricsOptions,
} from '../../metrics/http-server-metrics';
import { liveRecorder } from '../../metrics/singleton';

// Node's global `performance` stays a lazy getter (checked on every read, about 7 ns in a hot loop, 30 ns in a
// request's cold path); the object itself, taken once, reads the same clock.
const clock = performance;

export { DEFAULT_MAX_ROUTES, HTTP_SERVER_DURATION_BUCKETS, HTTP_SERVER_REQUEST_DURATION, httpServerMetrics };

/** Where an adapter's durations go: `{ telemetry }`, `{ meter }`, and `maxRoutes`. */
export type HttpMetricsOptions = HttpServerMetricsOptions;

/** Records finished requests into `http.server.request.duration`; built once per adapter. */
export type ServerRequestRecorder = HttpServerMetrics;

/**
 * A recorder bound to the live `initBusinessMetrics()` handle, whichever module called it (Next.js route handlers
 * run in other bundles than instrumentation.ts): bound on first use, rebound when the handle changes, recording
 * nothing before init and after shutdown.
 * @throws RangeError for a malformed `maxRoutes`, at once.
 */
export function liveHttpServerMetrics(maxRoutes: number | undefined, where: string): ServerRequestRecorder {
  const value = maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${where}: maxRoutes must be an integer >= 0 (got ${String(value)})`);
  }
  let bound: object | undefined;
  let recorder: ServerRequestRecorder | undefined;
  let warned = false;
  return {
    record(method, route, statusCode, https, seconds) {
      const live = liveRecorder();
      if (live === undefined) return;
      if (live !== bound) {
        bound = live;
        try {
          recorder = httpServerMetrics({ telemetry: { metrics: live }, maxRoutes: value }, where);
        } catch (error) {
          recorder = undefined;
          if (!warned) {
            warned = true;
            diag.warn(
              `${where}: no HTTP server metrics: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        }
      }
      recorder?.record(method, route, statusCode, https, seconds);
    },
  };
}

/** The Node response fields a finished request is read from (`ServerResponse`, Fastify's `reply.raw`). */
interface NodeResponseLike {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  readonly writableEnded?: boolean;
  /** Set on the responses of light-my-request (Fastify's `inject`). */
  readonly isLightMyRequest?: boolean;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * Whether the response was sent in full before it closed. On Node's server that is `writableFinished`. A response
 * of light-my-request (Fastify's and NestJS-on-Fastify's `inject`, what their apps are tested with) closes while its
 * null socket still holds the bytes written (`writableFinished` stays false), so every injected request read as
 * aborted: there, `end()` having been called (`writableEnded`) is the finish; one that went away first never ends.
 */
function sentInFull(res: NodeResponseLike): boolean {
  return res.writableFinished || (res.isLightMyRequest === true && res.writableEnded === true);
}

/**
 * For adapters on Node's HTTP server: a function to call once per request, as early as possible, that times it
 * and records it when the response closes. `routeOf` and `httpsOf` read the framework's request when it ends.
 */
export function nodeRequestObserver<Req extends { readonly method?: string }>(
  recorder: ServerRequestRecorder,
  routeOf: (req: Req) => string | undefined,
  httpsOf: (req: Req) => boolean,
): (req: Req, res: NodeResponseLike) => void {
  const finished = (req: Req, res: NodeResponseLike, start: number): void => {
    let route: string | undefined;
    let https = false;
    try {
      route = routeOf(req);
      https = httpsOf(req);
    } catch {
      // A framework getter that throws on a hostile request: recorded without a route.
    }
    recorder.record(
      req.method,
      route,
      sentInFull(res) ? res.statusCode : undefined,
      https,
      (clock.now() - start) / 1000,
    );
  };
  return (req, res) => {
    const start = clock.now();
    // `close` follows `finish` on every response, and alone when the client went away first: one listener.
    res.on('close', () => finished(req, res, start));
  };
}
