/**
 * Cluster mode with real processes on loopback: a node:cluster primary and 4 workers behind one port
 * (tests/cluster/fixtures/cluster-app.ts), loaded over real HTTP, scraped over real HTTP. The expected numbers
 * are what the test told the workers to record, counted from the acknowledged requests; distinct users are what
 * one process counts of the same users with the same key. Every wait waits for an event (a line from the app, an
 * answer), never for a guessed time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSINESS_METRICS, initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../src';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { bundle, cleanUpBundles } from './support/bundle';

const WORKERS = 4;
const TIMEOUT_MS = 300;
/** The app's user-hash key: fixed, so the single-process reference hashes every user as the workers do. */
const HASH_KEY = 'cluster-e2e-user-hash-key-0001';
const releases = mkdtempSync(join(tmpdir(), 'obm-cluster-block-'));
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
  // The primary learns a worker from its hello; scrape until it reports them all (the test's timeout bounds it).
  while ((await scrape()).value('business_metrics_cluster_sources') !== WORKERS);
}

/** `count` orders at bounded concurrency; returns what the workers acknowledged. `onAck` sees each. */
async function load(
  count: number,
  concurrency: number,
  cents: (i: number) => number,
  onAck: (acknowledged: number) => void = () => undefined,
) {
  const acknowledged: Array<{ cents: number; worker: number }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const amount = cents(i);
        try {
          const { status, body } = await get(appPort, `/order?cents=${amount}`);
          if (status === 200) {
            acknowledged.push({ cents: amount, worker: Number(body.split(' ')[0]) });
            onAck(acknowledged.length);
          }
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
  app = startChild(
    bundle('cluster-app'),
    [String(WORKERS), String(appPort), String(TIMEOUT_MS), HASH_KEY],
    170_000,
  );
  metricsUrl = new URL((await app.waitForLine(/^METRICS /, 30_000)).slice('METRICS '.length));
  await waitForWorkers(WORKERS);
}, 60_000);

afterAll(async () => {
  app?.process.kill('SIGTERM');
  await app?.exited;
  cleanUpChildren();
  cleanUpBundles();
  rmSync(releases, { recursive: true, force: true });
});

/** business_active_users of one process that tracked the same users with the same key: the exact reference. */
async function singleProcessActiveUsers(from: number, to: number, tier: string) {
  const handle = initBusinessMetrics({ exporters: ['none'], activeUsers: { hashKey: HASH_KEY }, env: {} });
  try {
    for (let i = from; i < to; i++) handle.metrics.trackActiveUser(`user-${i}`, { userTier: tier });
    const exposition = parseExposition(await handle.metrics.getMetrics());
    const value = (window: string) => exposition.value(activeUsers, { window, user_tier: tier });
    return { daily: value('daily'), weekly: value('weekly'), monthly: value('monthly') };
  } finally {
    await handle.shutdown();
  }
}

const utcDay = () => new Date().toISOString().slice(0, 10);

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

  it("a worker's /metrics answers through the one scrape path: OpenMetrics and gzip negotiated, Vary always", async () => {
    for (let i = 0; i < WORKERS; i++) {
      const answer = await fetch(`http://127.0.0.1:${appPort}/metrics`, {
        headers: {
          accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5',
          'accept-encoding': 'gzip',
        },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      expect(answer.headers.get('content-encoding')).toBe('gzip');
      expect(answer.headers.get('vary')).toBe('Accept, Accept-Encoding');
      const text = await answer.text();
      expect(text).toMatch(/# EOF\n$/);
      expect(text).toMatch(/^# TYPE business_revenue_cents counter$/m);
    }
  });

  it('a gauge the app sets in every worker is reported once, not multiplied by the number of workers', async () => {
    for (let i = 0; i < 3 * WORKERS; i++) expect((await get(appPort, '/active?n=1234')).status).toBe(200);
    const result = await scrape();
    expect(result.value(activeUsers, { window: 'daily', user_tier: 'pro' })).toBe(1234);
  });

  it("distinct users tracked in several workers are merged register-wise: exactly one process's count of them", async () => {
    // 8 overlapping ranges of 10,000 users (k*5,000 .. k*5,000+9,999) on fresh connections, so they spread over
    // the workers: 80,000 calls, 45,000 distinct users.
    const dayBefore = utcDay();
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
    const result = await scrape();
    const fleet = (window: string) => result.value(activeUsers, { window, user_tier: 'enterprise' });
    // The union of the workers' registers is the sketch one process builds of the same users: equal, not close.
    const reference = await singleProcessActiveUsers(0, 45_000, 'enterprise');
    expect(Math.abs(reference.monthly - 45_000) / 45_000).toBeLessThan(0.02); // the sketch itself is sane
    expect({ weekly: fleet('weekly'), monthly: fleet('monthly') }).toEqual({
      weekly: reference.weekly,
      monthly: reference.monthly,
    });
    // The daily window holds today's users only: the same figure unless the test ran across UTC midnight.
    if (utcDay() === dayBefore) expect(fleet('daily')).toBe(reference.daily);
    else expect(fleet('daily')).toBeLessThanOrEqual(reference.monthly);
    // Reported once, by the primary: one series per window, not one per worker.
    expect(result.count(activeUsers)).toBe(
      3 + 1, // enterprise's three windows, and the pro tier's daily gauge the previous test set
    );
  });

  it('a worker that never answers: the scrape answers without it, with its previous numbers, and counts it', async () => {
    const before = await scrape();
    const timeoutsBefore = before.value('business_metrics_cluster_collection_failures_total', {
      reason: 'timeout',
    });
    const release = join(releases, 'block-1');
    const blocked = await get(appPort, `/block?until=${encodeURIComponent(release)}`);
    expect(blocked.status).toBe(200);
    const unblocked = app.waitForLine(new RegExp(`^UNBLOCKED ${blocked.body}$`), 60_000);
    // The worker's event loop stays gone until the release file exists, so this scrape can only have been
    // answered at the primary's deadline, without it (how long that takes is the bench's row, not a test bound).
    const during = await scrape();
    expect(during.status).toBe(200);
    expect(during.value(revenue)).toBe(sum(ordered));
    expect(during.value(funnel)).toBe(ordered.length);
    expect(
      during.value('business_metrics_cluster_collection_failures_total', { reason: 'timeout' }),
    ).toBeGreaterThan(timeoutsBefore);
    // Once its loop is back, it answers again and nothing was lost.
    writeFileSync(release, '');
    await unblocked;
    const after = await scrape();
    expect(after.value(revenue)).toBe(sum(ordered));
    expect(after.value('business_metrics_cluster_sources')).toBe(WORKERS);
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
    const replaced = app.waitForLine(new RegExp(`^READY ${readyWorkers + 1}$`), 30_000);
    let settled = false;
    void replaced.finally(() => (settled = true));
    expect((await get(appPort, '/die')).status).toBe(200);
    // Scrape until the primary has forked the replacement: every answer complete, never below what was there.
    let scrapes = 0;
    while (!settled) {
      const during = await scrape();
      scrapes++;
      expect(during.status).toBe(200);
      // Nothing was recorded since the last collection, so nothing is lost even to SIGKILL.
      expect(during.value(revenue)).toBe(sum(ordered));
    }
    expect(scrapes).toBeGreaterThan(0);
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
      }
    })();
    // Kill a worker once a third of the orders are in: the load is then really running on every worker.
    let midRun!: () => void;
    const third = new Promise<void>((resolve) => (midRun = resolve));
    const loading = load(
      300,
      8,
      (i) => 50 + (i % 5),
      (acknowledgedSoFar) => acknowledgedSoFar === 100 && midRun(),
    );
    await third;
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
