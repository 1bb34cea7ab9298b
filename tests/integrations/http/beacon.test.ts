/**
 * src/integrations/http/beacon.ts directly: the engagement endpoint as a function from a plain request to
 * `{ status, headers, body }`, the answer every adapter writes back as it is. Refusals come in the order that
 * costs a hostile client most and the server least (method, then the client's rate limit, then the content type,
 * all before the body is read), each as JSON with a message a client developer can act on; the body is read with
 * the 16 kB limit at most; an accepted batch is recorded with the seed's engagement semantics, with the names a
 * browser reports bounded and the session the server resolves trusted over the one the browser claims; the app's
 * own failing callback costs a 500 without its text. Configuration mistakes are said when the endpoint is built.
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
    expect(answer).toEqual({ status: 202, headers: { 'content-type': JSON_TYPE }, json: { accepted: 3 } });
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
