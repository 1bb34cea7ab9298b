/**
 * `http.server.request.duration` for Web-standard frameworks: a wrapper for Next.js App Router route handlers and
 * a Hono middleware, both recording the route pattern the framework matched.
 *
 * Owns: when a Web request counts as finished (when the handler returns its `Response`) and as aborted (its
 * `request.signal` aborted by then), the status Next.js answers for what a route handler returns or throws; Hono's
 * matched route (`c.req.matchedRoutes[c.req.routeIndex]`, read after `next()` from the match result it is built
 * from, none when a middleware of `app.use` or the not-found handler answered) and, on `@hono/node-server`, timing
 * until the Node response closes. Must not touch: labels and recording (the core's server-metrics.ts), responses
 * (it returns the handler's own).
 */
import {
  httpServerMetrics,
  liveHttpServerMetrics,
  type HttpMetricsOptions,
  type ServerRequestRecorder,
} from '../http';

// Node's global `performance` stays a lazy getter (checked on every read, about 7 ns in a hot loop, 30 ns in a
// request's cold path); the object itself, taken once, reads the same clock.
const clock = performance;

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
 * (`export const GET = withHttpMetrics('/api/products/[id]', handler)`). Next.js does not tell a handler its own
 * pattern, so you name it: it is code, never client text. The request is recorded when the handler returns, with
 * the status Next.js answers: the `Response`'s own; for `redirect()`, `permanentRedirect()`, `notFound()`,
 * `forbidden()` and `unauthorized()` thrown from the handler, the 307/308/404/403/401 Next.js turns them into;
 * 500 for any other error and for a handler that returns no `Response` (the error goes on to Next.js either way).
 * A request whose client went away before that is recorded as aborted. A handler that never returns is never
 * recorded, and a streamed body is timed until the handler returns its `Response`.
 */
export function withHttpMetrics<Req extends WebRequest, Context = unknown>(
  route: string,
  handler: (request: Req, context: Context) => Response | Promise<Response>,
  options: FetchHttpMetricsOptions = {},
): (request: Req, context: Context) => Response | Promise<Response> {
  if (typeof route !== 'string' || route === '')
    throw new TypeError('withHttpMetrics: route must be the route pattern');
  const recorder = recorderFor(options, 'withHttpMetrics');
  const record = (
    request: Req,
    method: string | undefined,
    secure: boolean,
    status: number,
    start: number,
  ): void => {
    try {
      recorder.record(
        method,
        route,
        request.signal?.aborted ? undefined : status,
        secure,
        (clock.now() - start) / 1000,
      );
    } catch {
      // A signal getter that throws: not recorded, and never a rejection nobody handles (below).
    }
  };
  // No abort listener per request: adding and removing one costs about 0.3 us, the whole budget of a request; the
  // signal is read when the handler returns instead.
  return (request, context) => {
    const start = clock.now();
    // A Request's method and url never change, so they are read now, while the caller has just touched the
    // request: read after the handler has built its Response they cost more (in one process, with a NextRequest
    // and a handler building a Response, the wrapper took 40-100 ns less a request reading them here).
    let method: string | undefined;
    let secure = false;
    try {
      method = request.method;
      secure = https(request.url);
    } catch {
      // A request object whose getters throw: recorded without them, and the handler still runs.
    }
    let answer: Response | Promise<Response>;
    try {
      answer = handler(request, context);
    } catch (error) {
      record(request, method, secure, thrownStatus(error), start);
      throw error;
    }
    // Another realm's promise or a hand-made thenable is awaited by Next.js all the same: adopted by a promise of
    // this realm, so a `then` that throws rejects that promise instead of throwing here.
    const pending =
      answer instanceof Promise ? answer : isThenable(answer) ? Promise.resolve(answer) : undefined;
    if (pending === undefined) {
      record(request, method, secure, answeredStatus(answer), start);
      return answer;
    }
    // Observed beside the caller rather than chained in front of it: the caller awaits the handler's own promise
    // (no promise resolved with the Response a second time, one microtask less before it runs), and this reaction,
    // attached first, still records before the caller goes on. Its own promise never rejects: a rejection stays
    // the caller's.
    pending.then(
      (response: unknown) => record(request, method, secure, answeredStatus(response), start),
      (error: unknown) => record(request, method, secure, thrownStatus(error), start),
    );
    return answer;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
  } catch {
    return false;
  }
}

/** Next.js answers what is not a `Response` (undefined, a plain object) with 500, as it checks: `instanceof`. */
function answeredStatus(response: unknown): number {
  return response instanceof Response ? response.status : 500;
}

// What Next.js's redirect() and notFound()/forbidden()/unauthorized() throw carries the answer in its `digest`:
// `NEXT_REDIRECT;replace;/login;307;` and `NEXT_HTTP_ERROR_FALLBACK;404`, turned by Next.js into that response.
const REDIRECT_STATUSES = new Set([303, 307, 308]);
const ACCESS_FALLBACK_STATUSES = new Set([401, 403, 404]);

/** The status Next.js answers for an error thrown by a route handler: 500 unless it is one of its own. */
function thrownStatus(error: unknown): number {
  try {
    const digest = (error as { digest?: unknown } | null | undefined)?.digest;
    if (typeof digest !== 'string') return 500;
    const parts = digest.split(';');
    if (parts[0] === 'NEXT_REDIRECT' && parts.length >= 4) {
      const status = Number(parts[parts.length - 2]);
      return REDIRECT_STATUSES.has(status) ? status : 500;
    }
    if (parts[0] === 'NEXT_HTTP_ERROR_FALLBACK') {
      const status = Number(parts[1]);
      return ACCESS_FALLBACK_STATUSES.has(status) ? status : 500;
    }
  } catch {
    // An error object whose `digest` getter throws: Next.js would not recognise it either.
  }
  return 500;
}

function https(url: string): boolean {
  return url.startsWith('https:');
}

/** A route as Hono 4 registers it: `app.use` and `app.all` under the method `ALL`. */
export interface HonoRoute {
  readonly path: string;
  readonly method?: string;
  readonly handler?: unknown;
}

/** The parts of Hono 4's `Context` the middleware reads (so this entry point needs no Hono import). */
export interface HonoContextLike {
  readonly req: {
    readonly raw: WebRequest;
    readonly method: string;
    readonly routeIndex: number;
    readonly matchedRoutes: ReadonlyArray<HonoRoute>;
  };
  readonly res: { readonly status: number };
  readonly error?: unknown;
  /** On `@hono/node-server`: `{ incoming, outgoing }`, Node's request and response. */
  readonly env?: unknown;
}

interface NodeOutgoing {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  on(event: 'close', listener: () => void): unknown;
}

function nodeOutgoing(env: unknown): NodeOutgoing | undefined {
  const outgoing = (env as { outgoing?: unknown } | null | undefined)?.outgoing;
  return typeof outgoing === 'object' &&
    outgoing !== null &&
    typeof (outgoing as NodeOutgoing).on === 'function' &&
    typeof (outgoing as NodeOutgoing).statusCode === 'number'
    ? (outgoing as NodeOutgoing)
    : undefined;
}

/** One entry of Hono 4's match result: `[[handler, route], params]`. */
type MatchEntry = readonly [readonly [unknown, Partial<HonoRoute> | undefined] | undefined, unknown];

// Where Hono 4 keeps the handler of a sub-app's route it wrapped in the sub-app's own error handler (app.route()).
const COMPOSED_HANDLER = '__COMPOSED_HANDLER';

/**
 * Whether the entry that ran last is the route that answered, not a middleware. A middleware of `app.use` (method
 * `ALL`, taking `next`: Hono's own test, `handler.length < 2` for a handler) that answered (an auth check's 401,
 * static files), or that called `next()` with nothing after it (Hono's not-found handler answered), leaves no route,
 * as on Express. A handler of `app.all` takes no `next`; every entry of `app.get(path, mw, handler)` is the route.
 */
function answeredByRoute(route: Partial<HonoRoute>): boolean {
  if (route.method !== 'ALL') return true;
  const handler = route.handler as
    { readonly length?: number; readonly [COMPOSED_HANDLER]?: unknown } | undefined;
  const own = (handler?.[COMPOSED_HANDLER] ?? handler) as { readonly length?: unknown } | undefined;
  return typeof own?.length === 'number' && own.length < 2;
}

/**
 * Finds, on a request that matched, the key of Hono 4's match result (`[entries, params]`, behind a getter keyed by
 * a symbol Hono does not export), accepting it only if its routes are the very objects `matchedRoutes` returns.
 * Null when there is none such: `matchedRoutes` is read then.
 */
function matchResultKey(req: HonoContextLike['req']): symbol | null {
  const routes = req.matchedRoutes;
  const prototype: unknown = Object.getPrototypeOf(req);
  if (routes.length === 0 || typeof prototype !== 'object' || prototype === null) return null;
  for (const key of Object.getOwnPropertySymbols(prototype)) {
    if (typeof Object.getOwnPropertyDescriptor(prototype, key)?.get !== 'function') continue;
    const entries = (req as unknown as Record<symbol, readonly [readonly MatchEntry[]] | undefined>)[
      key
    ]?.[0];
    if (
      Array.isArray(entries) &&
      entries.length === routes.length &&
      routes.every((route, i) => (entries[i] as MatchEntry | undefined)?.[0]?.[1] === route)
    )
      return key;
  }
  return null;
}

/**
 * The route of the handler that answered: read after `next()`. If nothing after this middleware answered (Hono's
 * not-found handler did), or another middleware did, there is none ({@link answeredByRoute}). `matchedRoutes`
 * builds an array of every matched route on each read, so the route is read from the match result it is built
 * from (found once, see {@link matchResultKey}); a Hono that keeps it elsewhere gets `matchedRoutes`, as before.
 */
function honoRouteReader(): (c: HonoContextLike, ownIndex: number) => string | undefined {
  let key: symbol | null | undefined;
  return (c, ownIndex) => {
    try {
      const req = c.req;
      const index = req.routeIndex;
      if (index === ownIndex) return undefined;
      key ??= matchResultKey(req);
      const route =
        key === null
          ? req.matchedRoutes[index]
          : ((req as unknown as Record<symbol, readonly [readonly MatchEntry[]] | undefined>)[key]?.[0]?.[
              index
            ]?.[0]?.[1] ?? req.matchedRoutes[index]);
      const path = route?.path;
      return typeof path === 'string' && answeredByRoute(route!) ? path : undefined;
    } catch {
      // Hono's internals changed shape: recorded without a route rather than not at all.
      return undefined;
    }
  };
}

/**
 * Hono 4 middleware recording every request: `app.use(httpMetricsMiddleware({ telemetry }))` before the routes.
 * `http.route` is the pattern Hono matched (`/product/:id`); requests no route answered carry none (Hono's
 * not-found handler, or another middleware of `app.use` such as an auth check answering 401).
 */
export function httpMetricsMiddleware(
  options: FetchHttpMetricsOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<void> {
  const recorder = recorderFor(options, 'httpMetricsMiddleware');
  const honoRoute = honoRouteReader();
  // Other runtimes: recorded when the app's response is ready, the signal read then (no listener, as above).
  const afterNext = async (
    c: HonoContextLike,
    next: () => Promise<void>,
    start: number,
    ownIndex: number,
    method: string,
    secure: boolean,
  ) => {
    await next();
    recorder.record(
      method,
      honoRoute(c, ownIndex),
      c.req.raw.signal?.aborted ? undefined : c.res.status,
      secure,
      (clock.now() - start) / 1000,
    );
  };
  // Not an async function: on Node it hands back next()'s own promise, adding no promise of its own.
  return (c, next) => {
    const start = clock.now();
    const ownIndex = c.req.routeIndex;
    // The method and url never change: read now, while the request is fresh, not after the response is built and
    // sent (as withHttpMetrics does, where that measured cheaper).
    const method = c.req.method;
    const secure = https(c.req.raw.url);
    const outgoing = nodeOutgoing(c.env);
    if (outgoing === undefined) return afterNext(c, next, start, ownIndex, method, secure);
    // @hono/node-server: the Node response closes after the body is sent, or when the client goes away first.
    outgoing.on('close', () => {
      recorder.record(
        method,
        honoRoute(c, ownIndex),
        outgoing.writableFinished ? outgoing.statusCode : undefined,
        secure,
        (clock.now() - start) / 1000,
      );
    });
    return next();
  };
}
