/**
 * src/cluster/encode.ts: what a worker cannot send to the primary is said (a rate-limited diag warning naming the
 * metric), never left out silently, and the rest of the snapshot still goes. Exemplars travel when they changed
 * since the epoch's previous snapshot, counted in `exemplarSnapshots`, and a snapshot without any is exactly what
 * it was before exemplars travelled; the store's columns and its MetricData give the same snapshot.
 */
import {
  context,
  diag,
  DiagLogLevel,
  trace,
  TraceFlags,
  ValueType,
  type Attributes,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics } from '../../src';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { checkSnapshot } from '../../src/cluster/validate';
import { storeCollectionOf, toMetricData } from '../../src/series/collection';

const TIME: [number, number] = [1_700_000_000, 0];

function sum(name: string, points: Array<[Attributes, number]>): MetricData {
  return {
    descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map(([attributes, value]) => ({ startTime: TIME, endTime: TIME, attributes, value })),
  };
}

function collection(metrics: MetricData[]): CollectionResult {
  return {
    resourceMetrics: {
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 'app' }, metrics }],
    },
    errors: [],
  };
}

describe('SnapshotEncoder', () => {
  it('sends a value the wire cannot carry as is as the text the exposition writes; leaves out attributes it cannot read', () => {
    const warnings: string[] = [];
    const noop = () => undefined;
    diag.setLogger(
      { error: noop, info: noop, debug: noop, verbose: noop, warn: (message) => warnings.push(message) },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const encoder = new SnapshotEncoder('worker-1');
      // Values JSON would turn into null (which the primary refuses, and with it the whole snapshot) or cannot
      // encode at all: an app's SDK attributes may hold them (`{ coupon: undefined }`).
      const odd = [
        { region: 10n, coupon: undefined, ratio: NaN },
        { region: 'eu', coupon: 'none', ratio: 1 },
      ] as unknown as Attributes[];
      const first = encoder.encode(
        collection([
          sum('jobs', [
            [odd[0]!, 3],
            [odd[1]!, 4],
          ]),
        ]),
        1,
      );
      expect(first.keys).toEqual([
        JSON.stringify(['region', '10', 'coupon', '', 'ratio', 'null']),
        JSON.stringify(['region', 'eu', 'coupon', 'none', 'ratio', 1]),
      ]);
      expect(first.metrics.map((metric) => [metric.name, metric.points])).toEqual([['jobs', [0, 3, 1, 4]]]);
      expect(checkSnapshot(first).ok).toBe(true);
      expect(warnings).toEqual([]);
      // Attributes that cannot be read at all: that series stays out, said once a minute; the rest is sent.
      const unreadable = Object.defineProperty({ region: 'apac' }, 'coupon', {
        enumerable: true,
        get() {
          throw new Error('hostile getter');
        },
      }) as Attributes;
      const second = new SnapshotEncoder('worker-2').encode(
        collection([
          sum('jobs', [
            [unreadable, 5],
            [odd[1]!, 6],
          ]),
        ]),
        1,
      );
      expect(second.keys).toEqual([JSON.stringify(['region', 'eu', 'coupon', 'none', 'ratio', 1])]);
      expect(second.metrics.map((metric) => metric.points)).toEqual([[0, 6]]);
      expect(warnings).toEqual([
        'otel-business-metrics: cluster worker: jobs is left out of the aggregate (a series has attributes that cannot be read)',
      ]);
    } finally {
      diag.disable();
    }
  });
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const exemplar = (spanId: string, value: number, timeUnixMs: number) => ({
  traceId: TRACE,
  spanId,
  value,
  timeUnixMs,
});

/** A histogram metric with boundaries [10, 100] (3 buckets), its points carrying `exemplars` as the store's do. */
function histogram(points: Array<[Attributes, number[], unknown]>): MetricData {
  return {
    descriptor: { name: 'latency', description: '', unit: 'ms', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points.map(([attributes, counts, exemplars]) => {
      const count = counts.reduce((a, b) => a + b, 0);
      const point: DataPoint<Histogram> = {
        startTime: TIME,
        endTime: TIME,
        attributes,
        value: { buckets: { boundaries: [10, 100], counts }, sum: count * 5, count, min: 5, max: 5 },
      };
      return exemplars === undefined ? point : Object.assign(point, { exemplars });
    }),
  };
}

function withExemplars(metric: MetricData, exemplars: unknown[]): MetricData {
  metric.dataPoints.forEach((point, i) => {
    if (exemplars[i] !== undefined) Object.assign(point, { exemplars: exemplars[i] });
  });
  return metric;
}

describe('SnapshotEncoder: exemplars', () => {
  const a = { route: '/a' };
  const b = { route: '/b' };

  it('sends each exemplar once, then only the ones that changed; all again in a new epoch', () => {
    const encoder = new SnapshotEncoder('worker-1');
    const first = exemplar('00f067aa0ba902b7', 3, 1_000);
    const buckets = [undefined, exemplar('00f067aa0ba902b8', 50, 1_001), undefined];
    const collect = (counter: unknown, bucketExemplars: unknown) =>
      collection([
        withExemplars(
          sum('jobs', [
            [a, 3],
            [b, 1],
          ]),
          [counter === undefined ? undefined : [counter]],
        ),
        histogram([[a, [0, 2, 0], bucketExemplars]]),
      ]);

    const one = encoder.encode(collect(first, buckets), 1);
    expect(checkSnapshot(one).ok).toBe(true);
    // ids: jobs{a} 0, jobs{b} 1, latency{a} 2.
    expect(one.metrics.map((metric) => metric.exemplars)).toEqual([
      [0, 0, TRACE, '00f067aa0ba902b7', 3, 1_000],
      [2, 1, TRACE, '00f067aa0ba902b8', 50, 1_001],
    ]);
    expect(one.exemplarSnapshots).toBe(1);

    // Nothing changed (the same objects, or equal ones): nothing is sent again, and the count stays.
    const two = encoder.encode(collect({ ...first }, buckets.slice()), 2);
    expect(two.metrics.map((metric) => metric.exemplars)).toEqual([undefined, undefined]);
    expect(two.exemplarSnapshots).toBe(1);

    const later = exemplar('00f067aa0ba902c0', 7, 2_000);
    const three = encoder.encode(collect(first, [later, buckets[1], undefined]), 3);
    expect(three.metrics.map((metric) => metric.exemplars)).toEqual([
      undefined,
      [2, 0, TRACE, '00f067aa0ba902c0', 7, 2_000],
    ]);
    expect(three.exemplarSnapshots).toBe(2);

    encoder.restartEpoch();
    const full = encoder.encode(collect(first, [later, buckets[1], undefined]), 4);
    expect(full.metrics.map((metric) => metric.exemplars)).toEqual([
      [0, 0, TRACE, '00f067aa0ba902b7', 3, 1_000],
      [2, 0, TRACE, '00f067aa0ba902c0', 7, 2_000, 2, 1, TRACE, '00f067aa0ba902b8', 50, 1_001],
    ]);
    expect(full.exemplarSnapshots).toBe(1);
  });

  it('sends no exemplar of a gauge or an up-down counter, and nothing that is no object', () => {
    const encoder = new SnapshotEncoder('worker-1');
    const gauge: MetricData = {
      ...sum('level', [[a, 3]]),
      dataPointType: DataPointType.GAUGE,
    } as MetricData;
    const updown = { ...sum('queue', [[a, 3]]), isMonotonic: false } as MetricData;
    const good = exemplar('00f067aa0ba902b7', 3, 1_000);
    withExemplars(gauge, [[good]]);
    withExemplars(updown, [[good]]);
    const odd = withExemplars(
      sum('jobs', [
        [a, 1],
        [b, 1],
      ]),
      ['not a list', [null, good]],
    );
    const message = encoder.encode(collection([gauge, updown, odd]), 1);
    expect(message.metrics.map((metric) => metric.exemplars)).toEqual([undefined, undefined, undefined]);
    expect(message.exemplarSnapshots).toBeUndefined();
  });

  it('a snapshot without exemplars is the one sent before they travelled: no field, no count', () => {
    const message = new SnapshotEncoder('worker-1').encode(
      collection([sum('jobs', [[a, 3]]), histogram([[a, [1, 0, 0], undefined]])]),
      1,
    );
    expect(Object.keys(message)).not.toContain('exemplarSnapshots');
    for (const metric of message.metrics) expect(Object.keys(metric)).not.toContain('exemplars');
  });

  it("from the store's columns: the span's ids on the right series and bucket, as from its MetricData", async () => {
    const contextManager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(contextManager.enable());
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    try {
      const span = { traceId: TRACE, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
      context.with(trace.setSpanContext(context.active(), span), () => {
        handle.metrics.recordFunnelStep('checkout', { source: 'ads', deviceType: 'mobile' });
        handle.metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
      await handle.forceFlush();
      const resourceMetrics = exporter.getMetrics().at(-1)!;
      const fromColumns = new SnapshotEncoder('w', [], storeCollectionOf).encode(
        { resourceMetrics, errors: [] },
        1,
      );
      const storeScope = resourceMetrics.scopeMetrics.find((scope) => storeCollectionOf(scope))!;
      const asMetricData = {
        ...resourceMetrics,
        scopeMetrics: resourceMetrics.scopeMetrics.map((scope) =>
          scope === storeScope
            ? { scope: scope.scope, metrics: toMetricData(storeCollectionOf(scope)!) }
            : scope,
        ),
      };
      const fromMetricData = new SnapshotEncoder('w').encode(
        { resourceMetrics: asMetricData, errors: [] },
        1,
      );
      expect(fromColumns).toEqual(fromMetricData);
      expect(fromColumns.exemplarSnapshots).toBe(1);
      const keyOf = (id: number) => JSON.parse(fromColumns.keys[id]) as unknown[];
      const carried = fromColumns.metrics
        .filter((metric) => metric.exemplars !== undefined)
        .map((metric) => ({
          name: metric.name,
          key: keyOf(metric.exemplars![0] as number),
          rest: metric.exemplars!.slice(1, 5),
        }));
      expect(carried).toEqual([
        {
          name: 'business_funnel_step',
          key: expect.arrayContaining(['step', 'checkout']),
          rest: [0, TRACE, '00f067aa0ba902b7', 1],
        },
        {
          name: 'business_revenue_cents',
          key: expect.arrayContaining(['product_category', 'books']),
          rest: [0, TRACE, '00f067aa0ba902b7', 2599],
        },
        {
          name: 'business_order_value_cents',
          key: expect.arrayContaining(['product_category', 'books']),
          // Bucket 3 of the order value's [500, 1000, 2500, 5000, ...]: 2599 is above 2500.
          rest: [3, TRACE, '00f067aa0ba902b7', 2599],
        },
      ]);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      context.disable();
    }
  });
});
