/**
 * The route pattern Fastify 5 matched, for the two adapters whose requests are Fastify's: the Fastify plugin and
 * the NestJS module on the Fastify platform.
 *
 * Owns: reading `request.routeOptions.url` without its cost. Must not touch: what the route becomes (the metrics
 * port's labels and caps), frameworks (it imports none: it reads the request it is given).
 */

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
