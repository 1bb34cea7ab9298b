/**
 * src/exporters/prometheus/final-scrape.ts and the pull reader's shutdown: a graceful stop keeps serving until one
 * scrape has read the final values (the hand-over), within a bound; never scraped, it does not wait; a scraper
 * that is gone costs the bound, with a warning that names what is lost. Real HTTP scrapes on loopback; the scraper
 * below scrapes on a fixed interval, as Prometheus does.
 */
import { EventEmitter } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../../src';
import { PrometheusPullReader } from '../../../src/exporters/prometheus';
import { FinalScrape } from '../../../src/exporters/prometheus/final-scrape';
import { PrometheusPullServer } from '../../../src/exporters/prometheus/pull-server';
import { AttributesResource } from '../../../src/config/resource';
import { listenOnLoopback } from '../../support/http';
import { waitUntil } from '../../support/wait';

interface Scrape {
  readonly startedAt: number;
  readonly body: string;
}

/** Scrapes `url` every `intervalMillis` until stopped; keeps every answer. */
function scraper(url: string, intervalMillis: number) {
  const scrapes: Scrape[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const startedAt = Date.now();
      try {
        scrapes.push({ startedAt, body: await (await fetch(url)).text() });
      } catch {
        // the endpoint closed: the loop ends when stopped
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMillis));
    }
  })();
  return {
    scrapes,
    async stop() {
      running = false;
      await loop;
    },
  };
}

function captureDiagWarnings(): { warnings: string[]; restore(): void } {
  const warnings: string[] = [];
  const ignore = () => undefined;
  diag.setLogger(
    {
      error: ignore,
      warn: (message: string) => warnings.push(message),
      info: ignore,
      debug: ignore,
      verbose: ignore,
    },
    DiagLogLevel.WARN,
  );
  return { warnings, restore: () => diag.disable() };
}

const revenueOf = (body: string, currency: string): number | undefined => {
  const match = new RegExp(
    `^business_revenue_cents_total\\{[^}]*currency="${currency}"[^}]*\\} (\\S+)`,
    'm',
  ).exec(body);
  return match ? Number(match[1]) : undefined;
};

const sale = (handle: BusinessMetricsHandle, amount: number) =>
  handle.metrics.recordRevenue(amount, {
    productCategory: 'books',
    paymentMethod: 'card',
    region: 'eu',
    currency: 'EUR',
  });

describe('the final scrape at shutdown (pull hand-over)', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 1000 });
    handle = undefined;
    diag.disable();
  });

  it('keeps the standalone endpoint serving until a scrape has read what was recorded after the last one', async () => {
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
    const scrapes = scraper(handle.prometheus!.url, 300);
    sale(handle, 1000);
    // Two scrapes have seen 1000: the endpoint knows it is being scraped, and how often.
    await waitUntil(
      'two scrapes saw the first sale',
      () => scrapes.scrapes.filter((s) => revenueOf(s.body, 'EUR') === 1000).length >= 2,
      { intervalMillis: 50 },
    );
    sale(handle, 234); // only in memory: no scrape has read it yet
    const shutdownAt = Date.now();
    const closing = handle;
    handle = undefined;
    await closing.shutdown();
    await scrapes.stop();
    const after = scrapes.scrapes.filter((s) => s.startedAt >= shutdownAt);
    expect(after.map((s) => revenueOf(s.body, 'EUR'))).toContain(1234);
    // Once the hand-over is done the endpoint is closed.
    await expect(fetch(closing.prometheus?.url ?? 'http://127.0.0.1:1/metrics')).rejects.toThrow();
  });

  it('hands over through a metricsHandler mounted on the app server, which stays up until the app closes it', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
    });
    const metricsHandler = handle.metricsHandler!;
    const { server, base } = await listenOnLoopback(createServer(metricsHandler));
    const url = `${base}/metrics`;
    try {
      const scrapes = scraper(url, 250);
      sale(handle, 500);
      await waitUntil('two scrapes', () => scrapes.scrapes.length >= 2, { intervalMillis: 50 });
      sale(handle, 77);
      const shutdownAt = Date.now();
      const closing = handle;
      handle = undefined;
      await closing.shutdown();
      await scrapes.stop();
      expect(
        scrapes.scrapes.filter((s) => s.startedAt >= shutdownAt).map((s) => revenueOf(s.body, 'EUR')),
      ).toContain(577);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('does not wait when the endpoint was never scraped (nobody to hand over to)', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { port: 0, finalScrapeTimeoutMillis: 600_000 },
      env: {},
    });
    await handle.ready;
    sale(handle, 1);
    // A ten-minute hand-over would outlast this test's timeout: it never starts.
    const closing = handle;
    handle = undefined;
    await closing.shutdown();
  }, 10_000);

  it('gives up at the bound when the scraper is gone, and says what is lost', async () => {
    const capture = captureDiagWarnings();
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
    const scrapes = scraper(handle.prometheus!.url, 100);
    await waitUntil('three scrapes', () => scrapes.scrapes.length >= 3, { intervalMillis: 20 });
    await scrapes.stop();
    sale(handle, 42);
    const closing = handle;
    handle = undefined;
    // An explicit deadline bounds the hand-over too: 1500 ms leaves it 500 ms.
    await closing.shutdown({ timeoutMillis: 1500 });
    expect(capture.warnings).toEqual([
      expect.stringMatching(
        /^Prometheus exporter: no scrape read the final values within 500 ms of shutdown; what was recorded since the last scrape \(\d{4}-\d{2}-\d{2}T[\d:.]+Z\) is lost$/,
      ),
    ]);
    capture.restore();
  });

  it('hands over on a MeterProvider the app owns (the reader shuts down with it)', async () => {
    const reader = new PrometheusPullReader({ port: 0 });
    const provider = new MeterProvider({ readers: [reader] });
    const counter = provider.getMeter('shop').createCounter('orders');
    await reader.ready;
    const scrapes = scraper(reader.url, 200);
    counter.add(1);
    await waitUntil('two scrapes', () => scrapes.scrapes.length >= 2, { intervalMillis: 50 });
    counter.add(2);
    const shutdownAt = Date.now();
    await provider.shutdown();
    await scrapes.stop();
    const after = scrapes.scrapes
      .filter((s) => s.startedAt >= shutdownAt)
      .map((s) => /^orders_total\S* (\S+)$/m.exec(s.body)?.[1]);
    expect(after).toContain('3');
  });
});

describe('FinalScrape: how long a shutdown waits', () => {
  afterEach(() => jest.useRealTimers());

  it('waits about two scrape intervals after the last scrape, between 1 and 30 s, once scraped twice', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const auto = new FinalScrape(undefined);
    expect(auto.budgetMillis()).toBe(0);
    auto.collecting()();
    expect(auto.budgetMillis()).toBe(0); // one scrape: no interval known, maybe a person with curl
    jest.setSystemTime(1_015_000);
    auto.collecting()();
    // The next scrape is due at +15 s; a second interval and 1 s to be written: 31 s, capped at 30 s.
    expect(auto.budgetMillis()).toBe(30_000);
    expect(auto.budgetMillis(1_015_000 + 25_000)).toBe(6_000);
    // A scraper that stopped long ago: the shortest wait.
    expect(auto.budgetMillis(1_015_000 + 600_000)).toBe(1_000);
    jest.setSystemTime(1_015_400);
    auto.collecting()();
    expect(auto.budgetMillis()).toBe(1_800); // 400 ms apart: 800 ms + 1 s
  });

  it('uses the configured bound once scraped, and 0 turns it off', () => {
    const configured = new FinalScrape(7_000);
    expect(configured.budgetMillis()).toBe(0);
    configured.collecting()();
    expect(configured.budgetMillis()).toBe(7_000);
    const off = new FinalScrape(0);
    off.collecting()();
    off.collecting()();
    expect(off.budgetMillis()).toBe(0);
    expect(() => new FinalScrape(-1)).toThrow(
      /finalScrapeTimeoutMillis must be a whole number of milliseconds >= 0, got -1/,
    );
    expect(() => new FinalScrape(1.5)).toThrow(RangeError);
  });

  it('counts only a scrape that collected after the wait began, once its answer is written', async () => {
    const finalScrape = new FinalScrape(60_000);
    const before = finalScrape.collecting(); // started before the shutdown
    const handedOver = finalScrape.handOver(60_000);
    before();
    let settled = false;
    void handedOver.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    const response = new EventEmitter();
    finalScrape.answering(response as ServerResponse);
    const after = finalScrape.collecting();
    after();
    await Promise.resolve();
    expect(settled).toBe(false); // collected, not yet written
    response.emit('close');
    expect(await handedOver).toBe(true);
    expect(finalScrape.budgetMillis()).toBe(0); // done: a second shutdown does not wait again
  });

  it('a pull endpoint: a scrape that comes while a collection begun before shutdown runs gets its own, which hands over', async () => {
    const finishes: (() => void)[] = [];
    const server = new PrometheusPullServer(
      { preventServerStart: true, finalScrapeTimeoutMillis: 60_000 },
      () =>
        new Promise((resolve) =>
          finishes.push(() =>
            resolve({
              resourceMetrics: { resource: new AttributesResource({}), scopeMetrics: [] },
              errors: [],
            }),
          ),
        ),
    );
    const mounted = createServer(server.metricsHandler);
    const { server: listening, base } = await listenOnLoopback({
      listen: (port, host, ready) => mounted.listen(port, host, ready),
    });
    try {
      // Scraped once (the hand-over waits only for an endpoint someone scrapes).
      const first = fetch(`${base}/metrics`);
      await waitUntil('the first collection', () => finishes.length === 1, { intervalMillis: 10 });
      finishes[0]();
      expect((await first).status).toBe(200);
      // A collection runs when the shutdown begins; a scrape that comes meanwhile does not share it (its values
      // predate the shutdown): it gets a collection of its own, which reads the final values.
      const running = server.getMetrics();
      await waitUntil('the second collection', () => finishes.length === 2, { intervalMillis: 10 });
      let done = false;
      const shutdown = server.shutdown().then(() => (done = true));
      const final = fetch(`${base}/metrics`);
      await waitUntil('the final collection', () => finishes.length === 3, { intervalMillis: 10 });
      finishes[1]();
      await running;
      expect(done).toBe(false);
      finishes[2]();
      expect((await final).status).toBe(200);
      await shutdown;
      expect(done).toBe(true);
    } finally {
      await new Promise((resolve) => listening.close(resolve));
    }
  });
});
