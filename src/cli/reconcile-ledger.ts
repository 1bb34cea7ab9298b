/**
 * Reading the user's order ledger for `reconcile`: CSV or JSON lines, one sale or refund per row, streamed and
 * summed per window and currency as it is read, so memory holds the sums, never the file.
 *
 * Owns: the ledger format (columns `timestamp`, `kind` sale|refund, `amount` in minor units, `currency`), its
 * validation with line numbers, the limits on what is read (file size, line length, sums that stay exact), the
 * per-window sums, and instants as reconcile reads and writes them (`parseInstant`, `iso`).
 * Must not touch: Prometheus, the report's layout, exit codes (reconcile.ts).
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isCurrencyShaped, isIsoCurrency } from '../money/currencies';

/** Largest ledger read by default: 1 GiB (about ten million rows). `--max-ledger-bytes` raises it. */
export const DEFAULT_MAX_LEDGER_BYTES = 1024 * 1024 * 1024;
/** Longest row: a longer one is not a ledger row (a binary file, a missing newline). */
export const MAX_LEDGER_LINE_CHARS = 64 * 1024;

export type LedgerFormat = 'csv' | 'jsonl';

/** A problem with the ledger file or one of its rows (reconcile answers it with exit code 2). */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/** The sums of one window and currency. */
export interface WindowSums {
  /** Sales, minor units. */
  revenue: number;
  /** Refunds and chargebacks, minor units. */
  refunds: number;
  /** Number of sales. */
  orders: number;
}

/** What was read: sums per window index (0-based, `[from + i*step, from + (i+1)*step)`) and currency. */
export interface LedgerSums {
  readonly windows: Map<number, Map<string, WindowSums>>;
  /**
   * Per boundary index k (0..count, the instant `from + k*step`) and currency: the sums of the rows recorded in
   * the `delayMillis` before it, `[from + k*step - delay, from + k*step)`, rows before `from` included. The most
   * Prometheus can count after a boundary of what the ledger has before it.
   */
  readonly tails: Map<number, Map<string, WindowSums>>;
  readonly rows: number;
  readonly sales: number;
  readonly refunds: number;
  /** Rows whose timestamp is outside `[from, to)`. */
  readonly outside: number;
  /** Of those, rows before `from`. */
  readonly earlier: number;
  readonly currencies: ReadonlySet<string>;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/i;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/**
 * Why a text shaped like RFC 3339 names no instant (`2026-02-30`, `2026-04-31`, hour `24`, minute `61`, an offset
 * of `+24:00`), in words for an error message; undefined when every field is in range, or for any other text.
 * `Date.parse` would roll such a text over into the next day or month (`2026-02-30` is March 2): a row, or a
 * `--from`, silently in another window.
 */
export function impossibleInstant(text: string): string | undefined {
  const match = RFC3339.exec(text.trim());
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((field) => (field === undefined ? undefined : Number(field)));
  if (month! < 1 || month! > 12) return `month ${match[2]} (01 to 12)`;
  const days = [31, isLeapYear(year!) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1]!;
  if (day! < 1 || day! > days) return `day ${match[3]}: ${match[1]}-${match[2]} has ${days} days`;
  if (hour! > 23) return `hour ${match[4]} (00 to 23; midnight is 00:00 of the next day)`;
  if (minute! > 59) return `minute ${match[5]} (00 to 59)`;
  if (second > 59) return `second ${match[6]} (00 to 59; no leap seconds)`;
  if (offsetHours > 23 || offsetMinutes > 59) return `offset ${match[7]}:${match[8]} (-23:59 to +23:59)`;
  return undefined;
}

/** Unix seconds as a ledger or a person may give them: 12 digits at most, the text form's limit (the year 33658). */
const UNIX_SECONDS_LIMIT = 1e12;

/**
 * Why a JSON number is no timestamp of a ledger, in words for an error message; undefined when it is unix seconds
 * the text form would also take (0 up to 12 digits). A number of milliseconds, the commonest slip, read as seconds
 * would land some fifty thousand years ahead: a sale silently outside every window instead of refused.
 */
function unixSecondsProblem(seconds: number): string | undefined {
  if (!Number.isFinite(seconds)) return 'not a finite number of unix seconds';
  if (seconds < 0) return 'unix seconds cannot be negative (before 1970-01-01T00:00:00Z)';
  if (seconds < UNIX_SECONDS_LIMIT) return undefined;
  const why = 'more unix seconds than 12 digits hold (the year 33658 or later)';
  return seconds < UNIX_SECONDS_LIMIT * 1000
    ? `${why}; as milliseconds it is ${iso(seconds)}: divide it by 1000`
    : why;
}

/**
 * Unix seconds written in decimal (`1764756000`, `1764755999.9996`) as milliseconds, the fraction cut to the
 * millisecond, not rounded: `Date.parse` cuts an RFC 3339 fraction, and both forms of one instant must land in the
 * same window (rounded, a sale at 09:59:59.9996 read as 10:00:00.000, in the window after its own). From the digits:
 * `seconds * 1000` in floating point is not exact (`1.005 * 1000` is 1004.9999999999999).
 */
function unixSecondsToMillis(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return Number(text) * 1000;
  return Number(text.slice(0, dot)) * 1000 + Number(text.slice(dot + 1, dot + 4).padEnd(3, '0'));
}

/** A JSON number of unix seconds (checked by {@link unixSecondsProblem}) as its shortest decimal text reads. */
function numericSecondsToMillis(seconds: number): number {
  const text = String(seconds);
  // Below 1e-6 seconds the text is exponential (`1e-7`): that is the epoch's first millisecond.
  return text.includes('e') ? 0 : unixSecondsToMillis(text);
}

/**
 * A point in time given by a person or a ledger, in milliseconds: RFC 3339 / ISO 8601 WITH a zone (`Z` or an
 * offset; a time without one is ambiguous and refused) or unix seconds (`1764756000`, `1764756000.250`). A date
 * or time that does not exist (`2026-02-30`, `T24:00:00`: {@link impossibleInstant} says why) is refused, not
 * rolled over.
 */
export function parseInstant(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,12}(\.\d{1,9})?$/.test(trimmed)) return unixSecondsToMillis(trimmed);
  if (!RFC3339.test(trimmed) || impossibleInstant(trimmed) !== undefined) return undefined;
  const millis = Date.parse(trimmed.replace(' ', 'T'));
  return Number.isFinite(millis) ? millis : undefined;
}

/** The window grid the ledger is summed into. */
export interface LedgerWindows {
  readonly fromMillis: number;
  readonly stepMillis: number;
  readonly count: number;
  /** How far before each boundary {@link LedgerSums.tails} reaches (default 0: no tails). */
  readonly delayMillis?: number;
}

type SumsByIndex = Map<number, Map<string, WindowSums>>;

/** Adds one row to `map`; returns the sum (revenue or refunds) it went into. */
function addTo(
  map: SumsByIndex,
  index: number,
  currency: string,
  kind: 'sale' | 'refund',
  amount: number,
): number {
  let byCurrency = map.get(index);
  if (byCurrency === undefined) map.set(index, (byCurrency = new Map()));
  let sums = byCurrency.get(currency);
  if (sums === undefined) byCurrency.set(currency, (sums = { revenue: 0, refunds: 0, orders: 0 }));
  if (kind === 'sale') {
    sums.orders++;
    return (sums.revenue += amount);
  }
  return (sums.refunds += amount);
}

function addSums(
  map: SumsByIndex,
  index: number,
  from: Map<string, WindowSums> | undefined,
  sign: 1 | -1 = 1,
): void {
  for (const [currency, sums] of from ?? []) {
    let byCurrency = map.get(index);
    if (byCurrency === undefined) map.set(index, (byCurrency = new Map()));
    let into = byCurrency.get(currency);
    if (into === undefined) byCurrency.set(currency, (into = { revenue: 0, refunds: 0, orders: 0 }));
    into.revenue += sign * sums.revenue;
    into.refunds += sign * sums.refunds;
    into.orders += sign * sums.orders;
  }
}

/** An instant as RFC 3339 in UTC, whole seconds without the `.000`: how reconcile writes every time it prints. */
export const iso = (millis: number): string => new Date(millis).toISOString().replace('.000Z', 'Z');

/** One CSV line split into fields (RFC 4180 quoting: `"a,b"`, `"say ""hi"""`); undefined for broken quoting. */
export function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) return undefined;
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') return undefined;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

const COLUMNS = ['timestamp', 'kind', 'amount', 'currency'] as const;
type Column = (typeof COLUMNS)[number];

/** The format a file name says (`.csv`, `.jsonl`/`.ndjson`), or undefined. */
export function formatOfFile(file: string): LedgerFormat | undefined {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  return undefined;
}

function printable(text: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Read `file` and sum its rows into `windows`. Rejects with a {@link LedgerError} naming the line for a malformed
 * row, a file over `maxBytes`, or a line over {@link MAX_LEDGER_LINE_CHARS}.
 */
export async function readLedger(
  file: string,
  format: LedgerFormat,
  windows: LedgerWindows,
  maxBytes: number = DEFAULT_MAX_LEDGER_BYTES,
): Promise<LedgerSums> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new LedgerError(`${file} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError(
      `cannot read the ledger ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  if (size > maxBytes) {
    throw new LedgerError(
      `the ledger ${file} has ${size} bytes, more than --max-ledger-bytes ${maxBytes}: refused (raise the limit, ` +
        `or cut the file to [${iso(windows.fromMillis - (windows.delayMillis ?? 0))}, ` +
        `${iso(windows.fromMillis + windows.count * windows.stepMillis)}): --from less --max-delay, so that ` +
        'amounts recorded just before --from and counted in the first window are seen)',
    );
  }
  const sums: LedgerSums & {
    rows: number;
    sales: number;
    refunds: number;
    outside: number;
    earlier: number;
  } = {
    windows: new Map(),
    tails: new Map(),
    rows: 0,
    sales: 0,
    refunds: 0,
    outside: 0,
    earlier: 0,
    currencies: new Set<string>(),
  };
  const endMillis = windows.fromMillis + windows.count * windows.stepMillis;
  // A tail [b - delay, b) is `whole` windows before b plus the last `part` ms of the window before those: sums
  // of whole windows (rows before `from` kept in `early`) and of each window's last `part` ms, read once, give
  // every tail with a sliding sum, however many boundaries a row's delay reaches.
  const delay = windows.delayMillis ?? 0;
  const whole = Math.floor(delay / windows.stepMillis);
  const part = delay - whole * windows.stepMillis;
  const early: SumsByIndex = new Map();
  const lastPart: SumsByIndex = new Map();
  let header: Map<Column, number> | undefined;
  let lineNumber = 0;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const fail = (message: string): never => {
    lines.close();
    stream.destroy();
    throw new LedgerError(`${file}:${lineNumber}: ${message}`);
  };
  // Past 2^53 a float sum loses units unseen, and Prometheus's counters (floats too) are no more exact there.
  const add = (map: SumsByIndex, index: number, code: string, kind: 'sale' | 'refund', amount: number) => {
    if (addTo(map, index, code, kind, amount) <= Number.MAX_SAFE_INTEGER) return;
    fail(
      `amount ${amount}: the ${code} ${kind === 'sale' ? 'sales' : 'refunds'} of the window from ` +
        `${iso(windows.fromMillis + index * windows.stepMillis)} would pass ${Number.MAX_SAFE_INTEGER} minor ` +
        'units (2^53 - 1), beyond which a sum is not exact, here or in Prometheus',
    );
  };
  try {
    for await (const raw of lines) {
      lineNumber++;
      if (raw.length > MAX_LEDGER_LINE_CHARS) fail(`line longer than ${MAX_LEDGER_LINE_CHARS} characters`);
      const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      let fields: Record<Column, unknown>;
      if (format === 'csv') {
        const cells = splitCsvLine(line) ?? fail('unbalanced quotes');
        if (header === undefined) {
          header = new Map();
          const names = cells.map((cell) => cell.trim().toLowerCase());
          for (const column of COLUMNS) {
            const index = names.indexOf(column);
            if (index < 0) {
              fail(
                `the header must name the columns ${COLUMNS.join(', ')} (any order, others ignored); ` +
                  `it has: ${printable(names.join(', '), 200)}`,
              );
            }
            header.set(column, index);
          }
          continue;
        }
        fields = Object.fromEntries(COLUMNS.map((column) => [column, cells[header!.get(column)!]])) as Record<
          Column,
          unknown
        >;
      } else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          fail('not a JSON object (one per line)');
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          fail('not a JSON object (one per line)');
        }
        fields = parsed as Record<Column, unknown>;
      }
      sums.rows++;
      const timestamp = fields.timestamp;
      if (typeof timestamp === 'number') {
        const problem = unixSecondsProblem(timestamp);
        if (problem !== undefined) fail(`timestamp ${String(timestamp)}: ${problem}`);
      }
      const at =
        typeof timestamp === 'number'
          ? numericSecondsToMillis(timestamp)
          : typeof timestamp === 'string'
            ? parseInstant(timestamp)
            : undefined;
      if (at === undefined) {
        const impossible = typeof timestamp === 'string' ? impossibleInstant(timestamp) : undefined;
        fail(
          `timestamp ${printable(JSON.stringify(timestamp ?? null))}: ` +
            (impossible !== undefined
              ? `no such date or time, ${impossible}`
              : 'use RFC 3339 with a zone (2026-12-03T10:15:00Z, 2026-12-03T11:15:00+01:00) or unix seconds'),
        );
      }
      const kind = typeof fields.kind === 'string' ? fields.kind.trim().toLowerCase() : fields.kind;
      if (kind !== 'sale' && kind !== 'refund') {
        fail(`kind ${printable(JSON.stringify(fields.kind ?? null))}: must be sale or refund`);
      }
      const amountText = typeof fields.amount === 'number' ? String(fields.amount) : fields.amount;
      if (typeof amountText !== 'string' || !/^\s*\d+\s*$/.test(amountText)) {
        fail(
          `amount ${printable(JSON.stringify(fields.amount ?? null))}: must be a whole, non-negative number of ` +
            'minor units (19.99 USD is 1999, 1,999 JPY is 1999, 12.750 KWD is 12750)',
        );
      }
      const amount = Number(amountText);
      if (!Number.isSafeInteger(amount)) fail(`amount ${printable(String(amountText))}: too large`);
      const code = typeof fields.currency === 'string' ? fields.currency.trim().toUpperCase() : undefined;
      if (code === undefined || !isCurrencyShaped(code) || !isIsoCurrency(code)) {
        fail(`currency ${printable(JSON.stringify(fields.currency ?? null))}: not an ISO 4217 code`);
      }
      if (kind === 'sale') sums.sales++;
      else sums.refunds++;
      const entry = kind as 'sale' | 'refund';
      const index = Math.floor((at! - windows.fromMillis) / windows.stepMillis);
      const inLastPart = part > 0 && at! >= windows.fromMillis + (index + 1) * windows.stepMillis - part;
      if (at! < windows.fromMillis || at! >= endMillis) {
        sums.outside++;
        if (at! < windows.fromMillis) sums.earlier++;
        if (at! < windows.fromMillis && at! >= windows.fromMillis - delay) {
          if (index >= -whole) add(early, index, code!, entry, amount);
          if (inLastPart) add(lastPart, index, code!, entry, amount);
        }
        continue;
      }
      (sums.currencies as Set<string>).add(code!);
      add(sums.windows, index, code!, entry, amount);
      if (inLastPart) add(lastPart, index, code!, entry, amount);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (format === 'csv' && header === undefined) {
    throw new LedgerError(`${file}: empty (a CSV ledger starts with a header: ${COLUMNS.join(',')})`);
  }
  if (delay > 0) {
    // sliding = the whole windows [k - whole, k), kept by adding window k and taking window k - whole out.
    const sliding: SumsByIndex = new Map();
    const windowAt = (w: number) => (w < 0 ? early.get(w) : sums.windows.get(w));
    for (let w = -whole; w < 0; w++) addSums(sliding, 0, windowAt(w));
    for (let k = 0; k <= windows.count; k++) {
      addSums(sums.tails, k, sliding.get(0));
      addSums(sums.tails, k, lastPart.get(k - whole - 1));
      if (whole > 0) {
        addSums(sliding, 0, windowAt(k));
        addSums(sliding, 0, windowAt(k - whole), -1);
      }
    }
    // Drop empty sums left by the subtraction, so a tail of nothing reads as none.
    for (const byCurrency of sums.tails.values()) {
      for (const [currency, tail] of byCurrency) {
        if (tail.revenue === 0 && tail.refunds === 0 && tail.orders === 0) byCurrency.delete(currency);
      }
    }
  }
  return sums;
}
