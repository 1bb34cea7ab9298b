#!/usr/bin/env node
/**
 * The benchmark suite of issue 4: `npm run bench` (full, a few minutes), `npm run bench:quick` (about a minute),
 * `npm run bench:quick -- --smoke` (CI: tiny rounds, checks that every case runs and self-checks; no timing
 * is asserted). Options: `--only=funnel,scrape-counters` to run some rows, `--no-build` to use dist/ as it is,
 * `--dist=DIR` to measure another build of src/ (e.g. `npx tsc -p tsconfig.build.json --outDir DIR`),
 * `--baseline=<git-ref>` / `--no-baseline` to choose the previous build every row of ours is also measured
 * against (default: the last `v*` tag, see bench/lib/baseline.mjs; none in smoke mode).
 *
 * Owns: the rows and their targets, one fresh `node --expose-gc` process per case, interleaved rounds (every
 * variant of a row takes its round in turn, so load from other processes on the machine hits all variants
 * alike), statistics, ratios, the Markdown tables and bench/results/*.json. Must not touch: what a case does
 * (bench/cases/), the package's sources.
 *
 * Exit code: 1 when any case FAILED (an error, or totals that do not match what was recorded); a target that is
 * not met is reported, never an error: timings on shared machines are not assertions. A case of the baseline
 * that fails is reported but does not fail the run (the baseline is not under test; a case may use an API it
 * does not have yet).
 *
 * Baseline: every variant of ours (`ours`, `ours-prometheus`, the host app's `metrics-on`, ...) gets a twin
 * `<variant>@baseline` that runs the same case code against the previous build's dist/, in its own process,
 * interleaved with the others; the report gives this build / previous build per variant.
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBaseline, resolveBaseline } from './lib/baseline.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = join(BENCH, '..');

// ------------------------------------------------------------------------------------------------- the plan
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const MODE = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full';

/** How much each mode measures. Every mode keeps >= 7 measured rounds; smoke makes them tiny. */
const MODES = {
  full: {
    webReplicas: 9,
    warmup: 5,
    warmupMs: 1000,
    rounds: 15,
    roundMs: 100,
    scrapeWarmup: 2,
    scrapeRounds: 9,
    scrapeSeries: 10_000,
    heapSeries: 10_000,
    heapRounds: 7,
    hostileValues: 1_000_000,
    hostileScrapes: 100,
    hostRounds: 9,
    hostRequests: 40_000,
    clusterSeries: 2_500,
    clusterRecordCalls: 500_000,
    clusterUsers: 4_000,
  },
  quick: {
    webReplicas: 6,
    warmup: 2,
    warmupMs: 300,
    rounds: 7,
    roundMs: 30,
    scrapeWarmup: 1,
    scrapeRounds: 7,
    scrapeSeries: 10_000,
    heapSeries: 10_000,
    heapRounds: 7,
    hostileValues: 1_000_000,
    hostileScrapes: 100,
    hostRounds: 7,
    hostRequests: 20_000,
    clusterSeries: 2_500,
    clusterRecordCalls: 500_000,
    clusterUsers: 4_000,
  },
  smoke: {
    webReplicas: 2,
    warmup: 1,
    warmupMs: 0,
    rounds: 7,
    roundMs: 2,
    scrapeWarmup: 0,
    scrapeRounds: 7,
    scrapeSeries: 500,
    heapSeries: 500,
    heapRounds: 7,
    hostileValues: 20_000,
    hostileScrapes: 10,
    hostRounds: 7,
    hostRequests: 200,
    clusterSeries: 200,
    clusterRecordCalls: 5_000,
    clusterUsers: 400,
  },
};
const PLAN = MODES[MODE];

/** The previous build every variant of ours is measured against, once main() has built it (or undefined). */
let BASELINE;
const BASELINE_SUFFIX = '@baseline';
const isBaseline = (name) => name.endsWith(BASELINE_SUFFIX);
/** The variants of a row plus, when a baseline is measured, a baseline twin of each variant of ours. */
const withBaseline = (names, ours = (name) => name.startsWith('ours')) =>
  BASELINE ? [...names, ...names.filter(ours).map((name) => `${name}${BASELINE_SUFFIX}`)] : names;
/** Whether the baseline build has cluster mode (builds before 0.2.0 do not): cluster rows get a twin only then. */
const baselineHasCluster = () =>
  BASELINE !== undefined && existsSync(join(BASELINE.dist, 'cluster', 'index.js'));
/** The environment of a case process: a baseline twin loads the previous build's dist/. */
const caseEnv = (name) => (isBaseline(name) ? { ...process.env, BENCH_DIST: BASELINE.dist } : process.env);

/**
 * Warm-up rounds of the replicated rows whose operation takes 0.1-1 us (the hooks and ready-Response web rows):
 * half the usual warm-up time (500 ms in full mode, millions of operations after calibration's own), so nine
 * processes per variant keep the rows' time near what one process took.
 */
const HOT_WARMUP = Math.max(PLAN.warmup, Math.ceil(PLAN.warmupMs / PLAN.roundMs));
const vsProm = (max) => ({ against: 'prom-client', max });
const vsFloor = (max) => ({ against: 'map-floor', max });
const RECORD_VARIANTS = ['ours', 'prom-client', 'raw-sdk', 'raw-sdk-2-readers', 'map-floor'];

/**
 * A web adapter row (above ROWS: the comment on the web rows says how they are measured). `measure` undefined: the
 * whole request (`inject` / `fetch`); 'hooks' or 'ready': the narrowed request path, warmed up for half the time.
 */
function webRow(framework, title, measure) {
  return {
    id: measure ? `web-${framework}-${measure}` : `web-${framework}`,
    title: `${title}: per-request cost of the adapter's HTTP metrics over an empty hook`,
    script: 'cases/web-frameworks.mjs',
    unit: 'ns CPU/request',
    clock: 'cpu',
    replicas: PLAN.webReplicas,
    rounds: PLAN.rounds,
    roundMs: PLAN.roundMs / 2,
    sameIterations: true,
    variants: ['ours', 'hook', 'none', 'hook-again'],
    // 0.1.0, the usual previous build, has none of these entry points: its twins could only fail.
    noBaseline: true,
    // `none` (what running a hook at all costs, beside the target) in one process: no difference reads it.
    once: ['none'],
    params: measure ? { framework, measure } : { framework },
    ...(measure ? { warmup: HOT_WARMUP } : {}),
    // A framework's first requests are slow (JIT): calibrating from 1 would leave rounds of one cold request.
    minIterations: MODE === 'smoke' ? 4 : 512,
    // `noise`: hook-again - hook, an A/A difference; when its interval reaches past -+300 ns the row cannot say.
    targets: [{ against: 'hook', maxDifference: 300, noise: ['hook-again', 'hook'] }],
  };
}

/**
 * Every row of the issue's target table. `subject` is what the targets are about; the other variants are the
 * side-by-side references measured in the same run.
 */
const ROWS = [
  {
    id: 'funnel',
    title: 'recordFunnelStep (4 labels, guard included)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: RECORD_VARIANTS,
    targets: [vsProm(0.2), vsFloor(5)],
  },
  {
    id: 'feature',
    title: 'recordFeatureUsage (3 labels)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: RECORD_VARIANTS,
    targets: [vsProm(0.2), vsFloor(5)],
  },
  {
    id: 'conversion',
    title: 'recordConversion (counter + histogram; floor: 2 Map increments)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: RECORD_VARIANTS,
    targets: [vsProm(0.2), vsFloor(5)],
  },
  {
    id: 'revenue',
    title: 'recordRevenue (counter + histogram + rolling minute)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: RECORD_VARIANTS,
    targets: [vsProm(1.0)],
  },
  {
    id: 'revenue-currency',
    title:
      'recordRevenue with a currency (USD/EUR/JPY/KWD) vs the seed call without one (same updates), this build and the previous',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: ['ours', 'ours-seed-call'],
    // The issue's target is the previous build's cost of the seed call ("today's cost"); without a baseline
    // the same build's seed call stands in (`insteadOf`: only then). With a baseline, this build's own seed call
    // is a variant to read, not a target: the call with a currency does more (one of four codes looked up, an
    // integer check, four times the series), 72-79 vs 81-84 ns here.
    targets: [
      { against: 'ours-seed-call', max: 1.1, insteadOf: 'ours-seed-call@baseline' },
      { against: 'ours-seed-call@baseline', max: 1.1 },
    ],
  },
  {
    id: 'session',
    title: 'recordSessionEnd (histogram)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: RECORD_VARIANTS,
    targets: [vsProm(1.0)],
  },
  {
    id: 'exporters',
    title: 'Prometheus + OTLP exporters vs Prometheus alone (recordFunnelStep)',
    script: 'cases/record.mjs',
    unit: 'ns/call',
    variants: ['ours-prometheus+otlp', 'ours-prometheus', 'raw-sdk-2-readers', 'raw-sdk'],
    targets: [{ against: 'ours-prometheus', max: 1.1 }],
  },
  {
    id: 'exemplars',
    // With `--baseline f2a7393` (the build before exemplars), `ours` vs `ours@baseline` is the issue's check:
    // recording without a trace SDK within 5% of before.
    title:
      'recordConversion with exemplar support: no trace SDK, context manager without span, inside a span',
    script: 'cases/exemplars.mjs',
    unit: 'ns/call',
    variants: ['ours', 'context-no-span', 'in-span'],
  },
  {
    id: 'scrape-counters',
    title: `scrape of ${PLAN.scrapeSeries} counter series`,
    script: 'cases/scrape.mjs',
    unit: 'ms/scrape',
    scale: 1e-6,
    fixedIterations: 1,
    variants: ['ours', 'prom-client', 'upstream-otel'],
    targets: [vsProm(1.0)],
    params: { kind: 'counter', series: PLAN.scrapeSeries },
  },
  {
    id: 'scrape-histograms',
    title: `scrape of ${PLAN.scrapeSeries} histogram series (8 buckets)`,
    script: 'cases/scrape.mjs',
    unit: 'ms/scrape',
    scale: 1e-6,
    fixedIterations: 1,
    variants: ['ours', 'prom-client', 'upstream-otel'],
    targets: [vsProm(1.0)],
    params: { kind: 'histogram', series: PLAN.scrapeSeries },
  },
  {
    id: 'scrape-otel-attributes',
    title: `scrape of ${PLAN.scrapeSeries} series of an app's own counter with OpenTelemetry HTTP attributes (dotted keys, numeric status code, error.type on some)`,
    script: 'cases/scrape.mjs',
    unit: 'ms/scrape',
    scale: 1e-6,
    fixedIterations: 1,
    // The SDK's points, not the store's columns: the serializer's path for the app's own instruments (and the
    // cluster primary's aggregate), whose attributes are rarely plain strings under plain keys. The previous build
    // is the target: finding points that print the same label set must stay out of the common case's scrape.
    variants: ['ours', 'upstream-otel', 'prom-client'],
    targets: [{ against: 'ours@baseline', max: 1.05 }],
    params: { kind: 'otel', series: PLAN.scrapeSeries },
  },
  ...['http/protobuf', 'http/json', 'grpc'].map((protocol) => ({
    id: `otlp-export-${protocol.replace('/', '-')}`,
    title: `one OTLP ${protocol} export of ${PLAN.scrapeSeries} histogram series (CPU of the exporting process)`,
    script: 'cases/otlp-export.mjs',
    unit: 'ms CPU/export',
    fixedIterations: 1,
    // `transport`: the official transport alone on ready bytes, the floor of ours (bench/cases/otlp-export.mjs).
    variants: ['ours', 'raw-sdk', 'transport'],
    targets: [{ against: 'raw-sdk', max: 0.5 }],
    params: { protocol, series: PLAN.scrapeSeries },
    // A young generation larger than one export's garbage, so the memory an export allocates (reported in the
    // self-check column) is not hidden by a scavenge in the middle of it. Both variants run with it.
    execArgv: ['--max-semi-space-size=64'],
  })),
  ...['wall', 'cpu', 'rss'].map((measure) => ({
    id: { wall: 'cold-start', cpu: 'cold-start-cpu', rss: 'cold-start-memory' }[measure],
    title: {
      wall: 'cold start: a whole process loading the library, setting it up, serving one scrape (ours: pull only; ours-otlp: one push)',
      cpu: 'cold start: CPU time of that process (user + system)',
      rss: 'cold start: peak resident memory of that process',
    }[measure],
    script: 'cases/cold-start.mjs',
    unit: { wall: 'ms/process', cpu: 'ms CPU/process', rss: 'MiB' }[measure],
    fixedIterations: 1,
    variants: ['ours', 'prom-client', 'raw-sdk', 'ours-otlp'],
    targets: [vsProm(1.0)],
    params: { measure },
  })),
  {
    id: 'heap',
    title: `steady heap per counter series (${PLAN.heapSeries} series, after 2 scrapes)`,
    script: 'cases/heap.mjs',
    unit: 'B/series',
    fixedIterations: 1,
    warmup: 1,
    rounds: PLAN.heapRounds,
    variants: ['ours', 'raw-sdk', 'prom-client'],
    targets: [{ against: 'raw-sdk', max: 0.6 }],
    params: { series: PLAN.heapSeries },
  },
  {
    id: 'active-users',
    title:
      'trackActiveUser in-process (keyed hash + HyperLogLog) vs Set.add of the same ids; hash candidates alone',
    script: 'cases/active-users.mjs',
    unit: 'ns/call',
    variants: ['ours', 'set-add', 'hash-halfsiphash', 'hash-murmur3-seeded-x2', 'hash-hmac-sha256'],
    targets: [{ against: 'set-add', max: 3 }],
  },
  {
    id: 'active-users-redis',
    title: 'trackActiveUser with the Redis store (real redis-server; network work at flush) vs in-process',
    script: 'cases/active-users.mjs',
    unit: 'ns/call',
    variants: ['ours-redis', 'ours'],
    targets: [{ against: 'ours', max: 1.1 }],
  },
  {
    id: 'active-users-memory',
    title: 'memory per tier-day sketch (precision 14; 3 tiers x 30 days) vs bare 16 KiB Uint8Arrays',
    script: 'cases/active-users.mjs',
    unit: 'B/sketch',
    fixedIterations: 1,
    warmup: 1,
    rounds: PLAN.heapRounds,
    variants: ['sketch-memory-ours', 'sketch-memory-uint8array'],
    targets: [{ against: 'sketch-memory-uint8array', max: 1.02 }],
  },
  {
    id: 'cluster-scrape',
    title: `aggregated scrape of 4 cluster workers x ${PLAN.clusterSeries} series (half counters, half histograms)`,
    script: 'cases/cluster-scrape.mjs',
    unit: 'ms/scrape',
    // A round is the mean of 5 scrapes: one scrape of 4 worker processes on 2 cores spread 6-54 ms, so medians of
    // single scrapes moved 1.0-1.4x between runs of the same two builds.
    fixedIterations: 5,
    variants: ['ours', 'prom-client'],
    targets: [vsProm(0.3)],
    params: { series: PLAN.clusterSeries },
    // Builds before 0.2.0 have no cluster mode: a baseline twin only when the baseline has one.
    needsCluster: true,
  },
  {
    id: 'cluster-scrape-users',
    title: `the same scrape with distinct users: each worker tracks ${PLAN.clusterUsers} users in 4 tiers (sketches)`,
    script: 'cases/cluster-scrape.mjs',
    unit: 'ms/scrape',
    fixedIterations: 5, // as cluster-scrape
    variants: ['ours'],
    targets: [{ against: 'ours@baseline', max: 1.05 }],
    params: { series: PLAN.clusterSeries, users: PLAN.clusterUsers },
    needsCluster: true,
  },
  {
    id: 'cluster-loop',
    title: `longest event-loop stall of the primary during that scrape (monitorEventLoopDelay)`,
    script: 'cases/cluster-scrape.mjs',
    unit: 'ms',
    fixedIterations: 1,
    variants: ['ours', 'prom-client'],
    targets: [{ absoluteMax: 10 }],
    params: { series: PLAN.clusterSeries, measure: 'loop' },
    needsCluster: true,
  },
  {
    id: 'cluster-record',
    title: 'recordFunnelStep in a node:cluster worker: cluster mode on vs off (CPU time of the loop)',
    script: 'cases/cluster-record.mjs',
    unit: 'ns CPU/call',
    fixedIterations: 1,
    variants: ['cluster-worker', 'single-process'],
    targets: [{ against: 'single-process', max: 1.05 }],
    params: { calls: PLAN.clusterRecordCalls },
  },
  {
    id: 'hostile',
    title: `${PLAN.hostileValues} hostile label values over ${PLAN.hostileScrapes} scrapes`,
    runner: 'hostile',
  },
  {
    id: 'http-middleware',
    title: 'httpMetricsMiddleware per request (Express route pattern, recorded in the series store)',
    script: 'cases/http-middleware.mjs',
    unit: 'ns/request',
    variants: ['ours', 'raw-sdk', 'none'],
    // The middleware's own cost: ours minus the same request plumbing without it.
    targets: [{ against: 'none', maxDifference: 300 }],
  },
  // One row per web framework adapter: the same request through the real framework with the adapter, with an
  // empty hook of the same kind and without either, same run; the adapter's own cost is ours - hook, the target,
  // as the Express row measures its middleware alone (bench/cases/web-frameworks.mjs). A framework's own request
  // costs 5-40 us with garbage of its own, so a 300 ns difference sits under its noise: CPU time (time spent
  // descheduled on a shared machine does not count), rounds of half the size, every variant at the same round
  // size, and the difference taken round by round (paired: ours and hook run back to back). One process per
  // variant was not enough: two processes running the same code differed by up to 157 ns (A/A), more than the
  // distance to the bound, and a second run could read the other side of it. So every variant runs in
  // `PLAN.webReplicas` processes (9 in full mode); replica i of ours is paired with replica i of hook, each pair
  // gives the median of its paired rounds, and the row reads the median of those and a distribution-free 95%
  // interval over the pairs (replicaDifference): a process's offset is inside the interval, not averaged away by
  // its rounds. The A/A (hook-again - hook) is taken the same way; met still means the whole interval under the
  // bound and the A/A interval within -+ the bound.
  ...[
    ['fastify', 'Fastify 5 plugin (app.inject, route from routeOptions.url)'],
    ['nestjs', 'NestJS 12 module on the Fastify platform (inject)'],
    ['hono', "Hono 4 middleware (served by @hono/node-server's request listener)"],
    ['next', 'Next.js route handler wrapped by withHttpMetrics'],
  ].map(([framework, title]) => webRow(framework, title)),
  // The part of Fastify's request path the Fastify and NestJS adapters live in, alone (`measure: 'hooks'` in
  // bench/cases/web-frameworks.mjs): Fastify's own onRequest hook runner over a real request and reply, then the
  // response's `close`, ~0.1-0.5 us an operation, where `inject`'s process-to-process spread of microseconds hides
  // a 300 ns target. Replicated as the rows above, so their A/A says the same thing; rounds of half the size and
  // half the warm-up, so nine processes per variant take about the time one did.
  ...[
    [
      'fastify',
      'Fastify 5 plugin, its onRequest hook run by Fastify on a real request and reply, then close',
    ],
    ['nestjs', 'NestJS 12 module on the Fastify platform, its onRequest hook run the same way'],
  ].map(([framework, title]) => webRow(framework, title, 'hooks')),
  // The same for Hono and Next.js (`measure: 'ready'`): their real request path around the adapter, with a handler
  // answering with a Response built once; building one per request (undici's body stream) is over half of a
  // request's CPU and the handler's own work, and the adapter's few hundred ns run colder next to it. The rows
  // above keep the whole request.
  ...[
    ['hono', "Hono 4 middleware (@hono/node-server's listener), the handler answering with a ready Response"],
    ['next', 'Next.js route handler wrapped by withHttpMetrics, answering with a ready Response'],
  ].map(([framework, title]) => webRow(framework, title, 'ready')),
  {
    id: 'host-app',
    title:
      'host app: demo-style HTTP server (checkout page + business events per request), metrics on vs off; ' +
      'pushing OTLP to a Collector that never answers vs one that does',
    runner: 'host-app',
  },
];

// ------------------------------------------------------------------------------------------- child processes
/** A fresh `node --expose-gc` process serving one case (bench/lib/child.mjs) with request/response messaging. */
function startCase(script, params, env = process.env, execArgv = []) {
  const child = fork(join(BENCH, script), [], {
    cwd: REPO,
    env,
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pending;
  let exited;
  child.on('message', (message) => {
    const waiting = pending;
    pending = undefined;
    if (!waiting) return;
    if (message.type === 'error') waiting.reject(new Error(message.message));
    else waiting.resolve(message);
  });
  child.on('exit', (code, signal) => {
    exited = `exited (code ${code}, signal ${signal})`;
    pending?.reject(new Error(`case process ${exited}`));
    pending = undefined;
  });
  const request = (message) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`case process ${exited}`));
      pending = { resolve, reject };
      child.send(message);
    });
  return {
    request,
    async setup() {
      await request({ type: 'setup', params });
    },
    async stop() {
      if (!exited) {
        await request({ type: 'exit' }).catch(() => undefined);
        if (!exited) child.kill();
      }
    },
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  values,
});

/**
 * One row: every variant in its own process, rounds interleaved (rotating the order each round). With
 * `row.replicas` = R, every variant runs in R processes (replicas 0..R-1) and every process of every variant takes
 * its round in turn; the processes of replica i sit next to each other in the rotation, so round r of `ours` #i and
 * `hook` #i still run back to back. Variants in `row.once` (a reference no target reads) run in one process.
 */
async function runInterleaved(row) {
  const scale = row.scale ?? 1;
  const twins = !row.noBaseline && !(row.needsCluster && !baselineHasCluster());
  const names = twins ? withBaseline(row.variants) : row.variants;
  const replicas = row.replicas ?? 1;
  const variants = [];
  for (let replica = 0; replica < replicas; replica++)
    for (const name of names.filter((name) => replica === 0 || !row.once?.includes(name)))
      variants.push({
        name,
        replica,
        process: startCase(
          row.script,
          { row: row.id, variant: name.replace(BASELINE_SUFFIX, ''), ...row.params },
          caseEnv(name),
          row.execArgv,
        ),
        values: [],
        failure: undefined,
        iterations: row.fixedIterations,
      });
  const live = () => variants.filter((variant) => !variant.failure);
  const step = async (variant, action) => {
    if (variant.failure) return;
    try {
      await action(variant);
    } catch (error) {
      variant.failure = error.message.split('\n').slice(0, 6).join(' | ');
    }
  };
  // Setup one at a time: a case that builds 10k series must not compete with its neighbour's setup.
  for (const variant of variants) await step(variant, (v) => v.process.setup());
  if (!row.fixedIterations) {
    for (const variant of live())
      await step(variant, async (v) => {
        const { iterations } = await v.process.request({
          type: 'calibrate',
          targetMs: row.roundMs ?? PLAN.roundMs,
          minIterations: row.minIterations,
        });
        v.iterations = iterations;
      });
    // Paired rows: every variant runs rounds of the same size (the median calibrated: calibration overshoots by
    // up to 4x under load), so a round of each holds the same number of requests, and the same share of the
    // framework's garbage collections.
    if (row.sameIterations) {
      const size = median(live().map((v) => v.iterations ?? 0));
      for (const variant of live()) variant.iterations = Math.round(size);
    }
  }
  // Timed rows warm up for a minimum time too: V8 needs a few hundred ms before the optimised code runs.
  const warmup =
    row.warmup ??
    (row.fixedIterations
      ? PLAN.scrapeWarmup
      : Math.max(PLAN.warmup, Math.ceil(PLAN.warmupMs / (row.roundMs ?? PLAN.roundMs))));
  const rounds = row.rounds ?? (row.fixedIterations ? PLAN.scrapeRounds : PLAN.rounds);
  for (let round = 0; round < warmup + rounds; round++) {
    // Rotated by one each round, and reversed every other round: variants listed next to each other (ours and hook
    // of a replica, whose differences are taken round by round) each run first in half the rounds, so a cost of
    // running first or second cancels instead of landing on one side of the difference.
    const rotated = variants.map((_, i) => variants[(i + round) % variants.length]);
    const order = round % 2 === 1 ? rotated.reverse() : rotated;
    for (const variant of order) {
      await step(variant, async (v) => {
        const { value } = await v.process.request({
          type: 'round',
          iterations: v.iterations,
          clock: row.clock,
        });
        if (round >= warmup) v.values.push(value * scale);
      });
    }
  }
  const checks = new Map();
  for (const variant of variants) {
    await step(variant, async (v) => {
      const check = await v.process.request({ type: 'check' });
      if (!check.ok) v.failure = `self-check: ${check.detail}`;
      checks.set(v, check.detail);
    });
    await variant.process.stop();
  }
  const result = { id: row.id, title: row.title, unit: row.unit, variants: {} };
  for (const name of names) {
    const own = variants.filter((v) => v.name === name);
    const failed = own.find((v) => v.failure);
    result.variants[name] = failed
      ? { failed: `${own.length > 1 ? `replica ${failed.replica}: ` : ''}${failed.failure}` }
      : {
          ...summary(own.flatMap((v) => v.values)),
          iterations: own[0].iterations,
          check:
            own.length > 1 && own.every((v) => checks.get(v) === checks.get(own[0]))
              ? `${own.length} processes, each: ${checks.get(own[0])}`
              : own.map((v) => checks.get(v)).join('; '),
          // Each process's rounds, in order: the differences are taken replica by replica.
          ...(own.length > 1 ? { replicas: own.map((v) => v.values) } : {}),
        };
  }
  result.ratios = ratios(row, result.variants, row.variants[0]);
  result.baselineRatios = baselineRatios(result.variants);
  return result;
}

/** This build / the previous build, per variant of ours that has a baseline twin (lower is better for every unit
 * except the host app's, whose unit is CPU per request: lower is better there too). */
function baselineRatios(measured) {
  return Object.keys(measured)
    .filter((name) => measured[`${name}${BASELINE_SUFFIX}`])
    .map((name) => {
      const current = measured[name];
      const previous = measured[`${name}${BASELINE_SUFFIX}`];
      const ratio = current.failed || previous.failed ? undefined : current.median / previous.median;
      return { variant: name, ratio, failed: current.failed ?? previous.failed };
    });
}

/**
 * The difference a - b round by round (every variant takes each round in turn, so round i of both ran back to
 * back under the same load): its median, quartiles and a distribution-free 95% interval of the median (order
 * statistics n/2 -+ 0.98 sqrt(n)). Undefined below 7 paired rounds.
 */
function pairedDifference(a, b) {
  const n = Math.min(a?.length ?? 0, b?.length ?? 0);
  if (n < 7) return undefined;
  const sorted = Array.from({ length: n }, (_, i) => a[i] - b[i]).sort((x, y) => x - y);
  const at = (rank) => sorted[Math.min(n - 1, Math.max(0, rank))];
  const half = 0.98 * Math.sqrt(n);
  return {
    rounds: n,
    median: median(sorted),
    p25: at(Math.floor((n - 1) * 0.25)),
    p75: at(Math.ceil((n - 1) * 0.75)),
    low: at(Math.floor(n / 2 - half)),
    high: at(Math.ceil(n / 2 + half) - 1),
  };
}

/**
 * The difference a - b over replicas (each variant in R processes, replica i of a paired with replica i of b):
 * each pair's median paired difference (pairedDifference), then the median of those R medians and a
 * distribution-free 95% interval of it from their order statistics (the k-th smallest to the k-th largest, k the
 * largest with P(Binomial(R, 1/2) < k) <= 2.5%; R >= 6 is needed for any). The processes, not the rounds, are the
 * independent units here: a process's offset (its JIT outcome, its heap's layout) is shared by all its rounds, so
 * only the spread of the per-process medians carries it into the interval. Fewer than 6 replicas: no interval.
 */
function replicaDifference(a, b) {
  const R = Math.min(a?.length ?? 0, b?.length ?? 0);
  const pairs = Array.from({ length: R }, (_, i) => pairedDifference(a[i], b[i]));
  if (R < 2 || pairs.some((pair) => pair === undefined)) return undefined;
  const medians = pairs.map((pair) => pair.median).sort((x, y) => x - y);
  let k = 0;
  for (let below = 0; k < R >> 1; k++) {
    below += binomial(R, k) / 2 ** R;
    if (below > 0.025) break;
  }
  // Every round of every pair, pooled: their quartiles say how noisy a single round is.
  const pooled = pairedDifference(a.flat(), b.flat());
  return {
    replicas: R,
    rounds: pairs[0].rounds,
    median: median(medians),
    perReplica: pairs.map((pair) => pair.median),
    p25: pooled.p25,
    p75: pooled.p75,
    ...(k > 0 ? { low: medians[k - 1], high: medians[R - k] } : {}),
  };
}

function binomial(n, k) {
  let value = 1;
  for (let i = 1; i <= k; i++) value = (value * (n - k + i)) / i;
  return value;
}

function ratios(row, measured, subject) {
  // A target against the previous build applies only when a baseline was measured (not in smoke mode); one that
  // stands in for another (`insteadOf`) only when that other was not measured.
  const applicable = (row.targets ?? []).filter(
    ({ against, insteadOf }) =>
      !(against?.endsWith('@baseline') && measured[against] === undefined) &&
      !(insteadOf !== undefined && measured[insteadOf] !== undefined),
  );
  return applicable.map(({ against, max, maxDifference, absoluteMax, noise }) => {
    if (absoluteMax !== undefined) {
      const a = measured[subject];
      return { subject, absoluteMax, met: Boolean(a && !a.failed && a.median <= absoluteMax) };
    }
    const a = measured[subject];
    const b = measured[against];
    if (!a || !b || a.failed || b.failed)
      return { subject, against, max, maxDifference, ratio: undefined, met: false };
    const ratio = a.median / b.median;
    if (maxDifference !== undefined) {
      // Replicated rows: the interval is over processes (replicaDifference); one process: over its rounds.
      const differenceOf = a.replicas ? replicaDifference : pairedDifference;
      const series = (v) => (v?.replicas ? v.replicas : v?.values);
      const paired = differenceOf(series(a), series(b));
      if (paired === undefined) {
        const difference = a.median - b.median;
        return { subject, against, maxDifference, ratio, difference, met: difference <= maxDifference };
      }
      // Two processes running the same code (A/A): the difference they show is noise, what the row cannot resolve.
      // Computed as the row's own difference is, replica by replica when replicated.
      const aa = noise && differenceOf(series(measured[noise[0]]), series(measured[noise[1]]));
      // An A/A that could not be taken (a failed process, too few replicas for an interval) is no evidence of
      // quiet: the row cannot say.
      const noisy = noise !== undefined && !(aa?.low >= -maxDifference && aa?.high <= maxDifference);
      // No interval of its own (too few replicas): the row cannot say either.
      const resolved = paired.low !== undefined;
      // Met when the whole interval is within the bound, not met when it is all above, unresolved otherwise (or
      // when the A/A interval is wider than the bound: then neither answer can be trusted).
      return {
        subject,
        against,
        maxDifference,
        ratio,
        difference: paired.median,
        paired,
        noise: aa || undefined,
        met: resolved && !noisy && paired.high <= maxDifference,
        // Why the row cannot say, in the order the reasons are checked; undefined when it can.
        unresolved: !resolved
          ? 'no interval of its own'
          : noisy
            ? 'A/A noise wider than the bound'
            : paired.low <= maxDifference && paired.high > maxDifference
              ? 'its interval straddles the bound'
              : undefined,
      };
    }
    return { subject, against, max, ratio, met: ratio <= max };
  });
}

// -------------------------------------------------------------------------------- hostile labels (one shot)
async function runHostile(row) {
  const result = { id: row.id, title: row.title, unit: 'MB', variants: {}, ratios: [] };
  for (const name of withBaseline(['ours'])) {
    const child = startCase(
      'cases/hostile.mjs',
      { values: PLAN.hostileValues, scrapes: PLAN.hostileScrapes },
      caseEnv(name),
    );
    try {
      await child.setup();
      const check = await child.request({ type: 'check' });
      result.variants[name] = check.ok
        ? {
            median: check.figures.growthMb,
            min: check.figures.growthMb,
            max: check.figures.growthMb,
            ...check,
          }
        : { failed: `self-check: ${check.detail}` };
    } catch (error) {
      result.variants[name] = { failed: error.message.split('\n').slice(0, 6).join(' | ') };
    } finally {
      await child.stop();
    }
  }
  // One shot each, not interleaved: compare the CPU cost per hostile call (heap growth is bounded, ~0 MB).
  const ours = result.variants.ours;
  const previous = result.variants[`ours${BASELINE_SUFFIX}`];
  if (previous) {
    const failed = ours.failed ?? previous.failed;
    result.baselineRatios = [
      {
        variant: 'ours (ns per hostile call)',
        ratio: failed ? undefined : ours.figures.nsPerHostileCall / previous.figures.nsPerHostileCall,
        current: ours.figures?.nsPerHostileCall,
        previous: previous.figures?.nsPerHostileCall,
        unit: 'ns/call',
        failed,
      },
    ];
  }
  return result;
}

// ------------------------------------------------------------------------------------- host app under load
/**
 * Each round starts a fresh server per variant (order alternating) and loads it from a second process. The
 * target is on the server's capacity: its CPU time per request in the measured phase (throughput on a shared
 * 2-core machine can be bound by the load generator instead); achieved requests/s are reported alongside.
 */
async function runHostApp(row) {
  // Beside them, the app also pushing OTLP to a Collector that answers and to one that never does: a wedged
  // Collector must not cost the app capacity (tests/safety/exporter-faults and tests/push/collector.e2e check
  // that every request is served and every failure counted; the cost is measured here).
  const OTLP = { 'otlp-healthy': 'healthy', 'otlp-collector-hangs': 'hangs' };
  const names = [
    ...withBaseline(['metrics-on', 'metrics-off'], (name) => name === 'metrics-on'),
    ...Object.keys(OTLP),
  ];
  const cpu = Object.fromEntries(names.map((name) => [name, []]));
  const throughput = Object.fromEntries(names.map((name) => [name, []]));
  const failures = {};
  const checks = {};
  for (let round = 0; round < PLAN.hostRounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const variant of order) {
      if (failures[variant]) continue;
      const server = startCase(
        'cases/host-app-server.mjs',
        { metrics: variant !== 'metrics-off', otlp: OTLP[variant] },
        caseEnv(variant),
      );
      try {
        await server.setup();
        const { port } = await server.request({ type: 'port' });
        const load = spawnSync(
          process.execPath,
          [join(BENCH, 'cases/host-app-load.mjs'), String(port), String(PLAN.hostRequests), '32'],
          { encoding: 'utf8', timeout: 120_000 },
        );
        if (load.status !== 0) throw new Error(`load generator failed: ${load.stderr || load.stdout}`);
        const report = JSON.parse(load.stdout.trim().split('\n').pop());
        const check = await server.request({ type: 'check', expectedRequests: report.ok + report.warmupOk });
        if (!check.ok) throw new Error(`self-check: ${check.detail}`);
        if (report.ok !== PLAN.hostRequests)
          throw new Error(`only ${report.ok} of ${PLAN.hostRequests} requests succeeded`);
        checks[variant] = check.detail;
        cpu[variant].push(check.cpuMicrosPerRequest);
        throughput[variant].push(report.requestsPerSecond);
      } catch (error) {
        failures[variant] = error.message.split('\n').slice(0, 6).join(' | ');
      } finally {
        await server.stop();
      }
    }
  }
  const result = { id: row.id, title: row.title, unit: 'µs CPU/req', variants: {} };
  for (const name of names) {
    result.variants[name] = failures[name]
      ? { failed: failures[name] }
      : {
          ...summary(cpu[name]),
          requestsPerSecond: summary(throughput[name]),
          check: `${checks[name]}; ${Math.round(median(throughput[name]))} req/s achieved`,
        };
  }
  const on = result.variants['metrics-on'];
  const off = result.variants['metrics-off'];
  // Capacity ratio: requests per server CPU second with metrics on, relative to off.
  const ratio = on.failed || off.failed ? undefined : off.median / on.median;
  const throughputRatio =
    on.failed || off.failed ? undefined : on.requestsPerSecond.median / off.requestsPerSecond.median;
  const hangs = result.variants['otlp-collector-hangs'];
  const healthy = result.variants['otlp-healthy'];
  const faultRatio = hangs.failed || healthy.failed ? undefined : healthy.median / hangs.median;
  const faultThroughput =
    hangs.failed || healthy.failed
      ? undefined
      : hangs.requestsPerSecond.median / healthy.requestsPerSecond.median;
  result.ratios = [
    { subject: 'metrics-on', against: 'metrics-off', min: 0.98, ratio, met: ratio >= 0.98, throughputRatio },
    {
      subject: 'otlp-collector-hangs',
      against: 'otlp-healthy',
      min: 0.95,
      ratio: faultRatio,
      met: faultRatio >= 0.95,
      throughputRatio: faultThroughput,
    },
  ];
  result.baselineRatios = baselineRatios(result.variants);
  return result;
}

// ------------------------------------------------------------------------------------------------ reporting
const fmt = (value, unit) => {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (unit === 'req/s' || unit === 'B/series') return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
};

/** A replicated difference's 95% interval over processes, or why it has none. */
const interval = (d, unit) =>
  d.low === undefined
    ? `no interval (${d.replicas} processes per variant; 6 are needed)`
    : `95% interval over processes ${fmt(d.low, unit)} to ${fmt(d.high, unit)}`;

/** What a target's comparison measured, in words (a difference with its intervals, or a ratio). */
function measuredText(r, a, b, unit) {
  const vs = `${fmt(a.median, unit)} vs ${fmt(b.median, unit)}`;
  const medians = (d) => d.perReplica.map((m) => fmt(m, unit)).join(', ');
  const more = `${fmt(r.difference, unit)} ${unit} more`;
  if (r.paired?.replicas !== undefined) {
    const noise = r.noise
      ? `; A/A noise (same app, other processes) ${fmt(r.noise.median, unit)}, ${interval(r.noise, unit)} (${medians(r.noise)})`
      : '';
    return `${more}, ${interval(r.paired, unit)} (median of ${r.paired.replicas} process pairs' medians of ${r.paired.rounds} paired rounds each: ${medians(r.paired)}; quartiles of all rounds ${fmt(r.paired.p25, unit)} to ${fmt(r.paired.p75, unit)}; ${vs})${noise}`;
  }
  if (r.paired !== undefined) {
    const noise = r.noise
      ? `; A/A noise (same app, two processes) ${fmt(r.noise.median, unit)}, interval ${fmt(r.noise.low, unit)} to ${fmt(r.noise.high, unit)}`
      : '';
    return `${more}, 95% interval ${fmt(r.paired.low, unit)} to ${fmt(r.paired.high, unit)} (median of ${r.paired.rounds} paired rounds; quartiles ${fmt(r.paired.p25, unit)} to ${fmt(r.paired.p75, unit)}; ${vs})${noise}`;
  }
  if (r.difference !== undefined) return `${more} (${vs})`;
  if (r.throughputRatio !== undefined)
    return `${r.ratio.toFixed(3)}x capacity (server ${vs} ${unit}); achieved throughput ${r.throughputRatio.toFixed(3)}x (${fmt(a.requestsPerSecond.median, 'req/s')} vs ${fmt(b.requestsPerSecond.median, 'req/s')} req/s)`;
  return `${r.ratio.toFixed(2)}x (${vs} ${unit})`;
}

/** A target's verdict: failed, met, not resolved (and why), or not met. */
function statusText(r, failed) {
  if (failed) return '**FAILED**';
  if (r.met) return 'met';
  return r.unresolved ? `**not resolved** (${r.unresolved})` : '**not met**';
}

function targetTable(results) {
  const lines = ['| row | target | measured | status |', '|---|---|---|---|'];
  for (const result of results) {
    if (result.id === 'hostile') {
      const ours = result.variants.ours;
      lines.push(
        `| ${result.title} | heap growth bounded; series within caps | ${
          ours.failed
            ? 'FAILED'
            : `${fmt(ours.figures.growthMb)} MB heap growth, ${ours.figures.series} series (cap ${ours.figures.cap})`
        } | ${ours.failed ? '**FAILED**' : ours.figures.bounded ? 'met' : '**not met**'} |`,
      );
      continue;
    }
    for (const r of result.ratios) {
      const a = result.variants[r.subject];
      if (r.absoluteMax !== undefined) {
        const others = Object.entries(result.variants)
          .filter(([name, v]) => name !== r.subject && !v.failed)
          .map(([name, v]) => `${name}: ${fmt(v.median, result.unit)}`)
          .join(', ');
        lines.push(
          `| ${result.title} | ${r.subject} <= ${r.absoluteMax} ${result.unit} | ${a?.failed ? 'FAILED' : `${fmt(a.median, result.unit)} ${result.unit}${others ? ` (${others})` : ''}`} | ${a?.failed ? '**FAILED**' : r.met ? 'met' : '**not met**'} |`,
        );
        continue;
      }
      const b = result.variants[r.against];
      const failed = a?.failed || b?.failed;
      const bound =
        r.maxDifference !== undefined
          ? `<= ${r.maxDifference} ${result.unit} more than ${r.against}`
          : r.max !== undefined
            ? `<= ${r.max.toFixed(2)}x ${r.against}`
            : `>= ${r.min.toFixed(2)}x ${r.against}`;
      const measured = failed ? 'FAILED' : measuredText(r, a, b, result.unit);
      lines.push(`| ${result.title} | ${r.subject} ${bound} | ${measured} | ${statusText(r, failed)} |`);
    }
  }
  return lines.join('\n');
}

function variantTable(results) {
  const lines = [
    '| row | variant | median | min - max | unit | first variant / this | self-check |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    const [subjectName, subject] = Object.entries(result.variants)[0];
    for (const [name, v] of Object.entries(result.variants)) {
      const ratio =
        name === subjectName || v.failed || subject.failed
          ? ''
          : `${(subject.median / v.median).toFixed(3)}x`;
      lines.push(
        v.failed
          ? `| ${result.id} | ${name} | FAILED | | ${result.unit} | | ${v.failed.replaceAll('|', '/')} |`
          : `| ${result.id} | ${name} | ${fmt(v.median, result.unit)} | ${fmt(v.min, result.unit)} - ${fmt(
              v.max,
              result.unit,
            )} | ${result.unit} | ${ratio} | ok (${String(v.check ?? v.detail)
              .slice(0, 90)
              .replaceAll('|', '/')}) |`,
      );
    }
  }
  return lines.join('\n');
}

function baselineTable(results) {
  const lines = [
    '| row | variant | this build | previous build | this / previous | unit |',
    '|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    for (const r of result.baselineRatios ?? []) {
      const current = r.current ?? result.variants[r.variant]?.median;
      const previous = r.previous ?? result.variants[`${r.variant}${BASELINE_SUFFIX}`]?.median;
      const unit = r.unit ?? result.unit;
      lines.push(
        r.failed
          ? `| ${result.id} | ${r.variant} | | | FAILED: ${String(r.failed).slice(0, 120).replaceAll('|', '/')} | ${unit} |`
          : `| ${result.id} | ${r.variant} | ${fmt(current, unit)} | ${fmt(previous, unit)} | ${r.ratio.toFixed(3)}x | ${unit} |`,
      );
    }
  }
  return lines.join('\n');
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    node: process.version,
    v8: process.versions.v8,
    cores: cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

// --------------------------------------------------------------------------------------------------- build
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  if (option('dist')) {
    // A private build (e.g. while others rebuild dist/): children read it through BENCH_DIST.
    process.env.BENCH_DIST = option('dist');
    return;
  }
  const entry = join(REPO, 'dist', 'index.js');
  const stale = !existsSync(entry) || statSync(entry).mtimeMs < newestSource(join(REPO, 'src'));
  if (!stale) return;
  if (flag('no-build')) {
    console.warn(
      'bench: dist/ is missing or older than src/ and --no-build was given; measuring dist/ as it is',
    );
    if (!existsSync(entry)) process.exit(1);
    return;
  }
  console.log('bench: dist/ is missing or older than src/: npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('bench: the build failed; nothing measured');
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------------- main
async function main() {
  ensureBuilt();
  const baseline = resolveBaseline(REPO, argv, MODE);
  if (baseline.none) {
    console.log(`bench: no baseline (${baseline.none})`);
  } else {
    try {
      BASELINE = { ...baseline, dist: buildBaseline(REPO, baseline) };
      console.log(
        `bench: baseline ${baseline.ref} (${baseline.short}, version ${baseline.version}): ${baseline.reason}`,
      );
    } catch (error) {
      // An explicit --baseline that cannot be built is an error; the default one is skipped with a message.
      if (baseline.reason === '--baseline') throw error;
      console.warn(`bench: no baseline: building ${baseline.ref} failed: ${error.message}`);
    }
  }
  const only = option('only')?.split(',');
  const rows = ROWS.filter((row) => !only || only.includes(row.id));
  const startedAt = new Date().toISOString();
  const facts = machine();
  console.log(
    `bench: ${MODE} mode, ${rows.length} rows, Node ${facts.node}, ${facts.cores} cores, ${facts.cpuModel}`,
  );
  const results = [];
  for (const row of rows) {
    const began = Date.now();
    const result =
      row.runner === 'hostile'
        ? await runHostile(row)
        : row.runner === 'host-app'
          ? await runHostApp(row)
          : await runInterleaved(row);
    results.push(result);
    const failed = Object.entries(result.variants).filter(([, v]) => v.failed);
    console.log(
      `  ${row.id}: ${((Date.now() - began) / 1000).toFixed(1)} s${failed.length ? ` FAILED: ${failed.map(([n, v]) => `${n}: ${v.failed}`).join('; ')}` : ''}`,
    );
  }
  facts.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const report = {
    mode: MODE,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: facts,
    plan: PLAN,
    baseline: BASELINE
      ? { ref: BASELINE.ref, commit: BASELINE.commit, version: BASELINE.version, reason: BASELINE.reason }
      : { none: baseline.none ?? 'its build failed' },
    results,
  };
  const markdown = [
    `### Targets (${MODE} mode, ${startedAt})`,
    '',
    targetTable(results),
    '',
    '### Every variant (median of the measured rounds, interleaved; ratios above are of medians)',
    '',
    variantTable(results),
    '',
    ...(BASELINE
      ? [
          `### Against the previous build: ${BASELINE.ref} (${BASELINE.short}, version ${BASELINE.version}), same run, interleaved`,
          '',
          baselineTable(results),
          '',
        ]
      : []),
    `Node ${facts.node} (V8 ${facts.v8}), ${facts.cores} cores, ${facts.cpuModel}, ${facts.memoryGb} GB; load average ${facts.loadAverageAtStart.join(' / ')} at start, ${facts.loadAverageAtEnd.join(' / ')} at end.`,
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${MODE}-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, `latest-${MODE}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, `latest-${MODE}.md`), `${markdown}\n`);
  console.log(`bench: results in bench/results/latest-${MODE}.json and ${MODE}-${stamp}.json`);
  const anyFailed = results.some((result) =>
    Object.entries(result.variants).some(([name, v]) => v.failed && !isBaseline(name)),
  );
  if (anyFailed) {
    console.error('bench: FAILED (a case errored or its totals did not match what it recorded)');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
