/**
 * A real `redis-server` for tests: started on a free loopback port with no persistence, stopped (and
 * restartable on the same port, for outage tests) by the test. In CI a missing binary fails loudly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { requireBinary } from './binaries';

export const REDIS_SERVER = requireBinary('redis-server', 'apt-get install redis-server');

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stop it (SIGKILL: an abrupt outage, as when the host dies). */
  kill(): Promise<void>;
  /** Start it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open and nothing is answered, as with a wedged host. */
  pause(): void;
  /** Let a paused server go on (SIGCONT). */
  resume(): void;
  stop(): Promise<void>;
}

function launch(binary: string, port: number, dir: string | undefined): Promise<ChildProcess> {
  const persistence = dir
    ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', ...persistence],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on ${port}: ${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`));
    });
  });
}

function ended(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    // A paused server takes SIGTERM only once it runs again.
    child.kill('SIGCONT');
  });
}

/**
 * Start a redis-server (the caller must have checked REDIS_SERVER). `persistent`: an append-only file fsynced on
 * every write in a temporary directory, so a killed server restarts with its data, as a production Redis would.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const binary = REDIS_SERVER!;
  const port = await freePort();
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'obm-redis-')) : undefined;
  let child: ChildProcess | undefined = await launch(binary, port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      await ended(child, 'SIGKILL');
      child = undefined;
    },
    async restart() {
      await ended(child, 'SIGKILL');
      child = await launch(binary, port, dir);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await ended(child, 'SIGTERM');
      child = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
