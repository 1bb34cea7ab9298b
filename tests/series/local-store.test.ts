/**
 * src/series/local-store.ts: the local series store behind initBusinessMetrics, handed to the SDK's readers as a
 * MetricProducer.
 * - Equivalence: whatever the package does to be fast, the same workload recorded through initBusinessMetrics
 *   and through plain SDK instruments (`new BusinessMetrics(meter)` with businessMetricViews()) must export the
 *   same metrics: counters, histogram buckets/sum/count/min/max, gauges and self-metrics, cumulative and delta,
 *   collection after collection.
 * - Concurrency: no measurement is lost or counted twice when recording interleaves with many overlapping
 *   collections (Prometheus scrapes and delta pushes), and shutdown flushes what was recorded just before it.
 * Real SDK readers and the SDK's InMemoryMetricExporter; no mocks of the package, no timing assertions.
 */
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BusinessMetrics,
  businessMetricViews,
  initBusinessMetrics,
  type BusinessMetricsHandle,
  type BusinessMetricsLimits,
  type BusinessMetricsRecorder,
  businessMetrics,
} from '../../src';
import { hrTime } from '@opentelemetry/core';
import { LocalSeriesStore } from '../../src/series/local-store';
import { AttributesResource } from '../../src/config/resource';
import { TimeoutError } from '../../src/support';
import { parseExposition } from '../support/exposition';
import { prng, pick } from '../support/random';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

/**
 * Every record method with ordinary values, repeats (existing series), enough new series to make the series
 * tables rehash (many sources), values the guard relabels or drops, and zero amounts.
 */
function recordWorkload(recorder: BusinessMetricsRecorder, seed: number, events: number): void {
  const random = prng(seed);
  const sources = [...Array.from({ length: 60 }, (_, i) => `source_${i}`), 'direct', '', undefined, 42];
  const devices = ['desktop', 'mobile', 'tablet', 'fridge', undefined];
  const steps = ['cart_view', 'shipping_info', 'payment_info', 'order_confirmed', 'custom_step'];
  const tiers = ['free', 'pro', 'enterprise', 'platinum'];
  const startTimes = [NOW - 5_000, NOW - 45_500, NOW - 650_250, NOW - 3_599_999, NOW + 60_000, Number.NaN];
  for (let i = 0; i < events; i++) {
    switch (Math.floor(random() * 7)) {
      case 0:
      case 1:
        recorder.recordFunnelStep(pick(random, steps), {
          source: pick(random, sources) as string,
          deviceType: pick(random, devices) as string,
          experimentVariant: pick(random, ['control', 'b', undefined]) as string,
        });
        break;
      case 2:
        recorder.recordConversion(pick(random, ['purchase', 'signup']), {
          source: pick(random, sources) as string,
          deviceType: pick(random, devices) as string,
          sessionStartTime: new Date(pick(random, startTimes)),
        });
        break;
      case 3:
        recorder.recordRevenue(pick(random, [0, 1, 499, 500, 501, 2599, 49_999.5, 75_000, -3, Number.NaN]), {
          productCategory: pick(random, ['books', 'garden', 'toys']),
          paymentMethod: pick(random, ['card', 'paypal']),
          region: pick(random, ['eu', 'us']),
        });
        break;
      case 4:
        recorder.recordFeatureUsage(pick(random, ['export', 'search', 'share']), {
          userTier: pick(random, tiers),
          isNewUser: pick(random, [true, false, 'yes' as unknown as boolean]),
        });
        break;
      case 5:
        recorder.recordSessionEnd(pick(random, startTimes), {
          userTier: pick(random, tiers),
          entryPage: pick(random, ['/', '/pricing', '/blog']),
        });
        break;
      default:
        recorder.updateActiveUsers(pick(random, ['daily', 'weekly']), {
          [pick(random, tiers)]: Math.floor(random() * 1000),
        });
    }
  }
}

interface NormalisedPoint {
  attributes: string;
  value: unknown;
}

/** Metrics by name, with points sorted by attributes and only what must agree (not scope or timestamps). */
function normalise(resourceMetrics: ResourceMetrics | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const scope of resourceMetrics?.scopeMetrics ?? []) {
    for (const metric of scope.metrics as MetricData[]) {
      if (metric.dataPoints.length === 0) continue;
      const points: NormalisedPoint[] = (metric.dataPoints as DataPoint<number | Histogram>[]).map(
        (point) => ({
          attributes: JSON.stringify(Object.entries(point.attributes).sort(([a], [b]) => a.localeCompare(b))),
          value:
            typeof point.value === 'number'
              ? point.value
              : {
                  boundaries: point.value.buckets.boundaries,
                  counts: point.value.buckets.counts,
                  sum: point.value.sum,
                  count: point.value.count,
                  min: point.value.min,
                  max: point.value.max,
                },
        }),
      );
      points.sort((a, b) => a.attributes.localeCompare(b.attributes));
      out[metric.descriptor.name] = {
        unit: metric.descriptor.unit,
        description: metric.descriptor.description,
        type: DataPointType[metric.dataPointType],
        temporality: AggregationTemporality[metric.aggregationTemporality],
        monotonic: 'isMonotonic' in metric ? metric.isMonotonic : undefined,
        points,
      };
    }
  }
  return out;
}

/** The two paths side by side, each exporting to its own in-memory exporter of the given temporality. */
class Pair {
  readonly localExporter: InMemoryMetricExporter;
  readonly sdkExporter: InMemoryMetricExporter;
  readonly handle: BusinessMetricsHandle;
  readonly sdkProvider: MeterProvider;
  readonly sdkMetrics: BusinessMetrics;

  constructor(temporality: AggregationTemporality, limits?: BusinessMetricsLimits) {
    this.localExporter = new InMemoryMetricExporter(temporality);
    this.sdkExporter = new InMemoryMetricExporter(temporality);
    this.handle = initBusinessMetrics({
      exporters: [this.localExporter],
      serviceName: 'eq',
      env: {},
      limits,
    });
    this.sdkProvider = new MeterProvider({
      views: businessMetricViews(),
      readers: [
        new PeriodicExportingMetricReader({ exporter: this.sdkExporter, exportIntervalMillis: 3_600_000 }),
      ],
    });
    this.sdkMetrics = new BusinessMetrics(this.sdkProvider.getMeter('x'), { limits });
  }

  record(seed: number, events: number): void {
    recordWorkload(this.handle.metrics, seed, events);
    recordWorkload(this.sdkMetrics, seed, events);
  }

  /** One collection on each side: the latest export of each, normalised. */
  async collect(): Promise<{ local: Record<string, unknown>; sdk: Record<string, unknown> }> {
    await this.handle.forceFlush();
    await this.sdkProvider.forceFlush();
    const local = normalise(this.localExporter.getMetrics().at(-1));
    const sdk = normalise(this.sdkExporter.getMetrics().at(-1));
    this.localExporter.reset();
    this.sdkExporter.reset();
    // Self-metric of the package's own exporters only; the plain-SDK path has no export wrapper.
    delete local.business_metrics_export_failures;
    return { local, sdk };
  }

  async close(): Promise<void> {
    await this.handle.shutdown({ timeoutMillis: 2000 });
    await this.sdkProvider.shutdown();
  }
}

/**
 * Floating histogram sums rounded to 12 significant digits. The two paths add the same values in a different
 * grouping, so they may differ in the last bits: the SDK adds each interval's sum to the previous cumulative
 * sum ((a+b)+(c+d)), the store adds value after value (a+b+c+d), and the store's delta sums are differences of
 * cumulative sums. Integer sums (cents) are exact either way.
 */
function roundSums(metrics: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(metrics, (key, value: unknown) =>
      key === 'sum' && typeof value === 'number' ? Number(value.toPrecision(12)) : value,
    ),
  ) as Record<string, unknown>;
}

describe('local series store exports exactly what plain SDK instruments export', () => {
  let pair: Pair | undefined;
  beforeEach(() => {
    // Both paths read the clock through Date.now when constructed without `now`; a fixed clock makes durations
    // and the revenue minute identical on both sides.
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
  });
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
    jest.restoreAllMocks();
  });

  test('cumulative: identical after each of several collections (sums to 12 significant digits)', async () => {
    pair = new Pair(AggregationTemporality.CUMULATIVE);
    for (const [seed, events] of [
      [1, 3000],
      [2, 500],
      [3, 0],
      [4, 2000],
    ]) {
      pair.record(seed, events);
      const { local, sdk } = await pair.collect();
      expect(Object.keys(local).length).toBeGreaterThanOrEqual(8);
      expect(roundSums(local)).toEqual(roundSums(sdk));
    }
  });

  test('delta: identical per collection (sums to 12 significant digits), nothing reported twice', async () => {
    pair = new Pair(AggregationTemporality.DELTA);
    for (const [seed, events] of [
      [11, 3000],
      [12, 700],
      [13, 0],
      [14, 1500],
    ]) {
      pair.record(seed, events);
      const { local, sdk } = await pair.collect();
      expect(roundSums(local)).toEqual(roundSums(sdk));
    }
  });

  test('series cap and overflow series: identical when the cap is reached', async () => {
    pair = new Pair(AggregationTemporality.CUMULATIVE, { maxSeriesPerMetric: 25 });
    pair.record(21, 3000);
    const { local, sdk } = await pair.collect();
    expect(local).toEqual(sdk);
    const funnel = local.business_funnel_step as { points: NormalisedPoint[] };
    expect(funnel.points.length).toBe(26); // the cap plus the all-"other" series
  });

  test('two delta readers flushed at different times each get their own intervals (min/max included)', async () => {
    const deltaReader = () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
      return {
        exporter,
        reader: new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 }),
      };
    };
    const local = [deltaReader(), deltaReader()];
    const sdk = [deltaReader(), deltaReader()];
    const handle = initBusinessMetrics({ exporters: local.map((r) => r.reader), serviceName: 'eq', env: {} });
    const provider = new MeterProvider({ views: businessMetricViews(), readers: sdk.map((r) => r.reader) });
    const sdkMetrics = new BusinessMetrics(provider.getMeter('x'));
    try {
      const record = (seed: number) => {
        recordWorkload(handle.metrics, seed, 800);
        recordWorkload(sdkMetrics, seed, 800);
      };
      const flushAndCompare = async (which: number) => {
        await local[which].reader.forceFlush();
        await sdk[which].reader.forceFlush();
        const localExport = normalise(local[which].exporter.getMetrics().at(-1));
        delete localExport.business_metrics_export_failures;
        const sdkExport = normalise(sdk[which].exporter.getMetrics().at(-1));
        expect(Object.keys(localExport).length).toBeGreaterThanOrEqual(6);
        expect(roundSums(localExport)).toEqual(roundSums(sdkExport));
      };
      record(31);
      await flushAndCompare(0);
      record(32);
      await flushAndCompare(0);
      await flushAndCompare(1); // reader 1's first interval spans both batches
      record(33);
      await flushAndCompare(1);
      await flushAndCompare(0);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      await provider.shutdown();
    }
  });
});

const FUNNEL = 'business_funnel_step_total';
const ORDER_VALUE_COUNT = 'business_order_value_cents_count';

/** Sum of the samples of one series name in a scrape (every series of a counter, or every histogram count). */
function total(text: string, sample: string): number {
  return parseExposition(text)
    .find(sample)
    .reduce((sum, point) => sum + point.value, 0);
}

/** Sum of a counter's points, or a histogram's counts, over every export an in-memory exporter received. */
function exportedTotal(exports: ResourceMetrics[], instrument: string): number {
  let sum = 0;
  for (const exported of exports) {
    for (const scope of exported.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== instrument) continue;
        for (const point of metric.dataPoints) {
          const value = point.value as number | { count: number };
          sum += typeof value === 'number' ? value : value.count;
        }
      }
    }
  }
  return sum;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('local series store under concurrent collections', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  test('no lost or doubled updates while scrapes and delta pushes overlap with recording', async () => {
    const delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    handle = initBusinessMetrics({
      exporters: ['prometheus', delta],
      prometheus: { preventServerStart: true },
      otlp: { exportIntervalMillis: 3_600_000 },
      env: {},
    });
    const metrics = handle.metrics;
    let funnelRecorded = 0;
    let ordersRecorded = 0;
    const scrapes: Promise<void>[] = [];
    const pushes: Promise<void>[] = [];
    const scrapeViolations: string[] = [];
    for (let batch = 0; batch < 120; batch++) {
      for (let i = 0; i < 40; i++) {
        metrics.recordFunnelStep(i % 2 ? 'cart_view' : 'payment_info', {
          source: `s${(batch * 7 + i) % 30}`,
          deviceType: i % 3 ? 'desktop' : 'mobile',
        });
        funnelRecorded++;
        if (i % 4 === 0) {
          metrics.recordRevenue(100 + i, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
          ordersRecorded++;
        }
      }
      const before = funnelRecorded;
      scrapes.push(
        metrics.getMetrics().then((text) => {
          const seen = total(text, FUNNEL);
          // A scrape sees everything recorded before it started, and nothing that was not recorded yet.
          if (seen < before || seen > funnelRecorded) {
            scrapeViolations.push(`scrape ${batch}: ${seen} not in [${before}, ${funnelRecorded}]`);
          }
        }),
      );
      if (batch % 5 === 0) pushes.push(handle.forceFlush());
      if (batch % 3 === 0) await Promise.resolve();
      if (batch % 11 === 0) await yieldToEventLoop();
    }
    await Promise.all([...scrapes, ...pushes]);
    await handle.forceFlush();

    expect(scrapeViolations).toEqual([]);
    expect(scrapes.length).toBe(120);
    const finalText = await metrics.getMetrics();
    expect(total(finalText, FUNNEL)).toBe(funnelRecorded);
    expect(total(finalText, ORDER_VALUE_COUNT)).toBe(ordersRecorded);
    // Delta exports partition the measurements: their sum is the total, with no interval counted twice.
    expect(delta.getMetrics().length).toBeGreaterThan(10);
    expect(exportedTotal(delta.getMetrics(), 'business_funnel_step')).toBe(funnelRecorded);
    expect(exportedTotal(delta.getMetrics(), 'business_order_value_cents')).toBe(ordersRecorded);
  });

  test.each([
    ['cumulative', AggregationTemporality.CUMULATIVE],
    ['delta', AggregationTemporality.DELTA],
  ])('shutdown exports what was recorded right before it (%s)', async (_name, temporality) => {
    const exporter = new InMemoryMetricExporter(temporality);
    handle = initBusinessMetrics({
      exporters: [exporter],
      otlp: { exportIntervalMillis: 3_600_000 },
      env: {},
    });
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    await handle.forceFlush();
    // Recorded after the last export and never collected before shutdown.
    for (let i = 0; i < 25; i++)
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    businessMetrics.recordSessionEnd(Date.now() - 42_000, { userTier: 'pro', entryPage: '/' });
    const closing = handle;
    handle = undefined;
    await closing.shutdown({ timeoutMillis: 5000 });

    const exports = exporter.getMetrics();
    const last = exports.at(-1)!;
    if (temporality === AggregationTemporality.CUMULATIVE) {
      expect(exportedTotal([last], 'business_funnel_step')).toBe(26);
      expect(exportedTotal([last], 'business_session_duration_seconds')).toBe(1);
    } else {
      expect(exportedTotal(exports, 'business_funnel_step')).toBe(26);
      expect(exportedTotal([last], 'business_funnel_step')).toBe(25);
      expect(exportedTotal([last], 'business_session_duration_seconds')).toBe(1);
    }
    // After shutdown the singleton is a no-op again: nothing more is recorded or exported.
    const exportsAtShutdown = exports.length;
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
    expect(exporter.getMetrics().length).toBe(exportsAtShutdown);
  });
});

describe('local series store: when each cumulative series starts', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  const nanos = ([seconds, nanoseconds]: [number, number]) =>
    BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);
  /** Spins until the clock has moved past `after` (microseconds), so the next reading is strictly later. */
  const clockPast = (after: bigint): bigint => {
    for (;;) {
      const now = nanos(hrTime());
      if (now > after) return now;
    }
  };

  function pointsOf(exports: ResourceMetrics[], name: string): DataPoint<number | Histogram>[] {
    const metric = exports
      .at(-1)!
      .scopeMetrics.flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
  }

  // Prometheus's created-timestamp zero must sit beside a series' first increment: with the process's start
  // time instead, a series born more than the lookback (5 m) later loses its first amount (docs/money.md).
  test('a series starts when it is born, not when the process started, and keeps that start', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = initBusinessMetrics({
      exporters: [exporter],
      otlp: { exportIntervalMillis: 3_600_000 },
      env: {},
    });
    const sale = (currency: string) =>
      handle!.metrics.recordRevenue(1000, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu',
        currency,
      });
    sale('USD');
    const afterUsd = clockPast(nanos(hrTime()));
    sale('JPY');
    const afterJpy = clockPast(nanos(hrTime()));
    sale('USD');
    await handle.forceFlush();

    const start = (name: string, currency: string) =>
      nanos(pointsOf(exporter.getMetrics(), name).find((p) => p.attributes.currency === currency)!.startTime);
    for (const name of ['business_revenue_cents', 'business_order_value_cents']) {
      expect({ name, usdBeforeJpy: start(name, 'USD') < afterUsd }).toEqual({ name, usdBeforeJpy: true });
      const jpy = start(name, 'JPY');
      expect({ name, jpyBornBetween: jpy >= afterUsd && jpy < afterJpy }).toEqual({
        name,
        jpyBornBetween: true,
      });
    }
    // A later collection reports the same start (a cumulative stream does not restart).
    const firstJpy = start('business_revenue_cents', 'JPY');
    sale('JPY');
    await handle.forceFlush();
    expect(start('business_revenue_cents', 'JPY')).toBe(firstJpy);
  });

  test("OpenMetrics carries each series' own _created", async () => {
    handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    handle.metrics.recordRevenue(1, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu',
      currency: 'USD',
    });
    const between = clockPast(nanos(hrTime()));
    handle.metrics.recordRevenue(1, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu',
      currency: 'EUR',
    });
    const text = await handle.metrics.getMetrics('openmetrics');
    const created = (currency: string) =>
      Number(
        new RegExp(`^business_revenue_cents_created\\{[^}]*currency="${currency}"[^}]*\\} (\\S+)$`, 'm').exec(
          text,
        )![1],
      );
    expect(created('USD')).toBeLessThan(Number(between) / 1e9);
    expect(created('EUR')).toBeGreaterThanOrEqual(Math.floor(Number(between) / 1e6) / 1e3);
  });
});

describe('LocalSeriesStore.collectPull with a part that never finishes', () => {
  it("leaves the app's MeterProvider's part out past timeoutMillis, reports it in errors, and returns the rest", async () => {
    const store = new LocalSeriesStore(
      new AttributesResource({ 'service.name': 'store' }),
      { name: 'scope' },
      { observesInstruments: true },
    );
    const asked: (number | undefined)[] = [];
    const result = await store.collectPull(
      (options) => {
        asked.push(options.timeoutMillis);
        return new Promise(() => undefined); // an app's metric source that ignores its deadline
      },
      { timeoutMillis: 50 },
    );
    expect(asked).toEqual([50]);
    expect(result.errors).toEqual([expect.any(TimeoutError)]);
    expect(String(result.errors[0])).toMatch(
      "the app's MeterProvider's collection did not finish within 50 ms",
    );
    expect(result.resourceMetrics.resource.attributes['service.name']).toBe('store');
  });
});
