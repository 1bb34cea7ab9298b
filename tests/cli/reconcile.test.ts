/**
 * `otel-business-metrics reconcile` as a user runs it (the built command), for everything that needs no Prometheus
 * server: help, usage errors and ledger errors (exit 2, found before any query, each naming what and where), and
 * an unreachable server (exit 1). Against a real Prometheus 3.16: reconcile.e2e.test.ts; against the demo shop and
 * every path: tests/money/exact.e2e.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli, runCli } from '../support/cli';
import { freePort } from '../support/prometheus-server';

beforeAll(requireBuiltCli);

describe('otel-business-metrics reconcile (no Prometheus needed)', () => {
  let url = '';
  let dir = '';
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(async () => {
    // Nothing listens here: a usage error proves the arguments were refused before any query.
    url = `http://127.0.0.1:${await freePort()}`;
    dir = mkdtempSync(join(tmpdir(), 'obm-reconcile-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const good = () =>
    file(
      'good.csv',
      'order_id,timestamp,kind,amount,currency\n' +
        'a1,2026-12-01T10:15:00Z,sale,1999,USD\n' +
        'a2,2026-12-01T10:20:00.250+01:00,refund,500,usd\n' +
        '"a,3",1764584400,sale,1999,JPY\n',
    );
  const reconcile = (ledger: string, ...extra: string[]) => [
    'reconcile',
    '--prometheus',
    url,
    '--ledger',
    ledger,
    '--from',
    '2026-12-01T00:00:00Z',
    '--to',
    '2026-12-02T00:00:00Z',
    '--step',
    '1h',
    ...extra,
  ];

  it('is listed in the command list, and prints its options with --help (exit 0)', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(
      /^ {2}reconcile +compare your order ledger with Prometheus per window and currency, to the minor unit$/m,
    );
    const help = await runCli(['reconcile', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: otel-business-metrics reconcile --prometheus URL --ledger FILE/);
    expect(help.stdout).toContain('Exit codes: 0 every window equal, 1 a difference');
    expect((await runCli(['help', 'reconcile'])).stdout).toBe(help.stdout);
  });

  it.each([
    [
      'missing options',
      ['reconcile', '--ledger', 'x.csv'],
      /missing --prometheus \(or PROMETHEUS_URL\), --from, --to, --step/,
    ],
    ['an unknown option', ['--colour'], /Unknown option '--colour'/],
    [
      'a time without a zone',
      ['--from', '2026-12-01T00:00:00'],
      /--from "2026-12-01T00:00:00": use RFC 3339 with a zone/,
    ],
    // Date.parse rolls these over (Feb 30 is March 2, T24:00 the next day): a range other than the one asked for.
    [
      'a --from that does not exist',
      ['--from', '2026-02-30T00:00:00Z', '--to', '2026-03-03T00:00:00Z'],
      /--from "2026-02-30T00:00:00Z": no such date or time, day 30: 2026-02 has 28 days/,
    ],
    [
      'a --to at hour 24',
      ['--to', '2026-12-01T24:00:00Z'],
      /--to "2026-12-01T24:00:00Z": no such date or time, hour 24 \(00 to 23; midnight is 00:00 of the next day\)/,
    ],
    [
      'a --to on April 31',
      ['--from', '2026-04-30T00:00:00Z', '--to', '2026-04-31T00:00:00Z'],
      /--to "2026-04-31T00:00:00Z": no such date or time, day 31: 2026-04 has 30 days/,
    ],
    ['a bad step', ['--step', 'hourly'], /Invalid step "hourly"/],
    ['a fractional step', ['--step', '1500ms'], /--step "1500ms": whole seconds/],
    ['a range that is not whole windows', ['--step', '7h'], /is not a whole number of --step 7h/],
    ['an empty range', ['--to', '2026-12-01T00:00:00Z'], /--to must be after --from/],
    ['too many windows', ['--from', '2025-01-01T00:00:00Z', '--step', '1s'], /windows: at most 11000/],
    ['a future end', ['--to', '2999-01-01T00:00:00Z'], /--to 2999-01-01T00:00:00Z is in the future/],
    ['an unknown format', ['--format', 'xlsx'], /--format must be csv or jsonl, got "xlsx"/],
    [
      'a bad size limit',
      ['--max-ledger-bytes', '0'],
      /--max-ledger-bytes expects a whole number of bytes > 0/,
    ],
  ])('refuses %s with exit 2 before querying anything', async (_name, extra, message) => {
    const args = extra[0] === 'reconcile' ? extra : reconcile(good(), ...extra);
    const run = await runCli(args);
    expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({
      code: 2,
      stderr: expect.stringMatching(message),
      stdout: '',
    });
    expect(run.stderr).not.toContain('UNREACHABLE');
  });

  it.each([
    [
      'no format in its name',
      'ledger.txt',
      'timestamp,kind,amount,currency\n',
      /cannot tell the ledger's format from ".*ledger.txt": pass --format/,
    ],
    [
      'a missing column',
      'a.csv',
      'timestamp,kind,amount\n',
      /a.csv:1: the header must name the columns timestamp, kind, amount, currency/,
    ],
    [
      'a fractional amount',
      'b.csv',
      'timestamp,kind,amount,currency\n2026-12-01T01:00:00Z,sale,19.99,USD\n',
      /b.csv:2: amount "19.99": must be a whole, non-negative number of minor units/,
    ],
    [
      'a negative amount',
      'c.jsonl',
      '{"timestamp":"2026-12-01T01:00:00Z","kind":"refund","amount":-5,"currency":"EUR"}\n',
      /c.jsonl:1: amount -5: must be a whole/,
    ],
    [
      'an unknown currency',
      'd.csv',
      'timestamp,kind,amount,currency\n\n2026-12-01T01:00:00Z,sale,100,XYZ\n',
      /d.csv:3: currency "XYZ": not an ISO 4217 code/,
    ],
    [
      'an unknown kind',
      'e.csv',
      'timestamp,kind,amount,currency\n2026-12-01T01:00:00Z,chargeback,100,EUR\n',
      /e.csv:2: kind "chargeback": must be sale or refund/,
    ],
    [
      'a local time',
      'f.csv',
      'timestamp,kind,amount,currency\n2026-12-01 01:00,sale,100,EUR\n',
      /f.csv:2: timestamp "2026-12-01 01:00": use RFC 3339 with a zone/,
    ],
    [
      'a date that does not exist',
      'f2.csv',
      'timestamp,kind,amount,currency\n2026-12-01T01:00:00Z,sale,1,USD\n2026-02-30T10:00:00Z,sale,1999,USD\n',
      /f2.csv:3: timestamp "2026-02-30T10:00:00Z": no such date or time, day 30: 2026-02 has 28 days/,
    ],
    [
      'an hour 24',
      'f3.jsonl',
      '{"timestamp":"2026-12-01T24:00:00+01:00","kind":"sale","amount":1,"currency":"EUR"}\n',
      /f3.jsonl:1: timestamp "2026-12-01T24:00:00\+01:00": no such date or time, hour 24/,
    ],
    [
      'broken quoting',
      'g.csv',
      'timestamp,kind,amount,currency\n"2026-12-01T01:00:00Z,sale,100,EUR\n',
      /g.csv:2: unbalanced quotes/,
    ],
    [
      'a line that is not JSON',
      'h.jsonl',
      '{"timestamp":1764550800,"kind":"sale","amount":1,"currency":"EUR"}\n[1,2]\n',
      /h.jsonl:2: not a JSON object/,
    ],
    ['an empty CSV', 'i.csv', '', /i.csv: empty \(a CSV ledger starts with a header/],
    ['a missing file', 'absent.csv', undefined, /cannot read the ledger .*absent.csv: ENOENT/],
    [
      'a line too long',
      'j.csv',
      `timestamp,kind,amount,currency\n${'x'.repeat(70_000)}\n`,
      /j.csv:2: line longer than 65536 characters/,
    ],
  ])('refuses a ledger with %s with exit 2, naming the line', async (_name, name, text, message) => {
    const path = text === undefined ? join(dir, name) : file(name, text);
    const run = await runCli(reconcile(path));
    expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({
      code: 2,
      stderr: expect.stringMatching(message),
      stdout: '',
    });
  });

  it('refuses a ledger larger than --max-ledger-bytes before reading it', async () => {
    const run = await runCli(reconcile(good(), '--max-ledger-bytes', '10'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/has \d+ bytes, more than --max-ledger-bytes 10: refused/);
  });

  it('reads a valid ledger, then reports an unreachable Prometheus with exit 1', async () => {
    const run = await runCli(reconcile(good()));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`PROMETHEUS_UNREACHABLE: Cannot reach Prometheus at ${url}`);
    expect(run.stdout).toBe('');
  });
});
