/**
 * The aggregate for a primary's exporter that asks for delta temporality (src/cluster/delta.ts): successive
 * collections of a cumulative producer, as the aggregate renders them, turned into what each series gained, for
 * the instrument types the reader's temporality selector wants as deltas (a custom selector, the OTLP exporter's
 * delta preset, and an app's exporter given to initBusinessMetrics in a cluster primary).
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  InstrumentType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { BUSINESS_METRICS, initBusinessMetrics } from '../../src';
import { aggregateProducer, DeltaOfAggregate } from '../../src/cluster/delta';

const scope = { name: 'otel-business-metrics', version: '1' };
const at = (seconds: number): HrTime => [seconds, 0];
const born = at(100);

function descriptor(name: string) {
  return { name, description: '', unit: '', valueType: ValueType.INT };
}

/** One cumulative collection, as ClusterAggregate.render makes it, ending at `end`. */
function collection(
  end: number,
  numbers: { revenue: number; open: number; gauge: number; histogram: [number, number, number[]] },
): CollectionResult {
  const point = <T>(value: T, attributes = { currency: 'USD' }) => ({
    startTime: born,
    endTime: at(end),
    attributes,
    value,
  });
  const [count, sum, counts] = numbers.histogram;
  const metrics: MetricData[] = [
    {
      descriptor: descriptor('business_revenue_cents'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [point(numbers.revenue), point(5, { currency: 'EUR' })],
    },
    {
      descriptor: descriptor('open_carts'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: false,
      dataPoints: [point(numbers.open)],
    },
    {
      descriptor: descriptor('business_exchange_rate'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [point(numbers.gauge)],
    },
    {
      descriptor: descriptor('business_order_value_cents'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [point({ buckets: { boundaries: [10, 100], counts }, sum, count, min: 3, max: 500 })],
    },
  ];
  return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope, metrics }] }, errors: [] };
}

function producerOf(collections: CollectionResult[]): MetricProducer {
  return { collect: () => Promise.resolve(collections.shift()!) };
}

function byName(result: CollectionResult): Map<string, MetricData> {
  return new Map(result.resourceMetrics.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m]));
}

describe('aggregateProducer', () => {
  it('gives a cumulative reader the aggregate itself, a delta reader a memory of its own', () => {
    const aggregate = producerOf([]);
    expect(aggregateProducer(aggregate, () => AggregationTemporality.CUMULATIVE)).toBe(aggregate);
    expect(aggregateProducer(aggregate, () => AggregationTemporality.DELTA)).toBeInstanceOf(DeltaOfAggregate);
  });

  it("follows the selector per instrument type: a custom one's delta up-down counters and histograms, cumulative counters", async () => {
    const asked: InstrumentType[] = [];
    const select = (type: InstrumentType) => {
      asked.push(type);
      return type === InstrumentType.COUNTER
        ? AggregationTemporality.CUMULATIVE
        : AggregationTemporality.DELTA;
    };
    const producer = aggregateProducer(
      producerOf([
        collection(110, { revenue: 333, open: 4, gauge: 1.1, histogram: [3, 120, [1, 1, 1]] }),
        collection(120, { revenue: 1333, open: 1, gauge: 1.2, histogram: [5, 170, [2, 2, 1]] }),
      ]),
      select,
    );
    expect(asked.sort()).toEqual([
      InstrumentType.COUNTER,
      InstrumentType.HISTOGRAM,
      InstrumentType.UP_DOWN_COUNTER,
    ]);
    const first = byName(await producer.collect());
    expect(first.get('open_carts')!.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect(first.get('open_carts')!.dataPoints[0].value).toBe(4);
    const second = byName(await producer.collect());
    // Counters as they are: cumulative.
    const revenue = second.get('business_revenue_cents')!;
    expect(revenue.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(revenue.dataPoints.map((p) => p.value)).toEqual([1333, 5]);
    // An up-down counter's delta is its change, down too.
    const open = second.get('open_carts')!;
    expect(open.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect(open.dataPoints.map((p) => [p.value, p.startTime])).toEqual([[-3, at(110)]]);
    const histogram = second.get('business_order_value_cents')!;
    expect(histogram.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect((histogram.dataPoints[0].value as { count: number }).count).toBe(2);
    expect(second.get('business_exchange_rate')!.dataPoints[0].value).toBe(1.2);
  });

  it("follows OpenTelemetry's delta preset as the OTLP exporter selects it: counters and histograms delta, up-down counters cumulative", async () => {
    const exporter = new OTLPMetricExporter({
      temporalityPreference: AggregationTemporalityPreference.DELTA,
    });
    try {
      const producer = aggregateProducer(
        producerOf([collection(110, { revenue: 333, open: 4, gauge: 1.1, histogram: [3, 120, [1, 1, 1]] })]),
        (type) => exporter.selectAggregationTemporality(type),
      );
      const temporalities = [...byName(await producer.collect())].map(([name, m]) => [
        name,
        m.aggregationTemporality,
      ]);
      expect(temporalities).toEqual([
        ['business_revenue_cents', AggregationTemporality.DELTA],
        ['open_carts', AggregationTemporality.CUMULATIVE],
        ['business_exchange_rate', AggregationTemporality.CUMULATIVE],
        ['business_order_value_cents', AggregationTemporality.DELTA],
      ]);
    } finally {
      await exporter.shutdown();
    }
  });
});

describe('DeltaOfAggregate', () => {
  it('reports what counters and histograms gained since its previous collection, exactly', async () => {
    const delta = new DeltaOfAggregate(
      producerOf([
        collection(110, { revenue: 333, open: 4, gauge: 1.1, histogram: [3, 120, [1, 1, 1]] }),
        collection(120, { revenue: 1333, open: 2, gauge: 1.2, histogram: [5, 170, [2, 2, 1]] }),
        collection(130, { revenue: 1333, open: 2, gauge: 1.2, histogram: [5, 170, [2, 2, 1]] }),
      ]),
    );

    const first = byName(await delta.collect());
    const revenue = first.get('business_revenue_cents')!;
    expect(revenue.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    // A series' first report: its whole history, from its own start.
    expect(revenue.dataPoints.map((p) => [p.attributes.currency, p.value, p.startTime])).toEqual([
      ['USD', 333, born],
      ['EUR', 5, born],
    ]);
    expect(first.get('business_order_value_cents')!.dataPoints[0].value).toEqual({
      buckets: { boundaries: [10, 100], counts: [1, 1, 1] },
      sum: 120,
      count: 3,
      min: 3,
      max: 500,
    });

    const second = byName(await delta.collect());
    // The interval since the previous collection; the unchanged EUR series is left out.
    expect(
      second
        .get('business_revenue_cents')!
        .dataPoints.map((p) => [p.attributes.currency, p.value, p.startTime]),
    ).toEqual([['USD', 1000, at(110)]]);
    expect(second.get('business_order_value_cents')!.dataPoints[0].value).toEqual({
      buckets: { boundaries: [10, 100], counts: [1, 1, 0] },
      sum: 50,
      count: 2,
      // Unknown for the interval: left out rather than the all-time ones.
      min: undefined,
      max: undefined,
    });
    // Up-down counters stay cumulative (as OpenTelemetry's delta presets keep them); gauges are gauges.
    expect(second.get('open_carts')!.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(second.get('open_carts')!.dataPoints[0].value).toBe(2);
    expect(second.get('business_exchange_rate')!.dataPoints[0].value).toBe(1.2);

    // Nothing changed: no counter or histogram point at all.
    const third = byName(await delta.collect());
    expect(third.has('business_revenue_cents')).toBe(false);
    expect(third.has('business_order_value_cents')).toBe(false);
    expect([...third.keys()]).toEqual(['open_carts', 'business_exchange_rate']);
  });

  it("carries none of the aggregate's exemplars (the latest ever kept, not the interval's), as the store's delta carries none", async () => {
    const exemplar = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      value: 7,
      timeUnixMs: 1,
    };
    const withExemplars = (result: CollectionResult) => {
      for (const metric of result.resourceMetrics.scopeMetrics[0].metrics) {
        for (const point of metric.dataPoints)
          Object.assign(point, { exemplars: [exemplar, undefined, exemplar] });
      }
      return result;
    };
    const delta = new DeltaOfAggregate(
      producerOf([
        withExemplars(collection(110, { revenue: 333, open: 4, gauge: 1.1, histogram: [3, 120, [1, 1, 1]] })),
        withExemplars(
          collection(120, { revenue: 1333, open: 2, gauge: 1.2, histogram: [5, 170, [2, 2, 1]] }),
        ),
      ]),
    );
    for (let i = 0; i < 2; i++) {
      const metrics = byName(await delta.collect());
      for (const name of ['business_revenue_cents', 'business_order_value_cents']) {
        const points = metrics.get(name)!.dataPoints as Array<{ exemplars?: unknown }>;
        expect(points.length).toBeGreaterThan(0);
        for (const point of points) expect(point.exemplars).toBeUndefined();
      }
    }
  });
});

describe('scopes that differ only in their schema URL', () => {
  it('keep a memory each: the aggregate keeps them apart, so each series gains its own', async () => {
    const sum = (value: number): MetricData => ({
      descriptor: descriptor('app_requests'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [{ startTime: born, endTime: at(110), attributes: {}, value }],
    });
    const twoScopes = (v1: number, v2: number): CollectionResult => ({
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [
          {
            scope: { name: 'app', schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' },
            metrics: [sum(v1)],
          },
          {
            scope: { name: 'app', schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
            metrics: [sum(v2)],
          },
        ],
      },
      errors: [],
    });
    const delta = new DeltaOfAggregate(producerOf([twoScopes(10, 1000), twoScopes(13, 1007)]));
    await delta.collect();
    const second = await delta.collect();
    expect(
      second.resourceMetrics.scopeMetrics.map(({ scope, metrics }) => [
        scope.schemaUrl,
        metrics[0].dataPoints[0].value,
      ]),
    ).toEqual([
      ['https://opentelemetry.io/schemas/1.24.0', 3],
      ['https://opentelemetry.io/schemas/1.30.0', 7],
    ]);
  });
});

describe('a cluster primary made by initBusinessMetrics', () => {
  /** A push exporter of the app's that wants delta for every instrument type but counters. */
  class PerTypeExporter extends InMemoryMetricExporter {
    constructor() {
      super(AggregationTemporality.CUMULATIVE);
    }
    override selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
      return type === InstrumentType.COUNTER
        ? AggregationTemporality.CUMULATIVE
        : AggregationTemporality.DELTA;
    }
  }

  it("pushes the aggregate in the temporality its exporter's selector gives each instrument type", async () => {
    const exporter = new PerTypeExporter();
    const handle = initBusinessMetrics({ exporters: [exporter], cluster: { timeoutMillis: 500 }, env: {} });
    try {
      const open = handle.meterProvider.getMeter('app').createUpDownCounter('open_carts');
      const order = (cents: number) =>
        handle.metrics.recordRevenue(cents, {
          productCategory: 'books',
          paymentMethod: 'card',
          region: 'eu',
        });
      open.add(4);
      order(100);
      await handle.forceFlush();
      open.add(-3);
      order(250);
      await handle.forceFlush();
      const pushed = new Map(
        exporter
          .getMetrics()
          .at(-1)!
          .scopeMetrics.flatMap((scope) => scope.metrics)
          .map((metric) => [metric.descriptor.name, metric]),
      );
      const revenue = pushed.get(BUSINESS_METRICS.revenue.name)!;
      expect(revenue.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
      expect(revenue.dataPoints.map((p) => p.value)).toEqual([350]);
      const orders = pushed.get(BUSINESS_METRICS.orderValue.name)!;
      expect(orders.aggregationTemporality).toBe(AggregationTemporality.DELTA);
      expect(orders.dataPoints.map((p) => (p.value as { sum: number }).sum)).toEqual([250]);
      const carts = pushed.get('open_carts')!;
      expect(carts.aggregationTemporality).toBe(AggregationTemporality.DELTA);
      expect(carts.dataPoints.map((p) => p.value)).toEqual([-3]);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
    }
  });
});

describe('an up-down counter series that leaves the aggregate (every worker holding it exited)', () => {
  /** One cumulative collection ending at `end`: each series of `families` that has a value, others absent. */
  function families(
    end: number,
    series: Partial<Record<'open' | 'revenue' | 'histogram', Record<string, number>>>,
  ): CollectionResult {
    const shapes = {
      open: { name: 'open_carts', dataPointType: DataPointType.SUM, isMonotonic: false },
      revenue: { name: 'business_revenue_cents', dataPointType: DataPointType.SUM, isMonotonic: true },
      histogram: { name: 'business_order_value_cents', dataPointType: DataPointType.HISTOGRAM },
    } as const;
    const metrics = Object.entries(series).map(([kind, values]) => {
      const { name, ...shape } = shapes[kind as keyof typeof shapes];
      return {
        ...shape,
        descriptor: descriptor(name),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: Object.entries(values).map(([region, value]) => ({
          startTime: born,
          endTime: at(end),
          attributes: { region },
          value:
            kind === 'histogram'
              ? { buckets: { boundaries: [10], counts: [value, 0] }, sum: value, count: value }
              : value,
        })),
      } as MetricData;
    });
    return {
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: metrics.length > 0 ? [{ scope, metrics }] : [],
      },
      errors: [],
    };
  }
  const everyTypeDelta = new Set([
    InstrumentType.COUNTER,
    InstrumentType.UP_DOWN_COUNTER,
    InstrumentType.HISTOGRAM,
  ]);
  const points = (result: CollectionResult) =>
    result.resourceMetrics.scopeMetrics.flatMap(({ metrics }) =>
      metrics.flatMap((m) =>
        m.dataPoints.map((p) => [m.descriptor.name, p.attributes.region, p.value, p.startTime, p.endTime]),
      ),
    );

  it('gets one delta back to 0, beside the series of its family that stay; counters and histograms that end get none', async () => {
    const delta = new DeltaOfAggregate(
      producerOf([
        families(110, {
          open: { eu: 5, us: 3 },
          revenue: { eu: 10, us: 20 },
          histogram: { eu: 1, us: 2 },
        }),
        families(120, { open: { us: 4 }, revenue: { us: 20 }, histogram: { us: 2 } }),
        families(130, { open: { us: 4, eu: 2 }, revenue: { us: 20 } }),
      ]),
      everyTypeDelta,
    );
    await delta.collect();
    const second = await delta.collect();
    const open = second.resourceMetrics.scopeMetrics[0].metrics.find(
      (m) => m.descriptor.name === 'open_carts',
    )!;
    expect(open.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect(points(second)).toEqual([
      ['open_carts', 'us', 1, at(110), at(120)],
      ['open_carts', 'eu', -5, at(110), at(120)],
    ]);
    // When a worker brings it back, its first delta is its whole value again, over the interval since its closing
    // point (from its birth, the interval would overlap the ones already sent).
    expect(points(await delta.collect())).toEqual([['open_carts', 'eu', 2, at(120), at(130)]]);
  });

  it('gets it as a metric of its own when its whole family, or everything, left: a backend summing deltas ends at 0', async () => {
    const delta = new DeltaOfAggregate(
      producerOf([
        families(110, { open: { eu: 5 }, revenue: { eu: 10 } }),
        families(120, { revenue: { eu: 12 } }),
        families(130, { open: { eu: 7 } }),
        families(140, {}),
      ]),
      everyTypeDelta,
    );
    const sums = new Map<string, number>();
    const pushed = async () => {
      const result = await delta.collect();
      for (const [name, region, value] of points(result)) {
        const key = `${String(name)} ${String(region)}`;
        sums.set(key, (sums.get(key) ?? 0) + (value as number));
      }
      return result;
    };
    await pushed();
    const second = await pushed();
    const open = second.resourceMetrics.scopeMetrics[0].metrics.find(
      (m) => m.descriptor.name === 'open_carts',
    )!;
    expect(open).toEqual({
      descriptor: descriptor('open_carts'),
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: DataPointType.SUM,
      isMonotonic: false,
      dataPoints: [{ startTime: at(110), endTime: at(120), attributes: { region: 'eu' }, value: -5 }],
    });
    expect(sums.get('open_carts eu')).toBe(0);
    await pushed();
    expect(sums.get('open_carts eu')).toBe(7);
    // Nothing left in the aggregate at all: the closing point still comes, in a scope of its own, ending now.
    const last = await pushed();
    expect(sums.get('open_carts eu')).toBe(0);
    expect(last.resourceMetrics.scopeMetrics.map(({ scope }) => scope)).toEqual([scope]);
    const [[, , , startTime, endTime]] = points(last);
    expect(startTime).toEqual(at(130));
    expect((endTime as HrTime)[0]).toBeGreaterThan(140);
    // The counter's series that ended is no decrease: it stays at what it gained.
    expect(sums.get('business_revenue_cents eu')).toBe(12);
  });
});
