/**
 * The package never hurts the host process: shutdown flushes everything (collector up) or returns by its
 * deadline (collector dead or hanging) and the process then ends by itself; a Prometheus port in use rejects
 * `ready` with host and port named, and the app keeps running. Real child processes, real sockets. (That the
 * SIGTERM/SIGINT hooks flush and let the process end exactly as it would have is tests/lifecycle.test.ts's.)
 */
import { createServer, type Server } from 'node:net';
import { initBusinessMetrics } from '../../src';
import { bundleFixture, startChild } from './support/child';
import { expectEveryValue, useRecorderChild } from './support/recorder-child';

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const setup = useRecorderChild();

describe('shutdown', () => {
  it('with the collector up: nothing recorded before shutdown is lost, and the process ends by itself', async () => {
    const result = await startChild(setup.recorder, ['shutdown', setup.receiver.url]).exited;
    expect(result.stderr).toBe('');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expect(result.stdout).toContain('SHUTDOWN-DONE');
    expectEveryValue(setup.receiver);
  });

  it.each([
    ['hangs', 'hang'],
    ['is not listening', 'dead'],
  ])(
    'returns by its deadline when the collector %s, and the process then ends by itself',
    async (_, kind) => {
      let url = setup.receiver.url;
      if (kind === 'hang') setup.receiver.setFault({ kind: 'hang' });
      else url = `http://127.0.0.1:${await deadPort()}/v1/metrics`;
      const result = await startChild(setup.recorder, ['deadline', url]).exited;
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
