import { ENGAGEMENT_LIMITS } from '../../../src/browser/protocol';
import { screenEngagementBatch, validateEngagementBatch } from '../../../src/integrations/http/validate';

const NOW = 1_760_000_000_000;
const session = { userTier: 'pro', entryPage: '/dashboard', isNewUser: false };
const validate = (body: unknown, options = {}) =>
  validateEngagementBatch(body, { now: () => NOW, ...options });

describe('validateEngagementBatch', () => {
  it('accepts the three event kinds', () => {
    const body = {
      session,
      events: [
        { kind: 'feature', name: 'dashboard_export' },
        { kind: 'milestone', name: 'first_chart_created' },
        { kind: 'session_end', sessionStartTime: NOW - 60_000, endedAt: NOW },
      ],
    };
    expect(validate(body)).toEqual({ ok: true, batch: body });
  });

  it.each([
    ['a non-object body', [], /"body" must be a JSON object/],
    ['an unknown top-level field', { session, events: [], admin: true }, /unknown field "admin"/],
    [
      'a __proto__ field',
      JSON.parse('{"__proto__": {"x": 1}, "session": {}, "events": []}'),
      /unknown field "__proto__"/,
    ],
    ['a missing session', { events: [{ kind: 'feature', name: 'x' }] }, /"body.session" is required/],
    [
      'an unknown session field',
      { session: { ...session, userId: 'u1' }, events: [] },
      /unknown field "userId"/,
    ],
    [
      'a non-boolean isNewUser',
      { session: { ...session, isNewUser: 'yes' }, events: [] },
      /isNewUser" must be a boolean/,
    ],
    ['a tier with spaces', { session: { ...session, userTier: 'p r o' }, events: [] }, /printable ASCII/],
    ['an empty event list', { session, events: [] }, /must not be empty/],
    ['too many events', { session, events: Array(51).fill({ kind: 'feature', name: 'x' }) }, /at most 50/],
    ['an unknown kind', { session, events: [{ kind: 'purchase', name: 'x' }] }, /must be one of "feature"/],
    [
      'an extra event field',
      { session, events: [{ kind: 'feature', name: 'x', value: 9 }] },
      /unknown field "value"/,
    ],
    ['a long name', { session, events: [{ kind: 'feature', name: 'x'.repeat(65) }] }, /1 to 64 characters/],
    [
      'markup in a name',
      { session, events: [{ kind: 'feature', name: '<img src=x>' }] },
      /may only contain letters/,
    ],
    [
      'a session ending before it starts',
      { session, events: [{ kind: 'session_end', sessionStartTime: NOW, endedAt: NOW - 1 }] },
      /ends before it starts/,
    ],
    [
      'a week-long session',
      { session, events: [{ kind: 'session_end', sessionStartTime: NOW - 7 * 86_400_000, endedAt: NOW }] },
      /longer than/,
    ],
    [
      'a session ending next year',
      { session, events: [{ kind: 'session_end', sessionStartTime: NOW + 3e10, endedAt: NOW + 3e10 + 1 }] },
      /too far from the server's clock/,
    ],
    [
      'a fractional timestamp',
      { session, events: [{ kind: 'session_end', sessionStartTime: 1.5, endedAt: NOW }] },
      /positive integer/,
    ],
    [
      'two session ends',
      {
        session,
        events: [
          { kind: 'session_end', sessionStartTime: NOW - 1, endedAt: NOW },
          { kind: 'session_end', sessionStartTime: NOW - 1, endedAt: NOW },
        ],
      },
      /at most one "session_end"/,
    ],
  ])('rejects %s with a message naming the problem', (_what, body, message) => {
    const result = validate(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it("accepts by default the longest session the browser client sends (the protocol's limit), not 1 ms more", () => {
    const ending = (duration: number) => ({
      session,
      events: [{ kind: 'session_end', sessionStartTime: NOW - duration, endedAt: NOW }],
    });
    expect(ENGAGEMENT_LIMITS.maxSessionDurationMs).toBe(86_400_000);
    expect(validate(ending(ENGAGEMENT_LIMITS.maxSessionDurationMs)).ok).toBe(true);
    expect(validate(ending(ENGAGEMENT_LIMITS.maxSessionDurationMs + 1))).toEqual({
      ok: false,
      error: '"events[0]": session lasts longer than 86400000 ms',
    });
  });

  it('enforces feature and milestone allow-lists when given', () => {
    const options = { features: ['search'], milestones: ['first_purchase'] };
    expect(validate({ session, events: [{ kind: 'feature', name: 'search' }] }, options).ok).toBe(true);
    const refused = validate({ session, events: [{ kind: 'milestone', name: 'hacked' }] }, options);
    expect(refused).toEqual({
      ok: false,
      error: expect.stringMatching(/"hacked" is not an accepted milestone/),
    });
  });
});

describe('screenEngagementBatch', () => {
  const screen = (body: unknown, options = {}) =>
    screenEngagementBatch(body, {
      now: () => NOW,
      features: ['search'],
      milestones: ['first_purchase'],
      ...options,
    });

  it('refuses alone each event only the server can judge (allow-lists, its clock), keeping the others', () => {
    const events = [
      { kind: 'feature', name: 'search' },
      { kind: 'feature', name: 'wishlist' },
      { kind: 'milestone', name: 'beta' },
      { kind: 'session_end', sessionStartTime: NOW + 3e10, endedAt: NOW + 3e10 + 1 },
    ];
    expect(screen({ session, events })).toEqual({
      ok: true,
      batch: { session, events: [{ kind: 'feature', name: 'search' }] },
      refused: [
        {
          index: 1,
          kind: 'feature',
          reason: 'not_allowed',
          error: '"events[1].name": feature "wishlist" is not an accepted feature name',
        },
        {
          index: 2,
          kind: 'milestone',
          reason: 'not_allowed',
          error: '"events[2].name": milestone "beta" is not an accepted milestone name',
        },
        {
          index: 3,
          kind: 'session_end',
          reason: 'invalid_time',
          error: '"events[3].endedAt" is too far from the server\'s clock',
        },
      ],
    });
  });

  it('keeps a well-formed batch of refused events well-formed, with no event accepted', () => {
    expect(screen({ session, events: [{ kind: 'feature', name: 'wishlist' }] })).toMatchObject({
      ok: true,
      batch: { session, events: [] },
      refused: [{ index: 0, reason: 'not_allowed' }],
    });
  });

  it('refuses a batch whole for a break of the wire format, wherever it is, and for two session ends', () => {
    expect(
      screen({
        session,
        events: [
          { kind: 'feature', name: 'wishlist' },
          { kind: 'feature', name: '<b>' },
        ],
      }),
    ).toEqual({ ok: false, error: expect.stringMatching(/"events\[1\]\.name" may only contain/) });
    const end = { kind: 'session_end', sessionStartTime: NOW - 1, endedAt: NOW };
    const refusedEnd = { kind: 'session_end', sessionStartTime: NOW, endedAt: NOW - 1 };
    expect(screen({ session, events: [end, refusedEnd] })).toEqual({
      ok: false,
      error: 'a batch may contain at most one "session_end" event',
    });
  });
});
