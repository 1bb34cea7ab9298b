/**
 * The Prometheus side of otel-collector/, checked by the real promtool (Debian `prometheus` package):
 * prometheus.yml and the rule files are valid, and every `promtool test rules` file passes. Also checks that the
 * unit tests cover every rule: each alert is asserted by an alert_rule_test, each recording rule by a
 * promql_expr_test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../support/binaries';
import { BACKEND, RULES_DIR, allRules, readYaml, ruleFiles, ruleTestFiles } from './backend-files';

const promtool = requireBinary('promtool', 'apt-get install prometheus');
const itWithPromtool = promtool ? it : it.skip;

function run(args: string[], cwd = BACKEND): string {
  try {
    return execFileSync(promtool!, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, {
      cause: error,
    });
  }
}

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
    promql_expr_test?: Array<{ expr: string; exp_samples: unknown[] }>;
  }>;
}

describe('promtool on otel-collector/prometheus', () => {
  itWithPromtool('check config accepts prometheus.yml and the rule files it loads', () => {
    const output = run(['check', 'config', 'prometheus/prometheus.yml']);
    expect(output).toMatch(/SUCCESS: 3 rule files found/);
  });

  itWithPromtool('check rules accepts every rule file', () => {
    const output = run(['check', 'rules', ...ruleFiles()]);
    expect(output).not.toMatch(/FAILED/);
    const total = ruleFiles().reduce((sum, file) => sum + allRules(file).length, 0);
    const found = [...output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    expect(found).toBe(total);
  });

  itWithPromtool.each(ruleTestFiles().map((file) => [file.slice(RULES_DIR.length + 1), file]))(
    'test rules %s passes',
    (_name, file) => {
      expect(run(['test', 'rules', file], RULES_DIR)).toMatch(/SUCCESS/);
    },
    30000,
  );

  it('rule unit tests fire and stay silent for every alert, and evaluate every recording rule', () => {
    const tests = ruleTestFiles().flatMap((file) => readYaml<RuleTestFile>(file).tests);
    const alertCases = tests.flatMap((test) => test.alert_rule_test ?? []);
    const exprCases = tests.flatMap((test) => test.promql_expr_test ?? []);
    for (const rule of ruleFiles().flatMap(allRules)) {
      if (rule.alert) {
        const cases = alertCases.filter((testCase) => testCase.alertname === rule.alert);
        expect({
          alert: rule.alert,
          fires: cases.some((testCase) => testCase.exp_alerts.length > 0),
        }).toEqual({
          alert: rule.alert,
          fires: true,
        });
        expect({
          alert: rule.alert,
          silent: cases.some((testCase) => testCase.exp_alerts.length === 0),
        }).toEqual({
          alert: rule.alert,
          silent: true,
        });
      } else {
        const evaluated = exprCases.some(
          (testCase) => testCase.expr.includes(rule.record!) && testCase.exp_samples.length > 0,
        );
        expect({ record: rule.record, evaluated }).toEqual({ record: rule.record, evaluated: true });
      }
    }
  });

  it('the week-over-week and 7-day tests run over at least 8 days of input', () => {
    const weekly = readFileSync(join(RULES_DIR, 'business-weekly.test.yml'), 'utf8');
    expect(weekly).toMatch(/offset 7d|NewUserEngagementDrop/);
    const spans = [...weekly.matchAll(/values: '[^']*x(\d+)'/g)].map((match) => Number(match[1]));
    // 30-minute samples: 384 of them are 8 days.
    expect(Math.max(...spans)).toBeGreaterThanOrEqual(384);
  });
});
