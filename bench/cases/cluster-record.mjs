/**
 * recordFunnelStep inside a node:cluster worker with cluster mode on (the primary collecting from it between
 * rounds, as scrapes would), against the same worker without cluster mode: the hot path must not change. The
 * worker's CPU time of its loop per call (cluster-worker.mjs says why not wall time; the wall-clock median is in
 * the check's detail).
 *
 * Owns: forking the one worker (bench/cases/cluster-worker.mjs runs the timed loop itself, so IPC never
 * counts), the primary's collection between rounds, the self-check of the totals. Must not touch: rounds.
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import { BENCH_DIR } from './cluster-paths.mjs';
import { expectTotals, loadPackage, parseExposition, sampleTotals } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

serveCase(async ({ variant, calls }) => {
  const pkg = loadPackage();
  const clustered = variant === 'cluster-worker';
  const handle = clustered
    ? pkg.initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus: { preventServerStart: true },
        cluster: { timeoutMillis: 5000 },
        serviceName: 'bench',
        env: {},
      })
    : undefined;
  cluster.setupPrimary({ exec: join(BENCH_DIR, 'cases', 'cluster-worker.mjs') });
  const worker = cluster.fork({ BENCH_WORKER: JSON.stringify({ variant: 'record', cluster: clustered }) });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.bench !== type) return;
        worker.off('message', onMessage);
        resolve(message);
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    });
  await next('ready');
  let recorded = 0;
  const wallNsPerCall = [];
  const wall = () => {
    const sorted = [...wallNsPerCall].sort((a, b) => a - b);
    return `wall ${sorted.length ? sorted[sorted.length >> 1].toFixed(1) : '?'} ns/call`;
  };
  return {
    // A fixed number of calls per round, timed inside the worker (a calibration from here would count IPC).
    async round() {
      const n = calls;
      worker.send({ bench: 'round', iterations: n });
      const { elapsedMs, wallMs, operations } = await next('round');
      recorded = operations;
      wallNsPerCall.push((wallMs * 1e6) / n);
      // Collect from the worker between rounds, as scrapes would (not awaited: it must not count in the
      // calibration of the round length; the worker answers once its timed loop is done).
      if (handle) void handle.metrics.getMetrics();
      return (elapsedMs * 1e6) / n;
    },
    async check() {
      if (!handle)
        return { ok: true, detail: `recorded=${recorded}, ${wall()} (no cluster mode: nothing to collect)` };
      const exposition = await handle.metrics.getMetrics();
      const total = sampleTotals(
        parseExposition(exposition),
        pkg.prometheusFamilyName(pkg.BUSINESS_METRICS.funnelStep),
      );
      const checked = expectTotals([['aggregate_funnel_total', total.sum, recorded]]);
      return { ...checked, detail: `${checked.detail}, ${wall()}` };
    },
    async close() {
      worker.kill();
      await handle?.shutdown();
    },
  };
});
