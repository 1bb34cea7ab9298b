/**
 * src/series/collection.ts: one collection of the local store, in columns, behind an ordinary ScopeMetrics. Holds
 * what every reader relies on: the store's ScopeMetrics is found again by storeCollectionOf (and nothing else is,
 * not even a copy of it); its `metrics` are built on first read, kept, and look like a plain field to spread and
 * JSON; and the MetricData built from the columns (toMetricData) says exactly what was recorded: the catalog's
 * name, unit and description, monotonic sums, histogram buckets, sum, count, min and max per series, each point's
 * attributes, start times per series when cumulative and the collection's start when delta, no exemplars where
 * none were taken. Real collections of the store through initBusinessMetrics and the SDK's in-memory exporter.
 */
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import {
  releaseCollection,
  storeCollectionOf,
  toMetricData,
  type StoreCollection,
} from '../../src/series/collection';

const cartView = (source: string) => ({ source, deviceType: 'web' });
const books = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };

describe('a collection of the local store', () => {
  let handle: BusinessMetricsHandle;
  let cumulative: InMemoryMetricExporter;
  let delta: InMemoryMetricExporter;
  beforeEach(() => {
    cumulative = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    handle = initBusinessMetrics({ exporters: [cumulative, delta], env: {} });
    handle.meterProvider.getMeter('app').createCounter('app_requests').add(1);
  });
  afterEach(() => handle.shutdown({ timeoutMillis: 2000 }));

  /** The latest collection of `exporter`, and its one store scope. */
  const latest = (exporter: InMemoryMetricExporter) => {
    const collection: ResourceMetrics = exporter.getMetrics().at(-1)!;
    const stores = collection.scopeMetrics.filter((scope) => storeCollectionOf(scope) !== undefined);
    expect(stores).toHaveLength(1);
    return { collection, scope: stores[0], columns: storeCollectionOf(stores[0])! };
  };
  const metric = (scope: ScopeMetrics, name: string): MetricData => {
    const found = scope.metrics.filter((data) => data.descriptor.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const bySource = (data: MetricData): Record<string, DataPoint<number>> =>
    Object.fromEntries(
      data.dataPoints.map((point) => [String(point.attributes.source), point as DataPoint<number>]),
    );

  it('is found from its ScopeMetrics only: not from the SDK scopes beside it, not from a copy', async () => {
    handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    await handle.forceFlush();
    const { collection, scope, columns } = latest(cumulative);
    expect(collection.scopeMetrics.some((other) => other.scope.name === 'app')).toBe(true);
    expect(columns.scope).toEqual(scope.scope);
    expect(columns.temporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(storeCollectionOf({ ...scope })).toBeUndefined();
    expect(latest(delta).columns.temporality).toBe(AggregationTemporality.DELTA);
  });

  it('builds its metrics on first read, keeps them, and shows them to spread and JSON like a field', async () => {
    handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    await handle.forceFlush();
    const { scope, columns } = latest(cumulative);
    expect(Object.keys(scope)).toEqual(['scope', 'metrics']);
    const first = scope.metrics;
    expect(scope.metrics).toBe(first);
    expect({ ...scope }.metrics).toBe(first);
    expect(JSON.parse(JSON.stringify(scope)).metrics).toEqual(JSON.parse(JSON.stringify(first)));
    // toMetricData builds anew each time, the same data.
    const again = toMetricData(columns);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('gives counters as monotonic sums of the catalog metric, one point per series with its attributes', async () => {
    for (let i = 0; i < 3; i++) handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    handle.metrics.recordFunnelStep('cart_view', cartView('email'));
    await handle.forceFlush();
    const { scope } = latest(cumulative);
    const funnel = metric(scope, 'business_funnel_step');
    expect(funnel.descriptor).toMatchObject({
      name: 'business_funnel_step',
      unit: '{step}',
      description: 'Counts progression through conversion funnel steps',
    });
    expect(funnel).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(funnel.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    const points = bySource(funnel);
    expect(Object.keys(points).sort()).toEqual(['direct', 'email']);
    expect(points.direct.value).toBe(3);
    expect(points.email.value).toBe(1);
    expect(points.direct.attributes).toEqual({
      step: 'cart_view',
      source: 'direct',
      device_type: 'web',
      experiment_variant: 'control',
    });
    // No exemplar was taken (no span was active): the points carry none, not an empty list.
    expect(funnel.dataPoints.filter((point) => 'exemplars' in point)).toEqual([]);
  });

  it('gives histograms with the catalog buckets, and per series count, sum, min and max', async () => {
    for (const cents of [600, 2599, 60_000]) handle.metrics.recordRevenue(cents, books);
    await handle.forceFlush();
    const orderValue = metric(latest(cumulative).scope, 'business_order_value_cents');
    expect(orderValue.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(orderValue.dataPoints).toHaveLength(1);
    const { value } = orderValue.dataPoints[0] as DataPoint<Histogram>;
    expect(value).toEqual({
      buckets: { boundaries: [500, 1000, 2500, 5000, 10000, 25000, 50000], counts: [0, 1, 0, 1, 0, 0, 0, 1] },
      sum: 63_199,
      count: 3,
      min: 600,
      max: 60_000,
    });
  });

  it('starts cumulative points when their series was born, and delta points at the collection start', async () => {
    handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    await handle.forceFlush();
    const firstCumulative = bySource(metric(latest(cumulative).scope, 'business_funnel_step'));
    handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    handle.metrics.recordFunnelStep('cart_view', cartView('email'));
    await handle.forceFlush();

    const cumulativeNow = latest(cumulative);
    const points = bySource(metric(cumulativeNow.scope, 'business_funnel_step'));
    // The series of the first collection keeps its start; each point ends at the collection's end.
    expect(points.direct.startTime).toEqual(firstCumulative.direct.startTime);
    expect(points.direct.value).toBe(2);
    for (const point of Object.values(points)) expect(point.endTime).toEqual(cumulativeNow.columns.endTime);

    const deltaNow = latest(delta);
    const deltaPoints = bySource(metric(deltaNow.scope, 'business_funnel_step'));
    expect(Object.keys(deltaPoints).sort()).toEqual(['direct', 'email']);
    expect(deltaPoints.direct.value).toBe(1);
    for (const point of Object.values(deltaPoints)) {
      expect(point.startTime).toEqual(deltaNow.columns.startTime);
      expect(point.endTime).toEqual(deltaNow.columns.endTime);
    }
  });

  it('holds in its columns only the series with a point in this collection', async () => {
    handle.metrics.recordFunnelStep('cart_view', cartView('direct'));
    await handle.forceFlush();
    handle.metrics.recordFunnelStep('cart_view', cartView('email'));
    await handle.forceFlush();
    const funnelColumns = (columns: StoreCollection) =>
      columns.metrics.filter((columnsOf) => columnsOf.definition.name === 'business_funnel_step');
    // Delta: the second collection has only the series recorded since the first.
    const [deltaFunnel] = funnelColumns(latest(delta).columns);
    expect(deltaFunnel.length).toBe(1);
    expect(metric(latest(delta).scope, 'business_funnel_step').dataPoints).toHaveLength(1);
    // Cumulative: both series.
    const [cumulativeFunnel] = funnelColumns(latest(cumulative).columns);
    expect(cumulativeFunnel.length).toBe(2);
  });
});

describe('column arrays given back by the writer that finished with a collection', () => {
  let handle: BusinessMetricsHandle;
  let exporter: InMemoryMetricExporter;
  beforeEach(() => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = initBusinessMetrics({ exporters: [exporter], env: {} });
  });
  afterEach(() => handle.shutdown({ timeoutMillis: 2000 }));

  const latestStore = () => {
    const collection = exporter.getMetrics().at(-1)!;
    const scope = collection.scopeMetrics.find((candidate) => storeCollectionOf(candidate) !== undefined)!;
    const columns = storeCollectionOf(scope)!;
    const funnel = columns.metrics.find((metric) => metric.definition.name === 'business_funnel_step')!;
    const revenue = columns.metrics.find(
      (metric) => metric.definition.name === 'business_order_value_cents',
    )!;
    return { collection, scope, funnel, revenue };
  };
  const record = (orders: number) => {
    for (let i = 0; i < orders; i++) {
      handle.metrics.recordFunnelStep('cart_view', cartView(i % 2 === 0 ? 'direct' : 'google'));
      handle.metrics.recordRevenue(100 + i, books);
    }
  };

  it('are not reused while nobody gave them back: a kept collection stays what it was', async () => {
    record(2);
    await handle.forceFlush();
    const first = latestStore();
    record(3);
    await handle.forceFlush();
    const second = latestStore();
    expect(second.funnel.kind === 'counter' && second.funnel.values).not.toBe(
      first.funnel.kind === 'counter' && first.funnel.values,
    );
    const counts = (scope: ScopeMetrics) =>
      (
        scope.metrics.find((data) => data.descriptor.name === 'business_funnel_step')!
          .dataPoints as DataPoint<number>[]
      )
        .map((point) => point.value)
        .sort();
    expect(counts(first.scope)).toEqual([1, 1]);
    expect(counts(second.scope)).toEqual([2, 3]);
  });

  it('are taken by the next collection of the same size once given back, which then holds its own values', async () => {
    record(2);
    await handle.forceFlush();
    const first = latestStore();
    releaseCollection(first.collection);
    // Given back and never read before: its MetricData would read another collection's numbers, so there is none.
    expect(first.scope.metrics).toEqual([]);
    record(3);
    await handle.forceFlush();
    const second = latestStore();
    if (first.funnel.kind !== 'counter' || second.funnel.kind !== 'counter')
      throw new Error('counters expected');
    if (first.revenue.kind !== 'histogram' || second.revenue.kind !== 'histogram')
      throw new Error('histograms expected');
    expect(second.funnel.values).toBe(first.funnel.values);
    expect(second.revenue.bucketCounts).toBe(first.revenue.bucketCounts);
    const data = toMetricData(storeCollectionOf(second.scope)!);
    const funnel = data.find((candidate) => candidate.descriptor.name === 'business_funnel_step')!;
    expect((funnel.dataPoints as DataPoint<number>[]).map((point) => point.value).sort()).toEqual([2, 3]);
    const orders = data.find((candidate) => candidate.descriptor.name === 'business_order_value_cents')!;
    const [point] = orders.dataPoints as DataPoint<Histogram>[];
    expect({ count: point.value.count, sum: point.value.sum }).toEqual({
      count: 5,
      sum: 100 + 101 + 100 + 101 + 102,
    });
    // Given back twice, kept once: two later collections never share an array.
    releaseCollection(second.collection);
    releaseCollection(second.collection);
    record(1);
    await handle.forceFlush();
    record(1);
    await handle.forceFlush();
    const [third, fourth] = exporter
      .getMetrics()
      .slice(-2)
      .map((collection) => storeCollectionOf(collection.scopeMetrics.find((s) => storeCollectionOf(s))!)!);
    const values = (collection: StoreCollection) =>
      collection.metrics.find((m) => m.definition.name === 'business_funnel_step')!;
    const thirdFunnel = values(third);
    const fourthFunnel = values(fourth);
    if (thirdFunnel.kind !== 'counter' || fourthFunnel.kind !== 'counter')
      throw new Error('counters expected');
    expect(fourthFunnel.values).not.toBe(thirdFunnel.values);
  });
});
