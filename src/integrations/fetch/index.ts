/**
 * `otel-business-metrics/fetch`: the integration for Web-standard `Request`/`Response` frameworks: Next.js 16 App
 * Router route handlers and Hono 4. A metrics handler, an engagement handler for the browser client, HTTP server
 * metrics with the route the framework matched, and the session-context helpers, which read Web requests as they
 * are.
 *
 * Folder src/integrations/fetch/. Owns: the Web adapter of the framework-neutral core (`integrations/http/`):
 * `Response`s from the core's answers (handlers.ts), the route-handler wrapper and the Hono middleware
 * (http-metrics.ts); this file only re-exports. Must not touch: what the core decides, other adapters, any
 * framework import (Hono's context is read through its public shape; Next.js handlers are plain functions), the
 * Edge runtime (the package needs Node.js: run these on the Node.js runtime).
 * Must not import: `express`, `fastify`, `@nestjs/*`, `hono`, `next`, `src/metrics/`, `src/series/`, `src/guard/`, `src/exporters/`.
 */
export {
  engagementHandler,
  lastForwardedFor,
  metricsHandler,
  type EngagementHandler,
  type EngagementHandlerOptions,
  type FetchHandler,
  type MetricsHandlerOptions,
} from './handlers';
export {
  httpMetricsMiddleware,
  withHttpMetrics,
  type FetchHttpMetricsOptions,
  type HonoContextLike,
} from './http-metrics';
export * from '../http/public';
