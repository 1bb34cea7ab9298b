/**
 * `otel-business-metrics/fastify`: a Fastify 5 plugin giving an app what the Express entry point gives one: HTTP
 * server metrics keyed by the route pattern, `/metrics` on the app's own port, the engagement route the browser
 * client posts to, active users; and the session-context helpers, which read Fastify requests as they are.
 *
 * Folder src/integrations/fastify/. Owns: the Fastify adapter of the framework-neutral core
 * (`integrations/http/`): the plugin and its options, its hooks (`onRequest`: timing and active users), where the
 * route pattern comes from (`request.routeOptions.url`, through the core's `fastifyRouteReader`), the client address (`request.ip`, which honours
 * `trustProxy`), the metrics and engagement routes' own contexts (no Fastify body parsing: the core decides first,
 * and reads the engagement body itself, with its limits), writing
 * answers with `reply`. The plugin is wrapped the way `fastify-plugin` wraps one (its hooks and routes belong to
 * the context that registers it) and declares the Fastify range it supports (5.x). Must not touch: what the core
 * decides (limits, answers, labels), other adapters. Fastify is an optional peer dependency: this folder imports
 * only its types; the app's Fastify runs the plugin.
 * Must not import: `fastify`, `express`, `@nestjs/*`, `hono`, `next`, `src/metrics/`, `src/series/`, `src/guard/`, `src/exporters/`.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { addFastifyRequestHooks, adapterParts, readNodeBody, type AdapterOptions } from '../http';

export * from '../http/public';

/** The Fastify versions the plugin is built and tested for (checked by Fastify when the plugin registers). */
export const FASTIFY_VERSION_RANGE = '5.x';

/**
 * Options of {@link businessMetricsPlugin}: `telemetry`, `httpMetrics`, `metrics`, `engagement`, `activeUsers`.
 * Requests are Fastify's: `resolveSession(request, claimed)`, `auth(request)` and `resolveUser(request)` get a
 * `FastifyRequest`, and the engagement rate limit is keyed by `request.ip` (set `trustProxy` behind a proxy).
 */
export type BusinessMetricsPluginOptions = AdapterOptions<FastifyRequest>;

const PLUGIN_NAME = 'otel-business-metrics';

function send(
  reply: FastifyReply,
  answer: { status: number; headers: Readonly<Record<string, string>>; body: string | Buffer },
): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

function install(fastify: FastifyInstance, options: BusinessMetricsPluginOptions): void {
  const parts = adapterParts(options, 'businessMetricsPlugin');
  const { httpMetrics, countActiveUser, metrics, engagement } = parts;
  addFastifyRequestHooks((hook) => fastify.addHook('onRequest', hook), httpMetrics, countActiveUser);
  if (metrics !== undefined) {
    // Unparsed: credentials come first for any method, so a POST without them is 401 whatever its body.
    unparsedRoute(fastify, metrics.path, async (request, reply) =>
      send(reply, await metrics.endpoint.answer(request.raw, request)),
    );
  }
  if (engagement !== undefined) {
    // Unparsed: the core reads the body with its own limit, after the method, rate-limit and content-type checks.
    unparsedRoute(fastify, engagement.path, async (request, reply) =>
      send(
        reply,
        await engagement.endpoint({
          method: request.method,
          header: (name) => {
            const value = request.headers[name];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          client: request.ip,
          raw: request,
          body: (limit) => readNodeBody(request.raw, limit),
        }),
      ),
    );
  }
}

/**
 * A route in a context of its own whose one body parser reads nothing, so Fastify answers none of its requests
 * with its own 400, 413 or 415 before the route has decided; the app's parsers stay untouched.
 */
function unparsedRoute(
  fastify: FastifyInstance,
  path: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  fastify.register((context, _options, done) => {
    context.removeAllContentTypeParsers();
    context.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    context.all(path, handler);
    done();
  });
}

const plugin: FastifyPluginCallback<BusinessMetricsPluginOptions> = (fastify, options, done) => {
  try {
    install(fastify, options);
  } catch (error) {
    // A configuration mistake fails `app.register(...)` / `app.ready()` at start-up, loudly.
    done(error as Error);
    return;
  }
  done();
};

/**
 * The plugin: `app.register(businessMetricsPlugin, { telemetry, metrics: { auth }, engagement: { features } })`.
 * Its hooks and routes belong to the context that registers it (like a plugin wrapped by `fastify-plugin`), so
 * register it at the root to measure every route.
 */
export const businessMetricsPlugin = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: PLUGIN_NAME,
  [Symbol.for('plugin-meta')]: { name: PLUGIN_NAME, fastify: FASTIFY_VERSION_RANGE },
});
