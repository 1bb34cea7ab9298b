/**
 * A person's mistakes are said at start-up, and failures that need a person are said once, loudly enough to be
 * seen with no logging set up (issue 25): unknown option keys and options of an unselected exporter throw at
 * init; an OTLP URL in code follows the environment's rule; the first export failure of an exporter is one
 * diag warning with exporter, URL and cause (no stack), whether or not OTEL_LOG_LEVEL is set, and
 * OTEL_LOG_LEVEL=error silences it; forceFlush and shutdown name the exporter and URL they wait for; an explicit
 * forceFlush rejects when its export failed, naming exporter, URL and cause, and shutdown says its final export
 * failed (the periodic path stays at the one rate-limited warning).
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createServer, type Server, type Socket } from 'node:net';
import { businessMetrics, initBusinessMetrics } from '../../src';
import { bundleFixture, cleanUpChildren, startChild } from '../safety/support/child';
import { freePort } from '../support/prometheus-server';
import { join } from 'node:path';

afterAll(() => cleanUpChildren());

describe('initBusinessMetrics refuses what it would silently ignore', () => {
  it('an unknown key, naming it and the nearest option (what TypeScript says; JavaScript callers get it here)', () => {
    expect(() => initBusinessMetrics({ exporter: ['prometheus'] } as never)).toThrow(
      'initBusinessMetrics: unknown option "exporter"; did you mean "exporters"?',
    );
    expect(() =>
      initBusinessMetrics({ exporters: ['prometheus'], prometheus: { prot: 0 } } as never),
    ).toThrow('unknown option "prometheus.prot"; did you mean "prometheus.port"?');
  });

  it('prometheus options without a prometheus exporter (no endpoint would start), saying where the list came from', () => {
    expect(() => initBusinessMetrics({ prometheus: { port: 9483 }, env: {} })).toThrow(
      "prometheus options are given, but the exporters are otlp (the default, as neither the exporters option nor OTEL_METRICS_EXPORTER is set), so no Prometheus endpoint would start: add 'prometheus' to exporters, or remove the prometheus options",
    );
    expect(() =>
      initBusinessMetrics({ exporters: ['console'], prometheus: { port: 9483 }, env: {} }),
    ).toThrow('the exporters are console (the exporters option)');
    // When OTEL_METRICS_EXPORTER chose the list, it is a warning instead (tests/config/options.test.ts): an OTEL_*
    // value never makes init throw.
  });

  it('an OTLP URL in code that is not an http(s) URL, as the same value in OTEL_EXPORTER_OTLP_ENDPOINT is', () => {
    for (const url of ['localhost:4318', 'collector:4318/v1/metrics', 'ftp://collector/v1/metrics', '']) {
      expect(() => initBusinessMetrics({ exporters: ['otlp'], otlp: { url }, env: {} })).toThrow(
        `otlp.url must be an http:// or https:// URL, e.g. http://localhost:4318/v1/metrics (got ${JSON.stringify(url)})`,
      );
    }
  });

  it('leaves no live handle behind when it refuses, so the corrected call works', async () => {
    expect(() => initBusinessMetrics({ exporters: ['none'], limits: { maxSeries: 5 } } as never)).toThrow(
      'did you mean "limits.maxSeriesPerMetric"?',
    );
    const handle = initBusinessMetrics({ exporters: ['none'], limits: { maxSeriesPerMetric: 5 }, env: {} });
    await handle.shutdown();
  });
});

describe('export failures are said once, with exporter, URL and cause', () => {
  it('without OTEL_LOG_LEVEL or any diag logger: the first failure is one warning line on stderr (no stack, nothing from the hot path), each forceFlush rejects, shutdown says its final export failed', async () => {
    const port = await freePort(); // nothing listens there
    const url = `http://127.0.0.1:${port}/v1/metrics`;
    const fixture = bundleFixture('failing-export', join(__dirname, 'fixtures'));
    const result = await startChild(fixture, [url], 30_000, { OTEL_LOG_LEVEL: '' }).exited;
    const where = url.replace(/[.]/g, '\\.');
    const stdout = result.stdout.trim().split('\n');
    expect(stdout).toHaveLength(4);
    for (const line of stdout.slice(0, 3)) {
      expect(line).toMatch(
        new RegExp(
          `^FLUSH otel-business-metrics: forceFlush: the otlp exporter could not export to ${where}: .*ECONNREFUSED`,
        ),
      );
    }
    expect(stdout[3]).toBe('DONE');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^otel-business-metrics: the otlp exporter could not export to ${where}: .*ECONNREFUSED`),
    );
    expect(lines[0]).toContain(
      'counted in business_metrics_export_failures_total; said again at most once a minute; OTEL_LOG_LEVEL=error (or your own diag logger) silences these warnings',
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^otel-business-metrics: shutdown: the final export failed: the otlp exporter could not export to ${where}: .*ECONNREFUSED.*; what was recorded since its last successful export did not reach it$`,
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(result.stderr).not.toContain('amountCents'); // the recording path stays quiet
  });

  it('OTEL_LOG_LEVEL=error silences it, as the warning says', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1/metrics`;
    const fixture = bundleFixture('failing-export', join(__dirname, 'fixtures'));
    const result = await startChild(fixture, [url], 30_000, { OTEL_LOG_LEVEL: 'error' }).exited;
    expect(result.stdout.trim().split('\n').pop()).toBe('DONE');
    expect(result.stderr).toBe('');
  });
});

describe('an explicit forceFlush tells its caller when its export failed (the periodic path only warns)', () => {
  /** A push exporter of the app's own that fails the exports it is told to. */
  class ScriptedExporter implements PushMetricExporter {
    readonly results: ExportResult[] = [];
    export(_metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
      done(this.results.shift() ?? { code: ExportResultCode.SUCCESS });
    }
    forceFlush = () => Promise.resolve();
    shutdown = () => Promise.resolve();
  }

  it('rejects naming the exporter, its URL and the cause against a refusing port, and the error keeps the cause', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1/metrics`; // nothing listens there
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { url, exportIntervalMillis: 60_000, exportTimeoutMillis: 2000 },
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      const error = (await handle.forceFlush().then(
        () => undefined,
        (rejected: unknown) => rejected,
      )) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toMatch(
        new RegExp(
          `^otel-business-metrics: forceFlush: the otlp exporter could not export to ${url.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`,
        ),
      );
      // The transport's own error, for code that wants more than the message (another realm's Error under jest).
      expect(error.cause).toMatchObject({ message: expect.any(String) });
    } finally {
      await handle.shutdown({ timeoutMillis: 500 });
    }
  });

  it("names an app's own exporter by its class, resolves again once exports succeed, and leaves failures of earlier exports out", async () => {
    const scripted = new ScriptedExporter();
    const handle = initBusinessMetrics({ exporters: [scripted], env: { OTEL_LOG_LEVEL: 'none' } });
    try {
      scripted.results.push({ code: ExportResultCode.FAILED, error: new Error('quota exceeded') });
      await expect(handle.forceFlush()).rejects.toThrow(
        'otel-business-metrics: forceFlush: the ScriptedExporter exporter could not export: quota exceeded',
      );
      await expect(handle.forceFlush()).resolves.toBeUndefined();
    } finally {
      await handle.shutdown();
    }
  });
});

describe('in a cluster primary, which pushes the aggregate, the same', () => {
  it('shutdown says its final push failed, naming the exporter and the cause', async () => {
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => undefined,
        warn: (message) => warnings.push(message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    const failing: PushMetricExporter = {
      export: (_metrics: ResourceMetrics, done: (result: ExportResult) => void) =>
        done({ code: ExportResultCode.FAILED, error: new Error('quota exceeded') }),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    try {
      const handle = initBusinessMetrics({ exporters: [failing], cluster: true, env: {} });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await handle.shutdown({ timeoutMillis: 2000 });
      expect(warnings).toContain(
        'otel-business-metrics: shutdown: the final export failed: the custom exporter could not export: ' +
          'quota exceeded; what was recorded since its last successful export did not reach it',
      );
    } finally {
      diag.disable();
    }
  });
});

describe('forceFlush and shutdown name what they wait for', () => {
  let server: Server;
  let url: string;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: an export is in flight until its own timeout.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/metrics`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('forceFlush rejects naming the exporter and its URL when the export outlives the deadline', async () => {
    const handle = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { url, exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await expect(handle.forceFlush({ timeoutMillis: 200 })).rejects.toThrow(
        `otel-business-metrics: forceFlush did not finish within 200 ms: still waiting for the otlp exporter (${url})`,
      );
    } finally {
      await handle.shutdown({ timeoutMillis: 200 });
    }
  });

  it('shutdown still resolves by its deadline, and its diag error names the exporter and URL', async () => {
    const errors: string[] = [];
    diag.setLogger(
      {
        error: (message) => errors.push(message),
        warn: () => undefined,
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
    );
    try {
      const handle = initBusinessMetrics({
        exporters: ['otlp'],
        otlp: { url, exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 },
        env: {},
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      await expect(handle.shutdown({ timeoutMillis: 200 })).resolves.toBeUndefined();
      expect(errors.filter((message) => message.includes('shutdown did not complete cleanly'))).toEqual([
        `otel-business-metrics: shutdown did not complete cleanly: shutdown did not finish within 200 ms: still waiting for the otlp exporter (${url})`,
      ]);
    } finally {
      diag.disable();
    }
  });

  it("with OTEL_SDK_DISABLED, the app's calls are a deliberate no-op: no before-init warning", async () => {
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const handle = initBusinessMetrics({ env: { OTEL_SDK_DISABLED: 'true' } });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      expect(
        warnings.mock.calls.filter(([message]) => String(message).includes('before initBusinessMetrics')),
      ).toEqual([]);
      await handle.shutdown();
    } finally {
      warnings.mockRestore();
    }
  });
});
