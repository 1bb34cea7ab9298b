/**
 * What tests/exporters/otlp-wire/protobuf.test.ts and json.test.ts share: the cases that hold an encoding of the
 * package to the upstream transformer's (@opentelemetry/otlp-transformer 0.223, what the official exporters
 * send), run once per encoding, and the OTLP schema transcribed in fixtures/ for protobufjs (an independent
 * decoder). For random workloads through initBusinessMetrics (every record method, so all nine business
 * instruments plus refunds, the money gauges and the self-metrics; an app's own counters, up-down counters,
 * histograms and gauges on the same provider; a cumulative and a delta exporter collecting in turn), every
 * collection is encoded both ways and compared. The encoder's generic path (metrics that are not the store's) is
 * checked the same way on a plain SDK provider with exponential histograms, integer sums, every attribute value
 * kind, a resource and a scope with schema URLs. The store's columns really are what the encoder reads (not the
 * materialised MetricData), which a case proves by encoding before anything reads `metrics`. With a trace SDK
 * (describeExemplars), a request decodes to upstream's plus exactly the exemplars recorded inside spans.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { context, trace, ValueType } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { initBusinessMetrics, type BusinessMetricsHandle, type BusinessMetricsRecorder } from '../../../src';
import { storeCollectionOf } from '../../../src/series/collection';
import { prng, pick } from '../../support/random';

/** The OTLP metrics schema (fixtures/otlp-metrics.proto), for protobufjs. */
export const OTLP_SCHEMA = protobuf.parse(
  readFileSync(join(__dirname, 'fixtures/otlp-metrics.proto'), 'utf8'),
).root;
// Resolved before use: only then do repeated numbers get proto3's packed encoding.
OTLP_SCHEMA.resolveAll();

/**
 * Every record method, with repeats, new series, values the guard drops or relabels, and non-ASCII labels (also the
 * workload of tests/cluster/encode-columns.test.ts).
 */
export function recordRandomEvents(
  recorder: BusinessMetricsRecorder,
  random: () => number,
  events: number,
): void {
  const now = Date.now();
  const sources = ['google_ads', 'direct', 'newsletter', 'bücher', 'réseau', ''];
  const tiers = ['free', 'pro', 'enterprise'];
  for (let i = 0; i < events; i++) {
    switch (Math.floor(random() * 9)) {
      case 0:
        recorder.recordFunnelStep(pick(random, ['cart_view', 'payment_info', 'order_confirmed']), {
          source: pick(random, sources),
          deviceType: pick(random, ['mobile', 'desktop']),
          experimentVariant: pick(random, ['B', undefined]),
        });
        break;
      case 1:
        recorder.recordConversion(pick(random, ['purchase', 'signup']), {
          source: pick(random, sources),
          deviceType: 'mobile',
          sessionStartTime: now - Math.floor(random() * 4_000_000),
        });
        break;
      case 2:
        recorder.recordRevenue(pick(random, [1, 999, 2599, 49_999, 1_000_000, 0.5]), {
          productCategory: pick(random, ['books', 'garden']),
          paymentMethod: pick(random, ['card', 'paypal']),
          region: pick(random, ['eu_west', 'us_east']),
          currency: pick(random, ['USD', 'EUR', 'JPY', undefined]),
        });
        break;
      case 3:
        recorder.recordRefund(pick(random, [100, 2599]), {
          paymentMethod: 'card',
          region: 'eu_west',
          reason: pick(random, ['chargeback', undefined]),
        });
        break;
      case 4:
        recorder.recordFeatureUsage(pick(random, ['export', 'search']), {
          userTier: pick(random, tiers),
          isNewUser: random() < 0.5,
        });
        break;
      case 5:
        recorder.recordSessionEnd(now - Math.floor(random() * 7_200_000), {
          userTier: pick(random, tiers),
          entryPage: pick(random, ['/', '/pricing', '/blog/ü']),
        });
        break;
      case 6:
        recorder.updateActiveUsers(pick(random, ['daily', 'weekly', 'monthly']), {
          [pick(random, tiers)]: Math.floor(random() * 1000),
        });
        break;
      case 7:
        recorder.trackActiveUser(`user-${Math.floor(random() * 50)}`, { userTier: pick(random, tiers) });
        break;
      default:
        // Refused by the guard (counted in the self-metrics, which are encoded too).
        recorder.recordRevenue(-5, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    }
  }
}

/**
 * The differential cases for one encoding, in a describe block named after it: `encode` is the package's encoder;
 * `expectSameAsUpstream` encodes a collection with it first (so the store's columns are read before anything
 * materialises MetricData from them), then with the upstream serializer, and expects the same.
 */
export function describeAgainstUpstream(
  name: string,
  encode: (resourceMetrics: ResourceMetrics) => Uint8Array,
  expectSameAsUpstream: (resourceMetrics: ResourceMetrics) => void,
): void {
  /** Compares, and returns how many data points the collection held. */
  const expectSame = (resourceMetrics: ResourceMetrics): number => {
    expectSameAsUpstream(resourceMetrics);
    let points = 0;
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) points += metric.dataPoints.length;
    return points;
  };

  describe(`${name} from the store, against the upstream transformer`, () => {
    let handle: BusinessMetricsHandle | undefined;
    afterEach(async () => {
      await handle?.shutdown({ timeoutMillis: 2000 });
      handle = undefined;
    });

    it('encode random workloads, cumulative and delta, collection after collection, to the same bytes', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
          const random = prng(seed);
          const cumulative = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
          const delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
          handle = initBusinessMetrics({
            exporters: [cumulative, delta],
            serviceName: 'checkout',
            resourceAttributes: { 'deployment.environment.name': 'test', 'service.version': '1.2.3' },
            env: {},
          });
          // An app's own instruments on the same provider: the SDK's shapes beside the store's.
          const meter = handle.meterProvider.getMeter('app', '0.0.1');
          const requests = meter.createCounter('app_requests', { valueType: 1 /* INT */ });
          const queue = meter.createUpDownCounter('app_queue_depth');
          const latency = meter.createHistogram('app_latency', { unit: 'ms' });
          meter
            .createObservableGauge('app_temperature', { description: '' })
            .addCallback((result) => result.observe(21.5 + random(), { room: 'lab', floor: 3, hot: true }));
          let points = 0;
          for (let round = 0; round < 3; round++) {
            recordRandomEvents(handle.metrics, random, 40 + Math.floor(random() * 200));
            requests.add(Math.floor(random() * 5), { route: '/checkout', code: 200 });
            queue.add(Math.floor(random() * 10) - 5, { queue: 'mail' });
            latency.record(random() * 300, { route: '/checkout' });
            await handle.forceFlush();
            for (const exporter of [cumulative, delta]) {
              const collections = exporter.getMetrics();
              points += expectSame(collections[collections.length - 1]);
            }
          }
          // The property held for something: business series were encoded, of both temporalities.
          expect(points).toBeGreaterThan(10);
          await handle.shutdown({ timeoutMillis: 2000 });
          handle = undefined;
        }),
        { numRuns: 12 },
      );
    });

    it('read the store columns, never the MetricData built from them', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      handle = initBusinessMetrics({ exporters: [exporter], env: {} });
      recordRandomEvents(handle.metrics, prng(7), 300);
      await handle.forceFlush();
      const [collection] = exporter.getMetrics().slice(-1);
      const storeScope = collection.scopeMetrics.find((scope) => storeCollectionOf(scope) !== undefined)!;
      expect(storeCollectionOf(storeScope)!.metrics.length).toBeGreaterThan(3);
      const read = jest.spyOn(storeScope, 'metrics', 'get');
      encode(collection);
      expect(read).not.toHaveBeenCalled();
      // The objects, when another reader asks for them, hold what the bytes hold.
      expectSame(collection);
      expect(read).toHaveBeenCalled();
    });

    it('encode requests of changing size (far past the last one, then far below it) to the same bytes', async () => {
      // The JSON writer starts at the last request's size and the per-series bytes live in shared slabs: a
      // request much larger than the last grows the writer mid-point, a small one after it starts large, and
      // thousands of new series fill several slabs.
      const cumulative = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
      handle = initBusinessMetrics({
        exporters: [cumulative, delta],
        env: {},
        limits: {
          maxSeriesPerMetric: 10_000,
          labels: {
            user_tier: { kind: 'allow', values: ['free', 'pro'] },
            entry_page: { kind: 'capped', maxValues: 10_000 },
          },
        },
      });
      const now = Date.now();
      const sessions = (from: number, to: number): void => {
        for (let i = from; i < to; i++)
          handle!.metrics.recordSessionEnd(now - ((i % 7) * 1000 + i / 3), {
            userTier: i % 2 === 0 ? 'free' : 'pro',
            entryPage: `/page/${Math.floor(i / 2)}/ü`,
          });
      };
      const sizes: number[] = [];
      for (const [from, to] of [
        [0, 20],
        [0, 4000],
        [0, 3],
        [4000, 9000],
      ]) {
        sessions(from, to);
        await handle.forceFlush();
        for (const exporter of [cumulative, delta]) {
          const collections = exporter.getMetrics();
          const last = collections[collections.length - 1];
          sizes.push(encode(last).length);
          expect(expectSame(last)).toBeGreaterThanOrEqual(to - from);
        }
      }
      // The sizes did change as described: delta 3 series after 4,000, cumulative 9,000 after 4,000.
      expect(sizes[5]).toBeLessThan(sizes[3] / 100);
      expect(sizes[6]).toBeGreaterThan(sizes[4] * 2);
    });

    it('encode any SDK metric like upstream: exponential histograms, integer sums, every attribute kind', async () => {
      class Reader extends MetricReader {
        protected async onShutdown(): Promise<void> {}
        protected async onForceFlush(): Promise<void> {}
      }
      for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
        const reader = new Reader({ aggregationTemporalitySelector: () => temporality });
        const provider = new MeterProvider({
          resource: resourceFromAttributes(
            {
              'service.name': 'generic',
              'host.cores': 2,
              ratio: 0.25,
              list: ['a', 'b'],
              flags: [true, false],
            },
            { schemaUrl: 'https://opentelemetry.io/schemas/1.28.0' },
          ),
          readers: [reader],
          views: [{ instrumentName: 'exp_*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
        });
        const meter = provider.getMeter('generic-scope', '9.9.9', {
          schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
        });
        const exp = meter.createHistogram('exp_latency');
        const ints = meter.createCounter('int_total', { valueType: 1 /* INT */ });
        const gauge = meter.createGauge('plain_gauge');
        const random = prng(11);
        for (let i = 0; i < 500; i++) {
          exp.record(random() * 1000 - (i % 7 === 0 ? 2000 : 0), { shard: i % 3, ok: i % 2 === 0 });
          ints.add(i, { big: 2 ** 40 + i, negative: -i, nums: [1, 2.5, -3] });
          gauge.record(random() - 0.5, { unicode: 'größe ✓', empty: '' });
        }
        gauge.record(Number.NaN, { case: 'nan' });
        gauge.record(Number.POSITIVE_INFINITY, { case: 'inf' });
        const { resourceMetrics } = await reader.collect();
        expect(expectSame(resourceMetrics)).toBeGreaterThan(5);
        await provider.shutdown();
      }
    });
  });
}

/** One exemplar as either encoding decodes it, ids as lowercase hex. */
export interface DecodedExemplar {
  readonly timeUnixNano: string;
  /** Which of the value oneof's fields was written, and its value. */
  readonly valueField: 'asDouble' | 'asInt';
  readonly value: number;
  readonly spanId: string;
  readonly traceId: string;
  readonly filteredAttributes: readonly unknown[];
}

/** A decoded request's data points, keyed `<metric name> <attributes as decoded>`. */
type DecodedPoint = Record<string, unknown> & { exemplars?: Record<string, unknown>[] };

function pointsOf(request: unknown): Map<string, DecodedPoint> {
  const points = new Map<string, DecodedPoint>();
  const { resourceMetrics } = request as {
    resourceMetrics: { scopeMetrics: { metrics: Record<string, unknown>[] }[] }[];
  };
  for (const resource of resourceMetrics)
    for (const scope of resource.scopeMetrics)
      for (const metric of scope.metrics)
        for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram'])
          for (const point of (metric[kind] as { dataPoints?: DecodedPoint[] } | undefined)?.dataPoints ?? [])
            points.set(`${metric.name as string} ${JSON.stringify(point.attributes)}`, point);
  return points;
}

/** The request with every point's exemplars (and protobufjs's empty lists) taken out. */
function withoutExemplars(request: unknown): unknown {
  const copy = structuredClone(request);
  for (const point of pointsOf(copy).values()) delete point.exemplars;
  return copy;
}

/**
 * The exemplar cases for one encoding: `decode` is an independent decoder's plain object of the bytes (protobufjs
 * with the transcribed schema, or JSON.parse), `idsOf` turns its span and trace ids into hex, `upstream` the
 * upstream serializer. A business workload runs inside spans of the real trace SDK; the request must decode to
 * upstream's request plus exactly the exemplars recorded, from the store's columns and from the MetricData built
 * from them alike.
 */
export function describeExemplars(
  name: string,
  encode: (resourceMetrics: ResourceMetrics) => Uint8Array,
  decode: (bytes: Uint8Array) => unknown,
  idsOf: (id: unknown) => string,
  upstream: (resourceMetrics: ResourceMetrics) => Uint8Array,
): void {
  /** Exemplars per point (see pointsOf), with the value field that was written. */
  const exemplarsIn = (request: unknown): Map<string, DecodedExemplar[]> => {
    const out = new Map<string, DecodedExemplar[]>();
    for (const [key, point] of pointsOf(request)) {
      if (!point.exemplars || point.exemplars.length === 0) continue;
      out.set(
        key,
        point.exemplars.map((exemplar) => {
          const valueField = exemplar.asInt !== undefined ? 'asInt' : 'asDouble';
          return {
            timeUnixNano: String(exemplar.timeUnixNano),
            valueField,
            value: Number(exemplar[valueField]),
            spanId: idsOf(exemplar.spanId),
            traceId: idsOf(exemplar.traceId),
            filteredAttributes: (exemplar.filteredAttributes as unknown[] | undefined) ?? [],
          };
        }),
      );
    }
    return out;
  };

  describe(`${name} with exemplars`, () => {
    const contextManager = new AsyncLocalStorageContextManager();
    let handle: BusinessMetricsHandle | undefined;
    beforeAll(() => {
      context.setGlobalContextManager(contextManager.enable());
      trace.setGlobalTracerProvider(new BasicTracerProvider());
    });
    afterEach(async () => {
      await handle?.shutdown({ timeoutMillis: 2000 });
      handle = undefined;
    });
    afterAll(() => {
      trace.disable();
      context.disable();
    });

    /** Runs `record` in a new sampled span; returns its ids and the time window it ran in (epoch ms). */
    const inSpan = (record: () => void) =>
      trace.getTracer('checkout').startActiveSpan('POST /checkout', (span) => {
        const before = Date.now();
        record();
        const after = Date.now();
        span.end();
        const { traceId, spanId } = span.spanContext();
        return { traceId, spanId, before, after };
      });

    /** Whether `exemplar` is the span's, with `value`, a time within its window and no filtered attributes. */
    const expectExemplar = (
      exemplar: DecodedExemplar | undefined,
      span: ReturnType<typeof inSpan>,
      value: number,
      valueField: 'asDouble' | 'asInt' = 'asDouble',
    ) => {
      expect(exemplar).toMatchObject({
        valueField,
        spanId: span.spanId,
        traceId: span.traceId,
        filteredAttributes: [],
      });
      expect(exemplar!.value).toBeCloseTo(value, 1);
      const time = BigInt(exemplar!.timeUnixNano);
      expect(time % 1_000_000n).toBe(0n); // whole milliseconds, as recorded
      expect(time >= BigInt(span.before) * 1_000_000n && time <= BigInt(span.after) * 1_000_000n).toBe(true);
    };

    it('carry the span of each counter series and of each histogram bucket, from columns and MetricData alike', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
      handle = initBusinessMetrics({ exporters: [exporter, delta], env: {} });
      const metrics = handle.metrics;
      const order = (cents: number) => () =>
        metrics.recordRevenue(cents, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      const conversion = inSpan(() =>
        metrics.recordConversion('purchase', {
          source: 'email',
          deviceType: 'mobile',
          sessionStartTime: Date.now() - 42_000,
        }),
      );
      // Outside any span: counted, no exemplar.
      metrics.recordConversion('purchase', {
        source: 'direct',
        deviceType: 'desktop',
        sessionStartTime: Date.now(),
      });
      const small = inSpan(order(999)); // bucket [500, 1000)
      inSpan(order(2599)); // bucket [2500, 5000), replaced by the next
      const large = inSpan(order(49_999)); // bucket [25000, 50000)
      const replacing = inSpan(order(3000)); // bucket [2500, 5000) again
      await handle.forceFlush();
      const [collected] = exporter.getMetrics().slice(-1);

      // Columns first (nothing has read `metrics` yet), then the same points as plain MetricData.
      const fromColumns = decode(encode(collected));
      const asMetricData: ResourceMetrics = {
        resource: collected.resource,
        scopeMetrics: collected.scopeMetrics.map((scope) => ({ scope: scope.scope, metrics: scope.metrics })),
      };
      expect(asMetricData.scopeMetrics.every((scope) => storeCollectionOf(scope) === undefined)).toBe(true);
      const fromMetricData = decode(encode(asMetricData));

      for (const request of [fromColumns, fromMetricData]) {
        // Everything but the exemplars is upstream's request.
        expect(withoutExemplars(request)).toEqual(withoutExemplars(decode(upstream(collected))));
        const found = exemplarsIn(request);
        const key = (metric: string, labels: Record<string, string>) =>
          [...found.keys()].filter(
            (k) =>
              k.startsWith(`${metric} `) &&
              Object.entries(labels).every(
                ([label, value]) => k.includes(`"${label}"`) && k.includes(`"${value}"`),
              ),
          );
        expect(key('business_conversions', { source: 'email' })).toHaveLength(1);
        expectExemplar(found.get(key('business_conversions', { source: 'email' })[0])?.[0], conversion, 1);
        expect(key('business_conversions', { source: 'direct' })).toEqual([]);
        const [timeToConversion] = key('business_time_to_conversion_seconds', {
          conversion_type: 'purchase',
        });
        // One series for both conversions; only the bucket of the one in a span ([30, 60)) has an exemplar.
        expect(found.get(timeToConversion)).toHaveLength(1);
        expectExemplar(found.get(timeToConversion)![0], conversion, 42);
        // The revenue series keeps the last; the order-value series one per bucket, in bucket order.
        const [revenue] = key('business_revenue_cents', { product_category: 'books' });
        expect(found.get(revenue)).toHaveLength(1);
        expectExemplar(found.get(revenue)![0], replacing, 3000);
        const [orders] = key('business_order_value_cents', { product_category: 'books' });
        const perBucket = found.get(orders)!;
        expect(perBucket.map((exemplar) => exemplar.value)).toEqual([999, 3000, 49_999]);
        expectExemplar(perBucket[0], small, 999);
        expectExemplar(perBucket[1], replacing, 3000);
        expectExemplar(perBucket[2], large, 49_999);
        // Nothing else carries one (the self-metrics, the gauges).
        expect(found.size).toBe(4);
      }
      // Delta collections keep no exemplars (series/local-store.ts): the same workload, none in the request.
      const [deltaCollected] = delta.getMetrics().slice(-1);
      expect(pointsOf(decode(encode(deltaCollected))).size).toBeGreaterThan(4);
      expect(exemplarsIn(decode(encode(deltaCollected))).size).toBe(0);
    });

    it('write as_int on integer points, and leave out what OTLP cannot carry (the request still decodes)', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      handle = initBusinessMetrics({ exporters: [exporter], env: {} });
      const span = inSpan(() =>
        handle!.metrics.recordFeatureUsage('export', { userTier: 'pro', isNewUser: false }),
      );
      await handle.forceFlush();
      const [collected] = exporter.getMetrics().slice(-1);
      const store = collected.scopeMetrics.find((scope) => storeCollectionOf(scope) !== undefined)!;
      const usage = store.metrics.find((metric) => metric.descriptor.name === 'business_feature_usage')!;
      const [point] = usage.dataPoints as (DataPoint<number> & { exemplars: unknown[] })[];
      const [kept] = point.exemplars as {
        traceId: string;
        spanId: string;
        value: number;
        timeUnixMs: number;
      }[];
      const malformed = [
        { ...kept, spanId: 'not hex at all!' },
        { ...kept, traceId: kept.traceId.slice(2) },
        { ...kept, value: Number.NaN },
        { ...kept, timeUnixMs: Number.POSITIVE_INFINITY },
        null,
        'a string',
      ];
      const integerUsage: MetricData = {
        ...usage,
        descriptor: { ...usage.descriptor, valueType: ValueType.INT },
        dataPoints: [{ ...point, exemplars: [undefined, ...malformed, kept] } as DataPoint<number>],
      } as MetricData;
      const request: ResourceMetrics = {
        resource: collected.resource,
        scopeMetrics: [{ scope: store.scope, metrics: [integerUsage] }],
      };
      const decoded = decode(encode(request));
      expect(withoutExemplars(decoded)).toEqual(withoutExemplars(decode(upstream(request))));
      const [exemplars] = [...exemplarsIn(decoded).values()];
      expect(exemplars).toHaveLength(1);
      expectExemplar(exemplars[0], span, 1, 'asInt');
    });
  });
}
