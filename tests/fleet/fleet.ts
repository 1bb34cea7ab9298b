/**
 * The fleet of otel-collector/thanos/fleet.mjs, run for real by the tests: every process of the plan on free
 * loopback ports in one temporary folder, each one killable (SIGKILL, as a crash) and restartable on its ports, and
 * all of them stopped by stop(). The plan itself (flags, files, who listens where) is fleet.mjs's; this file only
 * supervises.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/go-binaries';
import { freePort } from '../support/prometheus-server';

export const FLEET_PLAN_SCRIPT = join(REPO, 'otel-collector', 'thanos', 'fleet.mjs');

export interface PlannedProcess {
  name: string;
  binary: 'thanos' | 'otelcol';
  args: string[];
  env?: Record<string, string>;
  ready?: string;
}

export interface FleetPlan {
  ports: Record<string, Record<string, number>>;
  files: Record<string, string>;
  bucket: string;
  processes: PlannedProcess[];
  urls: {
    query: string;
    rule: string;
    store: string;
    gateways: string[];
    agent: string;
    receivers: string[];
  };
}

/** The plan fleet.mjs prints for these options. */
export function fleetPlan(options: Record<string, unknown>): FleetPlan {
  return JSON.parse(
    execFileSync(process.execPath, [FLEET_PLAN_SCRIPT, JSON.stringify(options)], { encoding: 'utf8' }),
  ) as FleetPlan;
}

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
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    name,
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

export interface RunningFleet {
  readonly plan: FleetPlan;
  readonly work: string;
  /** Running processes by plan name. */
  readonly processes: Map<string, Supervised>;
  /** Starts a process of the plan that was held back; resolves when it is ready (a one-pass one: started). */
  start(name: string): Promise<Supervised>;
  /** `thanos <args>` once, to completion (bucket tools, a Compactor pass). */
  runThanos(args: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Port names each process of the plan listens on (fleet.mjs's defaults say which exist). */
async function freePorts(template: Record<string, Record<string, number>>) {
  const ports: Record<string, Record<string, number>> = {};
  for (const [name, named] of Object.entries(template)) {
    ports[name] = {};
    for (const key of Object.keys(named)) ports[name][key] = await freePort();
  }
  return ports;
}

/**
 * Runs the plan: every process except those in `holdBack`, in the plan's order (receivers, store, query, rule,
 * compact, gateways, agent). `options` go to fleet.mjs (ports are free ones, the work folder a new temporary one).
 */
export async function startFleet(
  binaries: { thanos: string; otelcol: string },
  options: Record<string, unknown>,
  holdBack: string[] = [],
): Promise<RunningFleet> {
  const work = mkdtempSync(join(tmpdir(), 'obm-fleet-'));
  const template = fleetPlan({ ...options, work });
  const plan = fleetPlan({ ...options, work, ports: await freePorts(template.ports) });
  mkdirSync(plan.bucket, { recursive: true });
  for (const [path, content] of Object.entries(plan.files)) writeFileSync(path, content);
  const processes = new Map<string, Supervised>();
  const start = async (name: string) => {
    const planned = plan.processes.find((candidate) => candidate.name === name)!;
    // A held-back process starts later: the HTTP port reserved for it may have been taken since (no other process
    // of the plan refers to it), so it gets a port free now.
    const args = holdBack.includes(name)
      ? await Promise.all(
          planned.args.map(async (arg) =>
            arg.startsWith('--http-address=') ? `--http-address=127.0.0.1:${await freePort()}` : arg,
          ),
        )
      : planned.args;
    const running = await supervise(name, binaries[planned.binary], args, planned.env, planned.ready);
    processes.set(name, running);
    return running;
  };
  const stop = async () => {
    await Promise.all([...processes.values()].map((running) => running.stop()));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    for (const planned of plan.processes) {
      if (!holdBack.includes(planned.name)) await start(planned.name);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    plan,
    work,
    processes,
    start,
    async runThanos(args) {
      const once = await supervise(`thanos ${args[0]}`, binaries.thanos, args);
      await once.exited();
    },
    stop,
  };
}
