/**
 * `http.server.request.duration` for Web-standard frameworks: a wrapper for Next.js App Router route handlers and
 * a Hono middleware, both recording the route pattern the framework matched.
 *
 * Owns: when a Web request counts as finished (the handler's `Response`, or its `request.signal` aborting first)
 * and as aborted; Hono's matched route (`c.req.matchedRoutes[c.req.routeIndex]`, read after `next()`) and, on
 * `@hono/node-server`, timing until the Node response closes. Must not touch: labels and recording (the core's
 * server-metrics.ts), responses (it returns the handler's own).
 */
import {
  httpServerMetrics,
  liveHttpServerMetrics,
  type HttpMetricsOptions,
  type ServerRequestRecorder,
} from '../http';

/**
 * `{ telemetry }` (the `initBusinessMetrics` handle), `{ meter }` (an SDK histogram on your own meter), or neither:
 * the live handle, wherever it was created (Next.js: instrumentation.ts). `maxRoutes` caps distinct routes.
 */
export type FetchHttpMetricsOptions = Partial<HttpMetricsOptions>;

function recorderFor(options: FetchHttpMetricsOptions, where: string): ServerRequestRecorder {
  return options.telemetry === undefined && options.meter === undefined
    ? liveHttpServerMetrics(options.maxRoutes, where)
    : httpServerMetrics(options, where);
}

/** What the wrapper needs of a request: a Web `Request` (Next.js passes a `NextRequest`, which is one). */
type WebRequest = Pick<Request, 'method' | 'url' | 'signal'>;

/**
 * Wrap a Next.js route handler so each request is recorded under `route`, the pattern of the file it lives in
 * (`export const GET = withHttpMetrics('/api/products/[id]', handler)`). Next.js does not tell a
 * handler its own pattern, so you name it: it is code, never client text. A handler that throws is recorded as
 * 500 (Next.js answers 500) and the error goes on to Next.js; a client that goes away first is recorded as aborted.
 */
export function withHttpMetrics<Req extends WebRequest, Rest extends unknown[]>(
  route: string,
  handler: (request: Req, ...rest: Rest) => Response | Promise<Response>,
  options: FetchHttpMetricsOptions = {},
): (request: Req, ...rest: Rest) => Promise<Response> {
  if (typeof route !== 'string' || route === '')
    throw new TypeError('withHttpMetrics: route must be the route pattern');
  const recorder = recorderFor(options, 'withHttpMetrics');
  return async (request, ...rest) => {
    const start = performance.now();
    const finish = once(recorder, request.method, () => route, https(request.url), start);
    const signal = request.signal;
    // The client may go away while the handler still runs (or never returns): record that when it happens.
    const onAbort = () => finish(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await handler(request, ...rest);
      finish(signal?.aborted ? undefined : response.status);
      return response;
    } catch (error) {
      finish(signal?.aborted ? undefined : 500);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
}

/** Records a request once: when its response is ready, or when its client goes away first. */
function once(
  recorder: ServerRequestRecorder,
  method: string,
  route: () => string | undefined,
  isHttps: boolean,
  start: number,
): (status: number | undefined) => void {
  let done = false;
  return (status) => {
    if (done) return;
    done = true;
    recorder.record(method, route(), status, isHttps, (performance.now() - start) / 1000);
  };
}

function https(url: string): boolean {
  return url.startsWith('https:');
}

/** The parts of Hono 4's `Context` the middleware reads (so this entry point needs no Hono import). */
export interface HonoContextLike {
  readonly req: {
    readonly raw: WebRequest;
    readonly method: string;
    readonly routeIndex: number;
    readonly matchedRoutes: ReadonlyArray<{ readonly path: string }>;
  };
  readonly res: { readonly status: number };
  readonly error?: unknown;
  /** On `@hono/node-server`: `{ incoming, outgoing }`, Node's request and response. */
  readonly env?: unknown;
}

interface NodeOutgoing {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  once(event: 'close', listener: () => void): unknown;
}

function nodeOutgoing(env: unknown): NodeOutgoing | undefined {
  const outgoing = (env as { outgoing?: unknown } | null | undefined)?.outgoing;
  return typeof outgoing === 'object' &&
    outgoing !== null &&
    typeof (outgoing as NodeOutgoing).once === 'function' &&
    typeof (outgoing as NodeOutgoing).statusCode === 'number'
    ? (outgoing as NodeOutgoing)
    : undefined;
}

/**
 * The route of the handler that answered: read after `next()`. If nothing after this middleware answered (Hono's
 * not-found handler did), there is none.
 */
function honoRoute(c: HonoContextLike, ownIndex: number): string | undefined {
  try {
    const index = c.req.routeIndex;
    if (index === ownIndex) return undefined;
    const path = c.req.matchedRoutes[index]?.path;
    return typeof path === 'string' ? path : undefined;
  } catch {
    // Hono's internals changed shape: recorded without a route rather than not at all.
    return undefined;
  }
}

/**
 * Hono 4 middleware recording every request: `app.use(httpMetricsMiddleware({ telemetry }))` before the routes.
 * `http.route` is the pattern Hono matched (`/product/:id`); requests no route answered carry none.
 */
export function httpMetricsMiddleware(
  options: FetchHttpMetricsOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<void> {
  const recorder = recorderFor(options, 'httpMetricsMiddleware');
  return async (c, next) => {
    const start = performance.now();
    const ownIndex = c.req.routeIndex;
    const outgoing = nodeOutgoing(c.env);
    if (outgoing !== undefined) {
      // @hono/node-server: the Node response closes after the body is sent, or when the client goes away first.
      outgoing.once('close', () => {
        recorder.record(
          c.req.method,
          honoRoute(c, ownIndex),
          outgoing.writableFinished ? outgoing.statusCode : undefined,
          https(c.req.raw.url),
          (performance.now() - start) / 1000,
        );
      });
      return next();
    }
    const finish = once(recorder, c.req.method, () => honoRoute(c, ownIndex), https(c.req.raw.url), start);
    const signal = c.req.raw.signal;
    const onAbort = () => finish(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await next();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    finish(signal?.aborted ? undefined : c.res.status);
  };
}
