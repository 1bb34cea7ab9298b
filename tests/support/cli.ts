/**
 * The built `otel-business-metrics` command (dist/cli/main.js), run as a user runs it: the check that it is
 * built from the current sources, and one run with its exit code and output.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Newest modification time under a directory, to detect a dist/ older than its sources. */
function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** @throws when the built CLI is missing or older than any file under `src/` (run `npm run build`). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
    throw new Error(`${CLI} is missing or older than src/: run \`npm run build\` first`);
  }
}

/** Run the CLI with `args` (no PROMETHEUS_URL from the environment); never rejects. */
export function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 20000, env: { ...process.env, PROMETHEUS_URL: '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
