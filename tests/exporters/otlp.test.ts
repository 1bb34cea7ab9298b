/**
 * src/exporters/otlp.ts: the OTLP push path for each protocol through the official transport, without a Collector
 * (the real Collector is in tests/push/): what goes on the wire over HTTP (protobuf by default, JSON when asked,
 * headers, gzip), failures counted on each protocol and told to an explicit forceFlush, the one-line cause those
 * messages carry, a partial success that rejected data points counted as a failure, gRPC over TLS trusting the
 * certificate of OTEL_EXPORTER_OTLP_CERTIFICATE, and shutdown by its deadline on each (gRPC over TLS with that
 * variable too) even when the receiver accepts connections and never answers (the process then ends by itself). The gRPC wire and its optional package are
 * tests/exporters/otlp-grpc.test.ts's. Real sockets and real child processes running the built package.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { exportCause } from '../../src/exporters/otlp';
import { captureDiag } from '../support/diag-messages';
import { parseExposition } from '../support/exposition';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { waitUntil } from '../support/wait';
import {
  closedPort,
  LOOPBACK_CERTIFICATE,
  partialSuccess,
  PROTOCOLS,
  runNode,
  startCapture,
  startGrpcCapture,
  startSilent,
  urlFor,
} from './otlp-peers';

describe('OTLP over HTTP: protobuf by default, JSON when asked', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  it.each([
    [undefined, 'application/x-protobuf'],
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ] as const)('protocol %s sends %s with headers and gzip', async (protocol, contentType) => {
    const capture = await startCapture();
    try {
      handle = initBusinessMetrics({
        exporters: ['otlp'],
        otlp: {
          ...(protocol ? { protocol } : {}),
          url: capture.url,
          headers: { 'x-tenant': 'shop' },
          compression: 'gzip',
          exportIntervalMillis: 60_000,
        },
        env: {},
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await handle.forceFlush();
      expect(capture.captured).toHaveLength(1);
      const [request] = capture.captured;
      expect(request.headers['content-type']).toBe(contentType);
      expect(request.headers['content-encoding']).toBe('gzip');
      expect(request.headers['x-tenant']).toBe('shop');
      expect(request.bytes).toBeGreaterThan(50);
    } finally {
      await handle?.shutdown({ timeoutMillis: 2000 }); // while the receiver still answers the final export
      handle = undefined;
      await capture.close();
    }
  });
});

/**
 * One recorded step, then a forceFlush that the exporter's failure rejects (naming where it sends) within
 * `flushMillis`, and that failure counted once in business_metrics_export_failures_total.
 */
async function expectOneFailedFlush(
  handle: BusinessMetricsHandle,
  url: string,
  flushMillis: number,
): Promise<void> {
  handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
  await expect(handle.forceFlush({ timeoutMillis: flushMillis })).rejects.toThrow(
    `otel-business-metrics: forceFlush: the otlp exporter could not export to ${url}: `,
  );
  const failures = parseExposition(await handle.metrics.getMetrics()).value(
    'business_metrics_export_failures_total',
    { exporter: 'otlp' },
  );
  expect(failures).toBe(1);
}

describe.each(PROTOCOLS)('OTLP %s failures', (protocol) => {
  it('are counted in business_metrics_export_failures_total, never reach the recording app, and an explicit forceFlush is told', async () => {
    const url = urlFor(protocol, await closedPort());
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol, url, exportTimeoutMillis: 300, exportIntervalMillis: 60_000 },
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    try {
      await expectOneFailedFlush(handle, url, 3000);
    } finally {
      await handle.shutdown({ timeoutMillis: 500 });
    }
  });
});

describe.each(PROTOCOLS)('OTLP %s partial success', (protocol) => {
  async function receiver(rejected: number, message: string) {
    if (protocol === 'grpc') {
      const grpc = await startGrpcCapture(partialSuccess(rejected, message, 'protobuf'));
      return { url: grpc.url, captured: grpc.captured, close: async () => grpc.close() };
    }
    return startCapture((contentType) =>
      partialSuccess(rejected, message, contentType.includes('json') ? 'json' : 'protobuf'),
    );
  }

  it("that rejected data points is a failed export: counted, warned with the receiver's reason, told to forceFlush", async () => {
    const peer = await receiver(3, 'too many labels');
    const diag = captureDiag();
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol, url: peer.url, exportIntervalMillis: 60_000 },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await expect(handle.forceFlush({ timeoutMillis: 3000 })).rejects.toThrow(
        `the otlp exporter could not export to ${peer.url}: the receiver rejected 3 data points: too many labels`,
      );
      expect(peer.captured).toHaveLength(1);
      const failures = parseExposition(await handle.metrics.getMetrics()).value(
        'business_metrics_export_failures_total',
        { exporter: 'otlp' },
      );
      expect(failures).toBe(1);
      expect(diag.warnings.filter((m) => m.includes('the receiver rejected 3 data points'))).toHaveLength(1);
    } finally {
      diag.stop();
      await handle.shutdown({ timeoutMillis: 500 });
      await peer.close();
    }
  });

  it('that rejected nothing (a warning of the receiver) is a success', async () => {
    const peer = await receiver(0, 'deprecated attribute');
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol, url: peer.url, exportIntervalMillis: 60_000 },
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      // An explicit flush rejects when its export failed: this one resolves.
      await handle.forceFlush({ timeoutMillis: 3000 });
      expect(peer.captured).toHaveLength(1);
      // The failure counter has no series until a first failure.
      expect(
        parseExposition(await handle.metrics.getMetrics()).find('business_metrics_export_failures_total'),
      ).toHaveLength(0);
    } finally {
      await handle.shutdown({ timeoutMillis: 500 });
      await peer.close();
    }
  });
});

describe('OTLP grpc over TLS', () => {
  it('trusts the certificates of OTEL_EXPORTER_OTLP_CERTIFICATE, as the official exporter does', async () => {
    const peer = await startGrpcCapture(undefined, { tls: true });
    const script = `
      const { initBusinessMetrics } = require(process.argv[1]);
      const handle = initBusinessMetrics({ exporters: ['otlp'], env: {},
        otlp: { protocol: 'grpc', url: process.argv[2], exportIntervalMillis: 60000, exportTimeoutMillis: 3000 } });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      handle.forceFlush().then(() => console.log('sent'), (error) => console.log(error.message))
        .finally(() => handle.shutdown({ timeoutMillis: 1000 }));`;
    try {
      // Without the variable the self-signed certificate is not trusted: the export fails.
      const untrusted = await runNode(script, [peer.url]);
      expect(untrusted.stdout).toMatch(/could not export to https:\/\/127\.0\.0\.1:\d+/);
      expect(peer.captured).toHaveLength(0);
      const trusted = await runNode(script, [peer.url], {
        OTEL_EXPORTER_OTLP_CERTIFICATE: LOOPBACK_CERTIFICATE,
      });
      expect(trusted.stdout).toBe('sent\n');
      expect(peer.captured.length).toBeGreaterThanOrEqual(1);
    } finally {
      peer.close();
    }
  });
});

describe('shutdown against a receiver that accepts and never answers', () => {
  let silent: Awaited<ReturnType<typeof startSilent>>;
  beforeAll(async () => {
    silent = await startSilent();
  });
  afterAll(() => silent.close());

  it.each(PROTOCOLS)(
    '%s: shutdown returns by its deadline and the process then ends by itself',
    async (protocol) => {
      // An export timeout of 10 minutes: were it what ends shutdown, or a connection left open what holds the
      // process, runNode's 30 s kill would fail the test. No wall-clock bound of ours is needed.
      const script = `
        const { initBusinessMetrics } = require(process.argv[1]);
        const handle = initBusinessMetrics({ exporters: ['otlp'], env: {},
          otlp: { protocol: process.argv[2], url: process.argv[3], exportIntervalMillis: 60000, exportTimeoutMillis: 600000 } });
        handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
        const started = Date.now();
        handle.shutdown({ timeoutMillis: 1000 }).then(() => console.log('shutdown-ms', Date.now() - started));`;
      const url = urlFor(protocol, silent.port);
      const result = await runNode(script, [protocol, url]);
      expect(result.status).toBe(0);
      // Its own deadline ended it: not before it, and it says what it was still waiting for.
      const shutdownMillis = Number(/shutdown-ms (\d+)/.exec(result.stdout)?.[1]);
      expect(shutdownMillis).toBeGreaterThanOrEqual(900);
      expect(result.stderr).toBe(
        'otel-business-metrics: shutdown did not complete cleanly: shutdown did not finish within 1000 ms: ' +
          `still waiting for the otlp exporter (${url})\n`,
      );
    },
  );

  it('grpc over TLS with OTEL_EXPORTER_OTLP_CERTIFICATE: the credentials the variables give, and the same deadline', async () => {
    // The TLS handshake never completes: the connection waits in grpc-js, which does not close it on its own.
    const script = `
      const { initBusinessMetrics } = require(process.argv[1]);
      const handle = initBusinessMetrics({ exporters: ['otlp'], env: {},
        otlp: { protocol: 'grpc', url: process.argv[2], exportIntervalMillis: 60000, exportTimeoutMillis: 600000 } });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      handle.shutdown({ timeoutMillis: 1000 }).then(() => console.log('shut down'));`;
    const url = `https://127.0.0.1:${silent.port}`;
    const result = await runNode(script, [url], {
      OTEL_EXPORTER_OTLP_CERTIFICATE: LOOPBACK_CERTIFICATE,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('shut down\n');
    // Node's own deprecation warning about a TLS server name that is an IP address (grpc-js sets it) aside.
    expect(result.stderr.split('\n').filter((line) => line.startsWith('otel-business-metrics'))).toEqual([
      'otel-business-metrics: shutdown did not complete cleanly: shutdown did not finish within 1000 ms: ' +
        `still waiting for the otlp exporter (${url})`,
    ]);
  });
});

describe.each(PROTOCOLS)('OTLP %s export timeout from the environment', (protocol) => {
  let silent: Awaited<ReturnType<typeof startSilent>>;
  beforeAll(async () => {
    silent = await startSilent();
  });
  afterAll(() => silent.close());

  it.each([
    ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '300' }],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', { OTEL_EXPORTER_OTLP_TIMEOUT: '300' }],
    [
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT over OTEL_EXPORTER_OTLP_TIMEOUT',
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '300', OTEL_EXPORTER_OTLP_TIMEOUT: '600000' },
    ],
  ])(
    '%s ends an export the receiver never answers, counted and told to forceFlush',
    async (_name, timeoutEnv) => {
      const url = urlFor(protocol, silent.port);
      const handle = initBusinessMetrics({
        exporters: ['otlp'],
        otlp: { protocol, url, exportIntervalMillis: 60_000 },
        env: { OTEL_LOG_LEVEL: 'none', ...timeoutEnv },
      });
      try {
        // The flush's own deadline is far above 300 ms and far below the default export timeout: the export's
        // failure, not the flush's deadline, is what ends it.
        await expectOneFailedFlush(handle, url, 5000);
      } finally {
        await handle.shutdown({ timeoutMillis: 500 });
      }
    },
  );
});

describe('OTLP export timeout from the environment the app is started with', () => {
  it('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT in process.env ends an export the receiver never answers', async () => {
    const silent = await startSilent();
    const script = `
      const { initBusinessMetrics } = require(process.argv[1]);
      const handle = initBusinessMetrics({ exporters: ['otlp'],
        otlp: { url: process.argv[2], exportIntervalMillis: 60000 } });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      handle.forceFlush({ timeoutMillis: 5000 }).then(() => console.log('sent'), (error) => console.log(error.message))
        .finally(() => handle.shutdown({ timeoutMillis: 500 }));`;
    const url = urlFor('http/protobuf', silent.port);
    try {
      const result = await runNode(script, [url], {
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '300',
        OTEL_LOG_LEVEL: 'none',
      });
      expect(result.stdout).toMatch(
        new RegExp(
          `^otel-business-metrics: forceFlush: the otlp exporter could not export to ${url.replace(/[.]/g, '\\.')}: `,
        ),
      );
    } finally {
      await silent.close();
    }
  });
});

describe.each(PROTOCOLS)("OTLP %s: the exporter's deadline, not the reader's, ends an export", (protocol) => {
  let silent: Awaited<ReturnType<typeof startSilent>>;
  beforeAll(async () => {
    silent = await startSilent();
  });
  afterAll(() => silent.close());

  // Each gives the periodic reader and the exporter the same 300 ms: the reader's own timeout then said
  // "metrics export timed out" through diag.error beside the package's counted failure.
  it.each([
    ['otlp.exportTimeoutMillis in code', { exportTimeoutMillis: 300 }, {}],
    [
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT equal to OTEL_METRIC_EXPORT_TIMEOUT',
      {},
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '300', OTEL_METRIC_EXPORT_TIMEOUT: '300' },
    ],
    [
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT above OTEL_METRIC_EXPORT_TIMEOUT',
      {},
      { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '600000', OTEL_METRIC_EXPORT_TIMEOUT: '300' },
    ],
  ])(
    '%s: a receiver that never answers is one counted failure, warned once, and nothing from the reader',
    async (_name, timeouts, timeoutEnv) => {
      const url = urlFor(protocol, silent.port);
      const diag = captureDiag();
      const handle = initBusinessMetrics({
        exporters: ['otlp'],
        otlp: { protocol, url, exportIntervalMillis: 60_000, ...timeouts },
        env: timeoutEnv,
      });
      try {
        await expectOneFailedFlush(handle, url, 5000);
        expect(diag.errors).toEqual([]);
        expect(diag.warnings).toEqual([
          expect.stringMatching(
            `^otel-business-metrics: the otlp exporter could not export to ${url.replace(/[.]/g, '\\.')}: `,
          ),
        ]);
      } finally {
        diag.stop();
        await handle.shutdown({ timeoutMillis: 500 });
      }
    },
  );
});

describe('OTLP retries that would outlast the export timeout', () => {
  it('end at the timeout: the export counts as failed once, by then, and the late answer changes nothing', async () => {
    // A 503 with Retry-After: 1 asks for a retry 1 s later; the transport gives that retry the time that was left
    // before the wait (about 1.5 s), so on a receiver that then hangs it would end about 2.5 s after the start.
    const receiver = await startOtlpReceiver();
    receiver.setFault({ kind: 'status', status: 503, retryAfterSeconds: 1 });
    const diag = captureDiag();
    diag.clear();
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: {
        protocol: 'http/json',
        url: receiver.url,
        exportTimeoutMillis: 1500,
        exportIntervalMillis: 60_000,
      },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      const flushed = handle.forceFlush({ timeoutMillis: 10_000 });
      const outcome = flushed.then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      await waitUntil('the first attempt', () => receiver.attempts >= 1, { intervalMillis: 10 });
      receiver.setFault({ kind: 'hang' });
      // The flush waits for the transport's own late end too (its forceFlush awaits every pending send), so the
      // count below is taken after the late answer came.
      expect(await outcome).toBe(
        `otel-business-metrics: forceFlush: the otlp exporter could not export to ${receiver.url}: ` +
          'no answer within the export timeout of 1500 ms',
      );
      expect(receiver.attempts).toBe(2);
      const failures = parseExposition(await handle.metrics.getMetrics()).value(
        'business_metrics_export_failures_total',
        { exporter: 'otlp' },
      );
      expect(failures).toBe(1);
      expect(diag.errors).toEqual([]);
      expect(diag.warnings).toHaveLength(1);
    } finally {
      diag.stop();
      await handle.shutdown({ timeoutMillis: 500 });
      await receiver.close();
    }
  });
});

describe('exportCause', () => {
  it('says a failure on one line: each message once, down the causes, with a code the text lacks, never a stack', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(exportCause(new Error('export failed', { cause: refused }))).toBe(
      'export failed: connect ECONNREFUSED 127.0.0.1:9',
    );
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(exportCause(reset)).toBe('socket hang up (ECONNRESET)');
    expect(exportCause(new Error('timeout', { cause: new Error('timeout') }))).toBe('timeout');
    expect(exportCause(undefined)).toBe('unknown error');
    const long = exportCause(new Error('x'.repeat(1000)));
    expect(long.length).toBeLessThanOrEqual(300);
    expect(long).not.toMatch(/\n\s+at /);
  });
});
