/**
 * The framework-neutral core of the web integrations: everything the Express, Fastify, NestJS and Web
 * (`Request`/`Response`) adapters do, written once against plain request views and returning plain answers.
 *
 * Folder src/integrations/http/. Owns: reading requests through one small interface for Node and Web requests
 * (request.ts), session context (context.ts), HTTP server metrics finished from `{ method, route, status, aborted }`
 * (server-metrics.ts, through the metrics port) and the route Fastify matched, for the adapters on Fastify
 * (fastify-route.ts), the engagement endpoint returning `{ status, headers, body }` (beacon.ts) with its body
 * limits (body.ts), validation (validate.ts), rate limits (rate-limit.ts) and browser vocabularies
 * (browser-names.ts), `/metrics` on the app's server through the one scrape path (metrics-endpoint.ts), active-user
 * counting (active-users.ts), the options every server-framework adapter takes (adapter-options.ts), what the
 * Fastify, NestJS and Web entry points re-export (public.ts); this file only re-exports. Must not touch: any framework (it imports none and never
 * writes a response itself: adapters do), instruments (HTTP metrics go through the metrics port).
 * Must not import: `express`, `fastify`, `@nestjs/*`, `hono`, `next`, `src/metrics/instruments.ts`, `src/series/`, `src/guard/`.
 */
// What the Fastify, NestJS and Web entry points re-export, then what only adapters use.
export * from './public';
export { adapterParts } from './adapter-options';
export type { AdapterParts } from './adapter-options';
export { activeUserCounter } from './active-users';
export { engagementEndpoint, recordBatch } from './beacon';
export type { BeaconAnswer, BeaconRequest, EngagementEndpoint } from './beacon';
export { decodeJsonBody, nodeBodyOf, readNodeBody, readWebBody } from './body';
export type { BodyRead, BodyReader, JsonBody, NodeBodyStream } from './body';
export { metricsEndpoint } from './metrics-endpoint';
export type {
  MetricsEndpoint,
  MetricsEndpointOptions,
  MetricsRequestHandler,
  MetricsSource,
} from './metrics-endpoint';
export { TokenBucketLimiter, clientKey } from './rate-limit';
export type { TakeResult } from './rate-limit';
export { requestView } from './request';
export type { AnyRequest, RequestLike, RequestView, WebRequestLike } from './request';
export { addFastifyRequestHooks, fastifyRouteReader } from './fastify-route';
export type { FastifyRequestLike } from './fastify-route';
export { httpServerMetrics, liveHttpServerMetrics, nodeRequestObserver } from './server-metrics';
export type { ServerRequestRecorder } from './server-metrics';
export { validateEngagementBatch } from './validate';
export type { EngagementValidationOptions, EngagementValidationResult } from './validate';
export type { ScrapeAnswer } from '../../exporters/prometheus/scrape-endpoint';
/** Loading a framework an adapter needs at run time, with the cause kept when it fails. */
export { loadOptionalPeer } from '../../support';
/** The recorder adapters hand out when no handle is given (the public singleton). */
export { businessMetrics } from '../../metrics/singleton';
