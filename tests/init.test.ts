/**
 * src/init.ts: initBusinessMetrics and the one live handle. The singleton before and after init, one live handle
 * per process, and shutdown that flushes and returns by its deadline. How options and the environment are read
 * is tests/config/options.test.ts's; what init refuses loudly is tests/core/loud-at-init.test.ts's.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { businessMetrics, initBusinessMetrics, type BusinessMetricsHandle, type InitOptions } from '../src';
import { parseExposition } from './support/exposition';
import { attributesOf, metricsOf, startOtlpReceiver } from './support/otlp-receiver';
import { captureDiag } from './support/diag-messages';
import { freePort } from './support/ports';
import { REDIS_SERVER, startRedis } from './support/redis-server';
import { registeredWithApi } from '../src/support/otel-api';
import { waitUntil } from './support/wait';
import { quietPushExporter } from './support/handles';

const DIST = join(__dirname, '../dist/index.js');

const silentLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

describe('businessMetrics singleton and handle lifecycle', () => {
  it('is a no-op before init: calls return without error and record nothing', async () => {
    expect(() => {
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      businessMetrics.recordConversion('purchase', {
        source: 'x',
        deviceType: 'web',
        sessionStartTime: new Date(),
      });
      businessMetrics.recordRevenue(100, { productCategory: 'a', paymentMethod: 'b', region: 'c' });
      businessMetrics.recordFeatureUsage('f', { userTier: 'pro', isNewUser: true });
      businessMetrics.recordSessionEnd(new Date(), { userTier: 'pro', entryPage: '/' });
      businessMetrics.updateActiveUsers('daily', new Map([['pro', 1]]));
    }).not.toThrow();
    expect(await businessMetrics.getMetrics()).toBe('');
  });

  it('records into the live provider after init, refuses a second init, and is a no-op again after shutdown', async () => {
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    expect(() => initBusinessMetrics('none')).toThrow(/already called and its handle is live/);
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    const before = parseExposition(await businessMetrics.getMetrics());
    expect(before.value('business_funnel_step_total', { step: 'cart_view' })).toBe(1);
    await handle.shutdown();
    await handle.shutdown(); // idempotent
    expect(await businessMetrics.getMetrics()).toBe('');
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });

    const next = initBusinessMetrics({ exporters: ['none'], env: {} });
    businessMetrics.recordFunnelStep('shipping_info', { source: 'direct', deviceType: 'web' });
    const after = parseExposition(await businessMetrics.getMetrics());
    expect(after.find('business_funnel_step_total', { step: 'cart_view' })).toEqual([]);
    expect(after.value('business_funnel_step_total', { step: 'shipping_info' })).toBe(1);
    await next.shutdown();
  });

  it('takes null options as none: forceFlush(null) resolves, shutdown(null) shuts down once and for all', async () => {
    const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
    const url = handle.prometheus!.url;
    await expect(handle.forceFlush(null as never)).resolves.toBeUndefined();
    // It threw a TypeError with the handle half shut down: the singleton unbound, the endpoint still serving.
    await expect(handle.shutdown(null as never)).resolves.toBeUndefined();
    expect(
      await fetch(url).then(
        () => 'answered',
        () => 'closed',
      ),
    ).toBe('closed');
    await handle.shutdown(); // the same, finished shutdown
    const next = initBusinessMetrics({ exporters: ['none'], env: {} });
    await next.shutdown();
  });

  it.each([NaN, -1, Infinity, '500'])(
    'says a deadline of %p given to forceFlush or shutdown is no deadline, and keeps the default (the final push is not cut)',
    async (bad) => {
      const receiver = await startOtlpReceiver();
      const captured = captureDiag();
      let handle: BusinessMetricsHandle | undefined;
      try {
        handle = initBusinessMetrics({
          exporters: ['otlp'],
          otlp: { protocol: 'http/json', url: receiver.url, exportIntervalMillis: 600_000 },
          env: {},
        });
        await expect(handle.forceFlush({ timeoutMillis: bad as number })).resolves.toBeUndefined();
        businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
        await expect(handle.shutdown({ timeoutMillis: bad as number })).resolves.toBeUndefined();
        // The shutdown's final push went out whole: the step recorded after the flush reached the receiver.
        const funnel = metricsOf(receiver.requests).filter((m) => m.name === 'business_funnel_step');
        expect(Number(funnel.at(-1)?.sum?.dataPoints[0]?.asDouble)).toBe(1);
        const said = captured.errors.filter((message) => message.includes('timeoutMillis'));
        expect(said).toEqual([
          expect.stringContaining('forceFlush: timeoutMillis must be a number of milliseconds >= 0'),
          expect.stringContaining('shutdown: timeoutMillis must be a number of milliseconds >= 0'),
        ]);
        expect(captured.errors.join('\n')).not.toMatch(/did not finish within/);
      } finally {
        captured.stop();
        await handle?.shutdown();
        await receiver.close();
      }
    },
  );

  it('shutdown returns within its deadline when the collector never answers', async () => {
    const receiver = await startOtlpReceiver();
    receiver.setFault({ kind: 'hang' });
    const errors: string[] = [];
    diag.setLogger(
      { ...silentLogger, error: (message: string) => void errors.push(message) },
      { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
    );
    try {
      // An export timeout of 10 minutes: were it what ends shutdown, the test's timeout would fail it.
      const handle = initBusinessMetrics({
        exporters: ['otlp'],
        otlp: { protocol: 'http/json', url: receiver.url, exportTimeoutMillis: 600_000 },
        env: {},
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await handle.shutdown({ timeoutMillis: 500 });
      // Its own deadline ended it, and it says what it was still waiting for.
      expect(errors).toEqual([
        'otel-business-metrics: shutdown did not complete cleanly: shutdown did not finish within 500 ms: ' +
          `still waiting for the otlp exporter (${receiver.url})`,
      ]);
    } finally {
      diag.disable();
      await receiver.close();
    }
  });

  it('flushes everything on shutdown() in a process that then exits', async () => {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const receiver = await startOtlpReceiver();
    const script = `
      const { initBusinessMetrics, businessMetrics } = require(${JSON.stringify(DIST)});
      const handle = initBusinessMetrics({ exporters: ['otlp'], otlp: { protocol: 'http/json', url: process.argv[1], exportIntervalMillis: 600000 } });
      for (let i = 0; i < 1234; i++) businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      businessMetrics.recordRevenue(4321, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      handle.shutdown().then(() => process.exit(0));
    `;
    const child = await new Promise<{ status: number | null }>((resolve) => {
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      const proc = spawn(process.execPath, ['-e', script, receiver.url], { stdio: 'inherit' });
      proc.on('exit', (status) => resolve({ status }));
    });
    expect(child.status).toBe(0);
    const metrics = metricsOf(receiver.requests);
    const funnel = metrics.find((m) => m.name === 'business_funnel_step')!;
    expect(Number(funnel.sum!.dataPoints[0].asDouble)).toBe(1234);
    const revenue = metrics.find((m) => m.name === 'business_revenue_cents')!;
    expect(attributesOf(revenue.sum!.dataPoints[0].attributes)).toEqual({
      product_category: 'books',
      payment_method: 'card',
      region: 'eu_west',
      currency: 'USD',
    });
    expect(Number(revenue.sum!.dataPoints[0].asDouble)).toBe(4321);
    await receiver.close();
  });

  it('lets a process whose collector never answers exit right after shutdown()', async () => {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const receiver = await startOtlpReceiver();
    receiver.setFault({ kind: 'hang' });
    // An export timeout of 10 minutes: without closing the exporter's sockets at the deadline the process would
    // live that long, and the test's timeout fails it; no wall-clock bound of ours is needed. The child shuts down
    // only once its export hangs in the collector (told over IPC, then the channel is let go so it keeps nothing
    // alive): on a loaded machine a 300 ms deadline could otherwise pass before the request even arrives.
    const script = `
      const { initBusinessMetrics, businessMetrics } = require(${JSON.stringify(DIST)});
      const handle = initBusinessMetrics({ exporters: ['otlp'], otlp: { protocol: 'http/json', url: process.argv[1], exportTimeoutMillis: 600000 } });
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      handle.forceFlush().catch(() => {});
      process.once('message', () => {
        process.disconnect();
        handle.shutdown({ timeoutMillis: 300 }); // no process.exit: the event loop must drain by itself
      });
    `;
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(process.execPath, ['-e', script, receiver.url], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    const status = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitUntil(
      'the export to reach the collector that never answers',
      () => receiver.faultedRequests >= 1,
    );
    child.send('shut down');
    expect(await status).toBe(0);
    expect(receiver.faultedRequests).toBeGreaterThanOrEqual(1);
    await receiver.close();
  });

  it('never keeps the host process alive by itself', () => {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const { initBusinessMetrics } = require(${JSON.stringify(DIST)});
         initBusinessMetrics({ exporters: ['prometheus', 'otlp'], prometheus: { port: 0 }, otlp: { url: 'http://127.0.0.1:9/v1/metrics' } });`,
      ],
      { timeout: 10000 },
    );
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
  });
});

describe('shutdown: every step shares the one deadline', () => {
  const itWithRedis = REDIS_SERVER ? it : it.skip;

  itWithRedis(
    'a hand-over nobody scrapes, a frozen Redis and a collector that never answers: each step ends by what the ones before it left, and nothing is said after shutdown returned',
    async () => {
      const receiver = await startOtlpReceiver();
      receiver.setFault({ kind: 'hang' });
      const redis = await startRedis();
      const messages: string[] = [];
      diag.setLogger(
        {
          ...silentLogger,
          error: (message: string) => void messages.push(`error ${message}`),
          warn: (message: string) => void messages.push(`warn ${message}`),
          debug: (message: string) => void messages.push(`debug ${message}`),
        },
        { logLevel: DiagLogLevel.DEBUG, suppressOverrideMessage: true },
      );
      let handle: ReturnType<typeof initBusinessMetrics> | undefined;
      try {
        handle = initBusinessMetrics({
          exporters: ['otlp', 'prometheus'],
          // Once scraped, the hand-over waits for a final scrape that never comes: all the deadline allows it.
          prometheus: { port: 0, finalScrapeTimeoutMillis: 600_000 },
          // Every step's own timeout far beyond the deadline: only the shared deadline can end them.
          otlp: { protocol: 'http/json', url: receiver.url, exportTimeoutMillis: 600_000 },
          activeUsers: {
            hashKey: 'fleet-shared-secret-for-init-tests',
            redis: { url: redis.url, flushIntervalMillis: 3_600_000, timeoutMillis: 60_000 },
          },
          env: {},
        });
        await handle.ready;
        await (await fetch(handle.prometheus!.url)).text();
        handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
        handle.metrics.trackActiveUser('user-1', { userTier: 'pro' });
        redis.pause();
        const started = Date.now();
        await handle.shutdown({ timeoutMillis: 2000 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900); // the slow steps did hold it to its deadline
        // The final export, its connection closed at the deadline, fails: what shutdown left running has answered.
        const closed = `debug otel-business-metrics: otlp exporter (${receiver.url}): export failed`;
        await waitUntil('the final export closed at the deadline to fail', () => messages.includes(closed));
        await new Promise((resolve) => setImmediate(resolve));
        // Said once each, by the step the deadline cut short; no step still running to say it again afterwards
        // ("shutdown: the final export failed: ... exporter closed at the shutdown deadline").
        const said = messages
          .filter((message) => !message.startsWith('debug'))
          .map((message) => message.replace(/^(warn .*) within \d+ ms.*/, '$1 within N ms'))
          .sort();
        expect(said).toEqual([
          'error otel-business-metrics: shutdown did not complete cleanly: shutdown did not finish within 2000 ms: ' +
            `still waiting for the otlp exporter (${receiver.url})`,
          'warn Prometheus exporter: no scrape read the final values within N ms',
          "warn otel-business-metrics: shutdown: the active users' Redis store did not finish its final flush within N ms",
        ]);
      } finally {
        diag.disable();
        redis.resume();
        await handle?.shutdown({ timeoutMillis: 500 });
        await redis.stop();
        await receiver.close();
      }
    },
  );
});

/** 'open' when something accepts a connection on the loopback port, 'refused' when nothing listens. */
function probe(port: number): Promise<'open' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', () => resolve('refused'));
  });
}

describe('an init that throws leaves no port open', () => {
  it.each<[string, InitOptions['otlp'], RegExp]>([
    ['an interval of 0', { exportIntervalMillis: 0 }, /^otlp\.exportIntervalMillis must be an integer/],
    ['a NaN interval', { exportIntervalMillis: NaN }, /^otlp\.exportIntervalMillis must be .*\(got NaN\)/],
    ['a negative timeout', { exportTimeoutMillis: -5 }, /^otlp\.exportTimeoutMillis must be .*\(got -5\)/],
    ['a timeout of 0', { exportTimeoutMillis: 0 }, /^otlp\.exportTimeoutMillis must be an integer/],
    [
      'an interval given as a string',
      { exportIntervalMillis: '1000' as never },
      /^otlp\.exportIntervalMillis must be .*\(got string "1000"\)/,
    ],
  ])(
    '%s: the error names the option, and the corrected init binds the same port',
    async (_, otlp, message) => {
      const port = await freePort();
      const options = (extra: InitOptions['otlp']): InitOptions => ({
        exporters: ['prometheus', quietPushExporter()],
        prometheus: { port },
        otlp: extra,
        env: {},
      });
      expect(() => initBusinessMetrics(options(otlp))).toThrow(message);
      expect(await probe(port)).toBe('refused');
      const handle = initBusinessMetrics(options({}));
      try {
        await handle.ready;
        expect(await probe(port)).toBe('open');
      } finally {
        await handle.shutdown();
      }
    },
  );

  // An option its owner checks when the recorder is made, after the readers: init must not have bound by then.
  it.each<[string, () => InitOptions['exporters']]>([
    ['with an SDK MeterProvider', () => ['prometheus', quietPushExporter()]],
    ['pull-only', () => ['prometheus']],
  ])('%s, when a part built after the endpoint throws', async (_, exporters) => {
    const port = await freePort();
    const options = (hashKey: string): InitOptions => ({
      exporters: exporters(),
      prometheus: { port },
      activeUsers: { hashKey },
      env: {},
    });
    expect(() => initBusinessMetrics(options('short'))).toThrow(/hashKey must be at least 16 bytes/);
    expect(await probe(port)).toBe('refused');
    const handle = initBusinessMetrics(options('a-key-of-sixteen-bytes-or-more'));
    try {
      await handle.ready;
      expect(handle.prometheus?.port).toBe(port);
    } finally {
      await handle.shutdown();
    }
  });
});

describe('initialising again on the same port while the last handle hands over', () => {
  it.each<[string, () => InitOptions['exporters']]>([
    ['with an SDK MeterProvider', () => ['prometheus', quietPushExporter()]],
    ['pull-only', () => ['prometheus']],
  ])('%s: the final scrape reads the old values, then the new handle listens there', async (_, exporters) => {
    const port = await freePort();
    // The first waits for its final scrape; the second, scraped once here, need not.
    const options = (finalScrapeTimeoutMillis: number): InitOptions => ({
      exporters: exporters(),
      prometheus: { port, finalScrapeTimeoutMillis },
      env: {},
    });
    const first = initBusinessMetrics(options(20_000));
    await first.ready;
    await fetch(first.prometheus!.url);
    first.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    const firstClosed = first.shutdown();
    // Called at once, as a hot reload or a restart-in-process does: without the wait its endpoint failed with
    // EADDRINUSE and the new handle never served.
    const second = initBusinessMetrics(options(0));
    try {
      const funnel = (text: string) =>
        parseExposition(text).samples.filter((sample) => sample.name === 'business_funnel_step_total');
      const final = funnel(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(final.map((sample) => sample.value)).toEqual([1]);
      await firstClosed;
      await second.ready;
      // Defined only while its endpoint listens.
      expect(second.prometheus?.port).toBe(port);
      second.metrics.recordFunnelStep('checkout_start', { source: 'direct', deviceType: 'web' });
      const fresh = funnel(await (await fetch(second.prometheus!.url)).text());
      expect(fresh.map((sample) => [sample.labels.step, sample.value])).toEqual([['checkout_start', 1]]);
    } finally {
      await Promise.all([firstClosed, second.shutdown()]);
    }
  });
});

describe('OTEL_LOG_LEVEL beside an app that has its own diag logger', () => {
  it("keeps the app's logger: the app's messages and the package's go on reaching it", async () => {
    const captured = captureDiag();
    try {
      const handle = initBusinessMetrics({ exporters: ['none'], env: { OTEL_LOG_LEVEL: 'warn' } });
      await handle.shutdown();
      diag.warn('app: after init');
      expect(captured.warnings).toContain('app: after init');
    } finally {
      captured.stop();
    }
  });

  it('installs its console logger when the app has none, and replaces its own at a later init', async () => {
    // DiagConsoleLogger writes through the console methods saved when the API loaded: what is registered is read.
    try {
      expect(registeredWithApi()?.diag).toBeUndefined();
      const first = initBusinessMetrics({ exporters: ['none'], env: { OTEL_LOG_LEVEL: 'error' } });
      await first.shutdown();
      const installed = registeredWithApi()?.diag;
      expect(installed).toBeDefined();
      const second = initBusinessMetrics({ exporters: ['none'], env: { OTEL_LOG_LEVEL: 'warn' } });
      await second.shutdown();
      expect(registeredWithApi()?.diag).toBeDefined();
      expect(registeredWithApi()?.diag).not.toBe(installed);
    } finally {
      diag.disable();
    }
  });
});

describe('OTEL_SDK_DISABLED=true and a mounted metricsHandler', () => {
  it('answers 200 with an empty exposition that says why, so the mount never throws', async () => {
    const handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: { OTEL_SDK_DISABLED: 'true' },
    });
    const port = await freePort();
    const { createServer, get } = await import('node:http');
    const server = createServer((request, response) => {
      try {
        handle.metricsHandler!(request, response);
      } catch (error) {
        // What the app's framework would do with a handler that throws (undefined is not a function).
        response.writeHead(500).end(String(error));
      }
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const answer = await new Promise<{ status?: number; type?: string; body: string }>(
        (resolve, reject) => {
          get(`http://127.0.0.1:${port}/metrics`, (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode, type: response.headers['content-type'], body }),
            );
          }).on('error', reject);
        },
      );
      expect(answer).toEqual({
        status: 200,
        type: 'text/plain; version=0.0.4; charset=utf-8',
        body: '# otel-business-metrics: disabled by OTEL_SDK_DISABLED=true; nothing is recorded\n',
      });
      // The exposition holds no sample: only a comment line.
      expect(parseExposition(answer.body).find('business_funnel_step_total', {})).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await handle.shutdown();
    }
    // Without a prometheus exporter there is nothing to mount, disabled or not.
    const none = initBusinessMetrics({ exporters: ['none'], env: { OTEL_SDK_DISABLED: 'true' } });
    expect(none.metricsHandler).toBeUndefined();
    await none.shutdown();
  });
});

describe('a push exporter given as a plain object', () => {
  it('is named "custom" in failure messages and self-metrics, not "Object"', async () => {
    const handle = initBusinessMetrics({
      exporters: [
        {
          export: (_metrics, done) => done({ code: 1, error: new Error('the backend said no') }),
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      ],
      otlp: { exportIntervalMillis: 60_000 },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await expect(handle.forceFlush()).rejects.toThrow(
        'otel-business-metrics: forceFlush: the custom exporter could not export: the backend said no',
      );
      const failures = parseExposition(await handle.metrics.getMetrics()).value(
        'business_metrics_export_failures_total',
        { exporter: 'custom' },
      );
      expect(failures).toBe(1);
    } finally {
      await handle.shutdown({ timeoutMillis: 500 });
    }
  });
});
