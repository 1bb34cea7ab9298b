/**
 * src/cli/: the built `otel-business-metrics` command, run as a user runs it, for everything that needs no
 * Prometheus server: help, unknown commands, usage errors (exit 2, found before any query) and an unreachable
 * server (exit 1). The analyses against a real Prometheus are in tests/analysis/prometheus.e2e.test.ts.
 */
import { requireBuiltCli, runCli } from '../support/cli';
import { freePort } from '../support/prometheus-server';

beforeAll(requireBuiltCli);

describe('otel-business-metrics (no Prometheus needed)', () => {
  let url = '';
  beforeAll(async () => {
    // A loopback port nothing listens on: any query would fail as unreachable, so a usage error proves the
    // arguments were rejected before a query was sent.
    url = `http://127.0.0.1:${await freePort()}`;
  });
  const correlate = (...extra: string[]) => [
    'correlate',
    '--prometheus',
    url,
    '--technical',
    'up',
    '--business',
    'up',
    '--range',
    '1h',
    ...extra,
  ];

  it('prints the command list with --help (exit 0) and on no command (exit 2)', async () => {
    const help = await runCli(['--help']);
    expect(help).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Usage: otel-business-metrics <command>/),
      stderr: '',
    });
    expect(help.stdout).toContain('correlate       correlate a technical and a business PromQL expression');
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(help.stdout);
  });

  it("prints correlate's options with correlate --help", async () => {
    const help = await runCli(['correlate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: otel-business-metrics correlate --prometheus URL/);
    expect(help.stdout).toContain('2 usage error');
    expect((await runCli(['help', 'correlate'])).stdout).toBe(help.stdout);
  });

  it('rejects an unknown command with exit 2', async () => {
    const run = await runCli(['corelate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^otel-business-metrics: unknown command "corelate"/);
  });

  it.each([
    ['an unknown option', ['--colour'], /Unknown option '--colour'/],
    ['a bad duration', ['--step', 'five minutes'], /Invalid step "five minutes"/],
    ['a bad header', ['--header', 'no-colon'], /--header expects 'Name: value', got "no-colon"/],
    ['a bad number', ['--max-lag', 'many'], /--max-lag expects an integer, got "many"/],
    [
      'a bad scale',
      ['--technical-scale', '0'],
      /The technical display scale must be a positive number, got 0/,
    ],
    [
      'a --by that is no label name',
      ['--by', 'currency code'],
      /"by" must be a label name, got "currency code"/,
    ],
    [
      'too many points',
      ['--step', '1s', '--range', '7d'],
      /TOO_MANY_POINTS: A 7d range at a 1s step is 604801 points/,
    ],
  ])('reports %s with exit 2 before querying anything', async (_name, extra, message) => {
    const run = await runCli(correlate(...extra));
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('PROMETHEUS_UNREACHABLE');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('names the missing options', async () => {
    const run = await runCli(['correlate', '--technical', 'up']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing .*--prometheus.*--business/);
  });

  it('reports an unreachable Prometheus with exit 1, naming its URL', async () => {
    const run = await runCli(correlate());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`PROMETHEUS_UNREACHABLE: Cannot reach Prometheus at ${url}`);
    expect(run.stdout).toBe('');
  });
});
