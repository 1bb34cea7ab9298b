#!/usr/bin/env node
/**
 * Heap growth under a cardinality attack: 1,000,000 distinct hostile label values (utm_source-like strings, as an
 * attacker controlling a URL would send) recorded through the package's public API over 100 Prometheus scrapes.
 * Prints the heap after warm-up, at checkpoints, and after the attack (each after two forced GCs), plus series
 * counts per metric. Runs against dist/: `npm run build && node --expose-gc bench/cardinality-attack.mjs`
 * (without --expose-gc it re-runs itself with it).
 *
 * Options: --values=N (default 1000000), --scrapes=N (default 100),
 *          --sdk     also run the same attack against a plain OpenTelemetry SDK counter for comparison
 *                    (defaults to 100000 values there: the SDK keeps every series, so 1M takes very long).
 *
 * Owns: this one measurement. Must not touch: the package's sources, the rest of bench/.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(REPO, 'dist', 'index.js');

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

function heapMb() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const mb = (value) => `${value.toFixed(1)} MB`;

async function main() {
  if (!existsSync(DIST)) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const require = createRequire(import.meta.url);
  const { initBusinessMetrics, BUSINESS_METRIC_LIST, prometheusFamilyName, DEFAULT_LIMITS } = require(DIST);
  const values = option('values', 1_000_000);
  const scrapes = option('scrapes', 100);
  const perScrape = Math.ceil(values / scrapes);

  const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
  await handle.ready;
  const url = handle.prometheus.url;
  const scrape = async () => {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`scrape answered ${response.status}`);
    return response.text();
  };
  const seriesPerFamily = (text) => {
    const counts = {};
    for (const definition of BUSINESS_METRIC_LIST) {
      const family = prometheusFamilyName(definition);
      const prefix = definition.kind === 'histogram' ? `\n${family}_count{` : `\n${family}{`;
      let count = 0;
      for (let at = text.indexOf(prefix); at !== -1; at = text.indexOf(prefix, at + 1)) count++;
      counts[family] = count;
    }
    return counts;
  };

  // Warm-up: an ordinary shop's traffic, so the baseline already holds its normal series and JIT state.
  const legit = ['google', 'newsletter', 'direct', 'facebook', 'bing'];
  for (let i = 0; i < 50_000; i++) {
    handle.metrics.recordFunnelStep(i % 2 ? 'cart_view' : 'payment_info', {
      source: legit[i % legit.length],
      deviceType: i % 3 ? 'mobile' : 'desktop',
    });
    handle.metrics.recordRevenue(100 + (i % 9000), {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu',
    });
  }
  for (let i = 0; i < 3; i++) await scrape();
  const baseline = heapMb();

  // The attack: every call carries fresh values, like ?utm_source=<random> on every request; random characters
  // include quotes, backslashes, control characters and non-ASCII.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789_-."\\\u0000\n é日😀';
  let serial = 0;
  const fresh = () => {
    serial++;
    let noise = '';
    for (let i = 0; i < 6; i++) noise += alphabet[Math.floor(Math.random() * alphabet.length)];
    return `utm_${serial.toString(36)}_${noise}`;
  };
  // Steps, variants and devices cycle within their vocabularies, so label combinations multiply past the series cap.
  const DEVICES = ['mobile', 'desktop', 'tablet', 'web'];
  let recordMs = 0;
  let scrapeMs = 0;
  let maxSeries = 0;
  const checkpoints = [];
  let last = '';
  for (let round = 1; round <= scrapes; round++) {
    const started = performance.now();
    for (let i = 0; i < perScrape && serial < values; i++) {
      switch (i % 3) {
        case 0:
          handle.metrics.recordFunnelStep(`step_${serial % 97}`, {
            source: fresh(),
            deviceType: DEVICES[serial % DEVICES.length],
            experimentVariant: `variant_${serial % 13}`,
          });
          break;
        case 1:
          handle.metrics.recordFeatureUsage(fresh(), { userTier: 'pro', isNewUser: false });
          break;
        default:
          handle.metrics.recordSessionEnd(Date.now() - 60_000, { userTier: 'free', entryPage: fresh() });
      }
    }
    const recorded = performance.now();
    last = await scrape();
    scrapeMs += performance.now() - recorded;
    recordMs += recorded - started;
    maxSeries = Math.max(maxSeries, ...Object.values(seriesPerFamily(last)));
    if (round === Math.ceil(scrapes / 10) || round === Math.ceil(scrapes / 2) || round === scrapes) {
      checkpoints.push({ round, heap: heapMb() });
    }
  }
  const after = checkpoints[checkpoints.length - 1].heap;

  console.log(
    `cardinality attack: ${serial.toLocaleString('en')} distinct hostile label values, ${scrapes} scrapes`,
  );
  console.log(`  heap after warm-up:        ${mb(baseline)}`);
  for (const { round, heap } of checkpoints) {
    console.log(
      `  heap after scrape ${String(round).padEnd(4)}:    ${mb(heap)}  (growth ${mb(heap - baseline)})`,
    );
  }
  console.log(
    `  HEAP GROWTH: ${mb(after - baseline)} over the whole attack; ` +
      `${mb(after - checkpoints[0].heap)} between scrape ${checkpoints[0].round} and ${scrapes}`,
  );
  console.log(`  series per metric at the end: ${JSON.stringify(seriesPerFamily(last))}`);
  console.log(
    `  largest series count seen: ${maxSeries} (cap ${DEFAULT_LIMITS.maxSeriesPerMetric} + the all-"other" series)`,
  );
  console.log(
    `  time: recording ${(recordMs / 1000).toFixed(1)} s (${((recordMs * 1e6) / serial).toFixed(0)} ns per ` +
      `hostile call), scraping ${(scrapeMs / 1000).toFixed(1)} s (${(scrapeMs / scrapes).toFixed(1)} ms per scrape)`,
  );
  await handle.shutdown({ timeoutMillis: 1000 });
  if (maxSeries > DEFAULT_LIMITS.maxSeriesPerMetric + 1) {
    console.error('FAILED: a metric exceeded its series cap');
    process.exit(1);
  }

  if (process.argv.includes('--sdk')) await plainSdk(option('sdk-values', 100_000), scrapes, require);
}

/** The same attack on a plain SDK counter, for comparison: its cardinality limit is per collection. */
async function plainSdk(values, scrapes, require) {
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
  class PullReader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const counter = provider.getMeter('plain-sdk').createCounter('business_funnel_step');
  for (let i = 0; i < 50_000; i++) counter.add(1, { step: 'cart_view', source: `legit_${i % 5}` });
  await reader.collect();
  const baseline = heapMb();
  const perScrape = Math.ceil(values / scrapes);
  let serial = 0;
  let points = 0;
  for (let round = 1; round <= scrapes; round++) {
    for (let i = 0; i < perScrape && serial < values; i++) {
      counter.add(1, { step: 'cart_view', source: `utm_${(serial++).toString(36)}` });
    }
    const { resourceMetrics } = await reader.collect();
    points = resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints.length ?? 0;
  }
  const after = heapMb();
  console.log(
    `plain OpenTelemetry SDK counter, same attack with ${values.toLocaleString('en')} values, ${scrapes} collections:`,
  );
  console.log(`  HEAP GROWTH: ${mb(after - baseline)}; series in the last collection: ${points}`);
  await provider.shutdown();
}

if (typeof globalThis.gc !== 'function') {
  // Heap figures without a forced GC measure the collector's mood, not retained memory.
  const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), { execArgv: ['--expose-gc'] });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
