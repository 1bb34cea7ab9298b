/**
 * Locks the semantics of the local series store (src/series/): whatever the package does to be fast, the same
 * workload recorded through initBusinessMetrics (local cells handed to readers as a MetricProducer) and through
 * plain SDK instruments (`new BusinessMetrics(meter)` with businessMetricViews()) must export the same metrics:
 * counters, histogram buckets/sum/count/min/max, gauges and self-metrics, cumulative and delta, collection after
 * collection. Real SDK readers and the SDK's InMemoryMetricExporter; no mocks of the package.
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
} from '../../src';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

/** A small deterministic PRNG, so a failing workload can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const pick = <T>(random: () => number, values: readonly T[]): T =>
  values[Math.floor(random() * values.length)];

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
