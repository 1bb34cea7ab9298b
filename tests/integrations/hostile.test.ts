/**
 * One hostile-traffic suite, run against every adapter on its real framework (the scenario apps of
 * tests/support/scenario-apps.ts), with the bounds the Express shop is held to in tests/shop/hostile.test.ts:
 * route-case variants and unknown paths cannot mint `http.route` values, junk beacon names from many addresses
 * never reach the feature vocabulary (alone or hidden among real events, which are recorded while each junk one is
 * counted in one bounded self-metric series), a client rotating IPv6 addresses inside one /64 shares one rate-limit
 * bucket, and oversized or malformed bodies get a JSON refusal without a stack trace.
 */
import { ADAPTERS, TOKEN, startScenarioApp, type Adapter, type ScenarioApp } from '../support/scenario-apps';
import { parseExposition, type Exposition } from '../support/exposition';
import { waitUntil } from '../support/wait';

const COUNT = 'http_server_request_duration_seconds_count';
const SESSION = { userTier: 'pro', entryPage: '/', isNewUser: false };

function caseVariant(text: string, i: number): string {
  let bit = 0;
  return [...text]
    .map((ch) => (/[a-z]/i.test(ch) ? ((i >> bit++) & 1 ? ch.toUpperCase() : ch.toLowerCase()) : ch))
    .join('');
}

describe.each(ADAPTERS)('hostile traffic on %s', (adapter: Adapter) => {
  let app: ScenarioApp;
  beforeAll(
    async () => {
      app = await startScenarioApp(adapter);
    },
    adapter === 'next' ? 20 * 60_000 : 120_000,
  );
  afterAll(async () => {
    await app?.stop();
  });

  const scrape = async (): Promise<Exposition> => {
    const answer = await fetch(`${app.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    return parseExposition(await answer.text());
  };
  const beacon = (body: unknown, from: string, init: { contentType?: string; raw?: string } = {}) =>
    fetch(`${app.base}/api/engagement`, {
      method: 'POST',
      headers: { 'content-type': init.contentType ?? 'application/json', 'x-forwarded-for': from },
      body: init.raw ?? JSON.stringify(body),
    });

  it('keeps http.route at the app patterns after 1,500 letter-case variants and unknown paths', async () => {
    const product = app.productPath('x');
    for (let i = 0; i < 1500; i += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, k) => {
          const n = i + k;
          const path =
            n % 3 === 0
              ? caseVariant(product, n).replace(/\/x$/, `/id-${n}`)
              : n % 3 === 1
                ? caseVariant('/api/engagement', n)
                : `/unknown-${n}/${'seg/'.repeat(n % 5)}`;
          return fetch(`${app.base}${path}`).then((r) => r.status);
        }),
      );
      expect(answers.every((status) => status < 500)).toBe(true);
    }
    // Recording happens when each response closes: the next scrape sees them all once a request after them is in.
    let routes = new Set<string | undefined>();
    await waitUntil(
      `${adapter}: 1500 requests recorded`,
      async () => {
        const samples = (await scrape()).find(COUNT);
        routes = new Set(samples.map((s) => s.labels.http_route));
        const total = samples.reduce((sum, s) => sum + s.value, 0);
        return total >= 1500 || adapter === 'next' || `${total} recorded`;
      },
      { timeoutMillis: 30_000, intervalMillis: 100 },
    );
    // The shop's own handful of routes, whatever the clients typed.
    expect(routes.size).toBeLessThanOrEqual(10);
    expect(routes.has(app.productRoute)).toBe(true);
    expect([...routes].filter((r) => r !== undefined && /[A-Z]|id-\d|unknown-/.test(r))).toEqual([]);
  });

  it('refuses junk beacon names from 30 addresses and keeps the real ones', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 300; i += 30) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, k) =>
          beacon(
            {
              session: { ...SESSION, entryPage: `/junk-entry-${i + k}` },
              events: [{ kind: 'feature', name: `junk_${i + k}` }],
            },
            `198.51.100.${k + 1}`,
          ),
        ),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    expect(statuses.every((status) => status === 400 || status === 429)).toBe(true);
    const real = await beacon(
      { session: SESSION, events: [{ kind: 'feature', name: 'size_guide' }] },
      '203.0.113.9',
    );
    expect(real.status).toBe(202);
    // Full batches of 49 junk names around one real event, from 10 addresses: the real ones are recorded.
    const mixed = await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        beacon(
          {
            session: SESSION,
            events: Array.from({ length: 50 }, (_, i) =>
              i === 25
                ? { kind: 'feature', name: 'size_guide' }
                : { kind: 'feature', name: `junk_m${k}_${i}` },
            ),
          },
          `198.51.100.${100 + k}`,
        ).then(async (a) => [a.status, await a.json()] as const),
      ),
    );
    expect(mixed.map(([status, json]) => [status, json.accepted, json.refused])).toEqual(
      Array.from({ length: 10 }, () => [202, 1, 49]),
    );
    const exposition = await scrape();
    const features = new Set(
      exposition.find('business_feature_usage_total').map((s) => s.labels.feature_name),
    );
    expect(features.has('size_guide')).toBe(true);
    expect([...features].filter((f) => f?.startsWith('junk_'))).toEqual([]);
    // Every refused junk name is counted, in one series whatever the names.
    const dropped = exposition.find('business_metrics_dropped_total', { reason: 'not_allowed' });
    expect(dropped.map((s) => s.labels.metric)).toEqual(['business_feature_usage_total']);
    const refusedJunk = statuses.filter((status) => status === 400).length;
    expect(dropped[0]!.value).toBe(refusedJunk + 490);
  });

  it('throttles a client rotating IPv6 addresses inside one /64 as one client', async () => {
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const from = `2001:db8:77:100:${((i * 7919) % 0x10000).toString(16)}::${(i + 1).toString(16)}`;
        return (await beacon({ session: SESSION, events: [{ kind: 'feature', name: 'search' }] }, from))
          .status;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const accepted = statuses.filter((s) => s === 202).length;
    // One /56, one bucket: the default burst of 20, plus 2 tokens per second the flood took.
    expect(accepted).toBeLessThanOrEqual(20 + Math.floor(2 * seconds));
    expect(accepted).toBeLessThan(40);
    expect(statuses.filter((s) => s === 429).length).toBe(60 - accepted);
  });

  it('answers oversized and malformed bodies with a JSON refusal, never a stack trace', async () => {
    const cases: Array<[string, string, string, number]> = [
      [
        '2 MB',
        'application/json',
        JSON.stringify({ session: SESSION, events: [{ kind: 'feature', name: 'x'.repeat(2_000_000) }] }),
        413,
      ],
      ['truncated JSON', 'application/json', '{"session": {"userTier": ', 400],
      ['not JSON at all', 'application/json', '<html><script>alert(1)</script>', 400],
      ['a JSON string', 'application/json', '"just a string"', 400],
      [
        '__proto__ pollution',
        'application/json',
        '{"__proto__": {"admin": true}, "session": {}, "events": []}',
        400,
      ],
      ['a form', 'application/x-www-form-urlencoded', 'a=1&b=2', 415],
    ];
    let n = 0;
    for (const [what, contentType, raw, status] of cases) {
      const answer = await beacon(undefined, `192.0.2.${++n}`, { contentType, raw });
      const text = await answer.text();
      expect([what, answer.status]).toEqual([what, status]);
      expect([what, answer.headers.get('content-type')]).toEqual([
        what,
        expect.stringMatching(/application\/json/),
      ]);
      expect([what, text]).toEqual([
        what,
        expect.not.stringMatching(/at |node_modules|\/work\/|SyntaxError|\.js:\d/),
      ]);
      expect(() => JSON.parse(text)).not.toThrow();
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
