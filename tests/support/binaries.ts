/**
 * Real binaries the integration tests need (promtool, prometheus, amtool, chromium).
 *
 * In CI (`CI=true`) a missing binary is a loud failure: `.ci/run` installs them, so absence means a broken
 * install. Locally a missing binary skips the dependent tests with a visible message.
 */
import { execFileSync } from 'node:child_process';

export function findBinary(name: string, candidates: string[] = []): string | undefined {
  for (const path of [...candidates, name]) {
    try {
      execFileSync(
        path.includes('/') ? path : 'sh',
        path.includes('/') ? ['--version'] : ['-c', `command -v ${name}`],
        {
          stdio: 'pipe',
        },
      );
      return path.includes('/')
        ? path
        : execFileSync('sh', ['-c', `command -v ${name}`])
            .toString()
            .trim();
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

/**
 * Resolve a binary or decide how to proceed without it. Use as:
 *   const promtool = requireBinary('promtool', 'apt-get install prometheus');
 *   const itWithPromtool = promtool ? it : it.skip;
 * In CI a missing binary throws at module load, which fails the whole test file loudly.
 */
export function requireBinary(name: string, installHint: string): string | undefined {
  const path = findBinary(name);
  if (path) return path;
  const message = `${name} is not installed (${installHint}); tests that need it cannot run`;
  if (process.env.CI) throw new Error(`${message}. CI must install it: see .ci/run.`);
  // Visible, not silent: printed once per test file that needs the binary.
  console.warn(`SKIPPING: ${message}.`);
  return undefined;
}
