/**
 * The demo shop's own ledger against Prometheus, as docs/money.md's reconcile run does it: `npm start`'s shop
 * (examples/shop/start.mjs, built package) with a fast simulator, scraped every second by Prometheus 3.16 with the
 * shipped business-money.yml and created-timestamp-zero-ingestion, stopped gracefully with SIGTERM (it stops
 * taking orders, hands its last values to a final scrape, then closes). Then `otel-business-metrics reconcile`
 * over 10 s windows: with shoppers buying at every instant, an amount recorded in the last second before a
 * window's end is first scraped after it (the boundary rule), as are the sales made before Prometheus first
 * scraped the new shop, so a window may differ, but only by amounts carried across its boundaries (a window can
 * receive some and send others); over the whole range every currency's figures equal the ledger, and the ledger
 * has every sale and refund (nothing recorded by the shop is missing from Prometheus, nothing counted twice).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MONEY_FILE } from '../backend/backend-files';
import { requireBuiltCli, runCli, ROOT } from '../support/cli';
import { requireGoBinary } from '../support/go-binaries';
import { freePort, startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';

const prometheus3 = requireGoBinary('prometheus');
const describeE2e = prometheus3 ? describe : describe.skip;
const WINDOW = 10_000;

interface Row {
  windowStart: string;
  currency: string;
  figure: string;
  ledger: number;
  prometheus: number;
  equal: boolean;
  moved?: { fromPrevious: number; toNext: number };
}

describeE2e('the demo shop reconciled against its own ledger', () => {
  let prometheus: PrometheusServer;
  let shop: ChildProcess | undefined;
  let dir = '';
  let from = 0;
  let to = 0;
  let output = '';

  beforeAll(async () => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'obm-shop-ledger-'));
    const port = await freePort();
    prometheus = await startPrometheus(prometheus3!, {
      config:
        'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n' +
        `rule_files:\n  - ${MONEY_FILE}\n` +
        `scrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
      extraArgs: ['--enable-feature=created-timestamp-zero-ingestion'],
    });
    // Windows start before the shop does: every sale of its ledger falls in one.
    from = Math.floor(Date.now() / WINDOW) * WINDOW;
    shop = spawn(process.execPath, [join(ROOT, 'examples', 'shop', 'start.mjs')], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SIM_SESSIONS_PER_SECOND: '20',
        SIM_THINK_SCALE: '0.02',
        LEDGER_FILE: join(dir, 'ledger.jsonl'),
        // diag warnings on stderr: a final scrape that never came would say so.
        OTEL_LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    shop.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shop.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => shop!.once('exit', (code) => resolve(code)));
    // Sales and refunds in several currencies for three windows.
    const enough = () => {
      const text = (() => {
        try {
          return readFileSync(join(dir, 'ledger.jsonl'), 'utf8');
        } catch {
          return '';
        }
      })();
      return /"kind":"refund"/.test(text) && new Set(text.match(/"currency":"[A-Z]{3}"/g)).size >= 2;
    };
    await waitUntil(
      'sales and refunds in two currencies over three windows',
      () => {
        if (shop!.exitCode !== null) throw new Error(`the shop exited:\n${output}`);
        return enough() && Date.now() >= from + 3 * WINDOW;
      },
      { timeoutMillis: 150_000, context: (missing) => `${missing}\n${output}` },
    );
    shop.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The range ends on the first window boundary after the shop stopped, once Prometheus has tried a scrape past
    // it (the shop is gone, so that scrape records up = 0): every sample before the end is in (a loaded machine
    // scrapes late; a fixed wait was outlasted).
    to = Math.ceil((Date.now() + 1) / WINDOW) * WINDOW;
    await waitUntil(
      'Prometheus to scrape past the end of the range',
      async () => {
        const response = await fetch(
          `${prometheus.url}/api/v1/query?query=${encodeURIComponent('max(timestamp(up))')}`,
        );
        const result = ((await response.json()) as { data: { result: Array<{ value: [number, string] }> } })
          .data.result;
        const last = result.length > 0 ? Number(result[0].value[1]) * 1000 : undefined;
        return last !== undefined && last >= to
          ? true
          : `last scrape at ${last === undefined ? 'none' : new Date(last).toISOString()}`;
      },
      { timeoutMillis: 60_000 },
    );
  }, 240_000);

  afterAll(async () => {
    if (shop && shop.exitCode === null) shop.kill('SIGKILL');
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stopped gracefully: no warning that a final scrape was missed', () => {
    expect(output).toContain('SIGTERM: stopping the shop');
    expect(output).not.toContain('no scrape read the final values');
  });

  it('equals the ledger over the whole range per currency, and differs per window only by amounts carried across its boundaries', async () => {
    const ledger = readFileSync(join(dir, 'ledger.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const result = await runCli([
      'reconcile',
      '--prometheus',
      prometheus.url,
      '--ledger',
      join(dir, 'ledger.jsonl'),
      '--from',
      new Date(from).toISOString(),
      '--to',
      new Date(to).toISOString(),
      '--step',
      '10s',
      // Scraped every second, but Prometheus's first scrape of the new shop comes seconds after its first sale.
      '--max-delay',
      '30s',
      '--json',
    ]);
    expect([0, 1]).toContain(result.code);
    const report = JSON.parse(result.stdout) as {
      rows: Row[];
      differences: number;
      movedAcrossBoundaries: number;
      carriedFromBeforeStart: unknown[];
      carriedPastEnd: unknown[];
    };
    expect(report.rows.length).toBeGreaterThan(0);
    for (const row of report.rows)
      expect({ row, integer: Number.isInteger(row.prometheus) }).toEqual({ row, integer: true });
    expect(report.rows.filter((row) => !row.equal && row.moved === undefined)).toEqual([]);
    expect(report.movedAcrossBoundaries).toBe(report.differences);
    // The range starts before the shop and ends after it stopped: no carry is left open at either end.
    expect({ fromBeforeStart: report.carriedFromBeforeStart, pastEnd: report.carriedPastEnd }).toEqual({
      fromBeforeStart: [],
      pastEnd: [],
    });
    // Over the range, per currency and figure: Prometheus's windows add up to the ledger exactly.
    const totals = new Map<string, { ledger: number; prometheus: number }>();
    for (const row of report.rows) {
      const key = `${row.currency}/${row.figure}`;
      const total = totals.get(key) ?? { ledger: 0, prometheus: 0 };
      total.ledger += row.ledger;
      total.prometheus += row.prometheus;
      totals.set(key, total);
    }
    for (const [key, total] of totals)
      expect({ key, ...total }).toEqual({ key, ledger: total.ledger, prometheus: total.ledger });
    // The ledger's own sum (independent of the command): every sale of the shop is in the range.
    const sales = ledger.filter((entry: { kind: string }) => entry.kind === 'sale');
    const ordersInReport = report.rows
      .filter((row) => row.figure === 'orders')
      .reduce((sum, row) => sum + row.ledger, 0);
    expect(ordersInReport).toBe(sales.length);
  });
});
