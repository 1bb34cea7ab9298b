/**
 * A worker's `/metrics` and its scraper's `X-Prometheus-Scrape-Timeout-Seconds`, with real processes on loopback:
 * the node:cluster app of tests/cluster/fixtures/cluster-app.ts (a primary and 2 workers behind one port) with a
 * cluster timeout of 4 s, one worker's event loop blocked, so every round of the primary is held up by it. A scrape
 * with a 1 s deadline is answered before it (on the worker's `metricsHandler`, on a framework adapter's `/metrics`
 * and on the primary's own endpoint), with the blocked worker's previous numbers and the rest, without counting it
 * late (its round goes on), and a scrape without a header that shares such a round still waits the full 4 s for the
 * late worker. Each scrape travels on a keep-alive connection opened beforehand to a known worker: a new connection
 * could be handed to the blocked one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const CLUSTER_TIMEOUT_MS = 4000;
const revenue = PROMETHEUS_FAMILIES.revenue;
const timeouts = ['business_metrics_cluster_collection_failures_total', { reason: 'timeout' }] as const;
const releases = mkdtempSync(join(tmpdir(), 'obm-deadline-block-'));

interface Answer {
  status: number;
  body: string;
  elapsedMillis: number;
  value(name: string, labels?: Record<string, string>): number;
}

/** A GET on `agent` (one kept-alive connection, so one worker), or on a fresh connection without one. */
function get(
  port: number,
  path: string,
  agent: Agent | false = false,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const samples =
          res.statusCode === 200 && path.startsWith('/metrics') ? parseExposition(body).samples : [];
        resolve({
          status: res.statusCode ?? 0,
          body,
          elapsedMillis: Date.now() - started,
          value: (name, labels = {}) =>
            samples
              .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
              .reduce((sum, s) => sum + s.value, 0),
        });
      });
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path}: no answer within 20 s`)));
    req.end();
  });
}

let app: RunningChild;
let appPort: number;
let metricsPort: number;
const agents: Agent[] = [];
/** Kept-alive connections by worker id, each pinned to its worker by an order it answered. */
const connections = new Map<number, Agent[]>();
let recorded = 0;

/** Opens connections until `worker` ids have `count` each (node:cluster hands connections to workers in turn). */
async function pinConnections(count: number): Promise<[Agent[], Agent[]]> {
  for (let tries = 0; tries < 50; tries++) {
    const full = [...connections.values()].filter((pinned) => pinned.length >= count);
    if (full.length >= 2) return [full[0], full[1]];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const answer = await get(appPort, '/order?cents=100', agent);
    expect(answer.status).toBe(200);
    recorded += 100;
    const worker = Number(answer.body.split(' ')[0]);
    connections.set(worker, [...(connections.get(worker) ?? []), agent]);
  }
  throw new Error(`no ${count} connections to each of 2 workers in 50 tries`);
}

beforeAll(async () => {
  appPort = await freePort();
  app = startChild(
    bundle('cluster-app'),
    ['2', String(appPort), String(CLUSTER_TIMEOUT_MS), 'deadline-e2e-user-hash-key-01'],
    120_000,
  );
  metricsPort = Number(new URL((await app.waitForLine(/^METRICS /, 30_000)).slice(8)).port);
  await app.waitForLine(/^READY 2$/, 30_000);
  // The primary learns a worker from its hello; scrape until it reports both (the test's timeout bounds it).
  while ((await get(metricsPort, '/metrics')).value('business_metrics_cluster_sources') !== 2);
}, 60_000);

afterAll(async () => {
  for (const agent of agents) agent.destroy();
  app?.process.kill('SIGTERM');
  await app?.exited;
  cleanUpChildren();
  cleanUpBundles();
  rmSync(releases, { recursive: true, force: true });
});

it("a worker's /metrics answers within its scraper's deadline while another worker holds the primary's rounds up", async () => {
  const [blocked, serving] = await pinConnections(2);
  // Every worker's numbers reach the primary while both answer.
  const before = await get(metricsPort, '/metrics');
  expect(before.value(revenue)).toBe(recorded);
  const timeoutsBefore = before.value(...timeouts);

  const release = join(releases, 'block');
  const blockedWorker = (await get(appPort, `/block?until=${encodeURIComponent(release)}`, blocked[0])).body;
  const unblocked = app.waitForLine(new RegExp(`^UNBLOCKED ${blockedWorker}$`), 60_000);
  try {
    const header = { 'x-prometheus-scrape-timeout-seconds': '1' };
    // No round the primary runs from here ends before the blocked worker has had its full 4 s.
    const blockedSince = Date.now();
    const alone = await get(appPort, '/metrics', serving[0], header);
    expect(alone.status).toBe(200);
    // Before the scraper's 1 s, with slack for a loaded machine; before the fix, after the round's full 4 s.
    expect(alone.elapsedMillis).toBeLessThan(2500);
    // The blocked worker's previous numbers are in, and so is everything else.
    expect(alone.value(revenue)).toBe(recorded);
    expect(alone.value('business_metrics_cluster_sources')).toBe(2);
    // The round it started goes on waiting for the blocked worker: nothing counted for a scraper's short deadline.
    expect(alone.value(...timeouts)).toBe(timeoutsBefore);
    // The same through a framework adapter's /metrics in the worker (the Web Request one of Hono and Next.js).
    const web = await get(appPort, '/metrics-web', serving[0], header);
    expect(web.status).toBe(200);
    expect(web.elapsedMillis).toBeLessThan(2500);
    expect(web.value(revenue)).toBe(recorded);

    // The primary's own endpoint, scraped with the same header: its reader hands the primary the shorter budget.
    const direct = await get(metricsPort, '/metrics', false, header);
    expect(direct.status).toBe(200);
    expect(direct.elapsedMillis).toBeLessThan(2500);
    expect(direct.value(revenue)).toBe(recorded);
    expect(direct.value('business_metrics_cluster_sources')).toBe(2);

    // A scrape without a header shares a round with ones with a 1 s deadline: the round still waits its full time
    // for the blocked worker, and the short one is answered at its own deadline meanwhile.
    const withoutHeader = get(appPort, '/metrics', serving[1]);
    const short = await get(appPort, '/metrics', serving[0], header);
    expect(short.status).toBe(200);
    expect(short.elapsedMillis).toBeLessThan(2500);
    expect(short.value(revenue)).toBe(recorded);
    const full = await withoutHeader;
    expect(full.status).toBe(200);
    // Not before the deadline of a round that started once the worker was blocked (it may have joined the first
    // short scrape's; a lower bound only: how much later depends on the machine).
    expect(Date.now() - blockedSince).toBeGreaterThanOrEqual(CLUSTER_TIMEOUT_MS - 500);
    expect(full.value(revenue)).toBe(recorded);
    // Counted: the round it got gave up on the blocked worker before answering it.
    expect(full.value(...timeouts)).toBeGreaterThanOrEqual(timeoutsBefore + 1);
  } finally {
    writeFileSync(release, '');
    await unblocked;
  }
});
