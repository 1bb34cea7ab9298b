/**
 * The options every server-framework adapter (the Fastify plugin, the NestJS module) takes, and what they resolve
 * to: one shape, so the adapters differ only in how they hook into their framework.
 *
 * Owns: the options' meaning and defaults (HTTP metrics on when a handle is given; `/metrics`, the engagement route
 * and active users off unless asked for; the default paths), turning them into the core's recorders, endpoints and
 * counters, and the configuration errors (said at start-up, naming the adapter). Must not touch: frameworks,
 * requests, answers.
 */
import type { Meter } from '@opentelemetry/api';
import { activeUserCounter, userFromSession, type ActiveUser, type ActiveUserRecorder } from './active-users';
import { engagementEndpoint, type EngagementEndpoint, type EngagementOptions } from './beacon';
import {
  metricsEndpoint,
  type MetricsAuth,
  type MetricsEndpoint,
  type TelemetryLike,
} from './metrics-endpoint';
import { httpServerMetrics, type ServerRequestRecorder } from './server-metrics';

/** Options of a server-framework adapter; `Req` is the framework's request. */
export interface AdapterOptions<Req> {
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
  readonly metrics?: boolean | { readonly path?: string; readonly auth?: MetricsAuth<Req> };
  /**
   * The engagement route the browser client posts to, at `path` (default `/api/engagement`), with the options of
   * the Express `engagementRouter` (`features`, `milestones`, `resolveSession(request, claimed)`; the rate limit is
   * keyed by the framework's client address, so tell it to trust your proxy). Off unless given.
   */
  readonly engagement?: boolean | (EngagementOptions<Req> & { readonly path?: string });
  /**
   * Count each request's user as active today (`trackActiveUser`). Default resolver: `request.session.userId` and
   * `request.session.userTier`. Off unless given.
   */
  readonly activeUsers?:
    | boolean
    | {
        readonly resolveUser?: (request: Req) => ActiveUser | undefined;
        readonly metrics?: ActiveUserRecorder;
      };
}

/** What an adapter installs, resolved from its options; each part undefined when not asked for. */
export interface AdapterParts<Req> {
  readonly httpMetrics?: ServerRequestRecorder;
  readonly countActiveUser?: (request: Req) => void;
  readonly metrics?: { readonly path: string; readonly endpoint: MetricsEndpoint<Req> };
  readonly engagement?: { readonly path: string; readonly endpoint: EngagementEndpoint<Req> };
}

function optionsOf<T extends object>(value: boolean | T | undefined): T | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? ({} as T) : value;
}

/**
 * Resolve an adapter's options. `where` names it in errors (`businessMetricsPlugin`).
 * @throws TypeError / RangeError for a configuration that cannot work (metrics without a handle, malformed caps,
 *   credentials that could never match).
 */
export function adapterParts<Req>(options: AdapterOptions<Req>, where: string): AdapterParts<Req> {
  const { telemetry } = options;
  const http = options.httpMetrics ?? telemetry !== undefined;
  const settings = http === false ? undefined : http === true ? {} : http;
  const active = optionsOf(options.activeUsers);
  const scrape = optionsOf(options.metrics);
  const beacon = optionsOf(options.engagement);
  if (scrape !== undefined && telemetry === undefined) {
    throw new TypeError(`${where}: metrics needs telemetry (the initBusinessMetrics handle)`);
  }
  const engagement =
    beacon === undefined
      ? undefined
      : (() => {
          const { path = '/api/engagement', ...rest } = beacon;
          return { path, endpoint: engagementEndpoint<Req>(rest, `${where} engagement`) };
        })();
  return {
    httpMetrics:
      settings === undefined
        ? undefined
        : httpServerMetrics(
            settings.meter !== undefined
              ? { meter: settings.meter, maxRoutes: settings.maxRoutes }
              : { telemetry, maxRoutes: settings.maxRoutes },
            where,
          ),
    countActiveUser:
      active === undefined
        ? undefined
        : activeUserCounter<[Req]>(
            active.resolveUser ?? userFromSession,
            active.metrics,
            `${where} activeUsers`,
          ),
    metrics:
      scrape === undefined
        ? undefined
        : {
            path: scrape.path ?? '/metrics',
            endpoint: metricsEndpoint<Req>(telemetry, { auth: scrape.auth }, where),
          },
    engagement,
  };
}
