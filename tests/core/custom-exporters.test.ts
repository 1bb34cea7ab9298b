/**
 * initBusinessMetrics with the caller's own exporter instances: a PushMetricExporter, the upstream Prometheus
 * MetricReader, and the console exporter.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics } from '../../src';
import { parseExposition } from '../support/exposition';

const cartView = { source: 'direct', deviceType: 'web', experimentVariant: 'B' };

describe('caller-provided exporters', () => {
  it('wraps a PushMetricExporter in a periodic reader and honours its temporality', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    handle.metrics.recordFunnelStep('cart_view', cartView);
    handle.metrics.recordFunnelStep('cart_view', cartView);
    await handle.forceFlush();
    handle.metrics.recordFunnelStep('cart_view', cartView);
    await handle.forceFlush();
    const funnelPoints = exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((metric) => metric.descriptor.name === 'business_funnel_step')
      .map((metric) => {
        expect(metric.aggregationTemporality).toBe(AggregationTemporality.DELTA);
        expect(metric.dataPointType).toBe(DataPointType.SUM);
        return metric.dataPoints.map((point) => point.value);
      });
    expect(funnelPoints).toEqual([[2], [1]]);
    await handle.shutdown();
  });

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

  it('prints to the console exporter', async () => {
    const printed: unknown[] = [];
    const dir = jest.spyOn(console, 'dir').mockImplementation((value: unknown) => void printed.push(value));
    try {
      const handle = initBusinessMetrics({ exporters: ['console'], env: {} });
      handle.metrics.recordFeatureUsage('search', { userTier: 'free', isNewUser: true });
      await handle.shutdown();
      const names = printed.map((entry) => (entry as { descriptor?: { name?: string } }).descriptor?.name);
      expect(names).toContain('business_feature_usage');
    } finally {
      dir.mockRestore();
    }
  });
});
