/**
 * src/cli/insight-rules.ts, the `insight-rules` command: with no option it prints exactly the shipped rule file,
 * each option reaches the generator (the traffic band as LOW..HIGH, the buckets as a list), `--output` writes the
 * file and says so on stderr, and every wrong argument is a usage error (exit 2) that names the problem and prints
 * nothing on stdout; an --output file that cannot be written is one line naming it and the cause (exit 1). Run as a user runs it (the built command) and called in-process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSIGHT_RULES_HELP, runInsightRules } from '../../src/cli/insight-rules';
import { insightRulesYaml } from '../../src/insights';
import { requireBuiltCli, runCli } from '../support/cli';

/** Run the command in this process, collecting what it prints. */
async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runInsightRules(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe('otel-business-metrics insight-rules', () => {
  beforeAll(requireBuiltCli);

  it('prints the shipped file with no option, and takes options', async () => {
    expect(await runCli(['insight-rules'])).toEqual({ code: 0, stdout: insightRulesYaml(), stderr: '' });
    const custom = await runCli(['insight-rules', '--apdex-threshold', '2.5', '--risk-share', '0.5']);
    expect(custom).toEqual({
      code: 0,
      stdout: insightRulesYaml({ apdexThresholdSeconds: 2.5, revenueAtRiskShare: 0.5 }),
      stderr: '',
    });
    const help = await runCli(['insight-rules', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--apdex-threshold SECONDS/);
  });

  it('refuses an Apdex threshold without bucket boundaries, and bad values, with exit 2', async () => {
    const refused = await runCli(['insight-rules', '--apdex-threshold', '0.5']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/needs bucket boundaries at T and 4T/);
    expect(refused.stderr).toMatch(/0\.025, 0\.25, 2\.5/);
    const custom = await runCli(['insight-rules', '--apdex-threshold', '0.5', '--buckets', '0.5,1,2']);
    expect(custom.code).toBe(0);
    expect(custom.stdout).toContain('le=~"2|2\\\\.0"');
    for (const args of [['--risk-share', 'lots'], ['--traffic-scale-band', '2'], ['--no-such-option']]) {
      const run = await runCli(['insight-rules', ...args]);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^otel-business-metrics insight-rules: /);
    }
  });
});

describe('runInsightRules', () => {
  it('passes every option to the generator', async () => {
    const args = [
      ['--checkout-routes', '/(cart|pay)(/.*)?'],
      ['--rate-window', '2m'],
      ['--sum-window', '30m'],
      ['--order-value-window', '2h'],
      ['--baseline-offset', '1d'],
      ['--traffic-scale-band', '0.25..4'],
      ['--traffic-scale-min-cart-views', '50'],
      ['--risk-for', '20m'],
      ['--risk-min-orders', '7'],
      ['--score-floor', '60'],
      ['--score-for', '15m'],
      ['--score-min-requests', '200'],
      ['--apdex-threshold', '0.5'],
      ['--buckets', '0.5, 1,2'],
    ].flat();
    const expected = insightRulesYaml({
      checkoutRoutes: '/(cart|pay)(/.*)?',
      rateWindow: '2m',
      sumWindow: '30m',
      orderValueWindow: '2h',
      baselineOffset: '1d',
      trafficScaleBand: [0.25, 4],
      trafficScaleMinCartViews: 50,
      revenueAtRiskFor: '20m',
      revenueAtRiskMinOrders: 7,
      experienceScoreFloor: 60,
      experienceFor: '15m',
      experienceMinRequests: 200,
      apdexThresholdSeconds: 0.5,
      durationBuckets: [0.5, 1, 2],
    });
    expect(expected).not.toBe(insightRulesYaml());
    expect(await run(args)).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('writes the file with --output and says where on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obm-insight-rules-'));
    try {
      const file = join(dir, 'insights.yml');
      expect(await run(['--risk-share', '0.3', '--output', file])).toEqual({
        code: 0,
        stdout: '',
        stderr: `Insight rules written to ${file}\n`,
      });
      expect(readFileSync(file, 'utf8')).toBe(insightRulesYaml({ revenueAtRiskShare: 0.3 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says in one line which --output file could not be written and why, with exit 1 as its help documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obm-insight-rules-'));
    try {
      const missing = join(dir, 'no-such-dir', 'insights.yml');
      const said = `otel-business-metrics insight-rules: cannot write ${missing}: its directory does not exist (ENOENT)\n`;
      expect(await run(['--output', missing])).toEqual({ code: 1, stdout: '', stderr: said });
      // As a user runs it: the same line, no stack trace.
      expect(await runCli(['insight-rules', '--output', missing])).toEqual({
        code: 1,
        stdout: '',
        stderr: said,
      });
      expect(await run(['--output', dir])).toEqual({
        code: 1,
        stdout: '',
        stderr: `otel-business-metrics insight-rules: cannot write ${dir}: it is a directory (EISDIR)\n`,
      });
      expect(INSIGHT_RULES_HELP).toContain('1 the --output file could not be written');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints its help with -h', async () => {
    expect(await run(['-h'])).toEqual({ code: 0, stdout: INSIGHT_RULES_HELP, stderr: '' });
  });

  it.each([
    [['extra'], /Unexpected argument 'extra'/],
    [['--risk-share', ''], /--risk-share expects a number, got ""/],
    [['--score-floor', 'NaN'], /--score-floor expects a number, got "NaN"/],
    [['--buckets', '0.5,,2'], /--buckets expects a number, got ""/],
    [['--traffic-scale-band', '0.5-2'], /--traffic-scale-band expects LOW..HIGH, got "0.5-2"/],
    [['--output'], /--output/],
  ])('refuses %j with exit 2, naming the problem', async (args, message) => {
    const result = await run(args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^otel-business-metrics insight-rules: /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Run with --help for usage\.\n$/);
  });
});
