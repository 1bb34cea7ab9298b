/**
 * What the Fastify, NestJS and Web entry points share of the core's public API: the session-context helpers, the
 * HTTP metric's name, buckets and route cap, and the option types. Each of those entry points re-exports this file.
 *
 * Owns: that list. Must not touch: anything it does not re-export.
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
export type { DerivedDeviceType, DerivedSessionContext, SessionContextOptions } from './context';
export { userFromSession } from './active-users';
export type { ActiveUser, ActiveUserRecorder } from './active-users';
export type { AdapterOptions } from './adapter-options';
export type { EngagementOptions } from './beacon';
export type { MetricsAuth, TelemetryLike } from './metrics-endpoint';
export { DEFAULT_IPV6_PREFIX_LENGTH } from './rate-limit';
export type { TokenBucketOptions } from './rate-limit';
export {
  DEFAULT_MAX_ROUTES,
  HTTP_SERVER_DURATION_BUCKETS,
  HTTP_SERVER_REQUEST_DURATION,
} from './server-metrics';
export type { HttpMetricsOptions } from './server-metrics';
