/**
 * Opt-in Node runtime metrics through initBusinessMetrics: the instrumentation's families appear beside the
 * business ones on /metrics, only when asked for, and stop at shutdown; bad options and a missing optional
 * package fail init with a clear message before any port opens.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { initBusinessMetrics, RUNTIME_PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';

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
      // until it does. The first report holds the blocked sample.
      let scrape = await scrapeOf(handle);
      await waitUntil(
        'the event-loop delay is reported',
        async () =>
          (scrape = await scrapeOf(handle)).families.has(RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99),
        { intervalMillis: 10 },
      );
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

  it('names the package to install when the optional dependency is missing (npm install --omit=optional)', () => {
    // A child on the built package, with the optional package unresolvable as after --omit=optional.
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const Module = require('module');
         const resolve = Module._resolveFilename;
         Module._resolveFilename = function (request, ...rest) {
           if (request.startsWith('@opentelemetry/instrumentation-runtime-node')) {
             throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
           }
           return resolve.call(this, request, ...rest);
         };
         const { initBusinessMetrics } = require(process.argv[1]);
         try {
           initBusinessMetrics({ exporters: ['none'], runtimeMetrics: true, env: {} });
           console.log('no error');
         } catch (error) { console.log(error.message); }`,
        join(__dirname, '../../dist/index.js'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.stdout.trim()).toBe(
      'runtimeMetrics needs the optional package @opentelemetry/instrumentation-runtime-node (0.36.x for Node 20), ' +
        'which is not installed: npm install @opentelemetry/instrumentation-runtime-node@~0.36.1',
    );
  });

  it('says a broken install is broken (with its cause), not "not installed"', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/instrumentation-runtime-node', () => {
        // Installed, but a dependency of its own is not.
        throw Object.assign(new Error("Cannot find module '@opentelemetry/instrumentation'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      const { prepareRuntimeMetrics } = require('../../src/runtime/node-runtime');
      let thrown: Error | undefined;
      try {
        prepareRuntimeMetrics(true);
      } catch (error) {
        thrown = error as Error;
      }
      expect(thrown?.message).toBe(
        'runtimeMetrics needs the optional package @opentelemetry/instrumentation-runtime-node (0.36.x for Node 20), ' +
          "which is installed but failed to load (Cannot find module '@opentelemetry/instrumentation'): " +
          'reinstall it (npm install @opentelemetry/instrumentation-runtime-node@~0.36.1)',
      );
      expect((thrown?.cause as Error).message).toBe("Cannot find module '@opentelemetry/instrumentation'");
    });
  });
});
