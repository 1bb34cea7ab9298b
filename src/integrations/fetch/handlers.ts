/**
 * Web-standard handlers, `(request: Request) => Promise<Response>`, for frameworks built on the Fetch API:
 * `/metrics` and the engagement endpoint, as Next.js App Router route handlers or Hono routes.
 *
 * Owns: turning the core's answers into `Response`s, reading a Web body, and which address a Web request's client
 * is counted under (a Web `Request` carries none: the framework's, or the last `X-Forwarded-For` entry). Must not
 * touch: what the core decides (checks, limits, answers), any framework's API.
 */
import {
  engagementEndpoint,
  metricsEndpoint,
  readWebBody,
  type EngagementOptions,
  type MetricsAuth,
  type TelemetryLike,
} from '../http';

/** A Web handler: a Next.js route handler (`export const GET = ...`) or the body of a Hono route. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /**
   * The handle `initBusinessMetrics` returned. Default: the live handle, wherever it was created (Next.js:
   * instrumentation.ts, whose module instances route handlers do not share).
   */
  readonly telemetry?: TelemetryLike;
  /** Require credentials: `{ bearerToken }`, `{ username, password }`, or `(request) => boolean`. */
  readonly auth?: MetricsAuth<Request>;
}

function toResponse(answer: {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string | Buffer;
}): Response {
  const body = typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body);
  return new Response(body, { status: answer.status, headers: answer.headers });
}

/**
 * Serve the exposition: `export const GET = metricsHandler({ auth: { bearerToken } })` in `app/metrics/route.ts`,
 * or `app.all('/metrics', (c) => metrics(c.req.raw))` with Hono. Negotiates OpenMetrics and gzip like every other
 * `/metrics` of the package; 503 until `initBusinessMetrics` has run.
 * @throws TypeError for credentials that could never match.
 */
export function metricsHandler(options: MetricsHandlerOptions = {}): FetchHandler {
  const endpoint = metricsEndpoint<Request>(options.telemetry, options, 'metricsHandler');
  return async (request) =>
    toResponse(await endpoint.answer(nextCompresses(request) ? identity(request) : request, request));
}

/**
 * Next.js gzips route handlers' answers itself and drops a handler's own `Content-Encoding` (measured on 16.4: a
 * gzipped answer went out gzipped twice, or gzipped without the header): there the exposition is handed over
 * uncompressed. A `NextRequest` is told by its `nextUrl`.
 */
function nextCompresses(request: Request): boolean {
  return typeof (request as { nextUrl?: unknown }).nextUrl === 'object';
}

/** The request as the scrape path should see it: asking for no encoding. */
function identity(
  request: Request,
): Pick<Request, 'method' | 'url'> & { headers: { get(name: string): string | null } } {
  return {
    method: request.method,
    url: request.url,
    headers: { get: (name) => (name === 'accept-encoding' ? null : request.headers.get(name)) },
  };
}

/** Options of {@link engagementHandler}: the Express `engagementRouter`'s, plus where the client's address comes from. */
export interface EngagementHandlerOptions extends EngagementOptions<Request> {
  /**
   * The address a request's client is rate-limited under, when the framework does not pass one. Default: the last
   * `X-Forwarded-For` entry (the address the nearest proxy saw; `next start` puts the socket's address there
   * unless the client sent the header itself, so without a proxy that overwrites it a client can choose its key).
   */
  readonly clientAddress?: (request: Request) => string | undefined;
}

/** The last `X-Forwarded-For` entry: the hop the nearest proxy (or `next start`) saw. */
export function lastForwardedFor(request: Request): string | undefined {
  const header = request.headers.get('x-forwarded-for');
  if (header === null) return undefined;
  const last = header.slice(header.lastIndexOf(',') + 1).trim();
  return last === '' ? undefined : last.slice(0, 64);
}

/** A Web engagement endpoint: a handler, plus the same endpoint for a client address the framework knows. */
export interface EngagementHandler extends FetchHandler {
  /** Answer a request whose client's address the framework knows (Hono: `getConnInfo(c).remote.address`). */
  forClient(request: Request, client: string | undefined): Promise<Response>;
}

/**
 * A Web engagement endpoint for the browser client: `export const POST = engagementHandler({ features })` (Next.js),
 * or `app.all('/api/engagement', (c) => beacon.forClient(c.req.raw, address))` with Hono.
 */
export function engagementHandler(options: EngagementHandlerOptions = {}): EngagementHandler {
  const { clientAddress = lastForwardedFor, ...rest } = options;
  const endpoint = engagementEndpoint<Request>(rest, 'engagementHandler');
  const forClient = async (request: Request, client: string | undefined) =>
    toResponse(
      await endpoint({
        method: request.method,
        header: (name) => request.headers.get(name) ?? undefined,
        client,
        raw: request,
        // Read only once the method and the rate limit have let the request through (a getter on some Requests).
        get hasBody() {
          return request.body !== null;
        },
        body: (limit) =>
          // Read already (a middleware's `c.req.json()`): its stream would give nothing, or no reader at all.
          request.bodyUsed
            ? Promise.resolve({ kind: 'consumed' })
            : readWebBody(request.body, request.headers.get('content-length') ?? undefined, limit),
      }),
    );
  // Frameworks call a handler with more arguments (Next.js: the route's context): only the request is read.
  const handler = (request: Request) => forClient(request, clientAddress(request));
  return Object.assign(handler, { forClient });
}
