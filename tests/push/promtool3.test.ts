/**
 * The rule files and their unit tests on Prometheus 3's promtool (built from the github.com/prometheus/prometheus
 * Go module by otel-collector/build/build-binaries.mjs), as tests/backend/promtool.test.ts runs them on Debian's
 * Prometheus 2.42: Prometheus 3 changed range selection (left-open windows), regex matching and UTF-8 names, so
 * the same rules must be proven on both.
 */
import { execFile } from 'node:child_process';
import { BACKEND, RULES_DIR, allRules, readYaml, ruleFiles, ruleTestFiles } from '../backend/backend-files';
import { requireGoBinary } from '../support/go-binaries';

const promtool = requireGoBinary('promtool');
const itWithPromtool3 = promtool ? it : it.skip;

function run(args: string[], cwd = BACKEND): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(promtool!, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

describe('Prometheus 3 promtool on otel-collector/prometheus', () => {
  itWithPromtool3('is Prometheus 3', async () => {
    expect(await run(['--version'])).toMatch(/promtool, version 3\.\d+\.\d+/);
  });

  itWithPromtool3('check config accepts prometheus.yml and the rule files it loads', async () => {
    const loaded = readYaml<{ rule_files: string[] }>(`${BACKEND}/prometheus/prometheus.yml`).rule_files;
    expect(loaded.length).toBe(ruleFiles().length);
    expect(await run(['check', 'config', 'prometheus/prometheus.yml'])).toMatch(
      new RegExp(`SUCCESS: ${loaded.length} rule files found`),
    );
  });

  itWithPromtool3('check rules accepts every rule and counts them all', async () => {
    const output = await run(['check', 'rules', ...ruleFiles()]);
    const found = [...output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    expect(found).toBe(ruleFiles().reduce((sum, file) => sum + allRules(file).length, 0));
  });

  itWithPromtool3.each(ruleTestFiles().map((file) => [file.slice(RULES_DIR.length + 1), file]))(
    'test rules %s passes',
    async (_name, file) => {
      expect(await run(['test', 'rules', file], RULES_DIR)).toMatch(/SUCCESS/);
    },
    60_000,
  );
});
