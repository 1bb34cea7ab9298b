/**
 * Revenue to the cent, end to end (docs/money.md#exact-to-the-cent). A planned ledger in euro cents, yen and fils,
 * with refunds, is recorded by real app processes and reaches Prometheus 3.16 (started as the shipped stack starts
 * it: created-timestamp-zero-ingestion, the shipped business-money.yml) three ways:
 *   pull        the package's /metrics endpoints, scraped every second
 *   otlp        OTLP http/protobuf straight into Prometheus's OTLP receiver, pushed every second
 *   collector   OTLP to our Collector (the shipped collector.yaml), whose exporter Prometheus scrapes
 *   cluster     a node:cluster app whose primary serves its workers' exact sum on its pull endpoint: worker w1
 *               (A's plan) is replaced gracefully by w1b right after its last sale (its final snapshot reaches
 *               the primary), worker w2 (B's plan) runs throughout
 * On the first three paths: two instances (A and B); A stops gracefully right after its last sale of window 2 (the pull
 * reader's hand-over, the OTLP final push) and restarts with the same service.instance.id (the same address on
 * the pull path) whose first sale is larger than everything it sold before (a reset only the created timestamp
 * shows); B's KWD series is born in the middle of window 3, a minute after B started. The lookback delta is cut to
 * 10 s, so a start time far before a series' birth could not anchor it.
 *
 * Then `otel-business-metrics reconcile` (as built) compares every 15-second window and currency with the ledger
 * the apps printed: exit 0, every figure an integer. The shipped rules' last hour equals the whole ledger.
 * Windows are 15 s with sales only in their first 6 s: Prometheus places an amount at the first scrape or push
 * that carries it, up to ~8 s later through the Collector (its 1 s export, batch timeout of 5 s, 1 s scrape), so
 * an amount recorded just before a window's end would count in the next one (the documented boundary rule);
 * the quiet end of each window keeps that rule out of this test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InitOptions } from '../../src';
import { EXACT_MONEY_FIGURES, exactMoneyRule } from '../../src/catalog/exact-money';
import { MONEY_FILE } from '../backend/backend-files';
import { bundleFixture, cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { requireBuiltCli, runCli } from '../support/cli';
import { requireGoBinary, startCollector, type Collector } from '../support/go-binaries';
import { freePort, startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import type { PlannedEntry } from './fixtures/ledger';
import type { LedgerAppPlan } from './fixtures/ledger-app';

const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const describeE2e = otelcol && prometheus3 ? describe : describe.skip;

const WINDOW = 15_000;
const WINDOWS = 6;
/** Sales fall in the first 6 s of a window; the rest is quiet (see the top comment). */
const ACTIVE = 6_000;
/** Window of A's graceful stop and restart. */
const RESTART_WINDOW = 2;
const PROMETHEUS_FLAGS = ['--enable-feature=created-timestamp-zero-ingestion', '--query.lookback-delta=10s'];

type PathName = 'pull' | 'otlp' | 'collector' | 'cluster';
interface Path {
  readonly name: PathName;
  prometheus?: PrometheusServer;
  collector?: Collector;
  pullPorts?: { a: number; b: number };
  clusterPort?: number;
  ledger: Array<{ timestamp: string; kind: string; amount: number; currency: string }>;
}

/** A deterministic plan for instance `who`, from window `first` to `last`. */
function plan(t0: number, who: 'a1' | 'a2' | 'b', first: number, last: number): PlannedEntry[] {
  const entries: PlannedEntry[] = [];
  for (let w = first; w <= last; w++) {
    const start = t0 + w * WINDOW;
    const at = (offset: number) => start + offset;
    // A2's first sale: more than A1 sold in euro in all (a reset a plain counter drop would not show).
    if (who === 'a2' && w === first)
      entries.push({ at: at(500), kind: 'sale', amount: 40_000, currency: 'EUR', region: 'eu' });
    entries.push({
      at: at(900 + w * 37),
      kind: 'sale',
      amount: 1999 + w * 101,
      currency: 'EUR',
      region: 'eu',
    });
    entries.push({ at: at(1700), kind: 'sale', amount: 3_500 + w * 250, currency: 'JPY', region: 'apac' });
    if (w % 2 === 1)
      entries.push({ at: at(2600), kind: 'refund', amount: 333 + w, currency: 'EUR', region: 'eu' });
    if (who === 'b' && w >= 3) {
      // KWD born in the middle of window 3, a minute after B started.
      entries.push({ at: at(3200), kind: 'sale', amount: 12_750 + w, currency: 'KWD', region: 'mena' });
    }
    if (who === 'b' && w === 4)
      entries.push({ at: at(4100), kind: 'refund', amount: 1_000, currency: 'JPY', region: 'apac' });
    entries.push({ at: at(ACTIVE - 500), kind: 'sale', amount: 777 + w, currency: 'EUR', region: 'eu' });
  }
  return entries;
}

describeE2e(
  'exact money: every window equal to the ledger, on the pull path, OTLP direct and through the Collector',
  () => {
    const paths: Path[] = (['pull', 'otlp', 'collector', 'cluster'] as const).map((name) => ({
      name,
      ledger: [],
    }));
    const app = bundleFixture('ledger-app', join(__dirname, 'fixtures'));
    const clusterApp = bundleFixture('ledger-cluster', join(__dirname, 'fixtures'));
    let t0 = 0;
    let dir = '';

    function options(path: Path, instance: 'a' | 'b'): InitOptions {
      const common = {
        serviceName: 'shop',
        resourceAttributes: { 'service.instance.id': `shop-${instance}` },
        env: {},
      };
      if (path.name === 'pull') {
        return {
          ...common,
          exporters: ['prometheus'],
          prometheus: { host: '127.0.0.1', port: path.pullPorts![instance] },
        };
      }
      const url =
        path.name === 'otlp'
          ? `${path.prometheus!.url}/api/v1/otlp/v1/metrics`
          : `${path.collector!.httpUrl}/v1/metrics`;
      return {
        ...common,
        exporters: ['otlp'],
        otlp: { protocol: 'http/protobuf', url, exportIntervalMillis: 1000, exportTimeoutMillis: 1000 },
      };
    }

    /** Collects the `L <entry>` lines a child prints into the path's ledger. */
    const collectLedger = (path: Path, child: RunningChild): RunningChild => {
      let partial = '';
      child.process.stdout!.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line.startsWith('L ')) path.ledger.push(JSON.parse(line.slice(2)));
      });
      return child;
    };
    const run = (path: Path, instance: 'a' | 'b', entries: PlannedEntry[], stopAfterLast: boolean) =>
      collectLedger(
        path,
        startChild(
          app,
          [
            JSON.stringify({
              options: options(path, instance),
              entries,
              stopAfterLast,
            } satisfies LedgerAppPlan),
          ],
          300_000,
        ),
      );

    /** The cluster app: w1 and w1b together record A's plan, w2 B's. */
    async function runCluster(path: Path): Promise<void> {
      const workers = {
        w1: plan(t0, 'a1', 0, RESTART_WINDOW),
        w1b: plan(t0, 'a2', RESTART_WINDOW + 1, WINDOWS - 1),
        w2: plan(t0, 'b', 0, WINDOWS - 1),
      };
      const appOptions: InitOptions = {
        serviceName: 'shop',
        env: {},
        exporters: ['prometheus'],
        prometheus: { host: '127.0.0.1', port: path.clusterPort! },
      };
      // w1 is replaced right after its last sale, as A stops on the other paths.
      const replaceAt = workers.w1.at(-1)!.at + 100;
      const child = collectLedger(
        path,
        startChild(clusterApp, [JSON.stringify({ options: appOptions, workers, replaceAt })], 300_000),
      );
      await child.waitForLine(/^ready /, 30_000);
      await child.waitForLine(/^stopped w1$/, 120_000);
      await child.waitForLine(/^done w1b$/, 120_000);
      await child.waitForLine(/^done w2$/, 120_000);
    }

    beforeAll(async () => {
      requireBuiltCli();
      dir = mkdtempSync(join(tmpdir(), 'obm-exact-'));
      const rules = `rule_files:\n  - ${MONEY_FILE}\n`;
      const global = 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n';
      for (const path of paths) {
        if (path.name === 'pull') {
          path.pullPorts = { a: await freePort(), b: await freePort() };
          const targets = [path.pullPorts.a, path.pullPorts.b]
            .map((port) => `'127.0.0.1:${port}'`)
            .join(', ');
          path.prometheus = await startPrometheus(prometheus3!, {
            config: `${global}${rules}scrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: [${targets}]\n`,
            extraArgs: PROMETHEUS_FLAGS,
          });
        } else if (path.name === 'cluster') {
          path.clusterPort = await freePort();
          path.prometheus = await startPrometheus(prometheus3!, {
            config: `${global}${rules}scrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${path.clusterPort}']\n`,
            extraArgs: PROMETHEUS_FLAGS,
          });
        } else if (path.name === 'otlp') {
          path.prometheus = await startPrometheus(prometheus3!, {
            config: `${global}${rules}otlp:\n  translation_strategy: UnderscoreEscapingWithSuffixes\nscrape_configs: []\n`,
            extraArgs: [...PROMETHEUS_FLAGS, '--web.enable-otlp-receiver'],
          });
        } else {
          path.collector = await startCollector(otelcol!);
          path.prometheus = await startPrometheus(prometheus3!, {
            config: `${global}${rules}scrape_configs:\n  - job_name: otel-collector\n    honor_labels: true\n    static_configs:\n      - targets: ['${path.collector.metricsTarget}']\n`,
            extraArgs: PROMETHEUS_FLAGS,
          });
        }
      }
      // Windows start on a 15 s boundary, after every app has started.
      t0 = Math.ceil((Date.now() + 8_000) / WINDOW) * WINDOW;
      await Promise.all(
        paths.map(async (path) => {
          if (path.name === 'cluster') return runCluster(path);
          const b = run(path, 'b', plan(t0, 'b', 0, WINDOWS - 1), false);
          const a1 = run(path, 'a', plan(t0, 'a1', 0, RESTART_WINDOW), true);
          await Promise.all([a1.waitForLine(/^ready /, 30_000), b.waitForLine(/^ready /, 30_000)]);
          // A stops gracefully right after its last sale, and starts again (same instance id, same address).
          const stopped = await a1.exited;
          expect({
            path: path.name,
            stopped: stopped.stdout.includes('stopped'),
            code: stopped.code,
          }).toEqual({
            path: path.name,
            stopped: true,
            code: 0,
          });
          const a2 = run(path, 'a', plan(t0, 'a2', RESTART_WINDOW + 1, WINDOWS - 1), false);
          await a2.waitForLine(/^done$/, 120_000);
          await b.waitForLine(/^done$/, 120_000);
        }),
      );
      // The last window is over, and its amounts reached every Prometheus (the Collector's path is the slowest).
      const settled = t0 + WINDOWS * WINDOW + 10_000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, settled - Date.now())));
    }, 300_000);

    afterAll(async () => {
      cleanUpChildren();
      await Promise.all(paths.map((path) => path.prometheus?.stop()));
      await Promise.all(paths.map((path) => path.collector?.stop()));
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('recorded the planned ledger on every path: two currencies and a third born mid-window, refunds, a restart', () => {
      const expected = ['a1', 'a2', 'b'].reduce(
        (count, who) =>
          count +
          plan(
            0,
            who as 'a1',
            who === 'a2' ? RESTART_WINDOW + 1 : 0,
            who === 'a1' ? RESTART_WINDOW : WINDOWS - 1,
          ).length,
        0,
      );
      for (const path of paths) {
        expect({ path: path.name, entries: path.ledger.length }).toEqual({
          path: path.name,
          entries: expected,
        });
        expect(new Set(path.ledger.map((entry) => `${entry.currency}/${entry.kind}`))).toEqual(
          new Set(['EUR/sale', 'EUR/refund', 'JPY/sale', 'JPY/refund', 'KWD/sale']),
        );
      }
    });

    it.each(['pull', 'otlp', 'collector', 'cluster'] as const)(
      '%s: reconcile finds every 15 s window and currency equal to the ledger, in integers (exit 0)',
      async (name) => {
        const path = paths.find((candidate) => candidate.name === name)!;
        const ledgerFile = join(dir, `${name}.jsonl`);
        writeFileSync(ledgerFile, path.ledger.map((entry) => JSON.stringify(entry)).join('\n') + '\n');
        const result = await runCli([
          'reconcile',
          '--prometheus',
          path.prometheus!.url,
          '--ledger',
          ledgerFile,
          '--from',
          new Date(t0).toISOString(),
          '--to',
          new Date(t0 + WINDOWS * WINDOW).toISOString(),
          '--step',
          '15s',
          '--json',
        ]);
        const report = JSON.parse(result.stdout || '{}') as {
          equal: boolean;
          rows: Array<{
            windowStart: string;
            currency: string;
            figure: string;
            ledger: number;
            prometheus: number;
            equal: boolean;
          }>;
          currencies: string[];
        };
        expect({
          path: name,
          code: result.code,
          differing: report.rows?.filter((row) => !row.equal),
        }).toEqual({
          path: name,
          code: 0,
          differing: [],
        });
        expect(report.currencies).toEqual(['EUR', 'JPY', 'KWD']);
        // Every window has sales; every figure of every window is a whole number of minor units.
        expect(new Set(report.rows.map((row) => row.windowStart)).size).toBe(WINDOWS);
        for (const row of report.rows)
          expect({ row, integer: Number.isInteger(row.prometheus) }).toEqual({ row, integer: true });
      },
      60_000,
    );

    it.each(['pull', 'otlp', 'collector', 'cluster'] as const)(
      "%s: the shipped rules' last hour holds the whole ledger per currency, to the minor unit",
      async (name) => {
        const path = paths.find((candidate) => candidate.name === name)!;
        const totals: Record<string, Record<string, number>> = {};
        for (const entry of path.ledger) {
          const figures = (totals[entry.currency] ??= { revenue: 0, refunds: 0, net: 0, orders: 0 });
          if (entry.kind === 'sale') {
            figures.revenue += entry.amount;
            figures.net += entry.amount;
            figures.orders += 1;
          } else {
            figures.refunds += entry.amount;
            figures.net -= entry.amount;
          }
        }
        for (const figure of EXACT_MONEY_FIGURES) {
          const body = await path.prometheus!.api<{
            data: { result: Array<{ metric: { currency: string }; value: [number, string] }> };
          }>(`/api/v1/query?query=${encodeURIComponent(exactMoneyRule(figure, '1h'))}`);
          const got = Object.fromEntries(
            body.data.result.map((sample) => [sample.metric.currency, Number(sample.value[1])]),
          );
          const want = Object.fromEntries(
            Object.entries(totals)
              .filter(([, figures]) => figures[figure] !== 0 || figure === 'net')
              .map(([currency, figures]) => [currency, figures[figure]]),
          );
          expect({ path: name, figure, got }).toEqual({ path: name, figure, got: want });
        }
      },
    );
  },
);
