/**
 * The scenario apps: the same small shop (tests/integrations/apps/config.mjs) on every framework the package has an
 * adapter for, each a real framework app on the built package (dist/, through its public entry points) in a child
 * process on a free loopback port. Next.js is `examples/next-app` plus two scenario-only routes, built with
 * `next build` once (cached by the hash of its sources and Next's version, so later runs only `next start`) and
 * started with `next start`. Other apps of tests/integrations/apps/ (a direct adapter test's own app) start the
 * same way (`startAppProcess`).
 *
 * Owns: starting and stopping those processes (every one is stopped by the test that started it, its whole
 * process group for Next.js, whose `next start` forks the server), the Next.js build cache, the per-framework facts
 * the shared tests need (the route label of the product and checkout routes). Must not touch: assertions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { freePort } from './prometheus-server';

const ROOT = join(__dirname, '..', '..');
const APPS = join(ROOT, 'tests', 'integrations', 'apps');
const NEXT_EXAMPLE = join(ROOT, 'examples', 'next-app');
const NEXT_EXTRAS = join(APPS, 'next');
const NEXT_BIN = join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
/** Inside the repository (Turbopack compiles nothing outside its root, the folder of package-lock.json). */
const CACHE = join(ROOT, 'test-artifacts');

export const TOKEN = 'scenario-token';

/** Every adapter the shared scenario table and hostile suite run against. */
export const ADAPTERS = ['express', 'fastify', 'nest-express', 'nest-fastify', 'hono', 'next'] as const;
export type Adapter = (typeof ADAPTERS)[number];

/** A test app in a child process, listening on a free loopback port. */
export interface AppProcess {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Everything the process printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface ScenarioApp extends AppProcess {
  readonly adapter: Adapter;
  /** The product route's path for an id, and the `http.route` it is recorded under. */
  productPath(id: string): string;
  readonly productRoute: string;
  /** The `http.route` of POST /api/checkout/complete. */
  readonly checkoutRoute: string;
}

interface Launch {
  readonly command: string[];
  readonly cwd: string;
  /** The URL, from the process's output. */
  readonly ready: (output: string) => string | undefined;
  /** Next.js forks its server: stop the whole process group. */
  readonly group: boolean;
}

const READY = (output: string) => /READY (http:\/\/\S+)/.exec(output)?.[1];

/** Start an adapter's scenario app and wait until it listens. */
export async function startScenarioApp(adapter: Adapter): Promise<ScenarioApp> {
  const app = await startProcess(await launchOf(adapter), adapter);
  const next = adapter === 'next';
  return {
    ...app,
    adapter,
    productPath: (id) => (next ? `/api/products/${id}` : `/product/${id}`),
    productRoute: next ? '/api/products/[id]' : '/product/:id',
    checkoutRoute: next ? '/api/checkout/[step]' : '/api/checkout/complete',
  };
}

/**
 * Start another app of tests/integrations/apps/ (`file`, with `args`) the way the scenario apps start: on the
 * built package, printing `READY <url>` when it listens.
 */
export function startAppProcess(file: string, ...args: string[]): Promise<AppProcess> {
  return startProcess(nodeLaunch(file, ...args), file);
}

async function startProcess(launch: Launch, name: string): Promise<AppProcess> {
  if (!existsSync(join(ROOT, 'dist', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  let output = '';
  const child = spawn(launch.command[0]!, launch.command.slice(1), {
    cwd: launch.cwd,
    env: { ...process.env, METRICS_TOKEN: TOKEN, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: launch.group,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = launch.ready(output);
      if (url) resolve(url.replace('localhost', '127.0.0.1'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`${name} app exited before listening:\n${output}`)));
  });
  return { base, output: () => output, stop: () => stopProcess(child, exited, launch.group) };
}

async function stopProcess(child: ChildProcess, exited: Promise<void>, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (group) process.kill(-child.pid!, name);
      else child.kill(name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // The group's other members (next start's forked server) get the SIGKILL too if they outlive the leader.
  if (group) signal('SIGKILL');
}

function nodeLaunch(file: string, ...args: string[]): Launch {
  return { command: [process.execPath, join(APPS, file), ...args], cwd: ROOT, ready: READY, group: false };
}

async function launchOf(adapter: Adapter): Promise<Launch> {
  const node = nodeLaunch;
  switch (adapter) {
    case 'express':
      return node('express.mjs');
    case 'fastify':
      return node('fastify.mjs');
    case 'nest-express':
      return node('nest.mjs', 'express');
    case 'nest-fastify':
      return node('nest.mjs', 'fastify');
    case 'hono':
      return node('hono.mjs');
    case 'next': {
      const dir = prepareNextApp();
      const port = await freePort();
      return {
        command: [process.execPath, NEXT_BIN, 'start', '-H', '127.0.0.1', '-p', String(port)],
        cwd: dir,
        ready: (output) => (/Ready in/.test(output) ? `http://127.0.0.1:${port}` : undefined),
        group: true,
      };
    }
  }
}

/** Files under `dir` (relative paths, sorted), build output and dependencies aside. */
function sourceFiles(dir: string): string[] {
  const skip = new Set(['node_modules', '.next', 'next-env.d.ts']);
  const walk = (at: string): string[] =>
    readdirSync(at).flatMap((name) => {
      if (skip.has(name) || name.endsWith('.tsbuildinfo')) return [];
      const path = join(at, name);
      return statSync(path).isDirectory() ? walk(path) : [relative(dir, path)];
    });
  return walk(dir).sort();
}

function hashOf(parts: Array<[string, string | Buffer]>): string {
  const hash = createHash('sha256');
  for (const [name, content] of parts) hash.update(name).update('\0').update(content).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The Next.js scenario app, built: a copy of examples/next-app with the scenario-only routes, beside a copy of the
 * package as a user's node_modules holds it (package.json and dist/). The build is cached by what it depends on
 * (the app's sources, Next.js and React versions, Node's major, the browser entries): the package itself is
 * not bundled on the server (serverExternalPackages), so a new dist/ needs only a new copy, not a new build; only its
 * browser client and React hook, which the client components bundle, are part of the key. Two test files may
 * ask at once: a lock directory makes the second wait for the first's build.
 */
export function prepareNextApp(): string {
  const version = (name: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const sources: Array<[string, string, string]> = [
    ...sourceFiles(NEXT_EXAMPLE).map((file): [string, string, string] => [file, NEXT_EXAMPLE, file]),
    ...sourceFiles(NEXT_EXTRAS).map((file): [string, string, string] => [file, NEXT_EXTRAS, file]),
  ];
  const key = hashOf([
    ...sources.map(([name, from, file]): [string, Buffer] => [name, readFileSync(join(from, file))]),
    // The browser client and the React hook are bundled into the app's client code; the rest of the package is not.
    ...['browser', 'react'].flatMap((entry) =>
      sourceFiles(join(ROOT, 'dist', entry)).map((file): [string, Buffer] => [
        `dist/${entry}/${file}`,
        readFileSync(join(ROOT, 'dist', entry, file)),
      ]),
    ),
    ['versions', `${version('next')} ${version('react')} ${process.versions.node.split('.')[0]}`],
  ]);
  const dir = join(CACHE, `next-app-${key}`);
  const lock = `${dir}.lock`;
  mkdirSync(CACHE, { recursive: true });
  withLock(lock, () => {
    if (!existsSync(join(dir, '.built'))) {
      // Older builds are stale: keep one.
      for (const name of readdirSync(CACHE)) {
        if (/^next-app-[0-9a-f]{16}$/.test(name) && name !== `next-app-${key}`)
          rmSync(join(CACHE, name), { recursive: true, force: true });
      }
      rmSync(dir, { recursive: true, force: true });
      for (const [name, from, file] of sources) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        cpSync(join(from, file), join(dir, name));
      }
      // The app's own package.json stops Node's and Turbopack's resolution from taking the repository's package
      // (by its name) instead of node_modules/otel-business-metrics.
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'next-scenario-app', private: true }));
      installPackageCopy(dir);
      const build = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
        cwd: dir,
        encoding: 'utf8',
        // Route modules are loaded at build time too: their configuration (the token) must be valid then.
        env: {
          ...process.env,
          NEXT_TELEMETRY_DISABLED: '1',
          METRICS_TOKEN: 'build-time-token',
          NODE_ENV: 'production',
        },
        timeout: 15 * 60_000,
      });
      if (build.status !== 0) {
        throw new Error(
          `next build failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`,
        );
      }
      writeFileSync(join(dir, '.built'), new Date().toISOString());
    } else {
      installPackageCopy(dir);
    }
  });
  return dir;
}

/** node_modules/otel-business-metrics in the app: the current dist/, copied only when it changed. */
function installPackageCopy(dir: string): void {
  const target = join(dir, 'node_modules', 'otel-business-metrics');
  const dist = join(ROOT, 'dist');
  const stamp = hashOf(
    sourceFiles(dist).map((file): [string, string] => [file, String(statSync(join(dist, file)).mtimeMs)]),
  );
  if (existsSync(join(target, '.stamp')) && readFileSync(join(target, '.stamp'), 'utf8') === stamp) return;
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(target, 'package.json'));
  cpSync(dist, join(target, 'dist'), { recursive: true });
  writeFileSync(join(target, '.stamp'), stamp);
}

/** Run `work` holding a lock directory; another live process holding it is waited for (it may be building). */
function withLock(lock: string, work: () => void): void {
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      // A lock whose process is gone (a test run that was killed) is taken over.
      const holder = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
      if (Number.isInteger(holder) && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
