/**
 * Opt-in Node runtime metrics through initBusinessMetrics: the instrumentation's families appear beside the
 * business ones on /metrics, only when asked for, and stop at shutdown; bad options and a missing optional
 * package fail init with a clear message before any port opens.
 */
import { initBusinessMetrics, RUNTIME_PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';

async function scrapeOf(handle: BusinessMetricsHandle): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await handle.metrics.getMetrics());
}

describe('runtimeMetrics', () => {
  it('exports event-loop delay, utilization and heap beside the business metrics', async () => {
    const handle = initBusinessMetrics({
      exporters: ['none'],
      runtimeMetrics: { monitoringPrecision: 5 },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
      // Let the event-loop delay histogram take a few samples at 5 ms resolution.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const scrape = await scrapeOf(handle);
      expect(scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99).type).toBe('gauge');
      const delay = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99).samples[0].value;
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThan(10);
      const utilization = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopUtilization).samples[0].value;
      expect(utilization).toBeGreaterThanOrEqual(0);
      expect(utilization).toBeLessThanOrEqual(1);
      const heap = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.heapUsed).samples;
      expect(heap.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThan(1_000_000);
      expect(scrape.family('business_funnel_step_total').samples).toHaveLength(1);
    } finally {
      await handle.shutdown();
    }
  });

  it('is off by default', async () => {
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      const text = await handle.metrics.getMetrics();
      expect(text).not.toContain('nodejs_eventloop');
      expect(text).not.toContain('v8js_');
    } finally {
      await handle.shutdown();
    }
  });

  it('refuses malformed options at init, before any port opens', async () => {
    const port = await freePort();
    const prometheus = { host: '127.0.0.1', port };
    expect(() =>
      initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus,
        runtimeMetrics: { monitoringPrecision: 0 },
      }),
    ).toThrow('runtimeMetrics.monitoringPrecision must be an integer number of milliseconds from 1 to 60000');
    expect(() =>
      initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus,
        runtimeMetrics: 'yes' as unknown as boolean,
      }),
    ).toThrow(TypeError);
    // Nothing listens on the port, and no handle was left live: a new init on the same port works.
    const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus, env: {} });
    await handle.ready;
    await handle.shutdown();
  });

  it('names the package to install when the optional dependency is missing', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/instrumentation-runtime-node', () => {
        throw new Error("Cannot find module '@opentelemetry/instrumentation-runtime-node'");
      });
      // require inside isolateModules: a fresh module registry that sees the mock
      const { prepareRuntimeMetrics } = require('../../src/runtime/node-runtime');
      expect(() => prepareRuntimeMetrics(true)).toThrow(
        'runtimeMetrics needs the optional dependency @opentelemetry/instrumentation-runtime-node (0.36.x for Node 20): npm install @opentelemetry/instrumentation-runtime-node@~0.36.1',
      );
    });
  });
});
