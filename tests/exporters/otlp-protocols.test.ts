/**
 * The three OTLP protocols through the official exporters, without a Collector (the real Collector is in
 * tests/push/): what goes on the wire for each, failures counted on each, shutdown by its deadline on each even
 * when the receiver accepts connections and never answers (the process then ends by itself), and the optional
 * gRPC package: absent and asked for in code = a clear error naming it; absent and asked for by the environment
 * = a warning and http/protobuf. Real sockets and real child processes running the built package.
 */
import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import type { OtlpProtocol } from '../../src/config/options';
import { parseExposition } from '../support/exposition';

const DIST = join(__dirname, '../../dist/index.js');

interface Captured {
  headers: IncomingHttpHeaders;
  bytes: number;
}

/** An HTTP server that keeps what arrives and answers 200 (an empty body is a valid OTLP success response). */
async function startCapture(): Promise<{ url: string; captured: Captured[]; close(): Promise<void> }> {
  const captured: Captured[] = [];
  const server = createHttpServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      captured.push({ headers: req.headers, bytes });
      res.writeHead(200, { 'content-type': String(req.headers['content-type']) }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    captured,
    close: () => {
      server.closeAllConnections(); // the exporters keep connections alive
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that accepts every connection and never says a word: a Collector that is stopped or wedged. */
async function startSilent(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function urlFor(protocol: OtlpProtocol, port: number): string {
  return protocol === 'grpc' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/metrics`;
}

const PROTOCOLS: OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

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

describe('OTLP over gRPC', () => {
  it('sends the Export call with headers as metadata (gzip on) to a real grpc-js server', async () => {
    // The grpc-js the optional exporter uses; raw bytes in, an empty ExportMetricsServiceResponse out.
    const grpc = require(
      require.resolve('@grpc/grpc-js', {
        paths: [require.resolve('@opentelemetry/exporter-metrics-otlp-grpc')],
      }),
    ) as typeof import('@grpc/grpc-js');
    // grpc-js decompresses before the handler sees the call, so gzip shows only as a call that still decodes.
    const received: Array<{ tenant: unknown; bytes: number }> = [];
    const server = new grpc.Server();
    const identity = (value: Buffer) => value;
    server.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        Export(
          call: { request: Buffer; metadata: { get(key: string): unknown[] } },
          callback: (error: null, response: Buffer) => void,
        ) {
          received.push({
            tenant: call.metadata.get('x-tenant')[0],
            bytes: call.request.length,
          });
          callback(null, Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: {
        protocol: 'grpc',
        url: `http://127.0.0.1:${port}`,
        headers: { 'X-Tenant': 'shop' },
        compression: 'gzip',
        exportIntervalMillis: 60_000,
      },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await handle.forceFlush();
      expect(received).toEqual([{ tenant: 'shop', bytes: expect.any(Number) }]);
      expect(received[0].bytes).toBeGreaterThan(50);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      server.forceShutdown();
    }
  });
});

describe.each(PROTOCOLS)('OTLP %s failures', (protocol) => {
  it('are counted in business_metrics_export_failures_total, never reach the recording app, and an explicit forceFlush is told', async () => {
    const url = urlFor(protocol, await closedPort());
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { protocol, url, exportTimeoutMillis: 300, exportIntervalMillis: 60_000 },
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await expect(handle.forceFlush({ timeoutMillis: 3000 })).rejects.toThrow(
        `otel-business-metrics: forceFlush: the otlp exporter could not export to ${url}: `,
      );
      const failures = parseExposition(await handle.metrics.getMetrics()).value(
        'business_metrics_export_failures_total',
        { exporter: 'otlp' },
      );
      expect(failures).toBe(1);
    } finally {
      await handle.shutdown({ timeoutMillis: 500 });
    }
  });
});

/**
 * Runs `script` in a fresh Node process against the built package (asynchronously: the servers it talks to live
 * in this process); resolves with its output and exit status (killed after 30 s: no status).
 */
function runNode(script: string, args: string[] = []) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['-e', script, DIST, ...args],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, OTEL_METRICS_EXPORTER: '' } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

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
});

describe('the optional gRPC package', () => {
  // Makes the optional package unresolvable, as in an install with --omit=optional (its files too: a package
  // whose package.json resolves is installed, and a failure to load it is a broken install, not a missing one).
  const hideGrpc = `
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (/^@opentelemetry\\/exporter-metrics-otlp-grpc(\\/|$)/.test(request)) {
        throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
      }
      return resolve.call(this, request, ...rest);
    };`;

  it('absent and asked for in code: init throws an error naming the package', async () => {
    const result = await runNode(`${hideGrpc}
      const { initBusinessMetrics } = require(process.argv[1]);
      try {
        initBusinessMetrics({ exporters: ['otlp'], otlp: { protocol: 'grpc' }, env: {} });
        console.log('no error');
      } catch (error) { console.log('error:', error.message); }`);
    expect(result.stdout).toMatch(
      /error: .*otlp.protocol 'grpc' needs the optional package @opentelemetry\/exporter-metrics-otlp-grpc/,
    );
    expect(result.stdout).toContain('npm install @opentelemetry/exporter-metrics-otlp-grpc');
  });

  it('absent and asked for by OTEL_EXPORTER_OTLP_PROTOCOL: init warns once and sends http/protobuf', async () => {
    const capture = await startCapture();
    try {
      const result = await runNode(
        `${hideGrpc}
        const { initBusinessMetrics } = require(process.argv[1]);
        const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: process.argv[2] };
        const handle = initBusinessMetrics({ exporters: ['otlp'], env });
        handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
        handle.shutdown({ timeoutMillis: 3000 }).then(() => console.log('done'));`,
        [capture.url],
      );
      expect(result.stdout).toContain('done');
      const warnings = result.stderr.match(/OTEL_BUSINESS_METRICS_CONFIG/g) ?? [];
      expect(warnings).toHaveLength(1);
      expect(result.stderr).toMatch(
        /METRICS_\]PROTOCOL=grpc needs the optional package @opentelemetry\/exporter-metrics-otlp-grpc.*using http\/protobuf/,
      );
      expect(capture.captured.map((request) => request.headers['content-type'])).toEqual([
        'application/x-protobuf',
      ]);
    } finally {
      await capture.close();
    }
  });
});
