#!/usr/bin/env node
/**
 * Entry point of the `otel-business-metrics` command. Dispatches subcommands: `correlate`, `insight-rules` and
 * `reconcile`.
 *
 * Owns: argv and the process exit code. Must not touch: library state (it calls the analysis, insights and exact-money APIs).
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/`, `src/cluster/`, `src/init.ts`.
 */
import { redactCredentials } from '../analysis/prometheus-client';
import { CORRELATE_HELP, EXIT_OK, EXIT_USAGE, runCorrelate, type CliOutput } from './correlate';
import { INSIGHT_RULES_HELP, runInsightRules } from './insight-rules';
import { RECONCILE_HELP, runReconcile } from './reconcile';

const HELP = `Usage: otel-business-metrics <command> [options]

Commands:
  correlate       correlate a technical and a business PromQL expression from a Prometheus server
  insight-rules   write the insight rules (error cost, revenue at risk, experience score) as a rule file
  reconcile       compare your order ledger with Prometheus per window and currency, to the minor unit

Run 'otel-business-metrics correlate --help' for the options of a command.
`;

/** Run the CLI with `argv` (without node and script). Resolves to the exit code. */
export async function main(argv: string[], output: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    output.stderr(HELP);
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const helps = new Map([
      ['correlate', CORRELATE_HELP],
      ['insight-rules', INSIGHT_RULES_HELP],
      ['reconcile', RECONCILE_HELP],
    ]);
    output.stdout(helps.get(rest[0] ?? '') ?? HELP);
    return EXIT_OK;
  }
  if (command === 'correlate') return runCorrelate(rest, output);
  if (command === 'insight-rules') return runInsightRules(rest, output);
  if (command === 'reconcile') return runReconcile(rest, output);
  output.stderr(`otel-business-metrics: unknown command "${command}"\n\n${HELP}`);
  return EXIT_USAGE;
}

if (require.main === module) {
  main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `otel-business-metrics: unexpected error: ${redactCredentials(error instanceof Error ? String(error.stack) : String(error))}\n`,
      );
      process.exitCode = 1;
    },
  );
}
