/**
 * src/exporters/bridge-reader.ts: a MetricReader the app built (the upstream PrometheusExporter, a periodic reader
 * of its own) exports the package's metrics through public routes of the SDK only. The app's reader collects the
 * bridge's provider and its extra producers, with the app reader's temporality and cardinality; forceFlush and
 * shutdown reach the app's reader; a reader another MeterProvider owns is refused with what to do instead.
 * Directly on an SDK MeterProvider, and through initBusinessMetrics with real readers and a real HTTP scrape.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics } from '../../src';
import { BridgeReader } from '../../src/exporters/bridge-reader';
import { TestReader } from '../support/collect';
import { parseExposition } from '../support/exposition';

const cartView = { source: 'direct', deviceType: 'web', experimentVariant: 'B' };

/** An app's reader that prefers delta and a cardinality limit of 7, and counts what reaches it. */
class AppReader extends TestReader {
  flushes = 0;
  shutdowns = 0;
  constructor() {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
      cardinalitySelector: () => 7,
    });
  }
  protected override async onForceFlush(): Promise<void> {
    this.flushes++;
  }
  protected override async onShutdown(): Promise<void> {
    this.shutdowns++;
  }
}

describe('BridgeReader on an SDK MeterProvider', () => {
  it("lets the app's reader collect the provider and the extra producers, with its own selectors", async () => {
    const app = new AppReader();
    const extra: MetricProducer = {
      collect: async () => ({
        resourceMetrics: {
          resource: resourceFromAttributes({}),
          scopeMetrics: [{ scope: { name: 'extra-producer' }, metrics: [] }],
        },
        errors: [],
      }),
    };
    const bridge = new BridgeReader(app, [extra]);
    const provider = new MeterProvider({ readers: [bridge] });
    provider.getMeter('app-meter').createCounter('app_requests').add(3);

    expect(bridge.selectAggregationTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.DELTA);
    expect(bridge.selectCardinalityLimit(InstrumentType.COUNTER)).toBe(7);
    const collected = await app.resourceMetrics();
    expect(collected.scopeMetrics.map((scope) => scope.scope.name).sort()).toEqual([
      'app-meter',
      'extra-producer',
    ]);
    const [requests] = collected.scopeMetrics.find((scope) => scope.scope.name === 'app-meter')!.metrics;
    expect(requests.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect(requests.dataPoints.map((point) => point.value)).toEqual([3]);

    await provider.forceFlush();
    expect(app.flushes).toBe(1);
    await provider.shutdown();
    expect(app.shutdowns).toBe(1);
  });
});

describe('a caller-built MetricReader given to initBusinessMetrics', () => {
  it('adds its series to an upstream PrometheusExporter given as the MetricReader', async () => {
    const upstream = new PrometheusExporter({ preventServerStart: true });
    const handle = initBusinessMetrics(upstream);
    handle.metrics.recordFunnelStep('cart_view', cartView);
    handle.metrics.recordRevenue(2599, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
    });
    const server = createServer((req, res) => upstream.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const exposition = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      // Same family names through the upstream exporter: the catalog names need no unit suffix.
      expect(exposition.value('business_funnel_step_total', { step: 'cart_view' })).toBe(1);
      expect(exposition.value('business_revenue_cents_total', { region: 'eu_west' })).toBe(2599);
      expect(exposition.value('business_order_value_cents_count', { product_category: 'books' })).toBe(1);
    } finally {
      server.close();
      await handle.shutdown();
    }
  });

  it('feeds a caller-built periodic reader with its own delta temporality, and shuts it down with the handle', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const handle = initBusinessMetrics({ exporters: [reader], env: {} });
    handle.metrics.recordRevenue(500, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    await handle.forceFlush();
    handle.metrics.recordRevenue(700, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    await handle.shutdown();
    const revenue = exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((metric) => metric.descriptor.name === 'business_revenue_cents')
      .map((metric) => metric.dataPoints.map((point) => point.value));
    // Two intervals, delta: 500 then 700 (the final export happens in shutdown, which reached the reader).
    expect(revenue).toEqual([[500], [700]]);
  });

  it('refuses, with a message saying what to do, a reader that another MeterProvider already owns', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    });
    const other = new MeterProvider({ readers: [reader] });
    expect(() => initBusinessMetrics({ exporters: [reader], env: {} })).toThrow(
      /already bound to a MeterProvider; pass a new reader/,
    );
    await other.shutdown();
  });
});
