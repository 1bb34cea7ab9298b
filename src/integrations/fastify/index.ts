/**
 * `otel-business-metrics/fastify`: a Fastify 5 plugin giving an app what the Express entry point gives one: HTTP
 * server metrics keyed by the route pattern, `/metrics` on the app's own port, the engagement route the browser
 * client posts to, active users; and the session-context helpers, which read Fastify requests as they are.
 *
 * Folder src/integrations/fastify/. Owns: the Fastify adapter of the framework-neutral core
 * (`integrations/http/`): the plugin and its options, its hooks (`onRequest`: timing and active users), where the
 * route pattern comes from (`request.routeOptions.url`), the client address (`request.ip`, which honours
 * `trustProxy`), the engagement route's own context (it reads its body itself, with the core's limits), writing
 * answers with `reply`. The plugin is wrapped the way `fastify-plugin` wraps one (its hooks and routes belong to
 * the context that registers it) and declares the Fastify range it supports (5.x). Must not touch: what the core
 * decides (limits, answers, labels), other adapters. Fastify is an optional peer dependency: this folder imports
 * only its types; the app's Fastify runs the plugin.
 */
import type { Meter } from '@opentelemetry/api';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import {
  activeUserCounter,
  engagementEndpoint,
  httpServerMetrics,
  metricsEndpoint,
  nodeRequestObserver,
  readNodeBody,
  userFromSession,
  type ActiveUser,
  type ActiveUserRecorder,
  type EngagementOptions,
  type MetricsAuth,
  type TelemetryLike,
} from '../http';

export {
  DEFAULT_EXPERIMENT_VARIANTS,
  DEFAULT_IPV6_PREFIX_LENGTH,
  DEFAULT_MAX_ROUTES,
  DEFAULT_UTM_SOURCES,
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  deriveSessionContext,
  readCookie,
  userFromSession,
} from '../http';
export type {
  ActiveUser,
  ActiveUserRecorder,
  DerivedDeviceType,
  DerivedSessionContext,
  EngagementOptions,
  SessionContextOptions,
  TokenBucketOptions,
} from '../http';

/** The Fastify versions the plugin is built and tested for (checked by Fastify when the plugin registers). */
export const FASTIFY_VERSION_RANGE = '5.x';

/** Options of {@link businessMetricsPlugin}. */
export interface BusinessMetricsPluginOptions {
  /**
   * The handle `initBusinessMetrics` returned: HTTP server metrics are recorded into its series store, and
   * `/metrics` serves its exposition (initialise it with `prometheus: { preventServerStart: true }` to serve on
   * the app's port only).
   */
  readonly telemetry?: TelemetryLike;
  /**
   * `http.server.request.duration` for every request (default: on when `telemetry` is given). `{ maxRoutes }` caps
   * distinct routes (default 100); `{ meter }` records into an SDK histogram on a meter of your own instead;
   * `false` turns it off.
   */
  readonly httpMetrics?: boolean | { readonly maxRoutes?: number; readonly meter?: Meter };
  /**
   * Serve the exposition at `path` (default `/metrics`), optionally behind `auth` (`{ bearerToken }`,
   * `{ username, password }`, or `(request) => boolean`). Off unless given: revenue is sensitive.
   */
  readonly metrics?: boolean | { readonly path?: string; readonly auth?: MetricsAuth<FastifyRequest> };
  /**
   * The engagement route the browser client posts to, at `path` (default `/api/engagement`), with the options of
   * the Express `engagementRouter` (`features`, `milestones`, `resolveSession(request, claimed)`, rate limit keyed
   * by `request.ip`). Off unless given.
   */
  readonly engagement?: boolean | (EngagementOptions<FastifyRequest> & { readonly path?: string });
  /**
   * Count each request's user as active today (`trackActiveUser`). Default resolver: `request.session.userId` and
   * `request.session.userTier` (@fastify/session style). Off unless given.
   */
  readonly activeUsers?:
    | boolean
    | {
        readonly resolveUser?: (request: FastifyRequest) => ActiveUser | undefined;
        readonly metrics?: ActiveUserRecorder;
      };
}

const PLUGIN_NAME = 'otel-business-metrics';

function optionsOf<T extends object>(value: boolean | T | undefined): T | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? ({} as T) : value;
}

function send(
  reply: FastifyReply,
  answer: { status: number; headers: Readonly<Record<string, string>>; body: string | Buffer },
): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

function install(fastify: FastifyInstance, options: BusinessMetricsPluginOptions): void {
  const { telemetry } = options;
  const http = options.httpMetrics ?? telemetry !== undefined;
  if (http !== false) {
    const settings = http === true ? {} : http;
    const recorder = httpServerMetrics(
      settings.meter !== undefined
        ? { meter: settings.meter, maxRoutes: settings.maxRoutes }
        : { telemetry, maxRoutes: settings.maxRoutes },
      'businessMetricsPlugin',
    );
    // The pattern Fastify matched (`/product/:id`, prefixes included); a 404 has none.
    const observe = nodeRequestObserver<FastifyRequest>(
      recorder,
      (request) => request.routeOptions.url,
      (request) => request.protocol === 'https',
    );
    fastify.addHook('onRequest', (request, reply, done) => {
      observe(request, reply.raw);
      done();
    });
  }

  const active = optionsOf(options.activeUsers);
  if (active !== undefined) {
    const count = activeUserCounter(
      active.resolveUser ?? userFromSession,
      active.metrics,
      'businessMetricsPlugin activeUsers',
    );
    fastify.addHook('onRequest', (request, _reply, done) => {
      count(request);
      done();
    });
  }

  const scrape = optionsOf(options.metrics);
  if (scrape !== undefined) {
    if (telemetry === undefined)
      throw new TypeError('businessMetricsPlugin: metrics needs telemetry (the initBusinessMetrics handle)');
    const endpoint = metricsEndpoint<FastifyRequest>(
      telemetry,
      { auth: scrape.auth },
      'businessMetricsPlugin',
    );
    fastify.all(scrape.path ?? '/metrics', async (request, reply) =>
      send(reply, await endpoint.answer(request.raw, request)),
    );
  }

  const beacon = optionsOf(options.engagement);
  if (beacon !== undefined) {
    const { path = '/api/engagement', ...engagementOptions } = beacon;
    const endpoint = engagementEndpoint<FastifyRequest>(
      engagementOptions,
      'businessMetricsPlugin engagement',
    );
    // A context of its own: no body parser runs for this route (the core reads the body with its own limit, after
    // the method, rate-limit and content-type checks), and the app's parsers stay untouched.
    fastify.register((context, _options, done) => {
      context.removeAllContentTypeParsers();
      context.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
      context.all(path, async (request, reply) =>
        send(
          reply,
          await endpoint({
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
      done();
    });
  }
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
