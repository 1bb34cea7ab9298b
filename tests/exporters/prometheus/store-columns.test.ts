/**
 * The serializer writes the local store's collections from their columns (series/collection.ts) without building
 * the SDK's MetricData. Differential: for random workloads of every store instrument (counters and histograms of
 * the catalog, exemplars inside sampled spans, values that need formatting), cumulative and delta collections,
 * both formats and both namings, the text written from the columns is exactly the text written from the
 * MetricData the same collection builds (toMetricData: the store's shapes before columns existed), and names
 * every series that was recorded. And an app instrument sharing a store metric's family: a series both record is
 * written once.
 */
import { context, trace, TraceFlags, type Meter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics, SCOPE_NAME, VERSION, type BusinessMetricsHandle } from '../../../src';
import { PrometheusPullReader, serializePrometheus } from '../../../src/exporters/prometheus';
import { storeCollectionOf, toMetricData } from '../../../src/series/collection';
import { mulberry32 } from '../../support/random';

const SOURCES = ['direct', 'search', 'ads', 'social', 'email'];
const REGIONS = ['eu_west', 'us_east', 'ap_south'];
const TIERS = ['free', 'pro', 'enterprise'];

/** The same collection with plain ScopeMetrics: the store's scopes carry the MetricData built from their columns. */
function asMetricData(collection: ResourceMetrics): ResourceMetrics {
  return {
    resource: collection.resource,
    scopeMetrics: collection.scopeMetrics.map((scope) => {
      const columns = storeCollectionOf(scope);
      return columns === undefined
        ? { scope: scope.scope, metrics: scope.metrics }
        : { scope: scope.scope, metrics: toMetricData(columns) };
    }),
  };
}

describe('serializePrometheus on a collection of the local store', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  let handle: BusinessMetricsHandle;
  let cumulative: InMemoryMetricExporter;
  let delta: InMemoryMetricExporter;
  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => context.disable());
  beforeEach(() => {
    cumulative = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    handle = initBusinessMetrics({ exporters: [cumulative, delta], env: {} });
  });
  afterEach(() => handle.shutdown({ timeoutMillis: 2000 }));

  /** A random workload: funnel steps and revenue (counters, histograms), some inside sampled spans. */
  function record(seed: number): number {
    const random = mulberry32(seed);
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
    const calls = 50 + Math.floor(random() * 200);
    // An SDK instrument beside the store: its scope is serialized from MetricData in both texts.
    handle.meterProvider.getMeter('app').createCounter('app_requests').add(calls, { route: '/cart' });
    for (let i = 0; i < calls; i++) {
      const work = () => {
        handle.metrics.recordFunnelStep(pick(['cart_view', 'checkout', 'purchase']), {
          source: pick(SOURCES),
          deviceType: pick(['mobile', 'desktop']),
        });
        handle.metrics.recordRevenue(Math.floor(random() * 100_000) + 0.5, {
          productCategory: pick(['books', 'games']),
          paymentMethod: 'card',
          region: pick(REGIONS),
        });
        handle.metrics.recordSessionEnd(Date.now() - random() * 4_000_000, {
          userTier: pick(TIERS),
          entryPage: pick(['/', '/sale']),
        });
      };
      if (random() < 0.3) {
        const spanContext = {
          traceId: (seed.toString(16) + i.toString(16)).padStart(32, '1'),
          spanId: i.toString(16).padStart(16, '2'),
          traceFlags: TraceFlags.SAMPLED,
        };
        context.with(trace.setSpanContext(context.active(), spanContext), work);
      } else work();
    }
    return calls;
  }

  it.each([1, 2, 3, 4, 5])('writes the same text as from MetricData (seed %i)', async (seed) => {
    record(seed);
    await handle.forceFlush();
    record(seed + 100);
    await handle.forceFlush();
    for (const exporter of [cumulative, delta]) {
      const collection = exporter.getMetrics().at(-1)!;
      expect(collection.scopeMetrics.filter((scope) => storeCollectionOf(scope)).length).toBe(1);
      for (const format of ['prometheus', 'openmetrics'] as const) {
        for (const metricNaming of ['collector', 'upstream'] as const) {
          const options = { format, metricNaming };
          const fromColumns = serializePrometheus(collection, options);
          expect(fromColumns).toBe(serializePrometheus(asMetricData(collection), options));
          // Not two empty texts: every family of the workload, with series.
          for (const family of ['business_funnel_step', 'business_revenue', 'business_session_duration']) {
            expect(fromColumns).toMatch(new RegExp(`^${family}\\w*\\{`, 'm'));
          }
          expect(fromColumns).toMatch(/^app_requests\w*\{/m);
          if (format === 'openmetrics' && exporter === cumulative)
            expect(fromColumns).toContain(' # {trace_id="');
        }
      }
    }
  });
});

/**
 * An app instrument named like one of the package's own lands in its family; a series both record (the store's
 * written from columns, the app's from the SDK's points) prints once where their scope labels are the same.
 */
describe('serializePrometheus: an app instrument in the family of a store metric', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  const funnel = {
    step: 'cart_view',
    source: 'direct',
    device_type: 'mobile',
    experiment_variant: 'control',
  };

  /** The package records a funnel step and a conversion 100 s into a session; the app records the same series. */
  function recordBoth(meter: Meter): void {
    meter.createCounter('business_funnel_step', { unit: '{step}' }).add(5, funnel);
    meter
      .createHistogram('business_time_to_conversion_seconds', {
        unit: 's',
        advice: { explicitBucketBoundaries: [30, 60, 120, 300, 600, 1800, 3600] },
      })
      .record(45, { conversion_type: 'purchase' });
    handle!.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'mobile' });
    handle!.metrics.recordFunnelStep('checkout', { source: 'direct', deviceType: 'mobile' });
    handle!.metrics.recordConversion('purchase', {
      source: 'direct',
      deviceType: 'mobile',
      sessionStartTime: new Date(Date.now() - 100_000),
    });
  }

  function samplesOf(text: string, prefix: string): string[] {
    return text.split('\n').filter((line) => line.startsWith(prefix) && !line.includes('_created'));
  }

  it.each(['prometheus', 'openmetrics'] as const)(
    "merges the app's series into the store's, without scope labels (%s)",
    async (format) => {
      const reader = new PrometheusPullReader({ preventServerStart: true, withoutScopeInfo: true });
      handle = initBusinessMetrics({ exporters: [reader], env: {} });
      recordBoth(handle.meterProvider.getMeter('app'));
      const text = await reader.getMetrics(format);
      expect(samplesOf(text, 'business_funnel_step_total').sort()).toEqual([
        'business_funnel_step_total{step="cart_view",source="direct",device_type="mobile",experiment_variant="control"} 6',
        'business_funnel_step_total{step="checkout",source="direct",device_type="mobile",experiment_variant="control"} 1',
      ]);
      if (format === 'openmetrics') {
        expect(text.match(/^business_funnel_step_created\{[^}]*step="cart_view"/gm)).toHaveLength(1);
      }
      const conversion = 'conversion_type="purchase"';
      expect(samplesOf(text, 'business_time_to_conversion_seconds_count')).toEqual([
        `business_time_to_conversion_seconds_count{${conversion}} 2`,
      ]);
      expect(samplesOf(text, 'business_time_to_conversion_seconds_bucket').slice(0, 3)).toEqual([
        `business_time_to_conversion_seconds_bucket{${conversion},le="30"} 0`,
        `business_time_to_conversion_seconds_bucket{${conversion},le="60"} 1`,
        `business_time_to_conversion_seconds_bucket{${conversion},le="120"} 2`,
      ]);
    },
  );

  it("merges them with scope labels when the app's meter prints the package's scope", async () => {
    // Pull-only: the store writes its own collection; the app's MeterProvider joins the same scrape.
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
    });
    recordBoth(handle.meterProvider.getMeter(SCOPE_NAME, VERSION));
    const scope = `otel_scope_name="${SCOPE_NAME}",otel_scope_version="${VERSION}"`;
    const text = await handle.metrics.getMetrics();
    expect(samplesOf(text, 'business_funnel_step_total{step="cart_view"')).toEqual([
      `business_funnel_step_total{step="cart_view",source="direct",device_type="mobile",experiment_variant="control",${scope}} 6`,
    ]);
    expect(samplesOf(text, 'business_time_to_conversion_seconds_count')).toEqual([
      `business_time_to_conversion_seconds_count{conversion_type="purchase",${scope}} 2`,
    ]);
  });

  it("keeps them apart when the app's meter prints another scope", async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
    });
    recordBoth(handle.meterProvider.getMeter('app'));
    const text = await handle.metrics.getMetrics();
    expect(samplesOf(text, 'business_funnel_step_total{step="cart_view"')).toEqual([
      'business_funnel_step_total{step="cart_view",source="direct",device_type="mobile",experiment_variant="control",otel_scope_name="app"} 5',
      `business_funnel_step_total{step="cart_view",source="direct",device_type="mobile",experiment_variant="control",otel_scope_name="${SCOPE_NAME}",otel_scope_version="${VERSION}"} 1`,
    ]);
  });
});
