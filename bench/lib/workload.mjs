/**
 * The label values and amounts every variant of a row records, so the package, prom-client, the raw SDK and the
 * Map floor do exactly the same work. Also the exposition/SDK readers the self-checks use.
 *
 * Owns: deterministic workloads (256 tuples, cycled with `i & 255`) that stay inside the catalog's default label
 * vocabularies (so the normal path is measured, never the relabel path), and totals helpers. Must not touch:
 * timing.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const require = createRequire(join(REPO, 'package.json'));
/** dist/ of the repository, or another build of it (`--dist=DIR` of run.mjs sets BENCH_DIST). */
export const DIST = join(resolve(REPO, process.env.BENCH_DIST ?? 'dist'), 'index.js');

/** The package under test, loaded from dist/ (the built CommonJS output users get). */
export function loadPackage() {
  return require(DIST);
}

export const MASK = 255;
const SIZE = MASK + 1;

const STEPS = [
  'cart_view',
  'shipping_info',
  'payment_info',
  'order_review',
  'order_confirmed',
  'checkout_error',
];
const SOURCES = ['direct', 'google', 'newsletter', 'in_app'];
const DEVICES = ['desktop', 'mobile', 'tablet'];
const VARIANTS = ['control', 'variant_b'];
const FEATURES = ['export', 'search', 'dashboard', 'share', 'bulk_edit'];
const TIERS = ['free', 'pro', 'enterprise'];
const CATEGORIES = ['electronics', 'books', 'garden', 'toys', 'clothing'];
const PAYMENT_METHODS = ['card', 'paypal', 'invoice'];
const REGIONS = ['eu', 'us', 'apac'];
const ENTRY_PAGES = ['/', '/pricing', '/blog', '/docs'];

const pick = (values, i, shift) => values[(i >> shift) % values.length];

/** A Date a few seconds to an hour before now: a valid session start for every histogram bucket range. */
const startBefore = (i) => new Date(Date.now() - (5 + ((i * 37) % 3600)) * 1000);

export function funnelTuples() {
  return Array.from({ length: SIZE }, (_, i) => [
    pick(STEPS, i, 0),
    pick(SOURCES, i, 1),
    pick(DEVICES, i, 3),
    pick(VARIANTS, i, 5),
  ]);
}

export function featureTuples() {
  return Array.from({ length: SIZE }, (_, i) => [pick(FEATURES, i, 0), pick(TIERS, i, 2), (i & 64) !== 0]);
}

export function conversionTuples() {
  return Array.from({ length: SIZE }, (_, i) => [
    i % 5 === 0 ? 'signup' : 'purchase',
    pick(SOURCES, i, 1),
    pick(DEVICES, i, 3),
    startBefore(i),
  ]);
}

export function revenueTuples() {
  return Array.from({ length: SIZE }, (_, i) => [
    100 + ((i * 7919) % 60000),
    pick(CATEGORIES, i, 0),
    pick(PAYMENT_METHODS, i, 2),
    pick(REGIONS, i, 4),
  ]);
}

export function sessionTuples() {
  return Array.from({ length: SIZE }, (_, i) => [startBefore(i), pick(TIERS, i, 0), pick(ENTRY_PAGES, i, 2)]);
}

/** Precomputed Map keys for the floor: what a hand-written cache with a ready key would do. */
export function floorKeys(tuples) {
  return tuples.map((tuple) => tuple.map(String).join('\u0000'));
}

/** Sum of tuple[index] over the first `operations` operations of the `i & 255` cycle. */
export function cycledSum(tuples, index, operations) {
  let perCycle = 0;
  for (const tuple of tuples) perCycle += tuple[index];
  let sum = Math.floor(operations / SIZE) * perCycle;
  for (let i = 0; i < operations % SIZE; i++) sum += tuples[i][index];
  return sum;
}

/** Samples of a Prometheus text exposition: [{ name, labels, value }] (HELP/TYPE/comment lines skipped). */
export function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const nameEnd = brace >= 0 && brace < space ? brace : line.indexOf(' ');
    samples.push({
      name: line.slice(0, nameEnd),
      labels: brace >= 0 && brace < space ? line.slice(brace + 1, line.lastIndexOf('}')) : '',
      value: Number(line.slice(space + 1)),
    });
  }
  return samples;
}

/** Sum and count of the samples named `name`. */
export function sampleTotals(samples, name) {
  let sum = 0;
  let count = 0;
  for (const sample of samples) {
    if (sample.name === name) {
      sum += sample.value;
      count++;
    }
  }
  return { sum, count };
}

/** Totals of one instrument in an SDK CollectionResult: counter value sum, or histogram count/sum. */
export function sdkTotals(collection, instrumentName) {
  let value = 0;
  let count = 0;
  let sum = 0;
  let points = 0;
  for (const scope of collection.resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== instrumentName) continue;
      for (const point of metric.dataPoints) {
        points++;
        if (typeof point.value === 'number') value += point.value;
        else {
          count += point.value.count;
          sum += point.value.sum;
        }
      }
    }
  }
  return { value, count, sum, points };
}

/** `{ ok, detail }` comparing named totals; floating sums compare with a relative tolerance. */
export function expectTotals(pairs) {
  const wrong = [];
  for (const [what, actual, expected] of pairs) {
    const tolerance = Math.max(1e-9 * Math.abs(expected), 1e-6);
    if (!(Math.abs(actual - expected) <= tolerance))
      wrong.push(`${what}: got ${actual}, expected ${expected}`);
  }
  return wrong.length === 0
    ? { ok: true, detail: pairs.map(([what, actual]) => `${what}=${actual}`).join(' ') }
    : { ok: false, detail: wrong.join('; ') };
}
