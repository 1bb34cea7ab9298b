/**
 * Exemplars in cluster mode with real processes on loopback: a node:cluster primary and 2 workers behind one port
 * (tests/cluster/fixtures/cluster-app.ts with `traced`: each worker runs the real OpenTelemetry trace SDK). A worker
 * records an order inside a sampled span; the primary's `/metrics`, asked for OpenMetrics as Prometheus asks, shows
 * that span's trace and span id on the counter series the order fed and on the order-value bucket its amount fell
 * in; an order in the other worker, later, replaces the counters' exemplars and fills its own bucket, while the
 * first bucket keeps the first worker's. Every wait waits for an event (a line from the app, an answer).
 */
import { request as httpRequest } from 'node:http';
import { PROMETHEUS_FAMILIES } from '../../src';
import { freePort } from '../support/prometheus-server';
import { cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const WORKERS = 2;
const TIMEOUT_MS = 1000;
const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const funnel = PROMETHEUS_FAMILIES.funnelStep;
const revenue = PROMETHEUS_FAMILIES.revenue;
const orderValue = PROMETHEUS_FAMILIES.orderValue;

/** One request on a fresh connection (node:cluster balances connections, not requests). */
function get(port: number, path: string, accept?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, agent: false, headers: accept ? { accept } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.end();
  });
}

let app: RunningChild;
let appPort: number;
let metricsUrl: URL;

const scrape = async (accept = OPENMETRICS) =>
  (await get(Number(metricsUrl.port), metricsUrl.pathname, accept)).body;

/** The exemplar (trace id, span id, value) on the sample line `name{...labels}` of an OpenMetrics text. */
function exemplarOn(text: string, name: string, labels: Record<string, string> = {}) {
  const lines = text.split('\n').filter((line) => {
    if (!line.startsWith(`${name}{`)) return false;
    return Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`));
  });
  expect(lines).toHaveLength(1);
  const match = / # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} (\S+) \S+$/.exec(lines[0]);
  return match === null ? undefined : { traceId: match[1], spanId: match[2], value: Number(match[3]) };
}

interface TracedOrder {
  worker: number;
  traceId: string;
  spanId: string;
}

/** An order inside a span, in any worker but `not` (fresh connections until another worker takes one). */
async function tracedOrder(cents: number, not?: number): Promise<TracedOrder> {
  for (;;) {
    const { status, body } = await get(appPort, `/order-traced?cents=${cents}&not=${not ?? ''}`);
    if (status === 409) continue;
    expect(status).toBe(200);
    const [worker, traceId, spanId] = body.split(' ');
    return { worker: Number(worker), traceId, spanId };
  }
}

beforeAll(async () => {
  appPort = await freePort();
  app = startChild(
    bundle('cluster-app'),
    [String(WORKERS), String(appPort), String(TIMEOUT_MS), 'exemplars-e2e-user-hash-key-01', 'traced'],
    110_000,
  );
  metricsUrl = new URL((await app.waitForLine(/^METRICS /, 30_000)).slice('METRICS '.length));
  await app.waitForLine(new RegExp(`^READY ${WORKERS}$`), 30_000);
  // The primary learns a worker from its hello; scrape (each scrape a collection round) until it reports both.
  const sources = new RegExp(`^business_metrics_cluster_sources(\\{[^}]*\\})? ${WORKERS}$`, 'm');
  while (!sources.test(await scrape('text/plain')));
}, 60_000);

afterAll(async () => {
  app?.process.kill('SIGTERM');
  await app?.exited;
  cleanUpChildren();
  cleanUpBundles();
});

describe('exemplars through a cluster primary', () => {
  let first: TracedOrder;

  it("shows a worker's span on the series it recorded, in the primary's /metrics and a worker's", async () => {
    first = await tracedOrder(2599);
    expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
    const text = await scrape();
    const expected = { traceId: first.traceId, spanId: first.spanId };
    expect(exemplarOn(text, funnel, { step: 'checkout' })).toEqual({ ...expected, value: 1 });
    expect(exemplarOn(text, revenue)).toEqual({ ...expected, value: 2599 });
    expect(exemplarOn(text, `${orderValue}_bucket`, { le: '5000' })).toEqual({ ...expected, value: 2599 });
    for (const le of ['500', '1000', '2500', '10000', '+Inf']) {
      expect(exemplarOn(text, `${orderValue}_bucket`, { le })).toBeUndefined();
    }
    // Text 0.0.4 has no exemplars; a worker's own /metrics serves the same aggregate in OpenMetrics.
    expect(await scrape('text/plain')).not.toContain('trace_id');
    const fromWorker = (await get(appPort, '/metrics', OPENMETRICS)).body;
    expect(exemplarOn(fromWorker, revenue)).toEqual({ ...expected, value: 2599 });
  });

  it("keeps the latest across workers per series and per bucket: another worker's later order", async () => {
    const second = await tracedOrder(60_000, first.worker);
    expect(second.worker).not.toBe(first.worker);
    const text = await scrape();
    const expected = { traceId: second.traceId, spanId: second.spanId };
    expect(exemplarOn(text, funnel, { step: 'checkout' })).toEqual({ ...expected, value: 1 });
    expect(exemplarOn(text, revenue)).toEqual({ ...expected, value: 60_000 });
    expect(exemplarOn(text, `${orderValue}_bucket`, { le: '+Inf' })).toEqual({ ...expected, value: 60_000 });
    expect(exemplarOn(text, `${orderValue}_bucket`, { le: '5000' })).toEqual({
      traceId: first.traceId,
      spanId: first.spanId,
      value: 2599,
    });
    // The counts are the two orders' (the exemplars ride along, never instead of the numbers).
    expect(text).toMatch(new RegExp(`^${revenue}\\{[^}]*\\} 62599 #`, 'm'));
  });
});
