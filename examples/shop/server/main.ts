/**
 * `npm start`: initialise the package, build the browser assets, start the shop (and the simulator), print where
 * to look, and shut everything down cleanly on Ctrl-C.
 *
 * Owns: environment variables (PORT, HOST, ALLOWED_HOSTS, OTEL_METRICS_EXPORTER=otlp to also push, SIMULATE,
 * SIM_SESSIONS_PER_SECOND, SIM_THINK_SCALE, SESSION_IDLE_SECONDS, METRICS_TOKEN, TROUBLE_*, WORKERS, LEDGER_FILE), the refusal to listen
 * beyond loopback without a token, and console output (this is a CLI, so it prints). Must not touch: routes
 * (app.ts).
 *
 * WORKERS=N (N > 1) runs the shop as a node:cluster app: N workers share the port, the primary only forks them
 * and merges their metrics (cluster mode), every worker answers `/metrics` and `/dashboard` with the fleet's
 * numbers, and the simulator's rate is split between the workers.
 */
import cluster from 'node:cluster';
import { join, resolve } from 'node:path';
import { initBusinessMetrics, type InitOptions } from '../../../src';
import { openShopLedger, type ShopLedger } from './ledger';
import { startShopTracing } from './tracing';
import { startShop, type RunningShop } from './app';
import { buildShopAssets } from './assets';
import { isLoopbackHost } from './guard';
import { troubleFromEnv, type TroubleSettings } from './trouble';

export interface MainOptions {
  /** Absolute path of `examples/shop`. */
  readonly shopDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function numberFrom(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** Cluster mode, the same in the primary and in every worker. Distinct shoppers need no rule: workers ship their
 * sketches to the primary, which reports the union (a shopper seen by several workers counts once). */
function clusterOptions(workers: number): InitOptions['cluster'] {
  return workers > 1 ? {} : undefined;
}

/**
 * REDIS_URL: count distinct shoppers fleet-wide (every shop instance reports the same number), in the primary as
 * in a single process: the primary holds the union of its workers and reports the fleet's count. Instances
 * sharing Redis need one hash key; the demo falls back to a fixed one, a real app keeps its key secret.
 */
function activeUsersOptions(env: Readonly<Record<string, string | undefined>>): InitOptions['activeUsers'] {
  if (!env.REDIS_URL) return undefined;
  return {
    hashKey: env.OTEL_BUSINESS_METRICS_USER_HASH_KEY || 'demo-shop-active-users-key',
    redis: { url: env.REDIS_URL, flushIntervalMillis: 5000 },
  };
}

/**
 * LEDGER_FILE: where the shop appends its order ledger (JSON lines; `off` for none). Default: beside the shop's
 * bundle in node_modules/.cache, which git ignores. Every worker of a cluster appends to the same file.
 */
function ledgerFile(env: Readonly<Record<string, string | undefined>>, shopDir: string): string | undefined {
  const configured = env.LEDGER_FILE;
  if (configured === 'off') return undefined;
  if (configured) return resolve(configured);
  return join(shopDir, '..', '..', 'node_modules', '.cache', 'otel-business-metrics-shop', 'ledger.jsonl');
}

interface ShopMessage {
  readonly shop: 'listening' | 'trouble' | 'stop';
  readonly trouble?: TroubleSettings;
}

export async function main(options: MainOptions): Promise<RunningShop | undefined> {
  const env = options.env ?? process.env;
  const port = numberFrom(env, 'PORT', 3000);
  const host = env.HOST || '127.0.0.1';
  const simulate = !['0', 'false', 'off', 'no'].includes((env.SIMULATE ?? '1').toLowerCase());
  const token = env.METRICS_TOKEN ?? '';
  if (token !== '' && !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error('METRICS_TOKEN must be visible ASCII without spaces');
  }
  if (!isLoopbackHost(host) && token === '') {
    // Other machines could read revenue on /dashboard and /metrics and flip the trouble switches on /admin.
    throw new Error(
      `HOST=${host} is reachable from other machines: set METRICS_TOKEN (it then guards /metrics, /dashboard and ` +
        '/admin), or keep HOST=127.0.0.1',
    );
  }
  const extraHosts = (env.ALLOWED_HOSTS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const workers = Math.floor(numberFrom(env, 'WORKERS', 1));
  const serviceName = env.OTEL_SERVICE_NAME || 'demo-shop';
  // OTEL_METRICS_EXPORTER=otlp (`npm run stack`): push over OTLP as well (endpoint and protocol from the OTEL_*
  // variables); /metrics and the dashboard keep working from the same handle. In a cluster only the primary
  // pushes (the workers' sum); the workers' own exporters are left out by cluster mode.
  const push = (env.OTEL_METRICS_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .includes('otlp');
  if (workers > 1 && cluster.isPrimary) {
    await runPrimary({
      push,
      workers,
      port,
      host,
      simulate,
      serviceName,
      token: token || undefined,
      activeUsers: activeUsersOptions(env),
    });
    return undefined;
  }
  const worker = workers > 1 && cluster.isWorker;

  // Tracing first, as an app starts its tracing SDK before anything else: business methods then run inside
  // request spans and the package keeps exemplars.
  const tracing = startShopTracing();
  const telemetry = initBusinessMetrics({
    exporters: push ? ['prometheus', 'otlp'] : ['prometheus'],
    // The shop serves /metrics on its own port instead of the exporter's standalone server.
    prometheus: { preventServerStart: true },
    serviceName,
    activeUsers: activeUsersOptions(env),
    cluster: clusterOptions(workers),
    // Event-loop delay, GC and heap beside the business charts (and for the correlation example).
    runtimeMetrics: true,
  });
  await telemetry.ready;
  const assets = await buildShopAssets(options.shopDir);
  const ledgerPath = ledgerFile(env, options.shopDir);
  const ledger: ShopLedger | undefined = ledgerPath ? openShopLedger(ledgerPath) : undefined;
  const shop = await startShop({
    telemetry,
    tracing,
    assets,
    host,
    port,
    simulate: simulate
      ? {
          sessionsPerSecond: numberFrom(env, 'SIM_SESSIONS_PER_SECOND', 3) / (worker ? workers : 1),
          thinkScale: numberFrom(env, 'SIM_THINK_SCALE', 1),
        }
      : false,
    trouble: troubleFromEnv(env),
    sessions: { idleMs: numberFrom(env, 'SESSION_IDLE_SECONDS', 120) * 1000 },
    operatorToken: token || undefined,
    allowedHosts: extraHosts,
    ledger,
    clusterWorker: worker
      ? { onTroubleChange: (trouble) => process.send?.({ shop: 'trouble', trouble } satisfies ShopMessage) }
      : undefined,
  });

  if (worker) {
    const stop = async () => {
      await shop.stop();
      // Its final snapshot reaches the primary before it exits: nothing recorded here is lost.
      await telemetry.shutdown({ timeoutMillis: 3000 });
      await ledger?.close();
      process.exit(0);
    };
    process.on('message', (message: ShopMessage) => {
      if (message?.shop === 'trouble' && message.trouble) shop.trouble = message.trouble;
      if (message?.shop === 'stop') void stop();
    });
    // Ctrl-C reaches every process of the group: the primary decides when workers stop.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => void stop());
    process.send?.({ shop: 'listening' } satisfies ShopMessage);
    return shop;
  }

  console.log(`
  Demo shop of otel-business-metrics is running.

    Shop        ${shop.url}/
    Dashboard   ${shop.url}/dashboard
    Metrics     ${shop.url}/metrics${token ? '  (Authorization: Bearer $METRICS_TOKEN)' : ''}
    Trouble     ${shop.url}/admin${token ? '\n    (dashboard and admin ask for a password: METRICS_TOKEN, any user name)' : ''}
    Ledger      ${ledger ? `${ledger.file}  (every sale and refund; check Prometheus against it: docs/money.md)` : 'off'}

  Traffic simulator: ${simulate ? 'on (SIMULATE=0 to switch off)' : 'off'}. Ctrl-C stops.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the shop…`);
    // No new orders, then the last scrape reads the final values through /metrics, still served (the hand-over:
    // docs/prometheus.md#shutdown-the-final-scrape), then the server closes. The ledger and the metrics end on
    // the same sale.
    await shop.drain();
    await telemetry.shutdown();
    await shop.stop();
    await ledger?.close();
    await tracing.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return shop;
}

/** WORKERS > 1: fork the workers, keep them running, merge their metrics, stop them cleanly. */
async function runPrimary(args: {
  push: boolean;
  workers: number;
  port: number;
  host: string;
  simulate: boolean;
  serviceName: string;
  token: string | undefined;
  activeUsers: InitOptions['activeUsers'];
}): Promise<void> {
  // The primary serves nothing itself: workers answer every URL (including /metrics, from this aggregate). With
  // OTLP it pushes the aggregate.
  const telemetry = initBusinessMetrics({
    exporters: args.push ? ['prometheus', 'otlp'] : ['prometheus'],
    prometheus: { preventServerStart: true },
    serviceName: args.serviceName,
    activeUsers: args.activeUsers,
    cluster: clusterOptions(args.workers),
  });
  let stopping = false;
  let listening = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: ShopMessage) => {
      if (message?.shop === 'trouble') {
        for (const other of Object.values(cluster.workers ?? {})) other?.send(message);
      }
      if (message?.shop === 'listening' && ++listening === args.workers) {
        const url = `http://${args.host.includes(':') ? `[${args.host}]` : args.host}:${args.port}`;
        console.log(`
  Demo shop of otel-business-metrics is running with ${args.workers} workers (node:cluster).

    Shop        ${url}/
    Dashboard   ${url}/dashboard
    Metrics     ${url}/metrics${args.token ? '  (Authorization: Bearer $METRICS_TOKEN)' : ''}
    Trouble     ${url}/admin

  Traffic simulator: ${args.simulate ? 'on (SIMULATE=0 to switch off)' : 'off'}. Ctrl-C stops.
`);
      }
    });
  };
  // A worker that dies is replaced; its counts stay in the totals (cluster mode keeps them).
  cluster.on('exit', () => {
    if (!stopping) fork();
  });
  for (let i = 0; i < args.workers; i++) fork();

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the shop…`);
    const live = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    const exited = Promise.all(live.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
    for (const worker of live) worker.send({ shop: 'stop' } satisfies ShopMessage);
    const deadline = setTimeout(() => live.forEach((worker) => worker.process.kill('SIGKILL')), 5000);
    await exited;
    clearTimeout(deadline);
    await telemetry.shutdown({ timeoutMillis: 3000 });
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
