/**
 * The Prometheus side of otel-collector/, checked by the real promtool (Debian `prometheus` package, 2.42):
 * prometheus.yml and the rule files are valid, and every `promtool test rules` file passes. Also checks that the
 * unit tests cover every rule: each alert is asserted by an alert_rule_test, each recording rule by a
 * promql_expr_test. The exact-money rules need Prometheus >= 3.16 (`anchored`): 2.42 must refuse them, and
 * Prometheus 3's promtool (tests/push/promtool3.test.ts) runs them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { requireBinary } from '../support/binaries';
import {
  BACKEND,
  PROMETHEUS_3_16_RULE_FILES,
  RULES_DIR,
  allRules,
  readYaml,
  ruleFiles,
  ruleTestFiles,
} from './backend-files';

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
  itWithPromtool(
    'check config accepts prometheus.yml without the exact-money rules, and refuses them',
    () => {
      const shipped = readYaml<{ rule_files: string[] }>(join(BACKEND, 'prometheus', 'prometheus.yml'));
      const portable = shipped.rule_files.filter(
        (file) => !PROMETHEUS_3_16_RULE_FILES.includes(join(BACKEND, 'prometheus', file)),
      );
      expect(portable.length).toBe(shipped.rule_files.length - PROMETHEUS_3_16_RULE_FILES.length);
      const dir = mkdtempSync(join(tmpdir(), 'obm-promtool2-'));
      try {
        const file = join(dir, 'prometheus.yml');
        const absolute = (files: string[]) => files.map((rules) => join(BACKEND, 'prometheus', rules));
        writeFileSync(file, stringify({ ...shipped, rule_files: absolute(portable) }));
        expect(run(['check', 'config', file])).toMatch(
          new RegExp(`SUCCESS: ${portable.length} rule files found`),
        );
        // What Prometheus before 3.7 gives for the exact windows: nothing, the rule file does not load.
        writeFileSync(file, stringify({ ...shipped, rule_files: absolute(shipped.rule_files) }));
        expect(() => run(['check', 'config', file])).toThrow(/unexpected identifier "anchored"/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  itWithPromtool('check rules accepts every rule file Prometheus 2 can load', () => {
    const files = ruleFiles({ prometheus2: true });
    const output = run(['check', 'rules', ...files]);
    expect(output).not.toMatch(/FAILED/);
    const total = files.reduce((sum, file) => sum + allRules(file).length, 0);
    const found = [...output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    expect(found).toBe(total);
  });

  itWithPromtool.each(
    ruleTestFiles({ prometheus2: true }).map((file) => [file.slice(RULES_DIR.length + 1), file]),
  )(
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
