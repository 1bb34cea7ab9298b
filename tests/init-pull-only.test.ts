/**
 * src/init.ts, the pull-only path (Prometheus and nothing else: no SDK MeterProvider, the store collects itself and
 * observes the package's observable instruments, series/observed.ts) against the SDK path it replaced for such an
 * app (the same configuration plus one reader of the app's own, which puts the SDK MeterProvider back): the same
 * recordings give byte-identical expositions, in both formats, over several scrapes, on the HTTP endpoint and from
 * getMetrics(). `_created` sample values are the only difference allowed (they are the series' start times, which
 * two runs cannot share). And `handle.meterProvider`, created on first read, serves the app's own instruments on
 * the same endpoint; one of its observable callbacks that never settles is left out of a scrape, which serves the
 * rest within the scraper's deadline (endpoint, mounted handler, getMetrics()).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initBusinessMetrics, PrometheusPullReader, type BusinessMetricsHandle } from '../src';
import { runWorkload } from './support/workload';

const NOW = Date.UTC(2026, 11, 4, 3, 0, 0);

/** Start times differ between two runs: `_created` values are replaced by a placeholder. */
function withoutStartTimes(text: string): string {
  return text.replace(/^(\S+_created(?:\{[^}]*\})?) \S+$/gm, '$1 <start>');
}

async function scrape(handle: BusinessMetricsHandle, format: 'prometheus' | 'openmetrics'): Promise<string> {
  const accept = format === 'openmetrics' ? 'application/openmetrics-text; version=1.0.0' : 'text/plain';
  const response = await fetch(handle.prometheus!.url, { headers: { accept } });
  return response.text();
}

/** One life of an app: init, recordings between scrapes, every exposition it served. */
async function life(withSdk: boolean): Promise<string[]> {
  const appReader = new PrometheusPullReader({ preventServerStart: true });
  const handle = initBusinessMetrics({
    exporters: withSdk ? ['prometheus', appReader] : ['prometheus'],
    prometheus: { host: '127.0.0.1', port: 0 },
    serviceName: 'differential',
    resourceAttributes: { 'service.instance.id': 'one', 'deployment.environment': 'test%20env' },
    money: { reporting: { currency: 'USD', rates: new Map([['EUR', 1.1]]) } },
    env: { OTEL_RESOURCE_ATTRIBUTES: 'team=shop,region=eu%2Cwest' },
  });
  await handle.ready;
  const texts: string[] = [];
  const served = async () => {
    texts.push(await scrape(handle, 'prometheus'), await scrape(handle, 'openmetrics'));
    texts.push(await handle.metrics.getMetrics('prometheus'), await handle.metrics.getMetrics('openmetrics'));
  };
  await served();
  runWorkload(handle.metrics, NOW);
  handle.metrics.recordRevenue(1999, {
    productCategory: 'books',
    paymentMethod: 'card',
    region: 'eu_west',
    currency: 'EUR',
  });
  // Refused and relabelled input: the guard's self-metrics (observable counters) appear.
  handle.metrics.recordFunnelStep('not a step', { source: 'x'.repeat(500), deviceType: 'toaster' });
  handle.metrics.recordRevenue(-5, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
  await served();
  runWorkload(handle.metrics, NOW);
  handle.metrics.updateActiveUsers('daily', new Map([['free', 3]]));
  await served();
  await handle.shutdown();
  return texts.map(withoutStartTimes);
}

describe('pull-only init: the exposition without the SDK is the SDK path one, byte for byte', () => {
  it('same recordings, both formats, several scrapes, endpoint and getMetrics()', async () => {
    // Durations (time to conversion, session length) are measured against Date.now(): it stands still, both runs
    // measure the same ones. Nothing else is faked (the servers, timers and performance clock run).
    jest.useFakeTimers({
      now: NOW + 60_000,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    let sdk: string[];
    let pullOnly: string[];
    try {
      sdk = await life(true);
      pullOnly = await life(false);
    } finally {
      jest.useRealTimers();
    }
    expect(pullOnly).toHaveLength(12);
    for (let i = 0; i < sdk.length; i++) expect(pullOnly[i]).toBe(sdk[i]);
    // The comparison covers what the observable instruments report, not only the store's series.
    const last = pullOnly[pullOnly.length - 1];
    expect(last).toMatch(/^business_metrics_dropped_total\{/m);
    expect(last).toMatch(/^business_active_users\{/m);
    expect(last).toMatch(/^target_info\{.*team="shop".*\} 1$/m);
    expect(last).toMatch(/_created\{/);
  });

  it('handle.meterProvider, read after init, serves the app instruments on the same endpoint', async () => {
    const handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { host: '127.0.0.1', port: 0 },
      env: {},
    });
    try {
      await handle.ready;
      handle.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
      expect(handle.meterProvider).toBe(handle.meterProvider);
      const meter = handle.meterProvider.getMeter('app');
      meter.createCounter('app.requests').add(2, { route: '/checkout' });
      meter.createObservableGauge('app.queue.depth').addCallback((result) => result.observe(7));
      const text = await scrape(handle, 'prometheus');
      expect(text).toMatch(/^app_requests_total\{route="\/checkout",otel_scope_name="app"\} 2$/m);
      expect(text).toMatch(/^app_queue_depth\{otel_scope_name="app"\} 7$/m);
      expect(text).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
      expect(await handle.metrics.getMetrics()).toMatch(/^app_requests_total\{/m);
      await expect(handle.forceFlush()).resolves.toBeUndefined();
    } finally {
      await handle.shutdown();
    }
  });

  it("an app's observable callback that never settles: the rest is served within the scraper's deadline", async () => {
    const handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { host: '127.0.0.1', port: 0, scrapeTimeoutMillis: 1000, finalScrapeTimeoutMillis: 0 },
      env: {},
    });
    const mounted = createServer((request, response) => handle.metricsHandler!(request, response));
    try {
      await handle.ready;
      await new Promise<void>((resolve) => mounted.listen(0, '127.0.0.1', resolve));
      handle.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
      const meter = handle.meterProvider.getMeter('app');
      meter.createCounter('app.requests').add(2);
      // A database query that never answers.
      meter.createObservableGauge('app.db.rows').addCallback(() => new Promise<void>(() => undefined));
      const started = Date.now();
      const headers = { 'x-prometheus-scrape-timeout-seconds': '0.5' };
      const texts = await Promise.all([
        handle.metrics.getMetrics(),
        fetch(handle.prometheus!.url, { headers }).then((response) => response.text()),
        fetch(`http://127.0.0.1:${(mounted.address() as AddressInfo).port}/metrics`, { headers }).then(
          (response) => response.text(),
        ),
      ]);
      // Answered, not hung (generous: the deadlines are 0.5 and 1 s).
      expect(Date.now() - started).toBeLessThan(5000);
      for (const text of texts) {
        expect(text).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
        expect(text).toMatch(/^app_requests_total\{otel_scope_name="app"\} 2$/m);
        expect(text).not.toMatch(/app_db_rows/);
      }
    } finally {
      await new Promise((resolve) => mounted.close(resolve));
      await handle.shutdown();
    }
  });

  it.each([
    ['pull-only', false],
    ['SDK', true],
  ])(
    'after shutdown(), %s: getMetrics() rejects and a mounted endpoint answers 503, as on the other path',
    async (_, withSdk) => {
      const handle = initBusinessMetrics({
        exporters: withSdk
          ? ['prometheus', new PrometheusPullReader({ preventServerStart: true })]
          : ['prometheus'],
        prometheus: { host: '127.0.0.1', port: 0, finalScrapeTimeoutMillis: 0 },
        env: {},
      });
      await handle.ready;
      handle.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
      await expect(handle.metrics.getMetrics()).resolves.toMatch(/^business_funnel_step_total\{/m);
      await handle.shutdown();
      await expect(handle.metrics.getMetrics()).rejects.toThrow(
        'the metrics were shut down (shutdown() was called)',
      );
      // The app's own server keeps serving the mounted endpoint after shutdown (it decides when to close).
      const mounted = handle.metricsHandler;
      expect(mounted).toBeDefined();
      const server = createServer((request, response) => mounted!(request, response));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
        expect({ status: response.status, body: await response.text() }).toEqual({
          status: 503,
          body: '# the metrics were shut down (shutdown() was called)\n',
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
