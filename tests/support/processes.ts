/**
 * A real process a test starts and stops: spawned with its output kept, ready once a URL answers, killable
 * (SIGKILL, as a crash), stoppable (SIGSTOP/SIGCONT) and restartable with the same command line. Every process a
 * test supervises must be stopped by it (afterAll).
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** One supervised process. */
export interface Supervised {
  readonly name: string;
  /** Recent stderr + stdout. */
  log(): string;
  /** SIGKILL, as a crash; the ports and data stay for restart(). */
  kill(): Promise<void>;
  /** Start again with the same command line, and wait until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), and wait for the exit. */
  stop(): Promise<void>;
  /** Resolves when the process exited by itself with status 0; rejects on another status. */
  exited(): Promise<void>;
  /** Sends a signal (SIGSTOP / SIGCONT: the sockets stay open and nothing answers, as a wedged process). */
  signal(signal: NodeJS.Signals): void;
  /** The current child process (a new one after restart()). */
  readonly process: ChildProcess;
}

export async function supervise(
  name: string,
  binary: string,
  args: string[],
  env: Record<string, string> = {},
  ready?: string,
): Promise<Supervised> {
  let child: ChildProcess;
  let log = '';
  const launch = async () => {
    child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-30_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    if (!ready) return;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode}):\n${log}`);
      try {
        if ((await fetch(ready)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${name} was not ready within 60 s:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    name,
    get process() {
      return child;
    },
    signal: (signal) => child.kill(signal),
    log: () => log,
    kill: () => waitExit('SIGKILL'),
    restart: launch,
    stop: () => waitExit('SIGTERM'),
    exited: () =>
      new Promise<void>((resolve, reject) => {
        const settle = () =>
          child.exitCode === 0 ? resolve() : reject(new Error(`${name} exited ${child.exitCode}:\n${log}`));
        if (child.exitCode !== null || child.signalCode !== null) settle();
        else child.once('exit', settle);
      }),
  };
}
