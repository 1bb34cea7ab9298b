/**
 * initBusinessMetrics with the caller's own exporter instances: a PushMetricExporter and the console exporter.
 * (A caller's own MetricReader, the upstream PrometheusExporter among them, is
 * tests/exporters/bridge-reader.test.ts's.)
 */
import { AggregationTemporality, DataPointType, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics } from '../../src';

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
