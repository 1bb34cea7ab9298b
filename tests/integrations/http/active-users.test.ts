/**
 * src/integrations/http/active-users.ts directly, with plain requests and a recorder of our own (the option every
 * adapter passes on): `userFromSession` reads `session.userId` and `session.userTier` (no user without a non-empty
 * string id, `unknown` for a missing or empty tier, nothing from a request without a session), and
 * `activeUserCounter` hands the adapter's arguments to the resolver, records each user it resolves, records
 * nothing for anonymous requests, and turns a throwing resolver into one warning naming the adapter's option and
 * the error's type, never its text, while the recorder's own error (strict mode) still reaches the developer.
 */
import { activeUserCounter, userFromSession } from '../../../src/integrations/http/active-users';
import { captureDiag, type DiagMessages } from '../../support/diag-messages';

function recorder() {
  const calls: Array<[string, string]> = [];
  return {
    calls,
    trackActiveUser(userId: string, metadata: { userTier: string }) {
      calls.push([userId, metadata.userTier]);
    },
  };
}

let diag: DiagMessages;
beforeEach(() => (diag = captureDiag()));
afterEach(() => diag.stop());

describe('userFromSession', () => {
  it.each([
    ['a user with a tier', { session: { userId: 'u1', userTier: 'pro' } }, { userId: 'u1', userTier: 'pro' }],
    ['a missing tier', { session: { userId: 'u1' } }, { userId: 'u1', userTier: 'unknown' }],
    ['an empty tier', { session: { userId: 'u1', userTier: '' } }, { userId: 'u1', userTier: 'unknown' }],
    [
      'a tier that is not a string',
      { session: { userId: 'u1', userTier: 3 } },
      { userId: 'u1', userTier: 'unknown' },
    ],
    ['an empty id', { session: { userId: '', userTier: 'pro' } }, undefined],
    ['an id that is not a string', { session: { userId: 42, userTier: 'pro' } }, undefined],
    ['a session that is not an object', { session: 'u1' }, undefined],
    ['a null session', { session: null }, undefined],
    ['no session', {}, undefined],
    ['no request', null, undefined],
  ])('reads %s', (_what, request, user) => {
    expect(userFromSession(request)).toEqual(user);
  });
});

describe('activeUserCounter', () => {
  it("records each resolved user with its tier, nothing for anonymous requests, from the adapter's arguments", () => {
    const metrics = recorder();
    const seen: unknown[][] = [];
    const count = activeUserCounter(
      (req: { user?: string }, res: string) => {
        seen.push([req, res]);
        return req.user ? { userId: req.user, userTier: 'team' } : undefined;
      },
      metrics,
      'testAdapter activeUsers',
    );
    count({ user: 'u1' }, 'res-1');
    count({}, 'res-2');
    count({ user: 'u2' }, 'res-3');
    expect(metrics.calls).toEqual([
      ['u1', 'team'],
      ['u2', 'team'],
    ]);
    expect(seen).toEqual([
      [{ user: 'u1' }, 'res-1'],
      [{}, 'res-2'],
      [{ user: 'u2' }, 'res-3'],
    ]);
    expect(diag.warnings).toEqual([]);
  });

  it("warns once about a throwing resolver, naming the option and the error's type but not its text", () => {
    const metrics = recorder();
    let calls = 0;
    const count = activeUserCounter(
      (id: string) => {
        calls++;
        if (id === 'bad') throw new RangeError('session secret s3cr3t');
        if (id === 'odd') throw 'a thrown string with s3cr3t';
        return { userId: id, userTier: 'pro' };
      },
      metrics,
      'businessMetricsPlugin activeUsers',
    );
    expect(() => count('bad')).not.toThrow();
    expect(() => count('odd')).not.toThrow();
    count('u1');
    expect(calls).toBe(3);
    expect(metrics.calls).toEqual([['u1', 'pro']]);
    expect(diag.warnings).toEqual([
      "otel-business-metrics: businessMetricsPlugin activeUsers's resolveUser threw (RangeError); " +
        'those requests are not counted as active users',
    ]);
    expect([...diag.warnings, ...diag.errors].join('\n')).not.toContain('s3cr3t');
  });

  it("lets the recorder's own error through (strict mode: the developer should see it)", () => {
    const strict = {
      trackActiveUser() {
        throw new TypeError('strict: userTier "x" is not allowed');
      },
    };
    const count = activeUserCounter(() => ({ userId: 'u1', userTier: 'x' }), strict, 'activeUsersMiddleware');
    expect(() => count()).toThrow('strict: userTier "x" is not allowed');
    expect(diag.warnings).toEqual([]);
  });
});
