/**
 * Child processes for safety tests: a TypeScript fixture is bundled with esbuild (src/ included, so the test
 * runs the current source without depending on a fresh `npm run build`) and run with plain Node, exactly as an
 * app would run. Every child a test starts is killed when the test ends, if it has not exited by then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const outDir = mkdtempSync(join(tmpdir(), 'obm-safety-'));
const bundled = new Map<string, string>();
const running = new Set<ChildProcess>();

/** Bundles <fixturesDir>/<name>.ts (default tests/safety/fixtures) once per test file; returns the .js path. */
export function bundleFixture(name: string, fixturesDir = join(__dirname, '..', 'fixtures')): string {
  let path = bundled.get(name);
  if (!path) {
    path = join(outDir, `${name}.js`);
    buildSync({
      entryPoints: [join(fixturesDir, `${name}.ts`)],
      outfile: path,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
    });
    bundled.set(name, path);
  }
  return path;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly elapsedMillis: number;
}

export interface RunningChild {
  readonly process: ChildProcess;
  /** Resolves with the first stdout line matching `pattern` (rejects on exit or timeout). */
  waitForLine(pattern: RegExp, timeoutMillis?: number): Promise<string>;
  readonly exited: Promise<ChildResult>;
}

/** Starts `node <script> ...args` (with `env` added to this process's environment). The child is killed at
 * `killAfterMillis` if it is still running. */
export function startChild(
  script: string,
  args: string[],
  killAfterMillis = 30_000,
  env?: Readonly<Record<string, string>>,
): RunningChild {
  const started = Date.now();
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const line of stdout.split('\n')) {
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMillis);
  const exited = new Promise<ChildResult>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      running.delete(child);
      // Let the pipes drain before reporting what was written.
      setImmediate(() => resolve({ code, signal, stdout, stderr, elapsedMillis: Date.now() - started }));
    });
  });
  return {
    process: child,
    exited,
    waitForLine(pattern, timeoutMillis = 15_000) {
      const already = stdout.split('\n').find((line) => pattern.test(line));
      if (already !== undefined) return Promise.resolve(already);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line ${pattern} within ${timeoutMillis} ms; stdout: ${stdout}; stderr: ${stderr}`,
              ),
            ),
          timeoutMillis,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then((result) => {
          clearTimeout(timer);
          reject(
            new Error(
              `child exited (${result.code ?? result.signal}) before printing ${pattern}: ${result.stderr}`,
            ),
          );
        });
      });
    },
  };
}

/** Kills children still running and removes the bundles: call from afterAll. */
export function cleanUpChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  rmSync(outDir, { recursive: true, force: true });
}
