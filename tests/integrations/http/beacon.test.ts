/**
 * src/integrations/http/beacon.ts directly: the engagement endpoint as a function from a plain request to
 * `{ status, headers, body }`, the answer every adapter writes back as it is. Refusals come in the order that
 * costs a hostile client most and the server least (method, then the client's rate limit, then the content type,
 * all before the body is read), each as JSON with a message a client developer can act on; the body is read with
 * the 16 kB limit at most; an accepted batch is recorded with the seed's engagement semantics, with the names a
 * browser reports bounded and the session the server resolves trusted over the one the browser claims; the app's
 * own failing `resolveSession` costs a 500 without its text, a failing `onBatch` (after recording) only an error in
 * the log. Configuration mistakes are said when the endpoint is built.
 */
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../../src';
import type { EngagementBatch } from '../../../src/browser/protocol';
import type { BodyRead } from '../../../src/integrations/http/body';
import {
  engagementEndpoint,
  recordBatch,
  type BeaconRequest,
  type EngagementEndpoint,
  type EngagementOptions,
} from '../../../src/integrations/http/beacon';
import { captureDiag, type DiagMessages } from '../../support/diag-messages';
import { parseExposition } from '../../support/exposition';

const SESSION = { userTier: 'pro', entryPage: '/pricing', isNewUser: true };
const JSON_TYPE = 'application/json; charset=utf-8';

interface Raw {
  readonly id: string;
}

/** A request as an adapter hands it over; `reads` collects the limits the body was read with. */
function request(
  body: unknown,
  init: {
    method?: string;
    client?: string;
    headers?: Record<string, string>;
    reads?: number[];
    raw?: Raw;
  } = {},
): BeaconRequest<Raw> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...init.headers,
  };
  return {
    method: init.method ?? 'POST',
    header: (name) => headers[name],
    client: init.client ?? '198.51.100.1',
    raw: init.raw ?? { id: 'req-1' },
    body: (limit): Promise<BodyRead> => {
      init.reads?.push(limit);
      const bytes = Buffer.from(text);
      return Promise.resolve(bytes.length > limit ? { kind: 'too_large' } : { kind: 'bytes', bytes });
    },
  };
}

const decoded = (answer: { status: number; headers: Readonly<Record<string, string>>; body: string }) => ({
  status: answer.status,
  headers: answer.headers,
  json: JSON.parse(answer.body) as unknown,
});

let telemetry: BusinessMetricsHandle;
let diag: DiagMessages;
beforeEach(() => {
  diag = captureDiag();
  telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
});
afterEach(async () => {
  await telemetry.shutdown({ timeoutMillis: 2000 });
  diag.stop();
});

const scrape = async () => parseExposition(await telemetry.metrics.getMetrics());
const listed = (options: EngagementOptions<Raw> = {}): EngagementEndpoint<Raw> =>
  engagementEndpoint<Raw>({ features: ['search', 'export'], milestones: ['first_purchase'], ...options });

describe('refusals, each before the body is read', () => {
  it('answers a method other than POST with 405 and Allow: POST', async () => {
    const reads: number[] = [];
    const answer = decoded(await listed()(request({}, { method: 'GET', reads })));
    expect(answer).toEqual({
      status: 405,
      headers: { 'content-type': JSON_TYPE, allow: 'POST' },
      json: { error: 'use POST to send engagement events' },
    });
    expect(reads).toEqual([]);
  });

  it('answers a client past its burst with 429 and Retry-After, other clients unaffected', async () => {
    const endpoint = listed({ rateLimit: { capacity: 2, refillPerSecond: 0.5, now: () => 1_000 } });
    const batch = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };
    const reads: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await endpoint(request(batch, { client: '203.0.113.5', reads }))).status);
    expect(statuses).toEqual([202, 202, 429]);
    expect(reads).toHaveLength(2);
    const refused = decoded(await endpoint(request(batch, { client: '203.0.113.5' })));
    expect(refused).toEqual({
      status: 429,
      headers: { 'content-type': JSON_TYPE, 'retry-after': '2' },
      json: { error: 'too many engagement requests from this client; retry later' },
    });
    expect((await endpoint(request(batch, { client: '203.0.113.6' }))).status).toBe(202);
  });

  it.each<[string, Record<string, string>]>([
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no content type', { 'content-type': '' }],
    ['JSON without a body', { 'content-length': '0' }],
  ])('answers %s with 415', async (_what, headers) => {
    const reads: number[] = [];
    const answer = decoded(await listed({ rateLimit: false })(request('{}', { headers, reads })));
    expect(answer).toEqual({
      status: 415,
      headers: { 'content-type': JSON_TYPE },
      json: { error: 'engagement events must be sent as application/json' },
    });
    expect(reads).toEqual([]);
  });
});

describe('the body', () => {
  it('is read with maxBodyBytes, never more than 16 kB, and refused with 413 past it', async () => {
    const batch = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };
    const reads: number[] = [];
    expect(
      (await listed({ rateLimit: false, maxBodyBytes: 1_000_000 })(request(batch, { reads }))).status,
    ).toBe(202);
    const small = decoded(await listed({ rateLimit: false, maxBodyBytes: 64 })(request(batch, { reads })));
    expect(small).toEqual({
      status: 413,
      headers: { 'content-type': JSON_TYPE },
      json: { error: 'request body exceeds 64 bytes' },
    });
    expect(reads).toEqual([16 * 1024, 64]);
  });

  it('accepts a JSON media type in any letter case with parameters, and answers 400 naming what is wrong', async () => {
    const endpoint = listed({ rateLimit: false });
    const batch = { session: SESSION, events: [{ kind: 'feature', name: 'search' }] };
    const typed = await endpoint(
      request(batch, { headers: { 'content-type': 'Application/JSON; charset=UTF-8' } }),
    );
    expect(typed.status).toBe(202);
    expect(decoded(await endpoint(request('{"session":')))).toMatchObject({
      status: 400,
      json: { error: 'request body is not valid JSON' },
    });
    const unlisted = { session: SESSION, events: [{ kind: 'feature', name: 'wishlist' }] };
    expect(decoded(await endpoint(request(unlisted)))).toMatchObject({
      status: 400,
      json: { error: '"events[0].name": feature "wishlist" is not an accepted feature name' },
    });
  });
});

describe('an accepted batch', () => {
  it('is recorded with the seed semantics, answered 202 with the count, and handed to onBatch', async () => {
    const batches: Array<[EngagementBatch, Raw]> = [];
    const now = Date.now();
    const answer = decoded(
      await listed({ rateLimit: false, onBatch: (batch, raw) => batches.push([batch, raw]) })(
        request(
          {
            session: SESSION,
            events: [
              { kind: 'feature', name: 'export' },
              { kind: 'milestone', name: 'first_purchase' },
              { kind: 'session_end', sessionStartTime: now - 75_000, endedAt: now },
            ],
          },
          { raw: { id: 'req-7' } },
        ),
      ),
    );
    expect(answer).toEqual({
      status: 202,
      headers: { 'content-type': JSON_TYPE },
      json: { accepted: 3 },
    });
    const exposition = await scrape();
    expect(
      exposition.value(PROMETHEUS_FAMILIES.featureUsage, {
        feature_name: 'export',
        user_tier: 'pro',
        is_new_user: 'true',
      }),
    ).toBe(1);
    expect(
      exposition.value(PROMETHEUS_FAMILIES.funnelStep, {
        step: 'milestone_first_purchase',
        source: 'in_app',
      }),
    ).toBe(1);
    const sessions = `${PROMETHEUS_FAMILIES.sessionDuration}_bucket`;
    expect(exposition.value(sessions, { entry_page: '/pricing', le: '60' })).toBe(0);
    expect(exposition.value(sessions, { entry_page: '/pricing', le: '120' })).toBe(1);
    expect(batches).toEqual([
      [
        {
          session: SESSION,
          events: [
            { kind: 'feature', name: 'export' },
            { kind: 'milestone', name: 'first_purchase' },
            { kind: 'session_end', sessionStartTime: now - 75_000, endedAt: now },
          ],
        },
        { id: 'req-7' },
      ],
    ]);
  });

  it("records the session resolveSession returns (given the request and the browser's claim), trusted as is", async () => {
    const asked: unknown[] = [];
    const endpoint = listed({
      rateLimit: false,
      entryPages: ['/'],
      resolveSession: (raw, claimed) => {
        asked.push([raw, claimed]);
        return { userTier: 'enterprise', entryPage: '/checkout', isNewUser: false };
      },
    });
    const claimed = { userTier: 'free', entryPage: '/made-up', isNewUser: true };
    await endpoint(request({ session: claimed, events: [{ kind: 'feature', name: 'search' }] }));
    expect(asked).toEqual([[{ id: 'req-1' }, claimed]]);
    const usage = (await scrape()).find(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'search' });
    expect(usage.map((s) => [s.labels.user_tier, s.labels.is_new_user, s.value])).toEqual([
      ['enterprise', 'false', 1],
    ]);
  });

  it('bounds what browsers report: entry pages outside entryPages and names past maxBrowserNames are other', async () => {
    const batches: EngagementBatch[] = [];
    const endpoint = engagementEndpoint<Raw>({
      rateLimit: false,
      maxBrowserNames: 1,
      entryPages: ['/pricing'],
      onBatch: (batch) => batches.push(batch),
    });
    const events = [
      { kind: 'feature', name: 'search' },
      { kind: 'feature', name: 'wishlist' },
      { kind: 'feature', name: 'search' },
    ];
    await endpoint(request({ session: { ...SESSION, entryPage: '/made-up' }, events }));
    expect(batches[0]!.session.entryPage).toBe('other');
    expect(batches[0]!.events.map((event) => (event.kind === 'feature' ? event.name : event.kind))).toEqual([
      'search',
      'other',
      'search',
    ]);
  });
});

describe('a batch with refused events', () => {
  const DROPPED = 'business_metrics_dropped_total';
  const now = Date.now();
  const mixed = {
    session: SESSION,
    events: [
      { kind: 'feature', name: 'search' },
      { kind: 'feature', name: 'wishlist' },
      { kind: 'milestone', name: 'first_purchase' },
      { kind: 'milestone', name: 'beta_step' },
      { kind: 'session_end', sessionStartTime: now - 3 * 86_400_000, endedAt: now },
    ],
  };

  it('records the accepted events, counts each refused one with its reason, and lists them in a 202', async () => {
    const batches: EngagementBatch[] = [];
    const endpoint = listed({ rateLimit: false, onBatch: (batch) => batches.push(batch) });
    expect(decoded(await endpoint(request(mixed)))).toEqual({
      status: 202,
      headers: { 'content-type': JSON_TYPE },
      json: {
        accepted: 2,
        refused: 3,
        refusals: [
          {
            index: 1,
            reason: 'not_allowed',
            error: '"events[1].name": feature "wishlist" is not an accepted feature name',
          },
          {
            index: 3,
            reason: 'not_allowed',
            error: '"events[3].name": milestone "beta_step" is not an accepted milestone name',
          },
          { index: 4, reason: 'invalid_time', error: '"events[4]": session lasts longer than 86400000 ms' },
        ],
      },
    });
    const exposition = await scrape();
    expect(exposition.value(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'search' })).toBe(1);
    expect(exposition.find(PROMETHEUS_FAMILIES.featureUsage, { feature_name: 'wishlist' })).toEqual([]);
    expect(
      exposition.value(PROMETHEUS_FAMILIES.funnelStep, {
        step: 'milestone_first_purchase',
        source: 'in_app',
      }),
    ).toBe(1);
    expect(exposition.find(`${PROMETHEUS_FAMILIES.sessionDuration}_count`)).toEqual([]);
    expect(exposition.find(DROPPED).map((s) => [s.labels.metric, s.labels.reason, s.value])).toEqual(
      expect.arrayContaining([
        [PROMETHEUS_FAMILIES.featureUsage, 'not_allowed', 1],
        [PROMETHEUS_FAMILIES.funnelStep, 'not_allowed', 1],
        [PROMETHEUS_FAMILIES.sessionDuration, 'invalid_time', 1],
      ]),
    );
    expect(exposition.find(DROPPED)).toHaveLength(3);
    expect(batches.map((batch) => batch.events)).toEqual([
      [
        { kind: 'feature', name: 'search' },
        { kind: 'milestone', name: 'first_purchase' },
      ],
    ]);
    expect(diag.warnings).toContainEqual(
      'engagementRouter: "events[1].name": feature "wishlist" is not an accepted feature name; event dropped ' +
        '[reason=not_allowed]',
    );
  });

  it('answers 400 with the counts when every event is refused, records nothing and counts each', async () => {
    const batches: EngagementBatch[] = [];
    const resolved: unknown[] = [];
    const endpoint = listed({
      rateLimit: false,
      onBatch: (batch) => batches.push(batch),
      resolveSession: (_raw, claimed) => (resolved.push(claimed), claimed),
    });
    const events = [
      { kind: 'feature', name: 'wishlist' },
      { kind: 'feature', name: 'wishlist' },
    ];
    expect(decoded(await endpoint(request({ session: SESSION, events })))).toEqual({
      status: 400,
      headers: { 'content-type': JSON_TYPE },
      json: {
        error: '"events[0].name": feature "wishlist" is not an accepted feature name',
        accepted: 0,
        refused: 2,
        refusals: [
          {
            index: 0,
            reason: 'not_allowed',
            error: '"events[0].name": feature "wishlist" is not an accepted feature name',
          },
          {
            index: 1,
            reason: 'not_allowed',
            error: '"events[1].name": feature "wishlist" is not an accepted feature name',
          },
        ],
      },
    });
    const exposition = await scrape();
    expect(exposition.find(PROMETHEUS_FAMILIES.featureUsage)).toEqual([]);
    expect(
      exposition.value(DROPPED, { metric: PROMETHEUS_FAMILIES.featureUsage, reason: 'not_allowed' }),
    ).toBe(2);
    expect([batches, resolved]).toEqual([[], []]);
  });

  it('still refuses a malformed batch whole, whatever else it holds', async () => {
    const endpoint = listed({ rateLimit: false });
    const answer = decoded(
      await endpoint(
        request({ session: SESSION, events: [...mixed.events, { kind: 'feature', name: '<b>' }] }),
      ),
    );
    expect(answer).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/events\[5\]\.name/) },
    });
    expect(answer.json).not.toHaveProperty('accepted');
    const exposition = await scrape();
    expect(exposition.find(PROMETHEUS_FAMILIES.featureUsage)).toEqual([]);
    expect(exposition.find(DROPPED)).toEqual([]);
  });

  it('is never a strict-mode error: a browser event refused is not the app calling the API wrong', async () => {
    await telemetry.shutdown({ timeoutMillis: 2000 });
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {}, strict: true });
    const answer = await listed({ rateLimit: false })(request(mixed));
    expect(answer.status).toBe(202);
    expect((await scrape()).find(DROPPED)).toHaveLength(3);
  });

  it('costs one token of the rate limit per request, refused events or not, and gives none back', async () => {
    const endpoint = listed({ rateLimit: { capacity: 2, refillPerSecond: 0.5, now: () => 1_000 } });
    const refusedOnly = { session: SESSION, events: [{ kind: 'feature', name: 'wishlist' }] };
    const statuses: number[] = [];
    for (const body of [refusedOnly, mixed, refusedOnly])
      statuses.push((await endpoint(request(body))).status);
    expect(statuses).toEqual([400, 202, 429]);
  });
});

describe("the app's failures and mistakes", () => {
  it('answers 500 without the text of a throwing resolveSession, and logs it with where it happened', async () => {
    const endpoint = engagementEndpoint<Raw>(
      {
        features: ['search'],
        milestones: [],
        rateLimit: false,
        resolveSession: () => {
          throw new Error('session store at /srv/secret.db is down');
        },
      },
      'businessMetricsPlugin engagement',
    );
    const answer = await endpoint(
      request({ session: SESSION, events: [{ kind: 'feature', name: 'search' }] }),
    );
    expect(decoded(answer)).toEqual({
      status: 500,
      headers: { 'content-type': JSON_TYPE },
      json: { error: 'internal error' },
    });
    expect(answer.body).not.toContain('secret');
    expect(diag.errors).toEqual([
      'businessMetricsPlugin engagement: request failed: session store at /srv/secret.db is down',
    ]);
  });

  it('answers 202 when onBatch throws after the batch was recorded, so the client does not send it again', async () => {
    const endpoint = engagementEndpoint<Raw>(
      {
        features: ['search'],
        milestones: [],
        rateLimit: false,
        onBatch: () => {
          throw new Error('audit log at /srv/secret.log is full');
        },
      },
      'engagementHandler',
    );
    const answer = await endpoint(
      request({ session: SESSION, events: [{ kind: 'feature', name: 'search' }] }),
    );
    expect(decoded(answer)).toEqual({
      status: 202,
      headers: { 'content-type': JSON_TYPE },
      json: { accepted: 1 },
    });
    expect(answer.body).not.toContain('secret');
    expect(
      (await scrape()).value(PROMETHEUS_FAMILIES.featureUsage, {
        feature_name: 'search',
        user_tier: 'pro',
        is_new_user: 'true',
      }),
    ).toBe(1);
    expect(diag.errors).toEqual([
      'engagementHandler: onBatch threw (the batch was recorded and answered 202): audit log at /srv/secret.log is full',
    ]);
  });

  it('refuses a malformed maxBrowserNames when built, naming the adapter', () => {
    expect(() => engagementEndpoint({ maxBrowserNames: -1 })).toThrow(
      new RangeError('engagementRouter: maxBrowserNames must be an integer >= 0 (got -1)'),
    );
    expect(() => engagementEndpoint({ maxBrowserNames: 2.5 }, 'engagementHandler')).toThrow(
      'engagementHandler: maxBrowserNames must be an integer >= 0 (got 2.5)',
    );
  });

  it('warns once per endpoint about each missing allow-list, naming the option to configure', () => {
    engagementEndpoint({ rateLimit: false }, 'engagementHandler');
    engagementEndpoint({ rateLimit: false, features: ['search'] }, 'engagementRouter');
    listed({ rateLimit: false });
    expect(diag.warnings).toEqual([
      'engagementHandler: no features or milestones allow-list; anonymous browsers may report any 20 names of ' +
        'each (maxBrowserNames), the rest become "other". Configure features and milestones.',
      'engagementRouter: no milestones allow-list; anonymous browsers may report any 20 names of each ' +
        '(maxBrowserNames), the rest become "other". Configure milestones.',
    ]);
  });
});

describe('recordBatch', () => {
  it("measures a session on the browser's clock, however far off that clock is", async () => {
    const hoursAgo = Date.now() - 5 * 60 * 60 * 1000;
    recordBatch({
      session: SESSION,
      events: [{ kind: 'session_end', sessionStartTime: hoursAgo - 90_000, endedAt: hoursAgo }],
    });
    const sessions = `${PROMETHEUS_FAMILIES.sessionDuration}_bucket`;
    const exposition = await scrape();
    expect(exposition.value(sessions, { entry_page: '/pricing', le: '60' })).toBe(0);
    expect(exposition.value(sessions, { entry_page: '/pricing', le: '120' })).toBe(1);
  });
});
