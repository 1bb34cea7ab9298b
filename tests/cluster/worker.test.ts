/**
 * src/cluster/worker.ts directly: a worker's wiring serves the fleet's exposition, asked from the primary, on the
 * app's own server through the one scrape path (negotiated format, the primary's text), and answers 503 saying the
 * primary did not answer once the deadline (twice the cluster timeout plus a second) has passed, or, for a scrape
 * whose `X-Prometheus-Scrape-Timeout-Seconds` is shorter, before the scraper's own deadline, which the request tells
 * the primary. The test plays the primary on the thread channel (BroadcastChannel works between channels of one
 * thread). An app's observable callback that never settles in a worker is left out in time: the worker still
 * answers its primary's collection. The primary's side of a deadline: primary.test.ts and deadline.e2e.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BroadcastChannel } from 'node:worker_threads';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { ClusterExtensions } from '../../src/cluster/extensions';
import {
  PROTOCOL_TAG,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  type ExpositionRequest,
} from '../../src/cluster/protocol';
import { startClusterSource, type ClusterSourceWiring } from '../../src/cluster/worker';
import { PrometheusPullReader } from '../../src/exporters/prometheus';
import { waitUntil } from '../support/wait';

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 60_000,
});
const provider = new MeterProvider({ readers: [reader] });
let wiring: ClusterSourceWiring | undefined;
let server: Server | undefined;
let primaryRequests: BroadcastChannel;
let primaryResponses: BroadcastChannel;
/** What the played primary answers to an exposition request (undefined: it stays silent). */
let answer: ((request: ExpositionRequest) => string) | undefined;
/** Every exposition request the played primary received. */
let asked: ExpositionRequest[];

beforeEach(() => {
  answer = undefined;
  asked = [];
  primaryRequests = new BroadcastChannel(THREAD_REQUEST_CHANNEL);
  primaryResponses = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
  primaryResponses.onmessage = (event: unknown) => {
    const message = (event as { data: ExpositionRequest }).data;
    if (message.type === 'exposition-request') asked.push(message);
    if (message.type !== 'exposition-request' || answer === undefined) return;
    primaryRequests.postMessage({
      tag: PROTOCOL_TAG,
      type: 'exposition',
      to: message.source,
      id: message.id,
      text: answer(message),
    });
  };
});
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await wiring?.source.close();
  wiring = undefined;
  primaryRequests.close();
  primaryResponses.close();
});
afterAll(() => provider.shutdown());

async function serve(timeoutMillis: number): Promise<string> {
  wiring = startClusterSource(
    'thread',
    { timeoutMillis },
    () => reader.collect(),
    new ClusterExtensions(),
    () => undefined,
    emptyResource(),
  );
  server = createServer(wiring.metricsHandler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

it("serves the primary's exposition on the app's server, in the negotiated format", async () => {
  answer = (request) => `# fleet exposition, ${request.format ?? 'prometheus'}\n`;
  const url = await serve(500);
  const text = await fetch(url);
  expect(text.status).toBe(200);
  expect(text.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(await text.text()).toBe('# fleet exposition, prometheus\n');
  const open = await fetch(url, { headers: { accept: 'application/openmetrics-text;version=1.0.0' } });
  expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
  expect(await open.text()).toBe('# fleet exposition, openmetrics\n');
  // getMetrics(format) in a worker: the same answer.
  await expect(wiring!.exposition('openmetrics')).resolves.toBe('# fleet exposition, openmetrics\n');
});

it('answers 503, naming the silent primary, after twice the cluster timeout plus a second', async () => {
  const url = await serve(100);
  const started = Date.now();
  const response = await fetch(url);
  const waited = Date.now() - started;
  expect(response.status).toBe(503);
  expect(await response.text()).toMatch(/the cluster primary did not answer/);
  // Not before the deadline (a lower bound only: how much later depends on the machine).
  expect(waited).toBeGreaterThanOrEqual(2 * 100 + 1000 - 50);
});

it("answers 503 before a scraper's own shorter deadline, which it tells the primary; asks as before without one", async () => {
  // The worker's usual wait would be 2 * 2000 + 1000 ms.
  const url = await serve(2000);
  const started = Date.now();
  const response = await fetch(url, { headers: { 'x-prometheus-scrape-timeout-seconds': '0.5' } });
  const waited = Date.now() - started;
  expect(response.status).toBe(503);
  expect(await response.text()).toMatch(/the cluster primary did not answer/);
  // Before the scraper gave up (0.5 s), with slack for a loaded machine: far from the usual 5 s.
  expect(waited).toBeLessThan(2500);
  // The primary is asked to answer within the scrape's deadline (90% of the header) less the trip back (90%).
  expect(asked.map((request) => request.timeoutMillis)).toEqual([405]);

  // No header, a deadline longer than the usual wait, getMetrics(): the request says nothing more than before.
  answer = () => '# fleet exposition\n';
  asked = [];
  expect((await fetch(url)).status).toBe(200);
  expect((await fetch(url, { headers: { 'x-prometheus-scrape-timeout-seconds': '10' } })).status).toBe(200);
  await wiring!.exposition('prometheus');
  expect(asked).toHaveLength(3);
  for (const request of asked) expect(request).not.toHaveProperty('timeoutMillis');
});

it("answers the primary's collection even when an app's observable callback never settles", async () => {
  // A reader whose shutdown collects nothing (a periodic one's final export would wait on the callback).
  const own = new PrometheusPullReader({ preventServerStart: true });
  const app = new MeterProvider({ readers: [own] });
  const snapshots: { type: string; round: number }[] = [];
  primaryResponses.onmessage = (event: unknown) => {
    const message = (event as { data: { type: string; round: number } }).data;
    if (message.type === 'snapshot') snapshots.push(message);
  };
  try {
    const meter = app.getMeter('app');
    meter.createCounter('orders').add(1);
    meter.createObservableGauge('db_rows').addCallback(() => new Promise<void>(() => undefined));
    wiring = startClusterSource(
      'thread',
      { timeoutMillis: 200 },
      (options) => own.collect(options),
      new ClusterExtensions(),
      () => undefined,
      emptyResource(),
    );
    primaryRequests.postMessage({ tag: PROTOCOL_TAG, type: 'collect', round: 7 });
    // Within 80% of the cluster timeout, the SDK leaves the callback out; generous bound, no timing assertion.
    await waitUntil('the snapshot of round 7', () => snapshots.some((s) => s.round === 7), {
      timeoutMillis: 10_000,
      intervalMillis: 20,
    });
  } finally {
    await wiring?.source.close().catch(() => undefined);
    wiring = undefined;
    await app.shutdown();
  }
});
