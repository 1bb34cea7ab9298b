/**
 * Cluster mode with real processes on loopback: a node:cluster primary and 4 workers behind one port
 * (tests/cluster/fixtures/cluster-app.ts), loaded over real HTTP, scraped over real HTTP. The expected numbers
 * are what the test told the workers to record, counted from the acknowledged requests.
 */
import { request as httpRequest } from 'node:http';
import { BUSINESS_METRICS, PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const WORKERS = 4;
const TIMEOUT_MS = 300;
const funnel = PROMETHEUS_FAMILIES.funnelStep;
const revenue = PROMETHEUS_FAMILIES.revenue;
const orderValue = PROMETHEUS_FAMILIES.orderValue;
const activeUsers = PROMETHEUS_FAMILIES.activeUsers;
const perMinute = PROMETHEUS_FAMILIES.revenuePerMinute;

/** One request on a fresh connection (node:cluster balances connections, not requests). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // A connection handed to a worker that is being killed may never be answered.
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.end();
  });
}

interface Scrape {
  status: number;
  elapsedMillis: number;
  value(name: string, labels?: Record<string, string>): number;
  count(name: string): number;
}

let app: RunningChild;
let appPort: number;
let metricsUrl: URL;
let readyWorkers = 0;

async function scrape(): Promise<Scrape> {
  const started = Date.now();
  const { status, body } = await get(Number(metricsUrl.port), metricsUrl.pathname);
  const elapsedMillis = Date.now() - started;
  const samples = status === 200 ? parseExposition(body).samples : [];
  const matching = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    status,
    elapsedMillis,
    value: (name, labels) => matching(name, labels).reduce((sum, s) => sum + s.value, 0),
    count: (name) => matching(name).length,
  };
}

async function waitForWorkers(total: number): Promise<void> {
  await app.waitForLine(new RegExp(`^READY ${total}$`), 30_000);
  readyWorkers = total;
  // The primary learns a worker from its hello; wait until it reports them all.
  for (let i = 0; i < 100; i++) {
    if ((await scrape()).value('business_metrics_cluster_sources') === WORKERS) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the primary never saw every worker');
}

/** `count` orders at bounded concurrency; returns what the workers acknowledged. */
async function load(count: number, concurrency: number, cents: (i: number) => number) {
  const acknowledged: Array<{ cents: number; worker: number }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const amount = cents(i);
        try {
          const { status, body } = await get(appPort, `/order?cents=${amount}`);
          if (status === 200) acknowledged.push({ cents: amount, worker: Number(body.split(' ')[0]) });
        } catch {
          // A connection to a worker that is being killed: not acknowledged, so not expected.
        }
      }
    }),
  );
  return acknowledged;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const ordered: number[] = [];

beforeAll(async () => {
  appPort = await freePort();
  app = startChild(bundle('cluster-app'), [String(WORKERS), String(appPort), String(TIMEOUT_MS)], 170_000);
  metricsUrl = new URL((await app.waitForLine(/^METRICS /, 30_000)).slice('METRICS '.length));
  await waitForWorkers(WORKERS);
}, 60_000);

afterAll(async () => {
  app?.process.kill('SIGTERM');
  await app?.exited;
  cleanUpChildren();
  cleanUpBundles();
});

describe('node:cluster, 4 workers behind one port', () => {
  it('the aggregate equals exactly what the workers were told to record, under concurrent load', async () => {
    const acknowledged = await load(400, 16, (i) => 100 + (i % 7) * 1000);
    expect(acknowledged).toHaveLength(400);
    expect(new Set(acknowledged.map((a) => a.worker)).size).toBe(WORKERS);
    ordered.push(...acknowledged.map((a) => a.cents));
    const result = await scrape();
    expect(result.status).toBe(200);
    expect(result.value(funnel, { step: 'checkout' })).toBe(400);
    expect(result.value(revenue)).toBe(sum(ordered));
    expect(result.value(`${orderValue}_count`)).toBe(400);
    expect(result.value(`${orderValue}_sum`)).toBe(sum(ordered));
    for (const le of BUSINESS_METRICS.orderValue.buckets!) {
      expect({ le, n: result.value(`${orderValue}_bucket`, { le: String(le) }) }).toEqual({
        le,
        n: ordered.filter((cents) => cents <= le).length,
      });
    }
    // The rolling minute: every worker's window holds its own share, so the fleet's minute is their sum.
    expect(result.value(perMinute, { region: 'eu' })).toBe(sum(ordered));
    // One series per label set in the aggregate, not one per worker.
    expect(result.count(revenue)).toBe(1);
    // Every worker serves the same aggregate on the app's own port (any worker may take the request).
    for (let i = 0; i < WORKERS; i++) {
      const fromWorker = parseExposition((await get(appPort, '/metrics')).body).samples;
      expect(fromWorker.filter((s) => s.name === revenue).map((s) => s.value)).toEqual([sum(ordered)]);
    }
  });

  it('a gauge the app sets in every worker is reported once, not multiplied by the number of workers', async () => {
    for (let i = 0; i < 3 * WORKERS; i++) expect((await get(appPort, '/active?n=1234')).status).toBe(200);
    const result = await scrape();
    expect(result.value(activeUsers, { window: 'daily', user_tier: 'pro' })).toBe(1234);
  });

  it('distinct users tracked in several workers are merged register-wise: the union, not the sum', async () => {
    // 8 overlapping ranges of 10,000 users (k*5,000 .. k*5,000+9,999) on fresh connections, so they spread over
    // the workers: 80,000 calls, 45,000 distinct users.
    const workersSeen = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const { status, body } = await get(
        appPort,
        `/track?from=${k * 5000}&to=${k * 5000 + 10_000}&tier=enterprise`,
      );
      expect(status).toBe(200);
      workersSeen.add(body);
    }
    expect(workersSeen.size).toBeGreaterThan(1); // the same user really was counted in more than one worker
    const daily = (await scrape()).value(activeUsers, { window: 'daily', user_tier: 'enterprise' });
    expect(Math.abs(daily - 45_000) / 45_000).toBeLessThan(0.02);
    // Reported once, by the primary: the weekly and monthly windows hold the same users today.
    const again = await scrape();
    expect(again.count(activeUsers)).toBeGreaterThan(0);
    expect(again.value(activeUsers, { window: 'monthly', user_tier: 'enterprise' })).toBe(daily);
  });

  it('a worker that never answers: the scrape answers by the deadline with its previous numbers, and counts it', async () => {
    const before = await scrape();
    const timeoutsBefore = before.value('business_metrics_cluster_collection_failures_total', {
      reason: 'timeout',
    });
    expect((await get(appPort, '/block?ms=2500')).status).toBe(200);
    const during = await scrape();
    expect(during.status).toBe(200);
    // Answered at the deadline (300 ms), long before the worker's loop comes back (2.5 s); the margin is for
    // a loaded CI machine.
    expect(during.elapsedMillis).toBeLessThan(2000);
    expect(during.value(revenue)).toBe(sum(ordered));
    expect(during.value(funnel)).toBe(ordered.length);
    expect(
      during.value('business_metrics_cluster_collection_failures_total', { reason: 'timeout' }),
    ).toBeGreaterThan(timeoutsBefore);
    // Once its loop is back, it answers again and nothing was lost.
    await new Promise((resolve) => setTimeout(resolve, 2700));
    const after = await scrape();
    expect(after.value(revenue)).toBe(sum(ordered));
  });

  it('a worker that shuts down gracefully takes nothing with it (its final snapshot)', async () => {
    const { status, body } = await get(appPort, '/order-and-exit?cents=777');
    expect(status).toBe(200);
    ordered.push(777);
    // No scrape between the order and the exit: only the final snapshot can carry it.
    await waitForWorkers(readyWorkers + 1);
    const result = await scrape();
    expect(result.value(revenue)).toBe(sum(ordered));
    expect(result.value(funnel)).toBe(ordered.length);
    expect(body).toMatch(/^\d+ \d+$/);
  });

  it('a scrape during a worker restart answers, and the totals do not go backwards', async () => {
    const before = await scrape();
    const exitedBefore = before.value('business_metrics_cluster_collection_failures_total', {
      reason: 'exited',
    });
    expect((await get(appPort, '/die')).status).toBe(200);
    // Scrape while the primary forks the replacement: every answer complete, never below what was there.
    for (let i = 0; i < 10; i++) {
      const during = await scrape();
      expect(during.status).toBe(200);
      // Nothing was recorded since the last collection, so nothing is lost even to SIGKILL.
      expect(during.value(revenue)).toBe(sum(ordered));
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await waitForWorkers(readyWorkers + 1);
    const after = await scrape();
    expect(after.value(revenue)).toBe(sum(ordered));
    expect(after.value('business_metrics_cluster_collection_failures_total', { reason: 'exited' })).toBe(
      exitedBefore + 1,
    );
  });

  it('a worker killed mid-run: totals never go backwards; at most its counts since the last collection are lost', async () => {
    const baseline = await scrape();
    const totals: number[] = [baseline.value(revenue)];
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        const result = await scrape();
        expect(result.status).toBe(200);
        totals.push(result.value(revenue));
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    const loading = load(300, 8, (i) => 50 + (i % 5));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const killed = Number((await get(appPort, '/die')).body);
    const acknowledged = await loading;
    scraping = false;
    await scraper;
    await waitForWorkers(readyWorkers + 1);
    const final = (await scrape()).value(revenue);
    totals.push(final);
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1]);
    const everything = sum(ordered) + sum(acknowledged.map((a) => a.cents));
    const ofKilled = sum(acknowledged.filter((a) => a.worker === killed).map((a) => a.cents));
    expect(final).toBeLessThanOrEqual(everything);
    expect(final).toBeGreaterThanOrEqual(everything - ofKilled);
    expect(acknowledged.length).toBeGreaterThan(200);
  });
});
