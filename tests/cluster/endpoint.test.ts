/**
 * src/cluster/endpoint.ts directly: the primary's aggregate endpoint serves the aggregate, which already holds the
 * primary's own numbers once (through `local`, not a second reader of its provider), under the resource given; the
 * endpoint's primary becomes the live one `watchWorkerThread` reaches, and shutdown stops it and unregisters it.
 * The push readers init.ts gives it export the same aggregate (the primary's own numbers once), flush on demand,
 * and push once more at shutdown.
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
