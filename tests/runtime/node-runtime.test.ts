/**
 * Opt-in Node runtime metrics through initBusinessMetrics: the instrumentation's families appear beside the
 * business ones on /metrics, only when asked for, and stop at shutdown; bad options and a missing optional
 * package fail init with a clear message before any port opens.
 */
import { getHeapStatistics } from 'node:v8';
import { initBusinessMetrics, RUNTIME_PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';

async function scrapeOf(handle: BusinessMetricsHandle): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await handle.metrics.getMetrics());
}

describe('runtimeMetrics', () => {
  it('exports event-loop delay, utilization and heap beside the business metrics, in their units', async () => {
    const handle = initBusinessMetrics({
      exporters: ['none'],
      runtimeMetrics: { monitoringPrecision: 5 },
      env: {},
    });
    try {
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'desktop' });
      // Block the event loop for a known 200 ms: the delay monitor's next sample is at least that late. A value
      // in milliseconds would read >= 150 here, one in seconds >= 0.15; neither depends on machine load (load only
      // makes the delay longer, and no test runs for 60 s).
      await new Promise((resolve) => setTimeout(resolve, 20));
      const blockedUntil = performance.now() + 200;
      while (performance.now() < blockedUntil);
      // The instrumentation reports the delay once its histogram holds 5 samples (and resets it then): scrape
      // until it does. The first report holds the blocked sample; the test's timeout bounds the wait.
      let scrape = await scrapeOf(handle);
      while (!scrape.families.has(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        scrape = await scrapeOf(handle);
      }
      expect(scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99).type).toBe('gauge');
      const maxDelay = scrape.family('nodejs_eventloop_delay_max_seconds').samples[0].value;
      expect(maxDelay).toBeGreaterThanOrEqual(0.15);
      expect(maxDelay).toBeLessThan(60);
      const p99 = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99).samples[0].value;
      expect(p99).toBeGreaterThan(0);
      expect(p99).toBeLessThanOrEqual(maxDelay);
      const utilization = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.eventLoopUtilization).samples[0].value;
      expect(utilization).toBeGreaterThan(0);
      expect(utilization).toBeLessThanOrEqual(1);
      // Bytes: the same heap V8 reports to this process, within a factor of two (kB or MB would be 1000x off).
      const heap = scrape.family(RUNTIME_PROMETHEUS_FAMILIES.heapUsed).samples;
      const used = heap.reduce((sum, sample) => sum + sample.value, 0);
      const v8Used = getHeapStatistics().used_heap_size;
      expect(used).toBeGreaterThan(v8Used / 2);
      expect(used).toBeLessThan(v8Used * 2);
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
