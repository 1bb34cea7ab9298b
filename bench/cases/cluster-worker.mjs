/**
 * A cluster worker for the cluster benchmark rows (forked by bench/cases/cluster-scrape.mjs and
 * cluster-record.mjs through node:cluster, so it is a real worker).
 *
 * Owns: the worker's workload (`scrape` rows: the same 2 x N/2 series in every variant) and, for the record
 * row, the timed recording loop run inside the worker (its CPU time). Must not touch: rounds, statistics.
 *
 * env BENCH_WORKER = JSON { variant, series, users? } (scrape rows: variant `ours` | `prom-client`; `users`:
 *                    distinct users each worker tracks) or { variant: 'record', cluster: boolean }.
 */
import cluster from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { funnelTuples, loadPackage, MASK, require } from '../lib/workload.mjs';

const config = JSON.parse(process.env.BENCH_WORKER);
const TIERS = ['free', 'pro', 'enterprise', 'team'];
export const RECORDS_PER_SERIES = 3;
const observation = (i, r) => [5, 45, 700, 4000][(i + r) % 4];

/** N/2 counter series (funnel, 4 labels) and N/2 histogram series (session duration, 2 labels). */
export function workload(series) {
  const half = series / 2;
  return {
    counters: Array.from({ length: half }, (_, i) => [`step_${i % 100}`, `source_${Math.floor(i / 100)}`]),
    histograms: Array.from({ length: half }, (_, i) => [TIERS[i % 4], `/page/${Math.floor(i / 4)}`]),
  };
}

function ours(series, cluster) {
  return oursHandle(series, cluster).metrics;
}

function oursHandle(series, cluster) {
  const pkg = loadPackage();
  const handle = pkg.initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    serviceName: 'bench',
    env: {},
    cluster,
    limits: {
      maxSeriesPerMetric: series + 10,
      labels: {
        step: { kind: 'capped', maxValues: 1000 },
        source: { kind: 'capped', maxValues: 1000 },
        user_tier: { kind: 'allow', values: TIERS },
        entry_page: { kind: 'capped', maxValues: series },
      },
    },
  });
  return handle;
}

if (config.variant === 'record') {
  // Limits far above the 144 tuples: the normal path is measured, never the overflow path.
  const handle = oursHandle(1000, config.cluster);
  const metrics = handle.metrics;
  const tuples = funnelTuples();
  let operations = 0;
  // The loop is a function of its own, optimised as a whole. Inlined in the message handler it was optimised
  // on stack (OSR) in every round and deoptimised right after the loop in cluster mode ("insufficient type
  // feedback", every round: the handler also sees the primary's collect messages), which cost 2-3 ns per call in
  // that variant alone: 1.10x measured that way, 0.99-1.01x with the loop on its own (see bench/RESULTS.md).
  const recordCalls = (first, n) => {
    for (let i = 0; i < n; i++) {
      const t = tuples[(first + i) & MASK];
      metrics.recordFunnelStep(t[0], { source: t[1], deviceType: t[2], experimentVariant: t[3] });
    }
  };
  process.on('message', (message) => {
    if (message?.bench !== 'round') return;
    const n = message.iterations;
    // CPU time, not wall time: the row asks whether cluster mode changes the recording code's cost, and on a
    // 2-core machine the worker's loop shares the cores with the primary, the runner and other jobs, so wall
    // time counts when the worker was not scheduled (0-83 ns/call measured at load 8 in cluster mode).
    const start = process.cpuUsage();
    const wallStart = performance.now();
    recordCalls(operations, n);
    const wallMs = performance.now() - wallStart;
    const cpu = process.cpuUsage(start);
    const elapsedMs = (cpu.user + cpu.system) / 1000;
    operations += n;
    process.send({ bench: 'round', elapsedMs, wallMs, operations });
    // Scraped between rounds either way: by the primary (cluster mode) or here, as Prometheus would.
    if (!config.cluster) void handle.metrics.getMetrics();
  });
} else if (config.variant === 'ours') {
  const metrics = ours(config.series, true);
  const { counters, histograms } = workload(config.series);
  const now = Date.now();
  for (let r = 0; r < RECORDS_PER_SERIES; r++) {
    counters.forEach(([step, source]) => metrics.recordFunnelStep(step, { source, deviceType: 'mobile' }));
    histograms.forEach(([userTier, entryPage], i) =>
      metrics.recordSessionEnd(now - observation(i, r) * 1000, { userTier, entryPage }),
    );
  }
  // Distinct users (the cluster-scrape-users row): worker k counts users k*U/2 .. k*U/2 + U - 1 spread over the
  // four tiers, so neighbours share half their users; the fleet has U * (workers + 1) / 2 distinct users.
  if (config.users) {
    const first = (cluster.worker.id - 1) * (config.users / 2);
    for (let i = first; i < first + config.users; i++)
      metrics.trackActiveUser(`user-${i}`, { userTier: TIERS[i % TIERS.length] });
  }
} else {
  const client = require('prom-client');
  const pkg = loadPackage();
  const M = pkg.BUSINESS_METRICS;
  // prom-client's workers answer the primary only once they construct an AggregatorRegistry themselves (as
  // its cluster example does); the primary then aggregates every worker's default registry.
  new client.AggregatorRegistry();
  const counter = new client.Counter({
    name: pkg.prometheusFamilyName(M.funnelStep),
    help: M.funnelStep.description,
    labelNames: [...M.funnelStep.labels],
  });
  const histogram = new client.Histogram({
    name: pkg.prometheusFamilyName(M.sessionDuration),
    help: M.sessionDuration.description,
    labelNames: [...M.sessionDuration.labels],
    buckets: [...M.sessionDuration.buckets],
  });
  const { counters, histograms } = workload(config.series);
  for (let r = 0; r < RECORDS_PER_SERIES; r++) {
    counters.forEach(([step, source]) =>
      counter.inc({ step, source, device_type: 'mobile', experiment_variant: 'control' }),
    );
    histograms.forEach(([user_tier, entry_page], i) =>
      histogram.observe({ user_tier, entry_page }, observation(i, r)),
    );
  }
}
process.send({ bench: 'ready' });
