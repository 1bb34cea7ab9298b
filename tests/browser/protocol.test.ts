/**
 * src/browser/protocol.ts directly: the wire contract both sides import. The name pattern accepts letters, digits
 * and `_ . : -` starting with a letter or digit, and nothing that could carry markup, spaces or path tricks; the
 * limits fit together (a full batch of longest names fits the body limit); the default endpoint is the one the
 * Express router's docs mount.
 */
import {
  DEFAULT_ENGAGEMENT_ENDPOINT,
  ENGAGEMENT_CONTEXT_PATTERN,
  ENGAGEMENT_EVENT_KINDS,
  ENGAGEMENT_LIMITS,
  ENGAGEMENT_NAME_PATTERN,
  type EngagementBatch,
} from '../../src/browser/protocol';

it.each(['search', 'dashboard_export', 'first.chart', 'step:2', 'a-b', '9lives', 'X'])(
  'accepts the name %j',
  (name) => {
    expect(ENGAGEMENT_NAME_PATTERN.test(name)).toBe(true);
  },
);

it.each(['', '_private', '.hidden', '-x', 'has space', '<script>', 'a/b', '../x', 'é', 'a\nb', 'q?x=1'])(
  'refuses the name %j',
  (name) => {
    expect(ENGAGEMENT_NAME_PATTERN.test(name)).toBe(false);
  },
);

it.each([
  ['/product/:id', true],
  ['pro', true],
  ['/search?q=1&x=<b>', true],
  ['', false],
  ['Pro plan', false],
  ['/café', false],
  ['a\tb', false],
])('takes the session context %j as %s', (value, accepted) => {
  expect(ENGAGEMENT_CONTEXT_PATTERN.test(value)).toBe(accepted);
});

it('has limits that fit together: a full batch of the longest names stays within the body limit', () => {
  const name = 'n'.repeat(ENGAGEMENT_LIMITS.maxNameLength);
  const batch: EngagementBatch = {
    session: {
      userTier: 't'.repeat(ENGAGEMENT_LIMITS.maxContextLength),
      entryPage: '/'.padEnd(ENGAGEMENT_LIMITS.maxContextLength, 'p'),
      isNewUser: false,
    },
    events: Array.from({ length: ENGAGEMENT_LIMITS.maxEventsPerBatch }, () => ({
      kind: 'feature' as const,
      name,
    })),
  };
  expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(ENGAGEMENT_LIMITS.maxBodyBytes);
  expect(ENGAGEMENT_EVENT_KINDS).toEqual(['feature', 'milestone', 'session_end']);
  expect(DEFAULT_ENGAGEMENT_ENDPOINT).toBe('/api/engagement');
});
