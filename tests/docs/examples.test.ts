/**
 * The README and docs/ examples no folder's own test runs, run here as written (between the `docs example`
 * markers; tests/docs/readme.test.ts finds each verbatim in the docs, and tests/docs/code-blocks.test.ts counts
 * the block as run). The docs import from 'otel-business-metrics'; here the same names come from src/, and what a
 * block leaves to the app (its reader, its session data) is declared before the marker.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import {
  BusinessMetrics,
  businessMetricViews,
  businessMetrics,
  CheckoutStep,
  CheckoutTracker,
  EngagementTracker,
  initBusinessMetrics,
  type BusinessMetricsHandle,
} from '../../src';
import { parseExposition } from '../support/exposition';

let telemetry: BusinessMetricsHandle | undefined;
afterEach(async () => {
  await telemetry?.shutdown({ timeoutMillis: 2000 });
  telemetry = undefined;
});

/** The sum of a family's samples matching `labels`, from the handle's own exposition. */
async function total(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = parseExposition(await telemetry!.metrics.getMetrics()).find(name, labels);
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

describe('README and docs/ examples no area test runs, run as written', () => {
  it("README: BusinessMetrics on the app's own MeterProvider, with the package's views", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const myReader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const myViews: ViewOptions[] = [];
    // The docs' lines as written (prettier would wrap the first one).
    // prettier-ignore
    const { provider } = (() => {
      // --- docs example: own MeterProvider ---
      const provider = new MeterProvider({ readers: [myReader], views: [...myViews, ...businessMetricViews()] });
      const metrics = new BusinessMetrics(provider.getMeter('shop'), { limits: { maxSeriesPerMetric: 5000 } });
      metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      // --- end ---
      return { provider };
    })();
    const { resourceMetrics } = await myReader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const revenue = all.find((metric) => metric.descriptor.name === 'business_revenue_cents');
    expect(revenue?.dataPoints.map((point) => [point.attributes.region, point.value])).toEqual([
      ['eu_west', 2599],
    ]);
    // The views gave the order value its explicit buckets (not the SDK's default ones).
    const orderValue = all.find((metric) => metric.descriptor.name === 'business_order_value_cents');
    const buckets = (orderValue?.dataPoints[0].value as { buckets: { boundaries: number[] } }).buckets
      .boundaries;
    expect(buckets).not.toEqual([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
    expect(buckets.length).toBeGreaterThan(0);
    await provider.shutdown();
  });

  it("docs/integrations.md: the guide's CheckoutTracker, every step", async () => {
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
    const sessionStartTime = new Date(Date.now() - 90_000);
    const cartValueCents = 4599;
    const itemCount = 2;
    // The docs' lines as written, aligned comments and all.
    // prettier-ignore
    {
      // --- docs example: checkout tracker ---
      const tracker = new CheckoutTracker({ sessionStartTime, source: 'google', deviceType: 'mobile', experimentVariant: 'B' });
      tracker.trackCartView(cartValueCents, itemCount);   // step cart_view
      tracker.trackShippingInfo();                        // shipping_info
      tracker.trackPaymentInfo('card');                   // payment_info
      tracker.trackOrderReview();                         // order_review
      tracker.trackPurchaseComplete(4599, 'books', 'card', 'eu_west'); // order_confirmed + purchase conversion + revenue
      tracker.trackCheckoutError();                       // checkout_error (the guide recorded it by hand)
      tracker.trackPaymentDeclined();                     // payment_declined: the provider said no (not an error of yours)
      // --- end ---
    }
    const steps = parseExposition(await telemetry.metrics.getMetrics()).find('business_funnel_step_total');
    expect(Object.fromEntries(steps.map((sample) => [sample.labels.step, sample.value]))).toEqual({
      cart_view: 1,
      shipping_info: 1,
      payment_info: 1,
      order_review: 1,
      order_confirmed: 1,
      checkout_error: 1,
      payment_declined: 1,
    });
    expect(await total('business_revenue_cents_total', { region: 'eu_west' })).toBe(4599);
    expect(await total('business_conversions_total', { conversion_type: 'purchase' })).toBe(1);
    // The enum and the engagement tracker the import line names are the main entry's.
    expect(CheckoutStep.CART_VIEW).toBe('cart_view');
    expect(typeof EngagementTracker).toBe('function');
  });

  it('docs/money.md: the money options (default currency, allowed currencies, an exponent override)', async () => {
    // --- docs example: money options ---
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      money: {
        defaultCurrency: 'EUR', // calls without `currency`; default USD, so seed calls are unchanged
        currencies: ['EUR', 'USD', 'JPY'], // restrict to the currencies you sell; default: every ISO 4217 code
        minorUnitExponents: { IDR: 0 }, // only where your payment provider's exponent differs from the default (below)
      },
    });
    // --- end ---
    try {
      const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
      businessMetrics.recordRevenue(1000, meta);
      businessMetrics.recordRevenue(500, { ...meta, currency: 'GBP' });
      const exposition = parseExposition(await telemetry.metrics.getMetrics());
      expect(
        exposition.find('business_revenue_cents_total').map((s) => [s.labels.currency, s.value]),
      ).toEqual([['EUR', 1000]]);
      expect(
        exposition.find('business_metrics_dropped_total', { metric: 'business_revenue_cents_total' }),
      ).toHaveLength(1);
    } finally {
      await telemetry.shutdown({ timeoutMillis: 2000 });
    }
  }, 20_000);

  it('docs/exemplars.md: a conversion inside a span of the trace SDK keeps its trace id as an exemplar', async () => {
    const source = 'google';
    const deviceType = 'mobile';
    const sessionStartTime = Date.now() - 42_000;
    // --- docs example: exemplars ---
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [/* your exporter */] }));
    // --- end ---
    // The app starts the package after its trace SDK (as the demo shop does), so init's probe finds the context
    // manager; one registered later is used from the next scrape on.
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
    // --- docs example: exemplars, the span ---
    trace.getTracer('checkout').startActiveSpan('POST /checkout', (span) => {
      businessMetrics.recordConversion('purchase', { source, deviceType, sessionStartTime });
      span.end();
    });
    // --- end ---
    try {
      const openMetrics = await telemetry.metrics.getMetrics('openmetrics');
      const line = openMetrics.split('\n').find((l) => l.startsWith('business_conversions_total{'));
      expect(line).toMatch(/ # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} 1 /);
      expect(line).not.toContain('trace_id="00000000000000000000000000000000"');
    } finally {
      trace.disable();
      context.disable();
    }
  });
});
