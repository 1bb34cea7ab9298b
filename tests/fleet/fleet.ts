/**
 * The fleet of otel-collector/thanos/fleet.mjs, run for real by the tests: every process of the plan on free
 * loopback ports in one temporary folder, each one killable (SIGKILL, as a crash) and restartable on its ports, and
 * all of them stopped by stop(). The plan itself (flags, files, who listens where) is fleet.mjs's; this file only
 * supervises.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/go-binaries';
import { freePort } from '../support/prometheus-server';
import { PORT_RANGE } from '../support/ports';
import { supervise, type Supervised } from '../support/processes';

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

/**
 * Ports the plan's processes listen on (fleet.mjs's defaults say which exist). The processes bind them one after
 * another, up to a minute after they are chosen, so two dangers are designed out rather than retried:
 * - the same port twice: every chosen port stays bound here until all are chosen (binding port 0 and closing at once
 *   gives a repeat among ~40 ports in ~2% of fleets);
 * - an outgoing connection of another test taking a chosen port as its source port in the meantime: the ports come
 *   from below the kernel's ephemeral range (ip_local_port_range), which connections never take their source from.
 */
async function freePorts(template: Record<string, Record<string, number>>) {
  const { low, high } = PORT_RANGE;
  const held: Server[] = [];
  const hold = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => {
        held.push(server);
        resolve(true);
      });
    });
  const ports: Record<string, Record<string, number>> = {};
  try {
    for (const [name, named] of Object.entries(template)) {
      ports[name] = {};
      for (const key of Object.keys(named)) {
        for (let attempt = 0; ; attempt++) {
          if (attempt === 1_000) throw new Error(`no free loopback port in ${low}-${high} after 1000 tries`);
          const port = low + Math.floor(Math.random() * (high - low + 1));
          if (await hold(port)) {
            ports[name][key] = port;
            break;
          }
        }
      }
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
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
