/**
 * src/cluster/endpoint.ts directly: the primary's aggregate endpoint serves the aggregate, which already holds the
 * primary's own numbers once (through `local`, not a second reader of its provider), under the resource given; the
 * endpoint's primary becomes the live one `watchWorkerThread` reaches, and shutdown stops it and unregisters it.
 * The push readers init.ts gives it export the same aggregate (the primary's own numbers once), flush on demand,
 * and push once more at shutdown. A scrape of the primary is answered even when its own collection never ends (an
 * app's observable callback that never settles, or anything else): the rest of the aggregate is served.
 * Sources merging in: tests/cluster/primary.test.ts and the cluster e2e tests.
 */
import { Worker } from 'node:worker_threads';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { startClusterEndpoint, type ClusterEndpoint } from '../../src/cluster/endpoint';
import { ClusterExtensions } from '../../src/cluster/extensions';
import { watchWorkerThread } from '../../src/cluster/thread-watch';
import { parseExposition } from '../support/exposition';
import { httpRequest } from '../support/http';
import { captureDiag } from '../support/diag-messages';
import { PrometheusPullReader } from '../../src/exporters/prometheus';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 60_000,
});
const provider = new MeterProvider({ readers: [reader] });
let endpoint: ClusterEndpoint | undefined;

afterEach(async () => {
  await endpoint?.shutdown(2000);
  endpoint = undefined;
});
afterAll(() => provider.shutdown());

function start(readers?: Parameters<typeof startClusterEndpoint>[0]['readers']): ClusterEndpoint {
  endpoint = startClusterEndpoint({
    readers,
    resource: resourceFromAttributes({ 'service.name': 'cluster-endpoint-test' }),
    options: { timeoutMillis: 500 },
    local: () => reader.collect(),
    columnsOf: () => undefined,
    prometheus: { preventServerStart: true },
    extensions: new ClusterExtensions(),
  });
  return endpoint;
}

it("serves the aggregate with the primary's own numbers once, under the resource given", async () => {
  const { reader: endpointReader } = start();
  provider.getMeter('endpoint-test').createCounter('orders').add(3, { region: 'eu' });
  const exposition = parseExposition(await endpointReader.getMetrics());
  expect(exposition.find('orders_total').map((s) => [s.labels.region, s.value])).toEqual([['eu', 3]]);
  expect(exposition.find('target_info')[0].labels.service_name).toBe('cluster-endpoint-test');
  // The OpenMetrics rendering of the same aggregate.
  expect(await endpointReader.getMetrics('openmetrics')).toMatch(
    /^orders_total\{region="eu",otel_scope_name="endpoint-test"\} 3$/m,
  );
});

it('makes its primary the one watchWorkerThread reaches, until shutdown', async () => {
  const { primary } = start();
  const watched: unknown[] = [];
  const watchThread = primary.watchThread.bind(primary);
  primary.watchThread = (worker) => {
    watched.push(worker);
    watchThread(worker);
  };
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  try {
    watchWorkerThread(worker);
    expect(watched).toEqual([worker]);
    await endpoint!.shutdown(2000);
    endpoint = undefined;
    watchWorkerThread(worker);
    expect(watched).toEqual([worker]);
  } finally {
    await worker.terminate();
  }
});

it("pushes the aggregate through the readers it is given: the primary's own numbers once, and a final push", async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const pushed = () =>
    exporter.getMetrics().map((collection) =>
      collection.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === 'pushed_orders')
        .flatMap((metric) => metric.dataPoints.map((point) => point.value)),
    );
  const started = start((aggregate) => [
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 60_000,
      metricProducers: [aggregate],
    }),
  ]);
  const orders = provider.getMeter('endpoint-test').createCounter('pushed_orders');
  orders.add(4);
  await started.forceFlush(2000);
  orders.add(1);
  await started.shutdown(2000);
  endpoint = undefined;
  expect(pushed()).toEqual([[4], [5]]);
  expect(exporter.getMetrics()[0].resource.attributes['service.name']).toBe('cluster-endpoint-test');
});

describe('a primary whose own collection never ends', () => {
  function startServing(local: Parameters<typeof startClusterEndpoint>[0]['local']): ClusterEndpoint {
    endpoint = startClusterEndpoint({
      resource: resourceFromAttributes({ 'service.name': 'cluster-endpoint-test' }),
      options: { timeoutMillis: 300 },
      local,
      columnsOf: () => undefined,
      prometheus: { host: '127.0.0.1', port: 0, finalScrapeTimeoutMillis: 0 },
      extensions: new ClusterExtensions(),
    });
    return endpoint;
  }

  it("an app's observable callback that never settles: the scrape serves the rest", async () => {
    // A reader whose shutdown collects nothing (a periodic one's final export would wait on the callback).
    const own = new PrometheusPullReader({ preventServerStart: true });
    const app = new MeterProvider({ readers: [own] });
    try {
      const { reader: served } = startServing((options) => own.collect(options));
      await served.ready;
      const meter = app.getMeter('app');
      meter.createCounter('orders').add(4);
      meter.createObservableGauge('db_rows').addCallback(() => new Promise<void>(() => undefined));
      const started = Date.now();
      const answer = await httpRequest(served.url);
      // Answered, not hung (generous: cluster.timeoutMillis is 300 ms).
      expect(Date.now() - started).toBeLessThan(4000);
      expect(answer.status).toBe(200);
      const scrape = parseExposition(answer.body);
      expect(scrape.value('orders_total', { otel_scope_name: 'app' })).toBe(4);
      expect(scrape.families.has('db_rows')).toBe(false);
    } finally {
      await app.shutdown();
    }
  });

  it('a collection that never settles at all: the round ends at the deadline, said once, the next scrape asks again', async () => {
    const messages = captureDiag();
    let calls = 0;
    try {
      const { reader: served } = startServing(() => {
        calls++;
        return new Promise<CollectionResult>(() => undefined);
      });
      await served.ready;
      for (const round of [1, 2]) {
        const answer = await httpRequest(served.url);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatch(/^target_info\{service_name="cluster-endpoint-test"/m);
        // The round ended (it is not shared forever): the next scrape asks again.
        expect(calls).toBe(round);
      }
      expect(messages.warnings).toEqual([
        "otel-business-metrics: cluster primary: the cluster primary's own collection did not finish within 300 ms",
      ]);
    } finally {
      messages.stop();
    }
  });
});
