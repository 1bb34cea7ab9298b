/**
 * `otel-business-metrics/browser`: the engagement client for browsers and the wire format it speaks.
 *
 * Folder src/browser/. Owns: the browser engagement client (client.ts) and the batch wire format the Express
 * router validates (protocol.ts); this file only re-exports. Must not touch: Node APIs, the OpenTelemetry SDK, or
 * the package's main entry (importing it would pull the SDK into browser bundles).
 * Must not import: `src/*`, `node:*`, `@opentelemetry/*`.
 */
export { createEngagementClient } from './client';
export type { EngagementClient, EngagementClientOptions } from './client';
export {
  DEFAULT_ENGAGEMENT_ENDPOINT,
  ENGAGEMENT_CONTEXT_PATTERN,
  ENGAGEMENT_EVENT_KINDS,
  ENGAGEMENT_LIMITS,
  ENGAGEMENT_NAME_PATTERN,
} from './protocol';
export type {
  EngagementBatch,
  EngagementEvent,
  EngagementEventKind,
  EngagementSession,
  FeatureEvent,
  MilestoneEvent,
  SessionEndEvent,
} from './protocol';
