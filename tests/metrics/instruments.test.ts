/**
 * src/metrics/instruments.ts, the one place that creates instruments. Every label of every business instrument
 * is fed by a named argument of a real recording method (BUSINESS_BINDINGS), and that is the argument strict
 * mode names when it refuses a value; every catalog instrument is registered with the catalog's name, unit,
 * description and kind, on an app's own Meter and in the package's local store alike, and the self-metrics
 * with theirs; label policies an app gives replace the catalog's per key, and an undefined one replaces nothing;
 * the Meter of a store-only recorder is the API's no-op Meter, method for method.
 * Real SDK MeterProviders and readers.
 */
import {
  DataPointType,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BUSINESS_METRIC_LIST,
  BUSINESS_METRICS,
  BusinessMetrics,
  DEFAULT_LABEL_POLICIES,
  SELF_METRICS,
  initBusinessMetrics,
  type BusinessMetricKey,
  type BusinessMetricsRecorder,
  type MetricDefinition,
} from '../../src';
import { createNoopMeter } from '@opentelemetry/api';
import {
  BUSINESS_BINDINGS,
  definedOnly,
  resolvePolicies,
  storeOnlyMeter,
} from '../../src/metrics/instruments';
import { TestReader } from '../support/collect';

const books = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
// A reporting currency, so the exchange-rate gauge has values too.
const money = { reporting: { currency: 'USD', rates: { EUR: 1.1 } } };

/** One call of every recording method, plus one value the guard drops (so a self-metric has a point). */
function recordEverything(metrics: BusinessMetricsRecorder): void {
  metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
  metrics.recordConversion('purchase', { source: 'direct', deviceType: 'web', sessionStartTime: Date.now() });
  metrics.recordRevenue(2599, books);
  metrics.recordRevenue(1000, { ...books, currency: 'EUR' });
  metrics.recordRefund(500, { paymentMethod: 'card', region: 'eu_west' });
  metrics.recordFeatureUsage('export', { userTier: 'pro', isNewUser: false });
  metrics.recordSessionEnd(Date.now() - 5000, { userTier: 'pro', entryPage: '/' });
  metrics.updateActiveUsers('daily', { pro: 4 });
  metrics.recordRevenue(-1, books);
}

/** What each catalog kind is in the SDK's data model. */
const SDK_SHAPE: Record<MetricDefinition['kind'], object> = {
  counter: { dataPointType: DataPointType.SUM, isMonotonic: true },
  histogram: { dataPointType: DataPointType.HISTOGRAM },
  gauge: { dataPointType: DataPointType.GAUGE },
};

/** Each metric's name, unit, description and shape, for every metric of `names` the collection holds. */
function described(collection: ResourceMetrics, names: readonly string[]) {
  const metrics: MetricData[] = collection.scopeMetrics.flatMap((scope) => scope.metrics);
  return names.map((name) => {
    const found = metrics.filter((metric) => metric.descriptor.name === name);
    const [metric] = found;
    return {
      name,
      copies: found.length,
      unit: metric?.descriptor.unit,
      description: metric?.descriptor.description,
      dataPointType: metric?.dataPointType,
      ...(metric?.dataPointType === DataPointType.SUM
        ? { isMonotonic: (metric as { isMonotonic?: boolean }).isMonotonic }
        : {}),
    };
  });
}

function catalogDescribed(definitions: readonly MetricDefinition[]) {
  return definitions.map((definition) => ({
    name: definition.name,
    copies: 1,
    unit: definition.unit,
    description: definition.description,
    ...SDK_SHAPE[definition.kind],
  }));
}

describe('BUSINESS_BINDINGS', () => {
  it('names an argument for every label of every business instrument, of a real recording method', () => {
    const methods = new Set(Object.getOwnPropertyNames(BusinessMetrics.prototype));
    const bindings = Object.keys(BUSINESS_METRICS).map((key) => {
      const binding = BUSINESS_BINDINGS[key as BusinessMetricKey];
      return {
        key,
        labels: Object.keys(binding.arguments).sort(),
        method: binding.method === 'initBusinessMetrics' || methods.has(binding.method),
      };
    });
    expect(bindings).toEqual(
      Object.entries(BUSINESS_METRICS).map(([key, definition]) => ({
        key,
        labels: [...definition.labels].sort(),
        method: true,
      })),
    );
  });

  it('is what strict mode names when it refuses a label value', () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const strict = new BusinessMetrics(provider.getMeter('app'), { strict: true });
    expect(() => strict.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'fridge' })).toThrow(
      /^businessMetrics\.recordFunnelStep: metadata\.deviceType /,
    );
    expect(() => strict.recordSessionEnd(Date.now(), { userTier: 'gold', entryPage: '/' })).toThrow(
      /^businessMetrics\.recordSessionEnd: metadata\.userTier /,
    );
    return provider.shutdown();
  });
});

describe('the instruments', () => {
  const businessNames = BUSINESS_METRIC_LIST.map((definition) => definition.name);

  /** A recorder in each place series can live, its reader, and how to stop it. */
  const places: Array<
    [string, (reader: TestReader) => { metrics: BusinessMetricsRecorder; stop(): Promise<void> }]
  > = [
    [
      "on an app's own Meter",
      (reader) => {
        const provider = new MeterProvider({ readers: [reader] });
        const metrics = new BusinessMetrics(provider.getMeter('app'), { money });
        return { metrics, stop: () => provider.shutdown() };
      },
    ],
    [
      'in the local store of initBusinessMetrics',
      (reader) => {
        const handle = initBusinessMetrics({ exporters: [reader], money, env: {} });
        return { metrics: handle.metrics, stop: () => handle.shutdown() };
      },
    ],
  ];

  it.each(places)('are every catalog instrument, as the catalog describes it, %s', async (_place, create) => {
    const reader = new TestReader();
    const { metrics, stop } = create(reader);
    try {
      recordEverything(metrics);
      const collection = await reader.resourceMetrics();
      expect(described(collection, businessNames)).toEqual(catalogDescribed(BUSINESS_METRIC_LIST));
      expect(described(collection, [SELF_METRICS.dropped.name])).toEqual(
        catalogDescribed([SELF_METRICS.dropped]),
      );
    } finally {
      await stop();
    }
  });
});

describe('label policies', () => {
  it("replace the catalog's per key, and an undefined one replaces nothing", () => {
    const tiers = { kind: 'allow', values: ['free', 'gold'] } as const;
    expect(resolvePolicies(undefined)).toEqual(DEFAULT_LABEL_POLICIES);
    const resolved = resolvePolicies({ user_tier: tiers, region: undefined });
    expect(resolved.user_tier).toBe(tiers);
    expect(resolved.region).toBe(DEFAULT_LABEL_POLICIES.region);
    expect({ ...resolved, user_tier: DEFAULT_LABEL_POLICIES.user_tier }).toEqual(DEFAULT_LABEL_POLICIES);
    expect(definedOnly({ a: 1, b: undefined, c: null })).toEqual({ a: 1, c: null });
    expect(Object.keys(definedOnly({ a: 1, b: undefined }))).toEqual(['a']);
  });
});

describe('storeOnlyMeter', () => {
  it("is the API's no-op Meter once called, with every method of it", () => {
    const meter = storeOnlyMeter();
    const counter = meter.createCounter('c');
    expect(() => counter.add(1)).not.toThrow();
    expect(counter).toBe(createNoopMeter().createCounter('c'));
    const noopMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(createNoopMeter()));
    expect(Object.keys(meter).sort()).toEqual(noopMethods.filter((name) => name !== 'constructor').sort());
  });
});
