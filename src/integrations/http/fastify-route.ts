/**
 * The route pattern Fastify 5 matched, and the request hooks, for the two adapters whose requests are Fastify's:
 * the Fastify plugin and the NestJS module on the Fastify platform.
 *
 * Owns: reading `request.routeOptions.url` without its cost; the `onRequest` hooks both install. Must not touch:
 * what the route becomes (the metrics port's labels and caps), frameworks (it imports none: it reads the request it
 * is given, and adds hooks through the function it is handed).
 */
import { nodeRequestObserver, type ServerRequestRecorder } from './server-metrics';

/** A Fastify request as the hooks read it. */
type FastifyHookRequest = FastifyRequestLike & { readonly method?: string; readonly protocol?: string };

/** Node's response, as the timing reads it (`reply.raw`). */
type NodeResponse = Parameters<ReturnType<typeof nodeRequestObserver>>[1];

/**
 * Adds the adapter's `onRequest` hooks through `addHook` (`(hook) => fastify.addHook('onRequest', hook)`): one per
 * part, each calling its part directly. In NestJS, whose six hooks of its own run beside these, one hook looping
 * over the parts through a wrapper cost ~30 ns a request more (bench/RESULTS.md, session 10).
 */
export function addFastifyRequestHooks<
  Req extends FastifyHookRequest,
  Reply extends { readonly raw: NodeResponse },
>(
  addHook: (hook: (request: Req, reply: Reply, done: () => void) => void) => void,
  httpMetrics: ServerRequestRecorder | undefined,
  countActiveUser: ((request: Req) => void) | undefined,
): void {
  if (httpMetrics !== undefined) {
    // The pattern Fastify matched (`/product/:id`, prefixes included); a 404 has none.
    const observe = nodeRequestObserver<Req>(
      httpMetrics,
      fastifyRouteReader(),
      (request) => request.protocol === 'https',
    );
    addHook((request, reply, done) => {
      observe(request, reply.raw);
      done();
    });
  }
  if (countActiveUser !== undefined) {
    addHook((request, _reply, done) => {
      countActiveUser(request);
      done();
    });
  }
}

/** The part of Fastify 5's route context the route is read from: the route's own config, `url` included. */
interface RouteContext {
  readonly config?: { readonly url?: unknown };
}

/** What the reader needs of a Fastify request: `routeOptions`, the public way, read when the context is not found. */
export interface FastifyRequestLike {
  readonly routeOptions?: { readonly url?: string };
}

/**
 * A reader of the pattern Fastify matched (`/product/:id`, prefixes included; undefined for a 404), as
 * `request.routeOptions.url` returns it, without its cost: that getter builds a fresh object of thirteen fields on
 * every read and asks the router about version constraints for it (measured: ~27 ns against ~4 ns in a hot loop,
 * more with the caches cold after a request). The `url` it returns is the route context's `config.url`, which
 * Fastify 5 keeps on the request under its `fastify.context` symbol: found once, then read directly. A Fastify that
 * keeps it elsewhere gets `routeOptions.url`.
 */
export function fastifyRouteReader(): (request: FastifyRequestLike) => string | undefined {
  let key: symbol | null | undefined;
  const viaOptions = (request: FastifyRequestLike) => request.routeOptions?.url;
  return (request) => {
    if (key === undefined) {
      key =
        Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'fastify.context') ??
        null;
    }
    if (key === null) return viaOptions(request);
    const context = (request as unknown as Record<symbol, RouteContext | undefined>)[key];
    const config = context?.config;
    if (typeof config !== 'object' || config === null) return viaOptions(request);
    return typeof config.url === 'string' ? config.url : undefined;
  };
}
