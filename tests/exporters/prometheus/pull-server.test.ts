/**
 * src/exporters/prometheus/pull-server.ts: the pull endpoint over a plain collection function, without the SDK (what a
 * pull-only app serves through): it serves what `collect` returns in either format on its own server and through
 * the mounted handler, answers 404 elsewhere, logs a collection's errors and still serves, rejects `ready` with a
 * clear message when the port is taken, and stops listening at shutdown. Built inside listeningAfter (as init builds
 * its endpoints), a server listens only once the whole build has returned, and never if it threw.
 * A collection that never finishes: the scrape is answered 503 at its deadline (the configured one, or the
 * scraper's `X-Prometheus-Scrape-Timeout-Seconds` when shorter, never below 100 ms), on the standalone server and the mounted handler,
 * said once through diag; at most two collections run, and scrapes that come meanwhile share the next one, given
 * the time of the caller with the most left. A collection hung past twice its deadline (doubled per abandoned one
 * still pending) gives its slot back so a scrape recovers once the hang clears; at most eight are abandoned.
 */
import { createServer } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import { listeningAfter, PrometheusPullServer } from '../../../src/exporters/prometheus/pull-server';
import { freePort } from '../../support/ports';
import { httpRequest } from '../../support/http';
import { captureDiag } from '../../support/diag-messages';
import { AttributesResource } from '../../../src/config/resource';
import { AggregationTemporality, DataPointType } from '../../../src/series/otel-enums';

function collection(value: number, errors: unknown[] = []): CollectionResult {
  return {
    resourceMetrics: {
      resource: new AttributesResource({ 'service.name': 'pull-server' }),
      scopeMetrics: [
        {
          scope: { name: 'test' },
          metrics: [
            {
              descriptor: { name: 'jobs', description: 'Jobs done', unit: '', valueType: 1 } as never,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: { kind: 'a' }, value }],
            },
          ],
        },
      ],
    },
    errors,
  };
}

describe('PrometheusPullServer', () => {
  it('serves the collection on its own server and through the mounted handler, 404 elsewhere', async () => {
    let calls = 0;
    const server = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(++calls));
    try {
      await server.ready;
      expect(server.listening).toBe(true);
      const text = await (await fetch(server.url)).text();
      expect(text).toMatch(/^target_info\{service_name="pull-server"\} 1$/m);
      expect(text).toMatch(/^jobs_total\{kind="a",otel_scope_name="test"\} 1$/m);
      const open = await fetch(server.url, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      expect(await open.text()).toMatch(/^jobs_total\{kind="a",otel_scope_name="test"\} 2\n[^]*# EOF\n$/m);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
      const mounted = createServer(server.metricsHandler);
      await new Promise<void>((resolve) => mounted.listen(0, '127.0.0.1', resolve));
      const { port } = mounted.address() as { port: number };
      expect(await (await fetch(`http://127.0.0.1:${port}/anything`)).text()).toMatch(
        /^jobs_total\{.*\} 3$/m,
      );
      await new Promise<void>((resolve) => {
        mounted.close(() => resolve());
        mounted.closeAllConnections();
      });
    } finally {
      await server.shutdown();
    }
    expect(server.listening).toBe(false);
  });

  it("logs a collection's errors through diag and still serves what was collected", async () => {
    const error = jest.fn();
    const ignore = () => undefined;
    diag.setLogger({ error, warn: ignore, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.ERROR);
    const server = new PrometheusPullServer({ preventServerStart: true }, async () =>
      collection(5, [new Error('a callback failed')]),
    );
    try {
      expect(await server.getMetrics()).toMatch(/^jobs_total\{.*\} 5$/m);
      expect(error).toHaveBeenCalledWith(
        'Prometheus exporter: errors while collecting metrics',
        expect.any(Error),
      );
    } finally {
      diag.disable();
      await server.shutdown();
    }
  });

  it('rejects ready naming the address when the port is taken', async () => {
    const messages = captureDiag();
    const first = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(1));
    await first.ready;
    const second = new PrometheusPullServer({ host: '127.0.0.1', port: first.port }, async () =>
      collection(1),
    );
    try {
      await expect(second.ready).rejects.toThrow(
        `could not listen on 127.0.0.1:${first.port}: address already in use`,
      );
      expect(second.listening).toBe(false);
      // Said once, through diag, naming the address.
      expect(messages.errors).toEqual([
        expect.stringContaining(`could not listen on 127.0.0.1:${first.port}`),
      ]);
    } finally {
      messages.stop();
      await Promise.all([first.shutdown(), second.shutdown()]);
    }
  });

  it('a new endpoint on the port of one handing over listens once it has closed, the final scrape served first', async () => {
    const port = await freePort();
    const old = new PrometheusPullServer(
      { host: '127.0.0.1', port, finalScrapeTimeoutMillis: 20_000 },
      async () => collection(7),
    );
    await old.ready;
    expect(await (await fetch(old.url)).text()).toMatch(/^jobs_total\{kind="a",otel_scope_name="test"\} 7$/m);
    // shutdown() waits for one more scrape; meanwhile the app initialises again on the same port.
    const oldClosed = old.shutdown();
    const next = new PrometheusPullServer({ host: '127.0.0.1', port }, async () => collection(1));
    let nextListening = false;
    const nextReady = next.ready.then(() => (nextListening = true));
    try {
      // The scrape during the hand-over reads the old endpoint's final values...
      expect(await (await fetch(old.url)).text()).toMatch(/^jobs_total\{[^}]*\} 7$/m);
      await oldClosed;
      // ...then the new one listens there (without the wait its ready rejected with EADDRINUSE).
      await nextReady;
      expect(nextListening).toBe(true);
      expect(next.port).toBe(port);
      expect(await (await fetch(next.url)).text()).toMatch(/^jobs_total\{[^}]*\} 1$/m);
    } finally {
      await Promise.all([oldClosed, next.shutdown()]);
    }
  });

  it('an endpoint shut down while waiting for the port ends its wait at once and never listens', async () => {
    const port = await freePort();
    const old = new PrometheusPullServer(
      { host: '127.0.0.1', port, finalScrapeTimeoutMillis: 20_000 },
      async () => collection(7),
    );
    await old.ready;
    await fetch(old.url);
    const oldClosed = old.shutdown();
    // Another spelling of the host: the port is what they share.
    const next = new PrometheusPullServer({ host: '0.0.0.0', port }, async () => collection(1));
    // Its shutdown does not wait for the old endpoint's hand-over (it has nothing to hand over).
    await next.shutdown();
    await expect(next.ready).rejects.toThrow(
      `Prometheus exporter never listened on 0.0.0.0:${port}: shut down while the previous endpoint there was still handing over`,
    );
    expect(next.listening).toBe(false);
    await fetch(old.url); // the final scrape: the old endpoint closes
    await oldClosed;
    // The port is free again: nobody holds it.
    const again = new PrometheusPullServer({ host: '127.0.0.1', port }, async () => collection(2));
    try {
      await again.ready;
      expect(again.listening).toBe(true);
    } finally {
      await again.shutdown();
    }
  });

  it("counts a framework adapter's scrape for the final-scrape hand-over, and not a getMetrics() call", async () => {
    const server = new PrometheusPullServer(
      { preventServerStart: true, finalScrapeTimeoutMillis: 5000 },
      async () => collection(1),
    );
    expect(await server.getMetrics()).toMatch(/^jobs_total\{[^}]*\} 1$/m);
    expect(server.finalScrapeBudgetMillis()).toBe(0); // nobody is known to scrape it: no wait
    expect(await server.scrape('openmetrics', { timeoutMillis: 1000 })).toMatch(/# EOF\n$/);
    expect(server.finalScrapeBudgetMillis()).toBe(5000);
    // ...and the next one ends the hand-over.
    const closing = server.shutdown();
    await server.scrape('prometheus');
    await closing;
    expect(server.finalScrapeBudgetMillis()).toBe(0);
  });

  it('inside listeningAfter: listens only once the build has returned, and never if the build throws', async () => {
    const port = await freePort();
    const build = (fail: boolean) =>
      listeningAfter(() => {
        const server = new PrometheusPullServer({ host: '127.0.0.1', port }, async () => collection(1));
        if (fail) throw new Error('a later part of init failed');
        return server;
      });
    expect(() => build(true)).toThrow('a later part of init failed');
    // Had the failed build's server bound the port, this one's ready would reject with EADDRINUSE.
    const server = build(false);
    try {
      await server.ready;
      expect(server.listening).toBe(true);
      expect(server.port).toBe(port);
    } finally {
      await server.shutdown();
    }
  });

  it('inside listeningAfter: an abandoned server rejects ready, and its shutdown resolves', async () => {
    let held: PrometheusPullServer | undefined;
    expect(() =>
      listeningAfter(() => {
        held = new PrometheusPullServer({ host: '127.0.0.1', port: 0 }, async () => collection(1));
        throw new Error('failed');
      }),
    ).toThrow('failed');
    await expect(held!.ready).rejects.toThrow('never listened');
    expect(held!.listening).toBe(false);
    await held!.shutdown();
  });

  describe('a collection that never finishes', () => {
    it('answers 503 at the configured deadline with a one-line reason, warns once, and never runs more than two collections', async () => {
      const messages = captureDiag();
      let calls = 0;
      const server = new PrometheusPullServer(
        { host: '127.0.0.1', port: 0, scrapeTimeoutMillis: 200, finalScrapeTimeoutMillis: 0 },
        () => {
          calls++;
          return new Promise<CollectionResult>(() => undefined); // a producer that ignores every deadline
        },
      );
      const mounted = createServer(server.metricsHandler);
      try {
        await server.ready;
        await new Promise<void>((resolve) => mounted.listen(0, '127.0.0.1', resolve));
        const { port } = mounted.address() as { port: number };
        const started = Date.now();
        const [standalone, second, viaHandler] = await Promise.all([
          httpRequest(server.url),
          httpRequest(server.url),
          httpRequest(`http://127.0.0.1:${port}/metrics`),
        ]);
        // Answered, not hung (generous: the deadline is 200 ms).
        expect(Date.now() - started).toBeLessThan(4000);
        for (const answer of [standalone, second, viaHandler]) {
          expect(answer.status).toBe(503);
          expect(answer.body).toMatch(/^# the metrics collection .* did not finish within 200 ms\n$/);
        }
        // Two collections run (and hang); the third scrape waited for a slot that never freed.
        expect(calls).toBe(2);
        expect((await httpRequest(server.url)).status).toBe(503);
        // A third only if this scrape came after the first had run twice its deadline (a slow machine): its slot is
        // then given back, and the new collection hangs too.
        expect(calls).toBeLessThanOrEqual(3);
        expect(messages.warnings.filter((w) => w.includes('did not finish within'))).toHaveLength(2); // one per endpoint
        expect(messages.errors).toEqual([]);
      } finally {
        messages.stop();
        await new Promise<void>((resolve) => {
          mounted.close(() => resolve());
          mounted.closeAllConnections();
        });
        await server.shutdown();
      }
    });

    it("follows the scraper's X-Prometheus-Scrape-Timeout-Seconds when shorter, and never runs more than two collections", async () => {
      const asked: (number | undefined)[] = [];
      let third: ReturnType<typeof httpRequest> | undefined;
      const server = new PrometheusPullServer(
        { host: '127.0.0.1', port: 0, scrapeTimeoutMillis: 2000, finalScrapeTimeoutMillis: 0 },
        ({ timeoutMillis }) => {
          asked.push(timeoutMillis);
          // Two hang: a third scrape, sent as soon as the second collection starts (long before either has run
          // twice its deadline, when its slot would be given back), waits for a slot up to its own deadline.
          if (asked.length === 2) {
            third = httpRequest(server.url, { headers: { 'x-prometheus-scrape-timeout-seconds': '0.2' } });
          }
          return new Promise<CollectionResult>(() => undefined);
        },
      );
      const messages = captureDiag();
      try {
        await server.ready;
        // A collection with the configured deadline runs (and hangs)...
        const unbounded = server.getMetrics();
        // ...a scrape with a shorter deadline does not wait for it: it starts its own, with 90% of the scraper's
        // 500 ms, whose callbacks get 80% of that.
        const answer = await httpRequest(server.url, {
          headers: { 'x-prometheus-scrape-timeout-seconds': '0.5' },
        });
        expect(answer.status).toBe(503);
        expect(answer.body).toMatch(/did not finish within 450 ms\n$/);
        expect((await third)?.body).toMatch(/did not finish within 180 ms\n$/);
        expect(asked).toEqual([1600, 360]);
        await expect(unbounded).rejects.toThrow('did not finish within 2000 ms');
      } finally {
        messages.stop();
        await server.shutdown();
      }
    });

    it("honours a scraper's deadline no shorter than 100 ms, however small the header", async () => {
      const asked: (number | undefined)[] = [];
      const server = new PrometheusPullServer(
        { host: '127.0.0.1', port: 0, scrapeTimeoutMillis: 2000, finalScrapeTimeoutMillis: 0 },
        ({ timeoutMillis }) => {
          asked.push(timeoutMillis);
          return new Promise<CollectionResult>(() => undefined);
        },
      );
      const messages = captureDiag();
      try {
        await server.ready;
        // Before the fix: 1 ms (90% of 2 ms), and 0.0001 s (under 1 ms) was no deadline at all (2000 ms).
        for (const seconds of ['0.002', '0.0001']) {
          const answer = await httpRequest(server.url, {
            headers: { 'x-prometheus-scrape-timeout-seconds': seconds },
          });
          expect(answer.status).toBe(503);
          expect(answer.body).toMatch(/did not finish within 100 ms\n$/);
        }
        // The SDK's share of it, as for any deadline.
        expect(asked).toEqual([80, 80]);
      } finally {
        messages.stop();
        await server.shutdown();
      }
    });

    it('runs two collections at once; who comes meanwhile shares the next, which starts after they came', async () => {
      const finishes: ((value: number) => void)[] = [];
      const asked: (number | undefined)[] = [];
      const server = new PrometheusPullServer({ preventServerStart: true }, ({ timeoutMillis }) => {
        asked.push(timeoutMillis);
        return new Promise<CollectionResult>((resolve) =>
          finishes.push((value) => resolve(collection(value))),
        );
      });
      try {
        const first = server.getMetrics();
        const second = server.getMetrics();
        const third = server.getMetrics('openmetrics');
        const fourth = server.getMetrics();
        expect(finishes).toHaveLength(2);
        finishes[0](1);
        expect(await first).toMatch(/^jobs_total\{.*\} 1$/m);
        // A slot freed: the next collection starts, for the third and fourth, with the time they have left.
        expect(finishes).toHaveLength(3);
        expect(asked[2]).toBeGreaterThan(0);
        expect(asked[2]).toBeLessThanOrEqual(4000);
        finishes[2](3);
        expect(await third).toMatch(/^jobs_total\{.*\} 3\n[^]*# EOF\n$/m);
        expect(await fourth).toMatch(/^jobs_total\{.*\} 3$/m);
        finishes[1](2);
        expect(await second).toMatch(/^jobs_total\{.*\} 2$/m);
        expect(finishes).toHaveLength(3);
      } finally {
        await server.shutdown();
      }
    });

    it('gives the shared collection the time of the caller with the most left, not of one about to give up', async () => {
      // Faked time: who waited how long is exact, and nothing really waits.
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      const finishes: ((value: number) => void)[] = [];
      const asked: (number | undefined)[] = [];
      const server = new PrometheusPullServer(
        { preventServerStart: true, scrapeTimeoutMillis: 5000 },
        ({ timeoutMillis }) => {
          asked.push(timeoutMillis);
          return new Promise<CollectionResult>((resolve) =>
            finishes.push((value) => resolve(collection(value))),
          );
        },
      );
      try {
        const first = server.getMetrics();
        const second = server.getMetrics();
        const early = server.getMetrics(); // waits from 0 ms: 1000 ms left when a slot frees at 4000
        jest.advanceTimersByTime(4000);
        const late = server.getMetrics(); // waits from 4000 ms: all of its 5000 left
        finishes[0](1);
        expect(await first).toMatch(/^jobs_total\{.*\} 1$/m);
        // 80% of the 5000 ms the late caller has left; the early one's 1000 would have given every observable
        // callback 800 ms, and a callback the late caller could have waited for would have been left out.
        expect(asked).toEqual([4000, 4000, 4000]);
        finishes[2](3);
        expect(await early).toMatch(/^jobs_total\{.*\} 3$/m);
        expect(await late).toMatch(/^jobs_total\{.*\} 3$/m);
        finishes[1](2);
        expect(await second).toMatch(/^jobs_total\{.*\} 2$/m);
      } finally {
        jest.useRealTimers();
        await server.shutdown();
      }
    });

    it('gives back the slot of a collection hung past twice its deadline, so a scrape recovers once the hang clears', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      const messages = captureDiag();
      let hung = true;
      const late: (() => void)[] = [];
      let calls = 0;
      const server = new PrometheusPullServer({ preventServerStart: true, scrapeTimeoutMillis: 100 }, () => {
        calls++;
        if (!hung) return Promise.resolve(collection(calls));
        return new Promise<CollectionResult>((resolve) => late.push(() => resolve(collection(-1))));
      });
      try {
        const first = server.getMetrics();
        const second = server.getMetrics();
        const waited = server.getMetrics(); // both slots hang: it waits for one
        await jest.advanceTimersByTimeAsync(100);
        for (const scrape of [first, second, waited]) await expect(scrape).rejects.toThrow('within 100 ms');
        expect(calls).toBe(2);
        // The hang clears, but the two collections it caught never end. Past twice its deadline the first one's
        // slot is given back (the second's only past four times: one abandoned collection is still pending).
        hung = false;
        await jest.advanceTimersByTimeAsync(100);
        const recovered = server.getMetrics();
        await jest.advanceTimersByTimeAsync(100); // its own deadline, had it waited for a slot
        expect(await recovered).toMatch(/^jobs_total\{.*\} 3$/m);
        expect(calls).toBe(3);
        expect(messages.warnings.filter((w) => w.includes('abandoned'))).toHaveLength(1);
        // Its late result goes to nobody, and it no longer counts as running.
        late[0]();
        expect(await server.getMetrics()).toMatch(/^jobs_total\{.*\} 4$/m);
        expect(messages.errors).toEqual([]);
      } finally {
        messages.stop();
        jest.useRealTimers();
        await server.shutdown();
      }
    });

    it('abandons at most eight collections that never end, at ever longer intervals; past them, 503 until one ends', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      const messages = captureDiag();
      const late: (() => void)[] = [];
      const started: number[] = [];
      const server = new PrometheusPullServer({ preventServerStart: true, scrapeTimeoutMillis: 100 }, () => {
        started.push(Date.now());
        return new Promise<CollectionResult>((resolve) => late.push(() => resolve(collection(-1))));
      });
      const scrape = () => server.getMetrics().catch((error: unknown) => error);
      try {
        // A scrape every second for ten simulated minutes: every collection hangs.
        for (let i = 0; i < 600; i++) {
          void scrape();
          await jest.advanceTimersByTimeAsync(1000);
        }
        // Two running and eight abandoned, never more, each abandoned later than the one before it.
        expect(started).toHaveLength(10);
        const gaps = started.slice(1).map((at, i) => at - started[i]);
        for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
        // The last slot came back only once the older running one had run twice the deadline, doubled seven times.
        expect(started[9] - started[7]).toBeGreaterThanOrEqual(25_600);
        expect(messages.warnings.some((w) => /8 abandoned .* restart/.test(w))).toBe(true);
        // One of them ends at last: its place among the abandoned frees, and a later scrape starts a collection.
        late[2]();
        await jest.advanceTimersByTimeAsync(0);
        const next = scrape();
        expect(started).toHaveLength(11);
        late[10]();
        expect(await next).toMatch(/^jobs_total\{.*\} -1$/m);
      } finally {
        messages.stop();
        jest.useRealTimers();
        await server.shutdown();
      }
    });

    it('refuses a scrapeTimeoutMillis that is no whole positive number of milliseconds', () => {
      for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
        expect(
          () =>
            new PrometheusPullServer({ preventServerStart: true, scrapeTimeoutMillis: bad }, async () =>
              collection(1),
            ),
        ).toThrow(/scrapeTimeoutMillis must be an integer number of milliseconds from 1/);
      }
    });
  });
});
