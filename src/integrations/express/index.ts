/**
 * `otel-business-metrics/express`: Express integration (metrics endpoint, session context derivation, the browser
 * engagement router, HTTP server metrics, active users).
 *
 * Folder src/integrations/express/. Owns: the Express adapter of the framework-neutral core
 * (`integrations/http/`): Express's signatures, the route pattern from Express's public router surface
 * (route-pattern.ts), `req.ip` and `req.protocol`; this file re-exports the entry point's API. Must not touch:
 * what the core decides (limits, answers, labels), other adapters, anything the core needs (Express is an optional
 * peer dependency imported only below this directory).
 * Must not import: `fastify`, `@nestjs/*`, `hono`, `next`, `src/metrics/`, `src/series/`, `src/guard/`, `src/exporters/`.
 */
export {
  DEFAULT_EXPERIMENT_VARIANTS,
  DEFAULT_UTM_SOURCES,
  DEFAULT_IPV6_PREFIX_LENGTH,
  DEFAULT_MAX_ROUTES,
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  TokenBucketLimiter,
  classifyUtmSource,
  clientKey,
  deriveDeviceType,
  deriveExperimentVariant,
  deriveSessionContext,
  deriveSource,
  readCookie,
  recordBatch,
  validateEngagementBatch,
} from '../http';
export type {
  DerivedDeviceType,
  DerivedSessionContext,
  EngagementValidationOptions,
  EngagementValidationResult,
  HttpMetricsOptions,
  RequestLike,
  SessionContextOptions,
  TakeResult,
  TokenBucketOptions,
} from '../http';
export { activeUsersMiddleware, userFromSession } from './active-users';
export type { ActiveUser, ActiveUserRecorder, ActiveUsersMiddlewareOptions } from './active-users';
export { engagementRouter } from './engagement-router';
export type { EngagementRouterOptions } from './engagement-router';
export { httpMetricsMiddleware } from './http-metrics';
export { metricsMiddleware } from './metrics-endpoint';
export type {
  MetricsAuth,
  MetricsMiddlewareOptions,
  MetricsRequestHandler,
  MetricsSource,
} from './metrics-endpoint';
