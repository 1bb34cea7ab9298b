/**
 * src/cli/reconcile-ledger.ts, reading the user's order ledger: instants only with a zone or as unix seconds (a JSON
 * number held to the range of the text: no milliseconds read as seconds), and only ones that exist (no `2026-02-30`
 * rolled over into March), CSV fields with RFC 4180 quoting, the format from the file name, and readLedger summing
 * CSV and JSON-lines rows per window and currency to the minor unit (windows are [from + i*step, from + (i+1)*step);
 * rows outside are counted, not summed), whatever the column order, case, byte-order mark or line ends. A bad row is a LedgerError naming file and line; so are a file over the size limit
 * (before reading it) and a path that is not a file. The command around it: reconcile.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_MAX_LEDGER_BYTES,
  formatOfFile,
  impossibleInstant,
  LedgerError,
  MAX_LEDGER_LINE_CHARS,
  parseInstant,
  readLedger,
  splitCsvLine,
  type LedgerSums,
} from '../../src/cli/reconcile-ledger';

const FROM = Date.UTC(2026, 11, 1, 10);
const HOUR = 3_600_000;
/** Three one-hour windows from 10:00 UTC on 2026-12-01. */
const WINDOWS = { fromMillis: FROM, stepMillis: HOUR, count: 3 };

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obm-ledger-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The sums as plain data: window index -> currency -> sums. */
const plain = (sums: LedgerSums) =>
  Object.fromEntries([...sums.windows].map(([index, byCurrency]) => [index, Object.fromEntries(byCurrency)]));

describe('parsing', () => {
  it('parses instants with a zone or as unix seconds, and CSV fields with quotes', () => {
    expect(parseInstant('2026-12-01T10:20:00.250+01:00')).toBe(Date.UTC(2026, 11, 1, 9, 20, 0, 250));
    expect(parseInstant('2026-12-01T10:20:00Z')).toBe(Date.UTC(2026, 11, 1, 10, 20));
    expect(parseInstant('1764584400.5')).toBe(1764584400500);
    expect(parseInstant('2026-12-01T10:20:00')).toBeUndefined();
    expect(parseInstant('yesterday')).toBeUndefined();
    expect(parseInstant('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseInstant('2000-02-29T23:59:59.999-23:59')).toBe(Date.UTC(2000, 2, 1, 23, 58, 59, 999));
    expect(parseInstant('2026-12-31T23:59:59Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
    expect(parseInstant('2026-12-03 10:15+0100')).toBe(Date.UTC(2026, 11, 3, 9, 15));
  });

  it('refuses dates and times that do not exist instead of rolling them over, saying why', () => {
    const impossible = {
      '2026-02-29T00:00:00Z': 'day 29: 2026-02 has 28 days',
      '2100-02-29T00:00:00Z': 'day 29: 2100-02 has 28 days',
      '2026-02-30T00:00:00Z': 'day 30: 2026-02 has 28 days',
      '2026-04-31T12:00:00Z': 'day 31: 2026-04 has 30 days',
      '2026-12-00T12:00:00Z': 'day 00: 2026-12 has 31 days',
      '2026-13-03T10:15:00Z': 'month 13 (01 to 12)',
      '2026-00-03T10:15:00Z': 'month 00 (01 to 12)',
      '2026-12-03T24:00:00Z': 'hour 24 (00 to 23; midnight is 00:00 of the next day)',
      '2026-12-03T10:61:00Z': 'minute 61 (00 to 59)',
      '2026-12-03T10:15:60Z': 'second 60 (00 to 59; no leap seconds)',
      '2026-12-03T10:15:00+24:00': 'offset 24:00 (-23:59 to +23:59)',
      '2026-12-03T10:15:00-05:60': 'offset 05:60 (-23:59 to +23:59)',
    };
    for (const [text, why] of Object.entries(impossible)) {
      expect({ text, millis: parseInstant(text), why: impossibleInstant(text) }).toEqual({
        text,
        millis: undefined,
        why,
      });
    }
    expect(impossibleInstant('2026-12-03T10:15:00Z')).toBeUndefined();
    expect(impossibleInstant('yesterday')).toBeUndefined();
    expect(splitCsvLine('"a,b",c,"say ""hi""",')).toEqual(['a,b', 'c', 'say "hi"', '']);
    expect(splitCsvLine('"open,b')).toBeUndefined();
  });

  it('tells the format from the file name, in any case', () => {
    expect(['a.csv', 'A.CSV', 'b.jsonl', 'c.NDJSON', 'd.json', 'e.txt', 'csv'].map(formatOfFile)).toEqual([
      'csv',
      'csv',
      'jsonl',
      'jsonl',
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('readLedger', () => {
  it('sums a CSV ledger per window and currency, to the minor unit', async () => {
    const path = file(
      'sales.csv',
      '\uFEFFCurrency,Amount,order_id,Kind,Timestamp\r\n' +
        'USD,1999,a1,sale,2026-12-01T10:15:00Z\r\n' +
        'usd,500,a2,REFUND,2026-12-01T11:20:00.250+01:00\r\n' + // 10:20 UTC
        'JPY,1999,"a,3",sale,1796122800\r\n' + // 11:00 UTC: the second window starts here
        '\r\n' +
        'USD,1,a4,sale,2026-12-01T12:59:59.999Z\r\n' +
        'EUR,700,a5,sale,2026-12-01T13:00:00Z\r\n' + // the end of the last window: outside
        'EUR,300,a6,refund,2026-12-01T09:59:59Z\r\n', // before the first: outside
    );
    const sums = await readLedger(path, 'csv', WINDOWS);
    expect(plain(sums)).toEqual({
      0: { USD: { revenue: 1999, refunds: 500, orders: 1 } },
      1: { JPY: { revenue: 1999, refunds: 0, orders: 1 } },
      2: { USD: { revenue: 1, refunds: 0, orders: 1 } },
    });
    expect({ rows: sums.rows, sales: sums.sales, refunds: sums.refunds, outside: sums.outside }).toEqual({
      rows: 6,
      sales: 4,
      refunds: 2,
      outside: 2,
    });
    expect([...sums.currencies].sort()).toEqual(['JPY', 'USD']);
  });

  it('sums a JSON-lines ledger, with numbers or strings for timestamps and amounts', async () => {
    const rows = [
      { timestamp: FROM / 1000 + 60, kind: 'sale', amount: 12750, currency: 'KWD' },
      { timestamp: '2026-12-01T10:30:00Z', kind: 'sale', amount: '250', currency: ' kwd ', note: 'ignored' },
      { timestamp: FROM / 1000 + 2 * 3600 + 0.5, kind: 'refund', amount: 1000, currency: 'KWD' },
    ];
    const path = file('sales.jsonl', rows.map((row) => JSON.stringify(row)).join('\n'));
    const sums = await readLedger(path, 'jsonl', WINDOWS);
    expect(plain(sums)).toEqual({
      0: { KWD: { revenue: 13000, refunds: 0, orders: 2 } },
      2: { KWD: { revenue: 0, refunds: 1000, orders: 0 } },
    });
    expect(sums.rows).toBe(3);
  });

  it('reads an empty JSON-lines ledger as no sales; an empty CSV ledger lacks its header', async () => {
    const sums = await readLedger(file('empty.jsonl', '\n\n'), 'jsonl', WINDOWS);
    expect({ windows: sums.windows.size, rows: sums.rows }).toEqual({ windows: 0, rows: 0 });
    await expect(readLedger(file('empty.csv', ''), 'csv', WINDOWS)).rejects.toThrow(
      /empty \(a CSV ledger starts with a header: timestamp,kind,amount,currency\)/,
    );
  });

  it.each([
    [
      'a.csv',
      'timestamp,kind,amount,currency\n2026-12-01T10:00:00Z,sale,99999999999999999,USD\n',
      /a.csv:2: amount 99999999999999999: too large/,
    ],
    [
      'b.jsonl',
      '{"timestamp":null,"kind":"sale","amount":1,"currency":"USD"}\n',
      /b.jsonl:1: timestamp null: use RFC 3339/,
    ],
    [
      'c.jsonl',
      '{"timestamp":1764583200,"kind":"sale","amount":1.5,"currency":"USD"}\n',
      /c.jsonl:1: amount 1.5: must be a whole/,
    ],
    [
      'd.jsonl',
      '{"timestamp":1764583200,"kind":"sale","amount":1}\n',
      /d.jsonl:1: currency null: not an ISO 4217 code/,
    ],
    ['e.jsonl', '"sale"\n', /e.jsonl:1: not a JSON object/],
    [
      // Each amount is exact, their sum (2^53 + 1) is not: it read as 2^53, a cent gone from the window's figure.
      'g.jsonl',
      '{"timestamp":1796119200,"kind":"refund","amount":9007199254740991,"currency":"IDR"}\n' +
        '{"timestamp":"2026-12-01T10:59:59Z","kind":"refund","amount":2,"currency":"IDR"}\n',
      'g.jsonl:2: amount 2: the IDR refunds of the window from 2026-12-01T10:00:00Z would pass 9007199254740991 ' +
        'minor units (2^53 - 1), beyond which a sum is not exact, here or in Prometheus',
    ],
    [
      'f.csv',
      'timestamp,kind,amount,currency\n2026-12-01T10:00:00Z,sale,1,US\u2028D\n',
      /f.csv:2: currency "US D": not an ISO 4217 code/,
    ],
  ])('refuses %s with a LedgerError naming the line', async (name, text, message) => {
    const reading = readLedger(file(name, text), name.endsWith('.csv') ? 'csv' : 'jsonl', WINDOWS);
    await expect(reading).rejects.toThrow(LedgerError);
    await expect(reading).rejects.toThrow(message);
  });

  it.each([
    ['negative', '-1', 'timestamp -1: unix seconds cannot be negative (before 1970-01-01T00:00:00Z)'],
    [
      'in milliseconds',
      '1764583200000',
      'timestamp 1764583200000: more unix seconds than 12 digits hold (the year 33658 or later); ' +
        'as milliseconds it is 2025-12-01T10:00:00Z: divide it by 1000',
    ],
    [
      'beyond any date',
      '1e21',
      'timestamp 1e+21: more unix seconds than 12 digits hold (the year 33658 or later)',
    ],
    ['not finite', '1e400', 'timestamp Infinity: not a finite number of unix seconds'],
  ])(
    'refuses a numeric timestamp %s, naming the line and why, as the unix seconds of a CSV ledger are',
    async (name, timestamp, message) => {
      const rows = [
        '{"timestamp":1764583260,"kind":"sale","amount":1,"currency":"USD"}',
        `{"timestamp":${timestamp},"kind":"sale","amount":1,"currency":"USD"}`,
      ];
      const path = file(`${name.replace(/ /g, '-')}.jsonl`, rows.join('\n'));
      const reading = readLedger(path, 'jsonl', WINDOWS);
      await expect(reading).rejects.toThrow(LedgerError);
      await expect(reading).rejects.toThrow(`${path}:2: ${message}`);
    },
  );

  it('reads a numeric timestamp as the text of the same unix seconds reads: 0 up to 12 digits, to the millisecond', async () => {
    const rows = [0, 999_999_999_999.999, FROM / 1000 + 0.0004, FROM / 1000 + 0.0006].map((timestamp) =>
      JSON.stringify({ timestamp, kind: 'sale', amount: 1, currency: 'USD' }),
    );
    const sums = await readLedger(file('edges.jsonl', rows.join('\n')), 'jsonl', WINDOWS);
    expect({ outside: sums.outside, earlier: sums.earlier }).toEqual({ outside: 2, earlier: 1 });
    expect(plain(sums)).toEqual({ 0: { USD: { revenue: 2, refunds: 0, orders: 2 } } });
    expect(parseInstant('0')).toBe(0);
    expect(parseInstant('999999999999.999')).toBe(999_999_999_999_999);
    expect(parseInstant(String(FROM / 1000 + 0.0006))).toBe(FROM);
  });

  it('cuts unix seconds to the millisecond as an RFC 3339 fraction is cut: a sale just before a boundary stays before it', async () => {
    // 09:59:59.9996 is before the first window, in either form; rounded, the unix seconds were 10:00:00.000, in it.
    const before = String(FROM / 1000 - 0.0004);
    expect(before).toBe('1796119199.9996');
    expect(parseInstant(before)).toBe(FROM - 1);
    expect(parseInstant(before)).toBe(parseInstant('2026-12-01T09:59:59.9996Z'));
    // Digits, not seconds * 1000 in floating point, which is not exact (1.005 * 1000 is 1004.9999999999999).
    expect(parseInstant('1.005')).toBe(1005);
    const lastOfWindow0 = FROM + HOUR - 1;
    const rows = [
      { timestamp: FROM / 1000 - 0.0004, amount: 1 },
      { timestamp: before, amount: 2 },
      { timestamp: '2026-12-01T09:59:59.9996Z', amount: 4 },
      { timestamp: (FROM + HOUR) / 1000 - 0.0001, amount: 8 },
      { timestamp: '2026-12-01T10:59:59.9999999Z', amount: 16 },
    ].map((row) => JSON.stringify({ ...row, kind: 'sale', currency: 'USD' }));
    const sums = await readLedger(file('cut.jsonl', rows.join('\n')), 'jsonl', {
      ...WINDOWS,
      delayMillis: 1,
    });
    expect({ outside: sums.outside, earlier: sums.earlier }).toEqual({ outside: 3, earlier: 3 });
    expect(plain(sums)).toEqual({ 0: { USD: { revenue: 24, refunds: 0, orders: 2 } } });
    // The millisecond before each boundary is its tail: the three rows before the first, the two before the second.
    expect(sums.tails.get(0)?.get('USD')?.revenue).toBe(7);
    expect(sums.tails.get(1)?.get('USD')?.revenue).toBe(24);
    expect(lastOfWindow0).toBe(parseInstant(String((FROM + HOUR) / 1000 - 0.0001)));
  });

  it('refuses a file over the size limit before reading it, a directory, and a line over the length limit', async () => {
    const path = file('big.csv', 'timestamp,kind,amount,currency\n');
    await expect(readLedger(path, 'csv', WINDOWS, 10)).rejects.toThrow(
      /has 31 bytes, more than --max-ledger-bytes 10: refused/,
    );
    await expect(readLedger(dir, 'csv', WINDOWS)).rejects.toThrow(/is not a file/);
    const long = file('long.jsonl', `${'x'.repeat(MAX_LEDGER_LINE_CHARS + 1)}\n`);
    await expect(readLedger(long, 'jsonl', WINDOWS)).rejects.toThrow(
      `long.jsonl:1: line longer than ${MAX_LEDGER_LINE_CHARS} characters`,
    );
    expect(DEFAULT_MAX_LEDGER_BYTES).toBe(1024 ** 3);
  });
  it('sums the rows in the delay before each boundary (tails), rows before the range included, for any delay', async () => {
    const MINUTE = 60_000;
    const at = (minutes: number) => new Date(FROM + minutes * MINUTE).toISOString();
    const rows = [
      [-100, 1], // before the first boundary's delay: in no tail
      [-80, 2],
      [-10, 4],
      [20, 8],
      [50, 16],
      [179, 32],
    ].map(([minutes, amount]) => `${at(minutes)},sale,${amount},EUR`);
    const path = file(
      'tails.csv',
      `timestamp,kind,amount,currency\n${rows.join('\n')}\n${at(55)},refund,64,EUR\n`,
    );
    // 90 minutes: one whole window and the last half hour of the one before it.
    const sums = await readLedger(path, 'csv', { ...WINDOWS, delayMillis: 90 * MINUTE });
    const tails = Object.fromEntries([...sums.tails].map(([k, byCurrency]) => [k, byCurrency.get('EUR')]));
    expect(tails).toEqual({
      0: { revenue: 2 + 4, refunds: 0, orders: 2 },
      1: { revenue: 4 + 8 + 16, refunds: 64, orders: 3 },
      2: { revenue: 16, refunds: 64, orders: 1 },
      3: { revenue: 32, refunds: 0, orders: 1 },
    });
    expect(plain(sums)).toEqual({
      0: { EUR: { revenue: 8 + 16, refunds: 64, orders: 2 } },
      2: { EUR: { revenue: 32, refunds: 0, orders: 1 } },
    });
    expect(sums.outside).toBe(3);
    // No delay, no tails; a delay shorter than a window reaches only into the window before each boundary.
    expect((await readLedger(path, 'csv', WINDOWS)).tails.size).toBe(0);
    const short = await readLedger(path, 'csv', { ...WINDOWS, delayMillis: 15 * MINUTE });
    expect(
      Object.fromEntries([...short.tails].map(([k, byCurrency]) => [k, byCurrency.get('EUR')?.revenue])),
    ).toEqual({
      0: 4,
      1: 16,
      3: 32,
    });
  });
});
