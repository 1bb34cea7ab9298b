/**
 * Schema validation of engagement batches posted by browsers: exact fields, types, lengths, counts and sane times.
 *
 * A batch is refused whole when it breaks the wire format (`protocol.ts`: shape, fields, types, lengths, name
 * patterns, counts), which the browser client checks itself and never sends. An event that keeps the format but
 * fails what only the server knows (its `features` / `milestones` allow-lists, its clock and
 * `maxSessionDurationMs`: a server deployed with other names, a browser clock days off) is refused on its own, so
 * it cannot cost the events batched with it.
 *
 * Owns: the decision whether a parsed JSON body is an acceptable `EngagementBatch` and which of its events are
 * refused on their own, each with a message a client developer can act on. Must not touch: Express, metrics, or
 * the network (it is a pure function, reused by tests of the browser client and the React hook).
 */
import {
  ENGAGEMENT_CONTEXT_PATTERN,
  ENGAGEMENT_EVENT_KINDS,
  ENGAGEMENT_LIMITS,
  ENGAGEMENT_NAME_PATTERN,
  type EngagementBatch,
  type EngagementEvent,
  type EngagementEventKind,
  type EngagementSession,
} from '../../browser/protocol';

export interface EngagementValidationOptions {
  /** Feature names accepted; other events are refused. Default: any name matching the name pattern. */
  readonly features?: readonly string[];
  /** Milestone names accepted; other events are refused. Default: any name matching the name pattern. */
  readonly milestones?: readonly string[];
  /**
   * Longest session accepted in a `session_end` event, in milliseconds. Default 24 hours
   * (`ENGAGEMENT_LIMITS.maxSessionDurationMs`, what the browser client holds its durations to).
   */
  readonly maxSessionDurationMs?: number;
  /** How far a `session_end`'s `endedAt` may be from the server's clock, in milliseconds. Default 24 hours. */
  readonly maxClockSkewMs?: number;
  /** The server's clock (tests). */
  readonly now?: () => number;
}

export type EngagementValidationResult =
  { readonly ok: true; readonly batch: EngagementBatch } | { readonly ok: false; readonly error: string };

/**
 * Why one event of a well-formed batch was refused (the `reason` of `business_metrics_dropped_total`):
 * `not_allowed`, a name outside the `features` or `milestones` allow-list; `invalid_time`, a `session_end` that
 * ends before it starts, lasts longer than `maxSessionDurationMs` or ends too far from the server's clock.
 */
export type EngagementRefusalReason = 'not_allowed' | 'invalid_time';

/** One event refused on its own. */
export interface EngagementRefusal {
  /** Its position in the posted `events`. */
  readonly index: number;
  readonly kind: EngagementEventKind;
  readonly reason: EngagementRefusalReason;
  /** What is wrong, naming the field: `"events[1].name": feature "wishlist" is not an accepted feature name`. */
  readonly error: string;
}

/** A well-formed batch with its accepted events (possibly none) and the refused ones, or why it is malformed. */
export type EngagementScreeningResult =
  | {
      readonly ok: true;
      readonly batch: EngagementBatch;
      readonly refused: readonly EngagementRefusal[];
    }
  | { readonly ok: false; readonly error: string };

const DAY_MS = 24 * 60 * 60 * 1000;

class InvalidBatch extends Error {}

class RefusedEvent extends Error {
  constructor(
    readonly kind: EngagementEventKind,
    readonly reason: EngagementRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Validate a parsed JSON body, all or nothing: a batch with a refused event is refused, with that event's message.
 * Never throws; the error names the offending field. The engagement endpoint uses {@link screenEngagementBatch}.
 */
export function validateEngagementBatch(
  body: unknown,
  options: EngagementValidationOptions = {},
): EngagementValidationResult {
  const result = screenEngagementBatch(body, options);
  if (!result.ok) return result;
  const [first] = result.refused;
  return first ? { ok: false, error: first.error } : { ok: true, batch: result.batch };
}

/**
 * Validate a parsed JSON body event by event: a malformed batch is refused whole; in a well-formed one, each event
 * outside the allow-lists or the server's time bounds is refused alone and the others are kept. Never throws.
 */
export function screenEngagementBatch(
  body: unknown,
  options: EngagementValidationOptions = {},
): EngagementScreeningResult {
  try {
    return { ok: true, ...parseBatch(body, options) };
  } catch (error) {
    if (error instanceof InvalidBatch) return { ok: false, error: error.message };
    throw error;
  }
}

function parseBatch(
  body: unknown,
  options: EngagementValidationOptions,
): { batch: EngagementBatch; refused: EngagementRefusal[] } {
  const root = plainObject(body, 'body');
  onlyFields(root, ['session', 'events'], 'body');
  const session = parseSession(root.session);
  if (!Array.isArray(root.events)) fail('"events" must be an array');
  const rawEvents: unknown[] = root.events;
  if (rawEvents.length === 0) fail('"events" must not be empty');
  if (rawEvents.length > ENGAGEMENT_LIMITS.maxEventsPerBatch) {
    fail(
      `"events" has ${rawEvents.length} entries; at most ${ENGAGEMENT_LIMITS.maxEventsPerBatch} are accepted`,
    );
  }
  const events: EngagementEvent[] = [];
  const refused: EngagementRefusal[] = [];
  rawEvents.forEach((event, index) => {
    try {
      events.push(parseEvent(event, `events[${index}]`, options));
    } catch (error) {
      if (!(error instanceof RefusedEvent)) throw error;
      refused.push({ index, kind: error.kind, reason: error.reason, error: error.message });
    }
  });
  const ends = [...events, ...refused].filter((event) => event.kind === 'session_end').length;
  if (ends > 1) fail('a batch may contain at most one "session_end" event');
  return { batch: { session, events }, refused };
}

function parseSession(value: unknown): EngagementSession {
  const session = plainObject(value, 'session');
  onlyFields(session, ['userTier', 'entryPage', 'isNewUser'], 'session');
  const userTier = contextString(session.userTier, 'session.userTier');
  const entryPage = contextString(session.entryPage, 'session.entryPage');
  if (typeof session.isNewUser !== 'boolean') fail('"session.isNewUser" must be a boolean');
  return { userTier, entryPage, isNewUser: session.isNewUser };
}

function parseEvent(value: unknown, path: string, options: EngagementValidationOptions): EngagementEvent {
  const event = plainObject(value, path);
  const kind = event.kind;
  if (typeof kind !== 'string' || !(ENGAGEMENT_EVENT_KINDS as readonly string[]).includes(kind)) {
    fail(`"${path}.kind" must be one of ${ENGAGEMENT_EVENT_KINDS.map((k) => `"${k}"`).join(', ')}`);
  }
  if (kind === 'feature' || kind === 'milestone') {
    onlyFields(event, ['kind', 'name'], path);
    const name = eventName(event.name, `${path}.name`);
    const allowed = kind === 'feature' ? options.features : options.milestones;
    if (allowed && !allowed.includes(name)) {
      throw new RefusedEvent(
        kind,
        'not_allowed',
        `"${path}.name": ${kind} "${name}" is not an accepted ${kind} name`,
      );
    }
    return { kind, name };
  }
  onlyFields(event, ['kind', 'sessionStartTime', 'endedAt'], path);
  const sessionStartTime = epochMillis(event.sessionStartTime, `${path}.sessionStartTime`);
  const endedAt = epochMillis(event.endedAt, `${path}.endedAt`);
  const maxDuration = options.maxSessionDurationMs ?? ENGAGEMENT_LIMITS.maxSessionDurationMs;
  const duration = endedAt - sessionStartTime;
  const refuse = (message: string): never => {
    throw new RefusedEvent('session_end', 'invalid_time', message);
  };
  if (duration < 0) refuse(`"${path}": session ends before it starts`);
  if (duration > maxDuration) refuse(`"${path}": session lasts longer than ${maxDuration} ms`);
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - endedAt) > (options.maxClockSkewMs ?? DAY_MS)) {
    refuse(`"${path}.endedAt" is too far from the server's clock`);
  }
  return { kind: 'session_end', sessionStartTime, endedAt };
}

function plainObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`"${path}" must be a JSON object`);
  return value as Record<string, unknown>;
}

function onlyFields(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail(
        `"${path}" has unknown field "${printable(key)}"; allowed: ${allowed.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
  for (const key of allowed) {
    if (!(key in value) || value[key] === undefined) fail(`"${path}.${key}" is required`);
  }
}

function contextString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(`"${path}" must be a string`);
  if (value.length === 0 || value.length > ENGAGEMENT_LIMITS.maxContextLength) {
    fail(`"${path}" must be 1 to ${ENGAGEMENT_LIMITS.maxContextLength} characters`);
  }
  if (!ENGAGEMENT_CONTEXT_PATTERN.test(value))
    fail(`"${path}" may only contain printable ASCII characters without spaces`);
  return value;
}

function eventName(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(`"${path}" must be a string`);
  if (value.length === 0 || value.length > ENGAGEMENT_LIMITS.maxNameLength) {
    fail(`"${path}" must be 1 to ${ENGAGEMENT_LIMITS.maxNameLength} characters`);
  }
  if (!ENGAGEMENT_NAME_PATTERN.test(value)) {
    fail(
      `"${path}" may only contain letters, digits, "_", ".", ":" and "-", starting with a letter or digit`,
    );
  }
  return value;
}

function epochMillis(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(`"${path}" must be a positive integer (milliseconds since the Unix epoch)`);
  }
  return value;
}

/** Field names echoed in messages are cut and stripped of control characters. */
function printable(value: string): string {
  return value.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
}

function fail(message: string): never {
  throw new InvalidBatch(message);
}
