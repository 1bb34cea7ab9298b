/** @jest-environment jsdom */
// jsdom has neither navigator.sendBeacon nor fetch: the transports are replaced with recorders here, and every
// recorded body is checked against the server's real validator. Real delivery (Chromium's sendBeacon to the real
// router) is covered by tests/shop/e2e.test.ts.
import { createEngagementClient, type EngagementClient } from '../../src/browser';
import { ENGAGEMENT_LIMITS, type EngagementBatch } from '../../src/browser';
import { TokenBucketLimiter } from '../../src/integrations/http/rate-limit';
import { validateEngagementBatch } from '../../src/integrations/http/validate';

interface Sent {
  readonly via: 'beacon' | 'fetch';
  readonly url: string;
  readonly contentType: string;
  readonly batch: EngagementBatch;
}

async function blobText(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

function validBatch(json: string): EngagementBatch {
  const result = validateEngagementBatch(JSON.parse(json));
  if (!result.ok) throw new Error(`client sent an invalid batch: ${result.error}`);
  return result.batch;
}

describe('createEngagementClient', () => {
  let sent: Promise<Sent>[];
  let beaconAccepts: boolean;
  // What the fetch fallback's endpoint answers.
  let answer: () => Promise<unknown>;
  let clients: EngagementClient[];
  const make = (options: Partial<Parameters<typeof createEngagementClient>[0]> = {}) => {
    const client = createEngagementClient({
      endpoint: '/api/engagement',
      userTier: 'pro',
      entryPage: '/dashboard',
      isNewUser: true,
      flushIntervalMs: 0,
      ...options,
    });
    clients.push(client);
    return client;
  };
  const received = async () => Promise.all(sent);

  beforeEach(() => {
    sent = [];
    beaconAccepts = true;
    answer = async () => ({ ok: true, status: 202 });
    clients = [];
    Object.defineProperty(window.navigator, 'sendBeacon', {
      configurable: true,
      value: (url: string, data: Blob) => {
        if (!beaconAccepts) return false;
        sent.push(
          blobText(data).then((json) => ({
            via: 'beacon',
            url,
            contentType: data.type,
            batch: validBatch(json),
          })),
        );
        return true;
      },
    });
    Object.defineProperty(globalThis, 'fetch', {
      configurable: true,
      value: (url: string, init: RequestInit) => {
        expect(init.keepalive).toBe(true);
        const headers = init.headers as Record<string, string>;
        sent.push(
          Promise.resolve({
            via: 'fetch',
            url,
            contentType: headers['content-type'] ?? '',
            batch: validBatch(String(init.body)),
          }),
        );
        return answer();
      },
    });
  });

  afterEach(() => {
    for (const client of clients) client.dispose();
    Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'visible' });
  });

  it('batches events and sends a JSON blob by beacon when the batch is full', async () => {
    const client = make({ maxBatch: 3 });
    client.trackFeature('search');
    client.trackMilestone('first_search');
    expect(sent).toHaveLength(0);
    expect(client.pending).toBe(2);
    client.trackFeature('filter');
    // Sent once the code tracking them is done (a microtask later), so a loop's events share a request.
    await Promise.resolve();
    const [delivery] = await received();
    expect(delivery).toEqual({
      via: 'beacon',
      url: '/api/engagement',
      contentType: 'application/json',
      batch: {
        session: { userTier: 'pro', entryPage: '/dashboard', isNewUser: true },
        events: [
          { kind: 'feature', name: 'search' },
          { kind: 'milestone', name: 'first_search' },
          { kind: 'feature', name: 'filter' },
        ],
      },
    });
    expect(client.pending).toBe(0);
  });

  it('falls back to fetch with keepalive when the beacon is refused', async () => {
    beaconAccepts = false;
    const client = make();
    client.trackFeature('export');
    expect(client.flush()).toBe(true);
    const [delivery] = await received();
    expect(delivery?.via).toBe('fetch');
    expect(delivery?.contentType).toBe('application/json');
    expect(delivery?.batch.events).toEqual([{ kind: 'feature', name: 'export' }]);
  });

  it('flushes when the page becomes hidden, and on the interval', async () => {
    jest.useFakeTimers();
    try {
      const client = make({ flushIntervalMs: 1000 });
      client.trackFeature('a');
      Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
      expect(sent).toHaveLength(1);
      client.trackFeature('b');
      jest.advanceTimersByTime(999);
      expect(sent).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(sent).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
    const batches = await received();
    expect(batches.map((d) => d.batch.events)).toEqual([
      [{ kind: 'feature', name: 'a' }],
      [{ kind: 'feature', name: 'b' }],
    ]);
  });

  it('ends the session on pagehide exactly once, with its start time', async () => {
    const start = Date.now() - 90_000;
    make({ sessionStartTime: start });
    window.dispatchEvent(new Event('pagehide'));
    window.dispatchEvent(new Event('pagehide'));
    const deliveries = await received();
    expect(deliveries).toHaveLength(1);
    const [event] = deliveries[0]?.batch.events ?? [];
    expect(event).toMatchObject({ kind: 'session_end', sessionStartTime: start });
    expect(event?.kind === 'session_end' && event.endedAt - start).toBeGreaterThanOrEqual(90_000);
  });

  it('only flushes on pagehide in manual session mode', async () => {
    const client = make({ sessionEnd: 'manual' });
    client.trackFeature('compare');
    window.dispatchEvent(new Event('pagehide'));
    expect((await received()).map((d) => d.batch.events)).toEqual([[{ kind: 'feature', name: 'compare' }]]);
  });

  it("sends a burst in one tick as few requests as the router's rate limit lets through", async () => {
    // The router's per-client token bucket with its defaults (a burst of 20 requests, then 2 per second).
    const limiter = new TokenBucketLimiter();
    let refused = 0;
    const beacon = window.navigator.sendBeacon.bind(window.navigator);
    Object.defineProperty(window.navigator, 'sendBeacon', {
      configurable: true,
      value: (url: string, data: Blob) => {
        if (!limiter.take('203.0.113.7').allowed) refused++;
        return beacon(url, data);
      },
    });
    // A product grid reporting one impression per tile, 600 tiles, in one task.
    const client = make({ maxQueue: 1000 });
    for (let i = 0; i < 600; i++) client.trackFeature('product_impression');
    await Promise.resolve();
    const batches = await received();
    expect(refused).toBe(0);
    expect(batches.map((d) => d.batch.events.length)).toEqual(Array(12).fill(50));
    expect(client.dropped).toBe(0);
  });

  it('sends each session end in a batch of its own when a retried one is still waiting', async () => {
    beaconAccepts = false;
    answer = async () => ({ ok: false, status: 503, headers: new Headers() });
    const client = make();
    window.dispatchEvent(new Event('pagehide'));
    await received(); // the failed answer's callback runs a task later
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(client.pending).toBe(1);
    // Back from the back/forward cache: a new session, which ends on the next pagehide.
    answer = async () => ({ ok: true, status: 202 });
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    client.trackFeature('search');
    window.dispatchEvent(new Event('pagehide'));
    const kinds = (await received()).map((d) => d.batch.events.map((e) => e.kind));
    expect(kinds).toEqual([['session_end'], ['session_end', 'feature'], ['session_end']]);
  });

  it('keeps at most maxQueue events while delivery fails, dropping the oldest', () => {
    beaconAccepts = false;
    Object.defineProperty(globalThis, 'fetch', { configurable: true, value: undefined });
    const client = make({ maxBatch: 50, maxQueue: 60 });
    for (let i = 0; i < 200; i++) client.trackFeature(`f${i}`);
    expect(client.pending).toBe(60);
    expect(client.dropped).toBe(140);
    expect(client.flush()).toBe(false);
  });

  it.each([
    [NaN, 20],
    [Infinity, 20],
    [-1, 20],
    ['50', 20],
    [5000, 1000],
  ])('holds maxQueue %p to %p while delivery fails', (maxQueue, kept) => {
    beaconAccepts = false;
    Object.defineProperty(globalThis, 'fetch', { configurable: true, value: undefined });
    const client = make({ maxQueue: maxQueue as number });
    for (let i = 0; i < 3000; i++) client.trackFeature('search');
    expect(client.pending).toBe(kept);
    expect(client.dropped).toBe(3000 - kept);
  });

  describe('when the fetch fallback fails', () => {
    const names = (deliveries: Sent[]) =>
      deliveries.map((d) => d.batch.events.map((e) => (e.kind === 'session_end' ? e.kind : e.name)));
    let warn: jest.SpyInstance;
    beforeEach(() => {
      beaconAccepts = false;
      warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
      warn.mockRestore();
    });

    it.each([
      [
        '503 with Retry-After: 2',
        async () => ({ ok: false, status: 503, headers: new Headers({ 'retry-after': '2' }) }),
        2000,
      ],
      ['429 without Retry-After', async () => ({ ok: false, status: 429, headers: new Headers() }), 5000],
      ['a network error', async () => Promise.reject(new TypeError('Failed to fetch')), 5000],
    ])(
      'puts the events back in front after %s and sends them again, not before, %d ms later',
      async (_, failure, wait) => {
        answer = failure;
        const client = make();
        client.trackFeature('a');
        client.trackFeature('b');
        expect(client.flush()).toBe(true);
        await jest.advanceTimersByTimeAsync(0);
        expect(client.pending).toBe(2);
        answer = async () => ({ ok: true, status: 202 });
        client.trackFeature('c');
        expect(client.flush()).toBe(false);
        await jest.advanceTimersByTimeAsync(wait - 1);
        expect(sent).toHaveLength(1);
        await jest.advanceTimersByTimeAsync(1);
        expect(client.pending).toBe(0);
        expect(names(await received())).toEqual([
          ['a', 'b'],
          ['a', 'b', 'c'],
        ]);
        expect(client.dropped).toBe(0);
      },
    );

    it('keeps at most maxQueue with the events put back, counting the oldest it drops', async () => {
      answer = async () => ({ ok: false, status: 503, headers: new Headers() });
      const client = make({ maxBatch: 20, maxQueue: 25 });
      for (let i = 0; i < 20; i++) client.trackFeature(`old${i}`);
      await Promise.resolve();
      expect(sent).toHaveLength(1);
      for (let i = 0; i < 10; i++) client.trackFeature(`new${i}`);
      await jest.advanceTimersByTimeAsync(0);
      expect(client.pending).toBe(25);
      expect(client.dropped).toBe(5);
      answer = async () => ({ ok: true, status: 202 });
      await jest.advanceTimersByTimeAsync(5000);
      const retried = (await received()).slice(1).flatMap((d) => d.batch.events);
      expect(retried.map((e) => (e.kind === 'session_end' ? e.kind : e.name))).toEqual([
        ...Array.from({ length: 15 }, (_, i) => `old${i + 5}`),
        ...Array.from({ length: 10 }, (_, i) => `new${i}`),
      ]);
    });

    it('counts events the endpoint refused for good (400) as dropped, without sending them again', async () => {
      answer = async () => ({ ok: false, status: 400, headers: new Headers() });
      const client = make();
      client.trackFeature('a');
      client.flush();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(sent).toHaveLength(1);
      expect(client.pending).toBe(0);
      expect(client.dropped).toBe(1);
    });

    it('counts the events of an accepted batch the endpoint refused (202 with refused), never sending them again', async () => {
      // What the endpoint answers when its allow-list lacks one of the names (a deploy renamed it).
      answer = async () => ({
        ok: true,
        status: 202,
        headers: new Headers({ 'content-type': 'application/json' }),
        json: async () => ({
          accepted: 2,
          refused: 1,
          refusals: [
            {
              index: 1,
              reason: 'not_allowed',
              error: '"events[1].name": feature "wishlist" is not an accepted feature name',
            },
          ],
        }),
      });
      const client = make();
      client.trackFeature('search');
      client.trackFeature('wishlist');
      client.trackMilestone('first_purchase');
      client.flush();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(sent).toHaveLength(1);
      expect([client.pending, client.dropped]).toEqual([0, 1]);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/dropped events .*refused by the endpoint/));
      // An answer without counts (an older endpoint) or that is not JSON changes nothing, and throws nothing.
      answer = async () => ({
        ok: true,
        status: 202,
        headers: new Headers(),
        json: async () => ({ accepted: 1 }),
      });
      client.trackFeature('search');
      client.flush();
      answer = async () => ({
        ok: true,
        status: 202,
        headers: new Headers(),
        json: () => Promise.reject(new SyntaxError('x')),
      });
      client.trackFeature('search');
      client.flush();
      await jest.advanceTimersByTimeAsync(10_000);
      expect([sent.length, client.pending, client.dropped]).toEqual([3, 0, 1]);
    });

    it.each([
      ['on pagehide', () => window.dispatchEvent(new Event('pagehide')), ['a', 'session_end']],
      [
        'when the page becomes hidden',
        () => {
          Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
          document.dispatchEvent(new Event('visibilitychange'));
        },
        ['a'],
      ],
    ])('sends %s even while paused: it may be the last chance', async (_, leave, last) => {
      answer = async () => ({ ok: false, status: 503, headers: new Headers() });
      const client = make();
      client.trackFeature('a');
      client.flush();
      await jest.advanceTimersByTimeAsync(0);
      answer = async () => ({ ok: true, status: 202 });
      leave();
      expect(client.pending).toBe(0);
      expect(names(await received())).toEqual([['a'], last]);
    });
  });

  describe("the reviewer's bad inputs still give batches the router accepts", () => {
    let warn: jest.SpyInstance;
    beforeEach(() => {
      warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockRestore());

    it('drops each event whose name the router would refuse, alone, counts it and warns once', async () => {
      const client = make();
      client.trackFeature('Export Data');
      client.trackFeature('dashboard_export');
      client.trackFeature('');
      client.trackMilestone('first_purchase');
      client.trackFeature('n'.repeat(65));
      client.trackMilestone('café');
      client.trackFeature('_private');
      client.endSession();
      const [delivery, ...more] = await received();
      expect(more).toEqual([]);
      expect(delivery?.batch.events.map((e) => (e.kind === 'session_end' ? e.kind : e.name))).toEqual([
        'dashboard_export',
        'first_purchase',
        'session_end',
      ]);
      expect(client.dropped).toBe(5);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('"Export Data"');
    });

    it.each([
      [
        'a tier with a space',
        { userTier: 'Pro plan', entryPage: '/x' },
        { userTier: 'Pro_plan', entryPage: '/x' },
      ],
      ['an empty entry page', { userTier: 'pro', entryPage: '' }, { userTier: 'pro', entryPage: 'unknown' }],
      [
        'a non-ASCII entry page',
        { userTier: 'pro', entryPage: '/café' },
        { userTier: 'pro', entryPage: '/caf_' },
      ],
      ['a newline', { userTier: 'pro', entryPage: '/a\n<b>' }, { userTier: 'pro', entryPage: '/a_<b>' }],
      [
        'a 200-character tier',
        { userTier: 't'.repeat(200), entryPage: '/x' },
        { userTier: 't'.repeat(128), entryPage: '/x' },
      ],
    ])('sends a context with %s as the router accepts it, warning once', async (_, given, sentAs) => {
      const client = make({ ...given, isNewUser: false });
      expect(warn).toHaveBeenCalledTimes(1);
      client.trackFeature('search');
      client.trackFeature('filter');
      client.endSession();
      const [delivery] = await received();
      expect(delivery?.batch.session).toEqual({ ...sentAs, isNewUser: false });
      expect(delivery?.batch.events).toHaveLength(3);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(client.dropped).toBe(0);
    });

    // `max` is the duration were the session ended the moment its start was taken; the time the test itself takes
    // between the two (a loaded machine: several ms) is added where the duration follows the clock.
    it.each([
      ['fractional (performance.timeOrigin)', () => Date.now() - 1000.5, 1000, 1001, true],
      [
        '25 hours ago (a dashboard tab left open)',
        () => Date.now() - 25 * 3600e3,
        ENGAGEMENT_LIMITS.maxSessionDurationMs,
        ENGAGEMENT_LIMITS.maxSessionDurationMs,
        false,
      ],
      ["ahead of this clock (the server's)", () => Date.now() + 2000, 0, 0, false],
      ['NaN (means now)', () => NaN, 0, 0, true],
    ])(
      'ends a session whose start is %s with whole milliseconds within 0 to 24 h (the protocol limit)',
      async (_, start, min, max, followsClock) => {
        expect(ENGAGEMENT_LIMITS.maxSessionDurationMs).toBe(24 * 3600e3);
        const taken = Date.now();
        make({ sessionStartTime: start() }).endSession();
        const elapsed = Date.now() - taken;
        const [delivery] = await received();
        const [event] = delivery?.batch.events ?? [];
        if (event?.kind !== 'session_end') throw new Error('expected a session end');
        expect(Number.isInteger(event.sessionStartTime)).toBe(true);
        expect(event.endedAt - event.sessionStartTime).toBeGreaterThanOrEqual(min);
        expect(event.endedAt - event.sessionStartTime).toBeLessThanOrEqual(
          max + (followsClock ? elapsed : 0),
        );
        expect(warn).not.toHaveBeenCalled();
      },
    );
  });

  it('stops listening after dispose', () => {
    const client = make();
    client.trackFeature('x');
    client.dispose();
    window.dispatchEvent(new Event('pagehide'));
    expect(sent).toHaveLength(0);
  });
});
