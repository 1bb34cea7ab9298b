/**
 * src/cli/main.ts directly: with no command it prints the usage to stderr (exit 2); `--help`, `-h` and `help` print
 * it to stdout (exit 0), `help <command>` that command's help; each command is dispatched with the rest of argv (a
 * bad option of reconcile is its own usage error, exit 2); an unknown command is named, with the usage (exit 2).
 * And the built command, run as a user runs it, exits with the same codes.
 */
import { main } from '../../src/cli/main';
import { requireBuiltCli, runCli } from '../support/cli';

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

it('prints the usage to stderr without a command (exit 2), to stdout when asked (exit 0)', async () => {
  const none = await run([]);
  expect(none).toMatchObject({ code: 2, stdout: '' });
  expect(none.stderr).toMatch(/^Usage: otel-business-metrics <command> \[options\]/);
  for (const ask of ['--help', '-h', 'help']) {
    const asked = await run([ask]);
    expect(asked).toMatchObject({ code: 0, stderr: '', stdout: none.stderr });
  }
  for (const command of ['correlate', 'insight-rules', 'reconcile'])
    expect(none.stderr).toContain(`  ${command} `);
});

it("gives a command's own help with help <command>", async () => {
  expect((await run(['help', 'correlate'])).stdout).toMatch(/^Usage: otel-business-metrics correlate /);
  expect((await run(['help', 'insight-rules'])).stdout).toMatch(
    /^Usage: otel-business-metrics insight-rules /,
  );
  expect((await run(['help', 'reconcile'])).stdout).toMatch(/^Usage: otel-business-metrics reconcile /);
  expect((await run(['help', 'nope'])).stdout).toMatch(/^Usage: otel-business-metrics <command>/);
});

it('dispatches to the command with the rest of argv, and names an unknown command', async () => {
  const bad = await run(['reconcile', '--bogus']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("Unknown option '--bogus'");
  const rules = await run(['insight-rules']);
  expect(rules.code).toBe(0);
  expect(rules.stdout).toMatch(/^groups:/m);
  const unknown = await run(['frobnicate', '--x']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/^otel-business-metrics: unknown command "frobnicate"\n\nUsage: /);
});

it('exits with the same codes as the built command', async () => {
  requireBuiltCli();
  expect((await runCli([])).code).toBe(2);
  expect((await runCli(['--help'])).code).toBe(0);
  expect((await runCli(['frobnicate'])).code).toBe(2);
});
