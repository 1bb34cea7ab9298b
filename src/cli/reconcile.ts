/**
 * The `reconcile` subcommand: the user's order ledger against Prometheus, per window and currency, to the minor
 * unit. Exit codes: 0 every window equal, 1 a difference (or Prometheus could not be read), 2 a usage or ledger
 * error.
 *
 * Owns: the command-line contract of `reconcile`, the window grid, the comparison and its report (text or JSON).
 * Must not touch: the queries themselves (src/catalog/exact-money.ts), the ledger format (reconcile-ledger.ts),
 * Prometheus HTTP details (src/analysis/prometheus-client.ts).
 */
import { parseArgs } from 'node:util';
import { CorrelationError } from '../analysis/errors';
import { parseDuration } from '../analysis/duration';
import { PrometheusRangeClient } from '../analysis/prometheus-client';
import { EXACT_MONEY_FIGURES, exactMoneyQuery, type ExactMoneyFigure } from '../catalog/exact-money';
import { EXIT_ANALYSIS_ERROR, EXIT_OK, EXIT_USAGE, safeMessage, type CliOutput } from './correlate';
import {
  DEFAULT_MAX_LEDGER_BYTES,
  LedgerError,
  formatOfFile,
  iso,
  impossibleInstant,
  parseInstant,
  readLedger,
  type LedgerFormat,
  type LedgerSums,
  type WindowSums,
} from './reconcile-ledger';

/** Exit code when a window differs. */
export const EXIT_DIFFERENCE = 1;
/**
 * The longest time from an amount's recording to the first scrape or push that carries it, by default: a 1-minute
 * scrape or export interval (the OTLP default), plus a new target's first scrape or a retried export.
 */
export const DEFAULT_MAX_DELAY = '2m';
/** Prometheus refuses range queries with more points per series than this. */
const MAX_WINDOWS = 11_000;

export const RECONCILE_HELP = `Usage: otel-business-metrics reconcile --prometheus URL --ledger FILE --from TIME --to TIME --step 1h|1d [options]

Compare your order ledger with Prometheus, per window and currency, to the minor unit: sales (revenue), refunds,
net revenue (sales - refunds) and orders. Prometheus must be >= 3.16 (the 'anchored' windows of
business-money.yml) with --enable-feature=created-timestamp-zero-ingestion; see docs/money.md.

Required:
  --prometheus URL         Prometheus base URL (default: $PROMETHEUS_URL), e.g. http://localhost:9090
  --ledger FILE            CSV (header naming timestamp,kind,amount,currency; other columns ignored) or JSON
                           lines ({"timestamp":...,"kind":"sale","amount":1999,"currency":"USD"}): one sale or
                           refund per row; amount in minor units (cents, yen, fils); timestamp RFC 3339 with a zone
                           (2026-12-03T10:15:00Z) or unix seconds
  --from TIME, --to TIME   the range, RFC 3339 with a zone or unix seconds; --to - --from a whole number of steps
  --step DURATION          window length: 1h, 1d (UTC days when --from is a UTC midnight), or any duration >= 1s

Options:
  --format csv|jsonl       ledger format (default: from the file name, .csv / .jsonl / .ndjson)
  --max-ledger-bytes N     refuse a larger ledger file (default ${DEFAULT_MAX_LEDGER_BYTES}, 1 GiB); it is streamed,
                           memory holds only the sums per window and currency
  --header 'Name: value'   extra HTTP header for Prometheus, repeatable (e.g. 'Authorization: Bearer TOKEN')
  --timeout DURATION       per-request timeout (default 30s)
  --max-delay DURATION     the longest time from recording an amount to the first scrape or push that carries
                           it: your scrape or export interval plus margin (default ${DEFAULT_MAX_DELAY})
  --json                   print the result as JSON
  -h, --help               show this help

A window [start, start + step) of the ledger is compared with the anchored increase Prometheus gives at
start + step. Prometheus places an amount in the window of the scrape or push that first carried it, so an
amount recorded in the last scrape or export interval before a window's end counts in the next window.
reconcile follows such carries from boundary to boundary: a difference is marked "moved" when every carry, from
a boundary carrying nothing to the next one, is between 0 and what the ledger has in the --max-delay before its
boundary. Carries still open at --from or --to are not confirmed (a double count or a loss looks the same
there): they are reported with their amounts, and the rows they touch read "moved, if the carry at the range
edge is". The ledger must hold the rows from --from less --max-delay (docs/money.md, "The boundary of a
window").

Exit codes: 0 every window equal, 1 a difference (or Prometheus could not be read), 2 usage or ledger error.

Example:
  otel-business-metrics reconcile --prometheus http://localhost:9090 --ledger orders.csv \\
    --from 2026-12-02T00:00:00Z --to 2026-12-03T00:00:00Z --step 1h
`;

class UsageError extends Error {}

/** One compared figure of one window and currency. */
export interface ReconcileRow {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly currency: string;
  readonly figure: ExactMoneyFigure;
  readonly ledger: number;
  readonly prometheus: number;
  readonly difference: number;
  readonly equal: boolean;
  /**
   * Present when the difference is explained by the boundary rule (docs/money.md#the-boundary-of-a-window): an
   * amount counts in the window of the first scrape or push that carried it. `fromPrevious`: recorded before this
   * window began (within `--max-delay`), counted in it; `toNext`: recorded in its last `--max-delay`, counted after
   * it. `difference` = `fromPrevious` - `toNext`. The carries are the least consistent with the answers, so they
   * can be smaller than what really moved. Still a difference (exit code 1).
   */
  readonly moved?: { readonly fromPrevious: number; readonly toNext: number };
  /**
   * Instead of `moved` when the carries that would explain the difference run to the range's start or end
   * without a boundary carrying nothing: they hold only if `carriedFromBeforeStart` / `carriedPastEnd` of the
   * report are carries, not a double count or a loss, which the range cannot tell.
   */
  readonly movedIfConfirmed?: { readonly fromPrevious: number; readonly toNext: number };
}

/** An amount of one currency and measured figure carried across the range's start or end, not confirmed. */
export interface UnconfirmedCarry {
  readonly currency: string;
  readonly figure: 'revenue' | 'refunds' | 'orders';
  readonly amount: number;
}

/**
 * The carries of one currency and measured figure across the boundaries, and which boundaries they explain.
 *
 * Boundary k (0..count) carries `carry[k] = carry[0] + sum over windows before k of (ledger - prometheus)`: what
 * Prometheus counts after the boundary of what the ledger has before it, possible only between 0 and what the
 * ledger has in the `--max-delay` before the boundary (`tails`). `carry[0]` is the least that keeps every carry
 * non-negative, so the carries are the least consistent with the answers. A lost amount stays carried from its
 * window to the end of the range; a double count makes a carry negative.
 *
 * Carries explain a run of boundaries only when it is closed: from a boundary carrying nothing to the next one.
 * A run open at the range's start rests on amounts recorded before --from that the range cannot see counted
 * (or on a double count it would hide), a run open at the end on amounts Prometheus counts after --to (or on a
 * loss, which under steady traffic looks the same): neither is confirmed, both are reported with their amount.
 */
function carriesOf(ledger: readonly number[], prometheus: readonly number[], tails: readonly number[]) {
  const carries = [0];
  for (let window = 0; window < ledger.length; window++) {
    carries.push(carries[window] + ledger[window] - prometheus[window]);
  }
  const before = Math.max(0, ...carries.map((carry) => -carry));
  const shifted = carries.map((carry) => carry + before);
  const possible = shifted.map((carry, k) => Number.isInteger(carry) && carry >= 0 && carry <= tails[k]);
  const explained = new Array<boolean>(shifted.length).fill(false);
  const open = new Array<boolean>(shifted.length).fill(false);
  const last = shifted.length - 1;
  let openAtStart = 0;
  let openAtEnd = 0;
  for (let start = 0; start < last;) {
    let end = start + 1;
    while (end < last && shifted[end] !== 0) end++;
    let whole = true;
    for (let k = start; k <= end && whole; k++) whole = possible[k];
    const fromBeforeStart = start === 0 ? shifted[0] : 0;
    const pastEnd = end === last ? shifted[last] : 0;
    if (whole && fromBeforeStart === 0 && pastEnd === 0) {
      for (let k = start; k <= end; k++) explained[k] = true;
    } else if (whole) {
      for (let k = start; k <= end; k++) open[k] = true;
      if (start === 0) openAtStart = fromBeforeStart;
      if (end === last) openAtEnd = pastEnd;
    }
    start = end;
  }
  return { carries: shifted, explained, open, openAtStart, openAtEnd };
}

/**
 * Marks each differing row that the boundary rule explains (its window's carries in from the previous boundary
 * and out to the next both lie on a closed run, see {@link carriesOf}), and lists the carries that are possible
 * but open at the range's start or end. Net is explained when revenue and refunds both are.
 */
function markMovedAcrossBoundaries(
  rows: readonly ReconcileRow[],
  grid: { fromMillis: number; stepMillis: number; count: number },
  tails: LedgerSums['tails'],
): { rows: ReconcileRow[]; fromBeforeStart: UnconfirmedCarry[]; pastEnd: UnconfirmedCarry[] } {
  const indexOf = (row: ReconcileRow) =>
    Math.round((Date.parse(row.windowStart) - grid.fromMillis) / grid.stepMillis);
  const measured = ['revenue', 'refunds', 'orders'] as const;
  type Measured = (typeof measured)[number];
  const perCurrency = new Map<string, Map<Measured, ReturnType<typeof carriesOf>>>();
  const fromBeforeStart: UnconfirmedCarry[] = [];
  const pastEnd: UnconfirmedCarry[] = [];
  for (const currency of [...new Set(rows.map((row) => row.currency))].sort()) {
    const figures = new Map<Measured, ReturnType<typeof carriesOf>>();
    for (const figure of measured) {
      const ledger = new Array<number>(grid.count).fill(0);
      const prometheus = new Array<number>(grid.count).fill(0);
      for (const row of rows) {
        if (row.currency !== currency || row.figure !== figure) continue;
        ledger[indexOf(row)] = row.ledger;
        prometheus[indexOf(row)] = row.prometheus;
      }
      const limits = Array.from(
        { length: grid.count + 1 },
        (_, k) => tails.get(k)?.get(currency)?.[figure] ?? 0,
      );
      const result = carriesOf(ledger, prometheus, limits);
      figures.set(figure, result);
      if (result.openAtStart !== 0) fromBeforeStart.push({ currency, figure, amount: result.openAtStart });
      if (result.openAtEnd !== 0) pastEnd.push({ currency, figure, amount: result.openAtEnd });
    }
    perCurrency.set(currency, figures);
  }
  const marked = rows.map((row) => {
    if (row.equal) return row;
    const window = indexOf(row);
    const figures = perCurrency.get(row.currency)!;
    const parts: readonly Measured[] = row.figure === 'net' ? ['revenue', 'refunds'] : [row.figure];
    const on = (kind: 'explained' | 'open') =>
      parts.every((figure) => {
        const result = figures.get(figure)!;
        return (
          (result.explained[window] || result[kind][window]) &&
          (result.explained[window + 1] || result[kind][window + 1])
        );
      });
    const explained = on('explained');
    if (!explained && !on('open')) return row;
    const carry = (k: number) =>
      row.figure === 'net'
        ? figures.get('revenue')!.carries[k] - figures.get('refunds')!.carries[k]
        : figures.get(row.figure)!.carries[k];
    const carries = { fromPrevious: carry(window), toNext: carry(window + 1) };
    return explained ? { ...row, moved: carries } : { ...row, movedIfConfirmed: carries };
  });
  return { rows: marked, fromBeforeStart, pastEnd };
}

function ledgerFigure(sums: WindowSums | undefined, figure: ExactMoneyFigure): number {
  if (sums === undefined) return 0;
  if (figure === 'net') return sums.revenue - sums.refunds;
  return sums[figure];
}

function parseHeaders(values: string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values ?? []) {
    const colon = value.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header expects 'Name: value', got "${value}"`);
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return headers;
}

function instantOption(text: string | undefined, option: string): number {
  if (text === undefined) throw new UsageError(`missing --${option}`);
  const millis = parseInstant(text);
  if (millis === undefined) {
    const impossible = impossibleInstant(text);
    throw new UsageError(
      `--${option} "${text}": ` +
        (impossible !== undefined
          ? `no such date or time, ${impossible}`
          : 'use RFC 3339 with a zone (2026-12-03T00:00:00Z) or unix seconds'),
    );
  }
  return millis;
}

/** Run `reconcile` with its arguments (everything after the subcommand). Resolves to the exit code. */
export async function runReconcile(
  args: string[],
  output: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Promise<number> {
  let options;
  try {
    options = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        prometheus: { type: 'string' },
        ledger: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        step: { type: 'string' },
        format: { type: 'string' },
        'max-ledger-bytes': { type: 'string' },
        header: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        'max-delay': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    output.stderr(
      `otel-business-metrics reconcile: ${(error as Error).message}\nRun with --help for usage.\n`,
    );
    return EXIT_USAGE;
  }
  if (options.help) {
    output.stdout(RECONCILE_HELP);
    return EXIT_OK;
  }

  let client: PrometheusRangeClient;
  let fromMillis: number;
  let stepMillis: number;
  let count: number;
  let format: LedgerFormat;
  let maxBytes = DEFAULT_MAX_LEDGER_BYTES;
  let delayMillis: number;
  const ledgerFile = options.ledger;
  try {
    const prometheus = options.prometheus ?? env.PROMETHEUS_URL;
    const missing = [
      prometheus ? undefined : '--prometheus (or PROMETHEUS_URL)',
      ledgerFile ? undefined : '--ledger',
      options.from ? undefined : '--from',
      options.to ? undefined : '--to',
      options.step ? undefined : '--step',
    ].filter(Boolean);
    if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`);
    fromMillis = instantOption(options.from, 'from');
    const toMillis = instantOption(options.to, 'to');
    const stepSeconds = parseDuration(options.step!, 'step');
    if (!Number.isInteger(stepSeconds))
      throw new UsageError(`--step "${options.step}": whole seconds, at least 1s`);
    stepMillis = stepSeconds * 1000;
    if (toMillis <= fromMillis) throw new UsageError('--to must be after --from');
    if ((toMillis - fromMillis) % stepMillis !== 0) {
      throw new UsageError(
        `--to - --from (${(toMillis - fromMillis) / 1000} s) is not a whole number of --step ${options.step}: ` +
          'every window must be whole',
      );
    }
    if (toMillis > now()) {
      throw new UsageError(`--to ${iso(toMillis)} is in the future: its window is not over`);
    }
    count = (toMillis - fromMillis) / stepMillis;
    if (count > MAX_WINDOWS) {
      throw new UsageError(`${count} windows: at most ${MAX_WINDOWS} (a longer --step or a shorter range)`);
    }
    if (options.format !== undefined && options.format !== 'csv' && options.format !== 'jsonl') {
      throw new UsageError(`--format must be csv or jsonl, got "${options.format}"`);
    }
    const detected = (options.format as LedgerFormat | undefined) ?? formatOfFile(ledgerFile!);
    if (detected === undefined) {
      throw new UsageError(
        `cannot tell the ledger's format from "${ledgerFile}": pass --format csv or --format jsonl`,
      );
    }
    format = detected;
    if (options['max-ledger-bytes'] !== undefined) {
      maxBytes = Number(options['max-ledger-bytes']);
      if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
        throw new UsageError(
          `--max-ledger-bytes expects a whole number of bytes > 0, got "${options['max-ledger-bytes']}"`,
        );
      }
    }
    const delaySeconds = parseDuration(options['max-delay'] ?? DEFAULT_MAX_DELAY, 'max-delay');
    delayMillis = Math.round(delaySeconds * 1000);
    client = new PrometheusRangeClient({
      url: prometheus!,
      headers: parseHeaders(options.header),
      timeoutMs: options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout') * 1000,
    });
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof CorrelationError && error.code === 'INVALID_ARGUMENT')
    ) {
      output.stderr(
        `otel-business-metrics reconcile: ${safeMessage(error.message)}\nRun with --help for usage.\n`,
      );
      return EXIT_USAGE;
    }
    throw error;
  }

  let ledger;
  try {
    ledger = await readLedger(ledgerFile!, format, { fromMillis, stepMillis, count, delayMillis }, maxBytes);
  } catch (error) {
    if (error instanceof LedgerError) {
      output.stderr(`otel-business-metrics reconcile: ${safeMessage(error.message)}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  // Prometheus: each figure per currency at every window's end, over the window.
  const stepSeconds = stepMillis / 1000;
  const prometheus = new Map<ExactMoneyFigure, Map<number, Map<string, string>>>();
  const warnings: string[] = [];
  try {
    for (const figure of EXACT_MONEY_FIGURES) {
      const result = await client.queryRange(exactMoneyQuery(figure, `${stepSeconds}s`), {
        start: (fromMillis + stepMillis) / 1000,
        end: (fromMillis + count * stepMillis) / 1000,
        step: stepSeconds,
        points: count,
      });
      warnings.push(...result.warnings);
      const byWindow = new Map<number, Map<string, string>>();
      for (const series of result.series) {
        const currency = series.labels.currency ?? '';
        for (const sample of series.samples) {
          const index = Math.round((sample.timestamp * 1000 - fromMillis) / stepMillis) - 1;
          if (index < 0 || index >= count) continue;
          let byCurrency = byWindow.get(index);
          if (byCurrency === undefined) byWindow.set(index, (byCurrency = new Map()));
          byCurrency.set(currency, String(sample.value));
        }
      }
      prometheus.set(figure, byWindow);
    }
  } catch (error) {
    const message =
      error instanceof CorrelationError ? `${error.code}: ${error.message}` : (error as Error).message;
    output.stderr(`otel-business-metrics reconcile: ${safeMessage(message)}\n`);
    return EXIT_ANALYSIS_ERROR;
  }

  const rows: ReconcileRow[] = [];
  for (let index = 0; index < count; index++) {
    const currencies = new Set<string>(ledger.windows.get(index)?.keys() ?? []);
    for (const figure of EXACT_MONEY_FIGURES) {
      for (const currency of prometheus.get(figure)!.get(index)?.keys() ?? []) currencies.add(currency);
    }
    for (const currency of [...currencies].sort()) {
      for (const figure of EXACT_MONEY_FIGURES) {
        const ledgerValue = ledgerFigure(ledger.windows.get(index)?.get(currency), figure);
        const text = prometheus.get(figure)!.get(index)?.get(currency);
        const prometheusValue = text === undefined ? 0 : Number(text);
        if (ledgerValue === 0 && prometheusValue === 0) continue;
        rows.push({
          windowStart: iso(fromMillis + index * stepMillis),
          windowEnd: iso(fromMillis + (index + 1) * stepMillis),
          currency,
          figure,
          ledger: ledgerValue,
          prometheus: prometheusValue,
          difference: prometheusValue - ledgerValue,
          // A fractional or non-finite answer is never equal: the query (or Prometheus) is not exact.
          equal: Number.isInteger(prometheusValue) && prometheusValue === ledgerValue,
        });
      }
    }
  }
  const compared = markMovedAcrossBoundaries(rows, { fromMillis, stepMillis, count }, ledger.tails);
  rows.splice(0, rows.length, ...compared.rows);
  const differences = rows.filter((row) => !row.equal);
  const { fromBeforeStart: carriedFromBeforeStart, pastEnd: carriedPastEnd } = compared;
  const maxDelayText = options['max-delay'] ?? DEFAULT_MAX_DELAY;
  const recentEnd = fromMillis + count * stepMillis > now() - delayMillis;
  // A ledger cut at --from cannot show what was recorded just before it and counted in the first window.
  const firstWindowDiffers = differences.some((row) => row.windowStart === iso(fromMillis));
  const cutAtFrom = delayMillis > 0 && ledger.earlier === 0 && firstWindowDiffers;

  if (options.json) {
    output.stdout(
      `${JSON.stringify(
        {
          prometheusUrl: client.url,
          ledger: {
            file: ledgerFile,
            format,
            rows: ledger.rows,
            sales: ledger.sales,
            refunds: ledger.refunds,
            outsideRange: ledger.outside,
          },
          windows: {
            from: iso(fromMillis),
            to: iso(fromMillis + count * stepMillis),
            step: options.step,
            count,
          },
          unit: 'minor units of each currency',
          currencies: [...new Set(rows.map((row) => row.currency))].sort(),
          rows,
          differences: differences.length,
          movedAcrossBoundaries: differences.filter((row) => row.moved !== undefined).length,
          carriedFromBeforeStart,
          carriedPastEnd,
          equal: differences.length === 0,
          warnings,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const moved = differences.filter((row) => row.moved !== undefined).length;
    output.stdout(
      formatReport(rows, differences.length, moved, carriedFromBeforeStart, carriedPastEnd, {
        client,
        ledgerFile: ledgerFile!,
        ledger,
        count,
        options,
        maxDelay: maxDelayText,
      }),
    );
  }
  for (const warning of warnings)
    output.stderr(`otel-business-metrics reconcile: Prometheus warns: ${warning}\n`);
  if (recentEnd) {
    output.stderr(
      `otel-business-metrics reconcile: the last window ended less than --max-delay ${maxDelayText} ago: amounts of ` +
        'its last scrape or export interval may not have reached Prometheus yet\n',
    );
  }
  if (cutAtFrom) {
    output.stderr(
      `otel-business-metrics reconcile: the ledger has no row before --from, and the first window differs: if the ` +
        `file was cut at --from, amounts recorded in the --max-delay ${maxDelayText} before it that Prometheus ` +
        `counted in the first window cannot be seen; include the rows from ${iso(fromMillis - delayMillis)}\n`,
    );
  }
  return differences.length === 0 ? EXIT_OK : EXIT_DIFFERENCE;
}

/** How a row's boundary moves read in the text report: both carries, signed (net ones can be negative). */
function movedNote(moved: ReconcileRow['moved'], unconfirmed: boolean): string {
  if (moved === undefined) return '';
  const signed = (value: number) => `${value > 0 ? '+' : ''}${value}`;
  const parts = [
    moved.fromPrevious === 0 ? undefined : `${signed(moved.fromPrevious)} from the previous window`,
    moved.toNext === 0 ? undefined : `${signed(-moved.toNext)} to the next`,
  ].filter(Boolean);
  return ` (${unconfirmed ? 'moved, if the carry at the range edge is' : 'moved'}: ${parts.join(', ')})`;
}

function formatReport(
  rows: readonly ReconcileRow[],
  differences: number,
  moved: number,
  carriedFromBeforeStart: readonly UnconfirmedCarry[],
  carriedPastEnd: readonly UnconfirmedCarry[],
  context: {
    client: PrometheusRangeClient;
    ledgerFile: string;
    ledger: { rows: number; sales: number; refunds: number; outside: number };
    count: number;
    options: { from?: string; to?: string; step?: string };
    maxDelay: string;
  },
): string {
  const { ledger } = context;
  const lines = [
    `Ledger ${context.ledgerFile}: ${ledger.rows} rows (${ledger.sales} sales, ${ledger.refunds} refunds), ` +
      `${ledger.outside} outside the range`,
    `Prometheus ${context.client.url}: ${context.count} ${context.count === 1 ? 'window' : 'windows'} of ${context.options.step} from ` +
      `${context.options.from} to ${context.options.to}`,
    'Amounts in minor units of each currency (cents, yen, fils); orders are counts.',
    '',
  ];
  const table = [['window start', 'currency', 'figure', 'ledger', 'prometheus', 'difference']];
  for (const row of rows) {
    table.push([
      row.windowStart,
      row.currency,
      row.figure,
      String(row.ledger),
      String(row.prometheus),
      row.equal
        ? '0'
        : `${row.difference > 0 ? '+' : ''}${row.difference}  <-- differs` +
          movedNote(row.moved ?? row.movedIfConfirmed, row.moved === undefined),
    ]);
  }
  const widths = table[0].map((_, column) => Math.max(...table.map((cells) => cells[column].length)));
  for (const cells of table) {
    lines.push(
      cells
        .map((cell, column) =>
          column >= 3 && column <= 4 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
        )
        .join('  ')
        .trimEnd(),
    );
  }
  lines.push('');
  lines.push(
    differences === 0
      ? `Equal: every window and currency matches the ledger to the minor unit (${rows.length} figures).`
      : `${differences} of ${rows.length} figures differ.` +
          (moved > 0
            ? ` ${moved} of them are amounts recorded in a window's last --max-delay ` +
              `${context.maxDelay} and first scraped or pushed after it: the ` +
              'carries between the windows add up, and every one is within what the ledger has in that time ' +
              '(docs/money.md, "The boundary of a window"). The rest are not explained.'
            : ''),
  );
  const list = (carries: readonly UnconfirmedCarry[]) =>
    carries.map((carry) => `${carry.currency} ${carry.figure} ${carry.amount}`).join(', ');
  if (carriedFromBeforeStart.length > 0) {
    lines.push(
      `Not confirmed, from before --from: ${list(carriedFromBeforeStart)} more in the range than the ledger has, ` +
        `no more than it has in the --max-delay before --from: amounts recorded then and counted in the first ` +
        'window, or counted twice. A range starting when the ledger has nothing in the --max-delay before it tells.',
    );
  }
  if (carriedPastEnd.length > 0) {
    lines.push(
      `Not confirmed, past --to: ${list(carriedPastEnd)} fewer in the range than the ledger has, no more than it ` +
        'has in the --max-delay before --to: amounts Prometheus counts after --to, or lost. A range ending when ' +
        'the ledger has nothing in the --max-delay before it (a quiet time) tells.',
    );
  }
  return `${lines.join('\n')}\n`;
}
