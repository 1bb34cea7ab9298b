/**
 * src/cluster/encode.ts reads the local store's series from its columns (`ColumnsLookup`), not from the SDK
 * MetricData the store builds for them. Differential: for random workloads through initBusinessMetrics (every
 * record method, the self-metrics and an app's own instruments on the same provider, collection after collection,
 * an epoch restart between them), the snapshot encoded from the columns equals the one encoded from the MetricData
 * of the same collection, keys and ids included; and the columns path never reads `metrics` of the store's scope.
 */
import fc from 'fast-check';
import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { SnapshotEncoder } from '../../src/cluster/encode';
import type { SnapshotMessage } from '../../src/cluster/protocol';
import { storeCollectionOf } from '../../src/series/collection';
import { recordRandomEvents } from '../exporters/otlp-wire/differential';
import { prng } from '../support/random';

/** Points of the store's metrics in a snapshot: > 0 shows that side of a comparison returned data. */
const businessPoints = (snapshot: SnapshotMessage): number =>
  snapshot.metrics
    .filter((metric) => metric.name.startsWith('business_'))
    .reduce((sum, metric) => sum + metric.points.length, 0);

describe('SnapshotEncoder from the store columns', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  it('encodes random workloads, collection after collection, to the snapshot the MetricData path encodes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const random = prng(seed);
        const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
        handle = initBusinessMetrics({ exporters: [exporter], serviceName: 'checkout', env: {} });
        const meter = handle.meterProvider.getMeter('app', '0.0.1');
        const requests = meter.createCounter('app_requests', { valueType: 1 /* INT */ });
        const latency = meter.createHistogram('app_latency', { unit: 'ms' });
        const fromColumns = new SnapshotEncoder('worker', [], storeCollectionOf);
        const fromMetricData = new SnapshotEncoder('worker');
        let storePoints = 0;
        for (let round = 1; round <= 4; round++) {
          recordRandomEvents(handle.metrics, random, 20 + Math.floor(random() * 150));
          requests.add(Math.floor(random() * 5), { route: '/checkout', code: 200 });
          latency.record(random() * 300, { route: '/checkout' });
          if (round === 3) {
            fromColumns.restartEpoch();
            fromMetricData.restartEpoch();
          }
          await handle.forceFlush();
          const resourceMetrics = exporter.getMetrics().slice(-1)[0];
          const storeScope = resourceMetrics.scopeMetrics.find((scope) => storeCollectionOf(scope))!;
          const read = jest.spyOn(storeScope, 'metrics', 'get');
          const columns = fromColumns.encode({ resourceMetrics, errors: [] }, round);
          expect(read).not.toHaveBeenCalled();
          read.mockRestore();
          const metricData = fromMetricData.encode({ resourceMetrics, errors: [] }, round);
          expect(businessPoints(columns)).toBeGreaterThan(0);
          expect(businessPoints(metricData)).toBeGreaterThan(0);
          expect(columns).toEqual(metricData);
          for (const metric of storeCollectionOf(storeScope)!.metrics) storePoints += metric.length;
        }
        // The property held for something: store series (counters and histograms) were encoded.
        expect(storePoints).toBeGreaterThan(10);
        await handle.shutdown({ timeoutMillis: 2000 });
        handle = undefined;
      }),
      { numRuns: 10 },
    );
  });

  it('reads each row as its own series where a collection skips series (delta: only series recorded since)', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    const fromColumns = new SnapshotEncoder('worker', [], storeCollectionOf);
    const fromMetricData = new SnapshotEncoder('worker');
    const now = Date.now();
    const tiers = ['free', 'pro', 'enterprise'];
    const pages = ['/', '/pricing', '/docs', '/blog'];
    const sources = ['direct', 'newsletter', 'google_ads', 'partner'];
    let skipped = 0;
    for (let round = 1; round <= 3; round++) {
      // Every series in the first collection; from the second on, only a few, so row r is not series r.
      sources.forEach((source, i) => {
        if (round === 1 || i === round) {
          handle!.metrics.recordFunnelStep('cart_view', { source, deviceType: 'mobile' });
          handle!.metrics.recordSessionEnd(now - (i + round) * 61_000, {
            userTier: tiers[i % 3],
            entryPage: pages[i],
          });
        }
      });
      await handle.forceFlush();
      const resourceMetrics = exporter.getMetrics().slice(-1)[0];
      const storeScope = resourceMetrics.scopeMetrics.find((scope) => storeCollectionOf(scope))!;
      for (const columns of storeCollectionOf(storeScope)!.metrics)
        for (let row = 0; row < columns.length; row++) if (columns.indices[row] !== row) skipped++;
      const columns = fromColumns.encode({ resourceMetrics, errors: [] }, round);
      const metricData = fromMetricData.encode({ resourceMetrics, errors: [] }, round);
      expect(businessPoints(columns)).toBeGreaterThan(0);
      expect(businessPoints(metricData)).toBeGreaterThan(0);
      expect(columns).toEqual(metricData);
    }
    // The collections did skip series: rows and series indices differed.
    expect(skipped).toBeGreaterThan(0);
  });

  it('is what a cluster primary made by initBusinessMetrics encodes its own store with', async () => {
    const encodeColumns = jest.spyOn(
      SnapshotEncoder.prototype as unknown as { encodeColumns: (...args: unknown[]) => unknown },
      'encodeColumns',
    );
    try {
      handle = initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus: { preventServerStart: true },
        cluster: { timeoutMillis: 500 },
        env: {},
      });
      handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'mobile' });
      expect(await handle.metrics.getMetrics()).toMatch(/^business_funnel_step_total\{[^}]*\} 1$/m);
      const names = encodeColumns.mock.calls.map(
        ([columns]) => (columns as { definition: { name: string } }).definition.name,
      );
      expect(names).toContain('business_funnel_step');
    } finally {
      encodeColumns.mockRestore();
    }
  });

  it('sends a series first seen through MetricData under the same id when it is later read from columns', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = initBusinessMetrics({ exporters: [exporter], env: {} });
    recordRandomEvents(handle.metrics, prng(11), 200);
    await handle.forceFlush();
    let columns = false;
    // No columns at the first collection (as for any other producer), columns from the second on.
    const encoder = new SnapshotEncoder('worker', [], (scope) =>
      columns ? storeCollectionOf(scope) : undefined,
    );
    const first = encoder.encode({ resourceMetrics: exporter.getMetrics().slice(-1)[0], errors: [] }, 1);
    columns = true;
    await handle.forceFlush();
    const resourceMetrics = exporter.getMetrics().slice(-1)[0];
    const storeScope = resourceMetrics.scopeMetrics.find((scope) => storeCollectionOf(scope))!;
    const read = jest.spyOn(storeScope, 'metrics', 'get');
    const second = encoder.encode({ resourceMetrics, errors: [] }, 2);
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
    expect(first.keys.length).toBeGreaterThan(5);
    // Nothing new was recorded: every series keeps its id, so no key is sent again.
    expect(second.keys).toEqual([]);
    const points = (snapshot: typeof first) =>
      snapshot.metrics.filter((metric) => metric.name.startsWith('business_')).map((m) => [m.name, m.points]);
    expect(points(second)).toEqual(points(first));
  });
});
