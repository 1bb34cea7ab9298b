#!/usr/bin/env node
/**
 * Cluster mode under broken and hostile peers, measured (the figures of docs/safety.md#peers). Three parts, each
 * against dist/ (`npm run build && node --expose-gc bench/peer-attack.mjs`; without --expose-gc it re-runs itself
 * with it):
 *
 * 1. malformed messages: every field of a real snapshot (and of a hello) replaced by every kind of wrong value,
 *    plus the six shapes that crashed the primary, applied to a primary's aggregate: how many were tried, refused,
 *    and thrown (must be 0);
 * 2. replaced workers: a real node:cluster primary forks `--workers` workers one after another; each records
 *    `--steps` funnel steps with hostile sources of its own through the public API, shuts down and exits. Series
 *    the primary holds and its heap, every 10 workers, and whether the total is exact;
 * 3. a flood on the thread channel: a thread posts `--hellos` invented hellos and `--snapshots` snapshots of
 *    invented sources while two real threads record: scrape time before, during and after, sources, refusals.
 *
 * Options: --workers=N (default 70), --steps=N (60), --hellos=N (200000), --snapshots=N (20000).
 * Owns: this one measurement. Must not touch: the package's sources, the rest of bench/.
 */
import cluster from 'node:cluster';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(REPO, 'dist');
const require = createRequire(import.meta.url);

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

const heapMb = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const mb = (value) => `${value.toFixed(1)} MB`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Part 1: every mutation of real messages through the primary's checks and aggregate. */
async function malformedMessages() {
  const { BusinessMetrics } = require(join(DIST, 'index.js'));
  const { ClusterAggregate } = require(join(DIST, 'cluster', 'aggregate.js'));
  const { SnapshotEncoder } = require(join(DIST, 'cluster', 'encode.js'));
  const { PROTOCOL_TAG, PROTOCOL_VERSION } = require(join(DIST, 'cluster', 'protocol.js'));
  const { checkPrimaryBound } = require(join(DIST, 'cluster', 'validate.js'));
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
  class PullReader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'));
  metrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
  metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
  metrics.recordConversion('purchase', {
    source: 'ads',
    deviceType: 'mobile',
    sessionStartTime: Date.now() - 5000,
  });
  metrics.updateActiveUsers('daily', { pro: 3 });
  const snapshot = JSON.parse(JSON.stringify(new SnapshotEncoder('w').encode(await reader.collect(), 1)));
  await provider.shutdown();
  const hello = { tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 's', threadId: 2 };
  const wrong = [
    undefined,
    null,
    true,
    0,
    -1,
    1.5,
    -1e15,
    NaN,
    Infinity,
    10n,
    '',
    '{',
    'NaN',
    'hello',
    'x'.repeat(70_000),
    [],
    [null],
    {},
    new Map([[1, 2]]),
  ];
  const messages = [];
  for (const original of [snapshot, hello]) {
    for (const path of pathsOf(original)) {
      for (const value of wrong) {
        const message = structuredClone(original);
        setAt(message, path, value);
        messages.push(message);
      }
    }
  }
  const shape = (change) => {
    const message = structuredClone(snapshot);
    change(message);
    return message;
  };
  messages.push(
    shape((m) => (m.keys = ['{not json'])),
    shape((m) => (m.keys = ['null'])),
    shape((m) => (m.keys = '["a"]')),
    shape((m) => (m.metrics = null)),
    shape((m) => (m.scopes = null)),
    shape((m) => (m.metrics[0].points = null)),
  );
  const aggregate = new ClusterAggregate();
  let refusedByChecks = 0;
  let thrown = 0;
  const started = performance.now();
  for (const message of messages) {
    try {
      const checked = checkPrimaryBound(message);
      if (checked === undefined || !checked.ok) refusedByChecks++;
      else if (checked.value.type === 'snapshot') aggregate.applyChecked(checked.value.snapshot);
    } catch {
      thrown++;
    }
  }
  const elapsed = performance.now() - started;
  let invalid = 0;
  aggregate.forEachFailure((reason, n) => (invalid += reason === 'invalid' ? n : 0));
  console.log(
    `1. malformed messages: ${messages.length.toLocaleString('en')} tried (every field of a real snapshot and a hello x ${wrong.length} wrong values, plus the 6 shapes that crashed the primary)`,
  );
  console.log(
    `   refused by the message rules: ${refusedByChecks.toLocaleString('en')}; refused in part by the aggregate (bad numbers, ids, totals going back): ${invalid.toLocaleString('en')}; thrown: ${thrown}`,
  );
  console.log(`   ${((elapsed * 1000) / messages.length).toFixed(1)} µs per message`);
  return thrown;
}

/** Part 2: replaced workers in a real node:cluster primary. */
async function replacedWorkers(workers, steps) {
  const { initBusinessMetrics, PROMETHEUS_FAMILIES, DEFAULT_LIMITS } = require(join(DIST, 'index.js'));
  const handle = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { port: 0 },
    cluster: true,
    env: {},
  });
  await handle.ready;
  const scrape = async () => (await fetch(handle.prometheus.url)).text();
  const family = PROMETHEUS_FAMILIES.funnelStep;
  const series = (text) => text.split('\n').filter((line) => line.startsWith(`${family}{`));
  const total = (text) =>
    series(text).reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  await scrape();
  const baseline = heapMb();
  console.log(
    `2. replaced workers: ${workers} in turn, each recording ${steps} funnel steps with hostile sources of its own`,
  );
  console.log(`   heap before: ${mb(baseline)}`);
  let text = '';
  for (let k = 0; k < workers; k++) {
    const worker = cluster.fork({
      PEER_ATTACK_ROLE: 'recorder',
      PEER_INDEX: String(k),
      PEER_STEPS: String(steps),
    });
    await new Promise((resolve) => worker.once('exit', resolve));
    if ((k + 1) % 10 === 0 || k + 1 === workers) {
      text = await scrape();
      console.log(
        `   after ${String(k + 1).padStart(3)} workers: ${series(text).length} ${family} series, heap ${mb(heapMb())}`,
      );
    }
  }
  const exact = total(text) === workers * steps;
  console.log(
    `   series cap ${DEFAULT_LIMITS.maxSeriesPerMetric} + the all-other series; total ${total(text)} of ${workers * steps} recorded (${exact ? 'exact' : 'NOT EXACT'}); heap growth ${mb(heapMb() - baseline)}`,
  );
  await handle.shutdown({ timeoutMillis: 1000 });
  return exact && series(text).length <= DEFAULT_LIMITS.maxSeriesPerMetric + 1;
}

/** Part 3: a flood on the thread channel while real threads record. */
async function threadFlood(hellos, snapshots) {
  const { initBusinessMetrics } = require(join(DIST, 'index.js'));
  const { THREAD_RESPONSE_CHANNEL, PROTOCOL_TAG, PROTOCOL_VERSION } = require(
    join(DIST, 'cluster', 'protocol.js'),
  );
  const handle = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    cluster: true,
    env: {},
  });
  const timeoutMillis = 1000;
  const recorder = `
    const { initBusinessMetrics } = require(${JSON.stringify(join(DIST, 'index.js'))});
    const { parentPort } = require('node:worker_threads');
    const handle = initBusinessMetrics({ exporters: ['prometheus'], cluster: true, env: {} });
    for (let i = 0; i < 100; i++) handle.metrics.recordRevenue(100, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    parentPort.on('message', () => undefined); // stay alive, answering collections, until terminated
    parentPort.postMessage('recorded');`;
  const threads = [new Worker(recorder, { eval: true }), new Worker(recorder, { eval: true })];
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('message', resolve))));
  const value = (text, pattern) => Number(pattern.exec(text)?.[1] ?? 0);
  const sources = (text) => value(text, /^business_metrics_cluster_sources(?:\{[^}]*\})? (\S+)$/m);
  const invalid = (text) =>
    value(text, /^business_metrics_cluster_collection_failures_total\{[^}]*reason="invalid"[^}]*\} (\S+)$/m);
  const timeouts = (text) =>
    value(text, /^business_metrics_cluster_collection_failures_total\{[^}]*reason="timeout"[^}]*\} (\S+)$/m);
  const timed = async () => {
    const started = performance.now();
    const text = await handle.metrics.getMetrics();
    return { text, ms: performance.now() - started };
  };
  while (sources((await timed()).text) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  const before = [];
  for (let i = 0; i < 20; i++) before.push((await timed()).ms);
  const flooder = new Worker(
    `const { BroadcastChannel, parentPort } = require('node:worker_threads');
     const channel = new BroadcastChannel(${JSON.stringify(THREAD_RESPONSE_CHANNEL)});
     const tag = ${JSON.stringify(PROTOCOL_TAG)};
     for (let i = 0; i < ${hellos}; i++) channel.postMessage({ tag, type: 'hello', version: ${PROTOCOL_VERSION}, source: 'fake-' + i, threadId: 10000 + i });
     for (let i = 0; i < ${snapshots}; i++) channel.postMessage({ tag, type: 'snapshot', version: ${PROTOCOL_VERSION}, source: 'fake-s-' + i, threadId: 900000 + i, round: 0, epoch: 0, firstKey: 0, keys: [JSON.stringify(['k', 'v' + i])], scopes: [{ name: 'fake' }], metrics: [{ scope: 0, name: 'fake_total', description: '', unit: '', valueType: 1, shape: 'counter', points: [0, 1] }] });
     parentPort.postMessage('flooded');`,
    { eval: true },
  );
  const during = [];
  let flooded = false;
  flooder.once('message', () => (flooded = true));
  const heapBefore = heapMb();
  while (!flooded) during.push((await timed()).ms);
  let last = await timed();
  const expected = hellos + snapshots;
  while (invalid(last.text) < expected) last = await timed();
  const after = [];
  for (let i = 0; i < 20; i++) {
    last = await timed();
    after.push(last.ms);
  }
  console.log(
    `3. flood on the thread channel: ${hellos.toLocaleString('en')} invented hellos and ${snapshots.toLocaleString('en')} snapshots of invented sources, 2 real threads recording (cluster.timeoutMillis ${timeoutMillis})`,
  );
  console.log(
    `   scrape median: ${median(before).toFixed(1)} ms before, ${during.length ? median(during).toFixed(1) : '-'} ms during (${during.length} scrapes, max ${during.length ? Math.max(...during).toFixed(0) : '-'} ms), ${median(after).toFixed(1)} ms after`,
  );
  console.log(
    `   sources: ${sources(last.text)}; refused as invalid: ${invalid(last.text).toLocaleString('en')}; timeouts: ${timeouts(last.text)}; heap growth ${mb(heapMb() - heapBefore)}`,
  );
  await Promise.all([...threads, flooder].map((t) => t.terminate()));
  await handle.shutdown({ timeoutMillis: 1000 });
  return sources(last.text) === 2 && timeouts(last.text) === 0;
}

function pathsOf(value, prefix = []) {
  if (typeof value !== 'object' || value === null) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...prefix, key], ...pathsOf(value[key], [...prefix, key])]);
}

function setAt(target, path, value) {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
}

async function main() {
  if (!existsSync(join(DIST, 'cluster', 'validate.js'))) {
    console.error('dist/ is missing or old: run `npm run build` first');
    process.exit(1);
  }
  const thrown = await malformedMessages();
  const capped = await replacedWorkers(option('workers', 70), option('steps', 60));
  const heard = await threadFlood(option('hellos', 200_000), option('snapshots', 20_000));
  if (thrown > 0 || !capped || !heard) {
    console.error(
      'FAILED: a message threw, the series cap or the total did not hold, or a fake source was heard',
    );
    process.exit(1);
  }
  process.exit(0);
}

if (cluster.isWorker) {
  // A replaced worker: records hostile sources through the public API, shuts down (final snapshot), exits.
  const { initBusinessMetrics } = require(join(DIST, 'index.js'));
  const handle = initBusinessMetrics({ exporters: ['prometheus'], cluster: true, env: {} });
  const k = process.env.PEER_INDEX;
  for (let i = 0; i < Number(process.env.PEER_STEPS); i++) {
    handle.metrics.recordFunnelStep('cart_view', { source: `w${k}-utm-${i}`, deviceType: 'mobile' });
  }
  await handle.shutdown();
  process.exit(0);
} else if (typeof globalThis.gc !== 'function') {
  const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), { execArgv: ['--expose-gc'] });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
