/**
 * `otel-business-metrics/express`: Express integration (metrics endpoint, session context derivation, the browser
 * engagement router, HTTP server metrics).
 *
 * Folder src/integrations/express/. Owns: everything Express-specific (the metrics endpoint, session context
 * derivation, the engagement router with its validation and rate limit, HTTP server metrics); this file only
 * re-exports. Must not touch: anything the core needs (the core must work without Express, which is an optional
 * peer dependency imported only below this directory).
 */
export {
  DEFAULT_EXPERIMENT_VARIANTS,
  DEFAULT_UTM_SOURCES,
  classifyUtmSource,
  deriveDeviceType,
  deriveExperimentVariant,
  deriveSessionContext,
  deriveSource,
  readCookie,
} from './context';
export type { DerivedDeviceType, DerivedSessionContext, RequestLike, SessionContextOptions } from './context';
export { activeUsersMiddleware, userFromSession } from './active-users';
export type { ActiveUser, ActiveUserRecorder, ActiveUsersMiddlewareOptions } from './active-users';
export { engagementRouter, recordBatch } from './engagement-router';
export type { EngagementRouterOptions } from './engagement-router';
export {
  DEFAULT_MAX_ROUTES,
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
  httpMetricsMiddleware,
} from './http-metrics';
export type { HttpMetricsOptions } from './http-metrics';
export { metricsMiddleware } from './metrics-endpoint';
export type {
  MetricsAuth,
  MetricsMiddlewareOptions,
  MetricsRequestHandler,
  MetricsSource,
} from './metrics-endpoint';
export { DEFAULT_IPV6_PREFIX_LENGTH, TokenBucketLimiter, clientKey } from './rate-limit';
export type { TakeResult, TokenBucketOptions } from './rate-limit';
export { validateEngagementBatch } from './validate';
export type { EngagementValidationOptions, EngagementValidationResult } from './validate';
