/**
 * One aggregated scrape of 4 cluster workers x N series (half counters, half histograms), measured in the
 * primary: the package's cluster mode (the primary's `/metrics` handler: collect over IPC + merge + serialise)
 * and prom-client's AggregatorRegistry (`clusterMetrics()`) with the same workers and workload. Also the
 * primary's longest event-loop stall during a scrape (perf_hooks.monitorEventLoopDelay, 1 ms resolution):
 * the `cluster-loop` row.
 *
 * Owns: forking the workers (real node:cluster workers running bench/cases/cluster-worker.mjs), the scrape,
 * the self-check that the aggregate holds N series with every worker's records. Must not touch: rounds.
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BENCH_DIR } from './cluster-paths.mjs';
import { expectTotals, loadPackage, parseExposition, require, sampleTotals } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const WORKERS = 4;
const RECORDS_PER_SERIES = 3;

async function forkWorkers(config) {
  cluster.setupPrimary({ exec: join(BENCH_DIR, 'cases', 'cluster-worker.mjs') });
  const workers = Array.from({ length: WORKERS }, () =>
    cluster.fork({ BENCH_WORKER: JSON.stringify(config) }),
  );
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve, reject) => {
          worker.on('message', (message) => message?.bench === 'ready' && resolve());
          worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
        }),
    ),
  );
  return workers;
}

serveCase(async ({ variant, series, measure, users }) => {
  const pkg = loadPackage();
  let scrape;
  let shutdown = async () => undefined;
  if (variant === 'ours') {
    const handle = pkg.initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      cluster: { timeoutMillis: 5000 },
      serviceName: 'bench',
      env: {},
      // The workers' tiers (bench/cases/cluster-worker.mjs): the primary accepts the tiers its workers track.
      limits: { labels: { user_tier: { kind: 'allow', values: ['free', 'pro', 'enterprise', 'team'] } } },
    });
    await forkWorkers({ variant, series, users });
    scrape = () => handle.metrics.getMetrics();
    // Every worker's hello has arrived once the primary counts them.
    for (let i = 0; i < 200; i++) {
      if (/^business_metrics_cluster_sources\{[^}]*\} 4$/m.test(await scrape())) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    shutdown = () => handle.shutdown();
  } else {
    const client = require('prom-client');
    const registry = new client.AggregatorRegistry();
    await forkWorkers({ variant, series });
    scrape = () => registry.clusterMetrics();
  }
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let last = '';
  return {
    async round(n) {
      let elapsed = 0;
      let worstStall = 0;
      for (let i = 0; i < n; i++) {
        delay.reset();
        delay.enable();
        const start = performance.now();
        last = await scrape();
        elapsed += performance.now() - start;
        // Let the histogram's last tick land after the scrape's final synchronous work.
        await new Promise((resolve) => setTimeout(resolve, 2));
        delay.disable();
        worstStall = Math.max(worstStall, delay.max / 1e6);
      }
      return measure === 'loop' ? worstStall : elapsed / n;
    },
    async check() {
      const samples = parseExposition(last);
      const M = pkg.BUSINESS_METRICS;
      const counters = sampleTotals(samples, pkg.prometheusFamilyName(M.funnelStep));
      const histograms = sampleTotals(samples, `${pkg.prometheusFamilyName(M.sessionDuration)}_count`);
      const totals = [
        ['counter_series', counters.count, series / 2],
        ['counter_total', counters.sum, (series / 2) * RECORDS_PER_SERIES * WORKERS],
        ['histogram_series', histograms.count, series / 2],
        ['observations', histograms.sum, (series / 2) * RECORDS_PER_SERIES * WORKERS],
      ];
      if (users) {
        // The union of every worker's sketches, within 3% (HyperLogLog at precision 14: 0.81% standard error).
        const daily = samples.filter(
          (s) => s.name === 'business_active_users' && s.labels.includes('window="daily"'),
        );
        const distinct = daily.reduce((sum, s) => sum + s.value, 0);
        const expected = (users * (WORKERS + 1)) / 2;
        totals.push([
          `distinct_users(${distinct} for ${expected})_within_3pct`,
          Math.abs(distinct - expected) <= expected * 0.03,
          true,
        ]);
      }
      return expectTotals(totals);
    },
    async close() {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
      await shutdown();
    },
  };
});
