/**
 * The wire format between the browser engagement client and the Express engagement router.
 *
 * Owns: the JSON shape of a batch, its limits, and the default endpoint path. Must not touch: Node or browser APIs
 * (both sides import it: the browser bundle and the Express router), metrics, or the OTel SDK.
 */

/** Path the React hook posts to when no endpoint is given; mount the Express `engagementRouter` there. */
export const DEFAULT_ENGAGEMENT_ENDPOINT = '/api/engagement';

/** Event kinds a browser may send. */
export const ENGAGEMENT_EVENT_KINDS = ['feature', 'milestone', 'session_end'] as const;
export type EngagementEventKind = (typeof ENGAGEMENT_EVENT_KINDS)[number];

/** Limits both sides agree on. The router rejects batches outside them; the client never builds one. */
export const ENGAGEMENT_LIMITS = {
  /** Maximum events in one batch. */
  maxEventsPerBatch: 50,
  /** Maximum length of a feature or milestone name. */
  maxNameLength: 64,
  /** Maximum length of `userTier` and `entryPage`. */
  maxContextLength: 128,
  /** Maximum request body size in bytes (also the router's JSON body limit). */
  maxBodyBytes: 16 * 1024,
  /**
   * Longest session a `session_end` reports, in milliseconds (24 hours): the client holds the durations it sends
   * to it, and it is the router's default `maxSessionDurationMs`.
   */
  maxSessionDurationMs: 86_400_000,
} as const;

/** Names of features and milestones: letters, digits and `_ . : -`, starting with a letter or digit. */
export const ENGAGEMENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/**
 * `userTier` and `entryPage`: printable ASCII without spaces. Route patterns and tier names fit; control
 * characters, spaces and markup do not.
 */
export const ENGAGEMENT_CONTEXT_PATTERN = /^[\x21-\x7e]+$/;

/** The user session a batch belongs to. */
export interface EngagementSession {
  readonly userTier: string;
  /** The page the session started on (a route pattern such as `/product/:id` keeps cardinality low). */
  readonly entryPage: string;
  readonly isNewUser: boolean;
}

export interface FeatureEvent {
  readonly kind: 'feature';
  readonly name: string;
}

export interface MilestoneEvent {
  readonly kind: 'milestone';
  readonly name: string;
}

export interface SessionEndEvent {
  readonly kind: 'session_end';
  /** Session start as milliseconds since the Unix epoch (the browser's clock). */
  readonly sessionStartTime: number;
  /** Session end as milliseconds since the epoch; lets the server measure the duration on the browser's clock. */
  readonly endedAt: number;
}

export type EngagementEvent = FeatureEvent | MilestoneEvent | SessionEndEvent;

/** One POST body. */
export interface EngagementBatch {
  readonly session: EngagementSession;
  readonly events: readonly EngagementEvent[];
}
