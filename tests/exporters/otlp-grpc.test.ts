/**
 * src/exporters/otlp-grpc.ts: the optional gRPC stack, loaded only when grpc is asked for. Present, the Export
 * call reaches a real grpc-js server with headers as metadata and gzip on; absent (as after
 * `npm install --omit=optional`) and asked for in code, init throws an error naming the package and how to
 * install it; absent and asked for by OTEL_EXPORTER_OTLP_PROTOCOL, init warns once and sends http/protobuf.
 * Real sockets, and child processes running the built package with the package hidden from require.
 */
import { initBusinessMetrics } from '../../src';
import { runNode, startCapture, startGrpcCapture } from './otlp-peers';

describe('OTLP over gRPC', () => {
  it('sends the Export call with headers as metadata (gzip on) to a real grpc-js server', async () => {
    // grpc-js decompresses before the handler sees the call, so gzip shows only as a call that still decodes.
    const receiver = await startGrpcCapture();
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: {
        protocol: 'grpc',
        url: receiver.url,
        headers: { 'X-Tenant': 'shop' },
        compression: 'gzip',
        exportIntervalMillis: 60_000,
      },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await handle.forceFlush();
      expect(receiver.captured).toEqual([{ tenant: 'shop', body: expect.any(Buffer) }]);
      expect(receiver.captured[0].body.length).toBeGreaterThan(50);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      receiver.close();
    }
  });
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
