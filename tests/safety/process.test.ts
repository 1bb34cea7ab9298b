/**
 * The package never hurts the host process: shutdown flushes everything (collector up) or returns by its
 * deadline (collector dead or hanging) and the process then ends by itself; SIGTERM/SIGINT hooks flush and let
 * the process end exactly as it would have; a Prometheus port in use rejects `ready` with host and port named,
 * and the app keeps running. Real child processes, real sockets.
 */
import { createServer, type Server } from 'node:net';
import { initBusinessMetrics } from '../../src';
import {
  metricsOf,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedRequest,
} from '../support/otlp-receiver';
import { bundleFixture, cleanUpChildren, startChild } from './support/child';
import { EXPECTED_TOTALS } from './fixtures/known-workload';

/** The latest cumulative total per instrument: counter sums, histogram counts. */
function latestTotals(requests: ReceivedRequest[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const metric of metricsOf(requests)) {
    if (metric.sum) {
      totals[metric.name] = metric.sum.dataPoints.reduce((s, p) => s + Number(p.asDouble ?? p.asInt ?? 0), 0);
    } else if (metric.histogram) {
      totals[metric.name] = metric.histogram.dataPoints.reduce((s, p) => s + Number(p.count), 0);
    }
  }
  return totals;
}

function expectEveryValue(receiver: OtlpReceiver): void {
  const totals = latestTotals(receiver.requests);
  for (const [name, expected] of Object.entries(EXPECTED_TOTALS))
    expect({ name, total: totals[name] }).toEqual({ name, total: expected });
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let recorder: string;
let receiver: OtlpReceiver;
beforeAll(() => {
  recorder = bundleFixture('recorder');
});
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(() => receiver.close());
afterAll(cleanUpChildren);

describe('shutdown', () => {
  it('with the collector up: nothing recorded before shutdown is lost, and the process ends by itself', async () => {
    const result = await startChild(recorder, ['shutdown', receiver.url]).exited;
    expect(result.stderr).toBe('');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expect(result.stdout).toContain('SHUTDOWN-DONE');
    expectEveryValue(receiver);
  });

  it.each([
    ['hangs', 'hang'],
    ['is not listening', 'dead'],
  ])(
    'returns by its deadline when the collector %s, and the process then ends by itself',
    async (_, kind) => {
      let url = receiver.url;
      if (kind === 'hang') receiver.setFault({ kind: 'hang' });
      else url = `http://127.0.0.1:${await deadPort()}/v1/metrics`;
      const result = await startChild(recorder, ['deadline', url]).exited;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      const returnedAfter = Number(/SHUTDOWN-RETURNED (\d+)/.exec(result.stdout)?.[1]);
      const exitedAfter = Number(/EXITED (\d+)/.exec(result.stdout)?.[1]);
      // The export in flight would give up only at its 10-minute export timeout (the fixture's): a shutdown or a
      // process that waited for it would outlive this test's timeout, so no wall-clock bound of ours is needed.
      // Shutdown returned, and the process ended after it, by itself.
      expect(returnedAfter).toBeGreaterThanOrEqual(0);
      expect(exitedAfter).toBeGreaterThanOrEqual(returnedAfter);
    },
  );
});

describe('installShutdownHooks', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s flushes every value and then the process dies by that signal, as without the hook',
    async (signal) => {
      const child = startChild(recorder, ['sigterm', receiver.url]);
      await child.waitForLine(/^READY$/);
      child.process.kill(signal);
      const result = await child.exited;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: null, signal });
      expectEveryValue(receiver);
    },
  );

  it('leaves the exit to the app when the app listens for SIGTERM itself (and still flushes)', async () => {
    const child = startChild(recorder, ['sigterm-app-listener', receiver.url]);
    await child.waitForLine(/^READY$/);
    child.process.kill('SIGTERM');
    const result = await child.exited;
    expect(result.stdout).toContain('APP-SIGTERM');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expectEveryValue(receiver);
  });
});

describe('Prometheus port already in use', () => {
  let blocker: Server;
  let port: number;
  beforeEach(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterEach(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('rejects ready with a message naming host and port; recording and getMetrics() keep working', async () => {
    const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port }, env: {} });
    try {
      await expect(handle.ready).rejects.toThrow(`127.0.0.1:${port}`);
      await expect(handle.ready).rejects.toThrow(/address already in use/);
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      expect(await handle.metrics.getMetrics()).toMatch(
        /^business_funnel_step_total\{step="cart_view".* 1$/m,
      );
    } finally {
      await handle.shutdown({ timeoutMillis: 1000 });
    }
  });

  it('does not crash an app that never handles ready: it keeps working, says once on stderr which port to change, and exits 0', async () => {
    const result = await startChild(bundleFixture('port-in-use'), ['127.0.0.1', String(port)]).exited;
    expect(result.stderr).not.toMatch(/Unhandled|ERR_UNHANDLED_REJECTION/);
    // No OTEL_LOG_LEVEL and no diag logger of the app's: the package's default logger still says it, once.
    expect(result.stderr.trim().split('\n')).toEqual([
      `otel-business-metrics: Prometheus exporter could not listen on 127.0.0.1:${port}: address already in use ` +
        '(EADDRINUSE); choose another port (initBusinessMetrics: prometheus.port or OTEL_EXPORTER_PROMETHEUS_PORT, ' +
        'PrometheusPullReader: port; 0 picks a free one) or stop what listens there',
    ]);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    const [, recorded, exposed] = /RECORDED (\d+) EXPOSED (\d+)/.exec(result.stdout) ?? [];
    expect(Number(recorded)).toBeGreaterThan(20);
    expect(Number(exposed)).toBe(Number(recorded));
  });
});
