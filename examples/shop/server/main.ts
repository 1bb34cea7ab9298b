/**
 * `npm start`: initialise the package, build the browser assets, start the shop (and the simulator), print where
 * to look, and shut everything down cleanly on Ctrl-C.
 *
 * Owns: environment variables (PORT, HOST, ALLOWED_HOSTS, OTEL_METRICS_EXPORTER=otlp to also push, SIMULATE,
 * SIM_SESSIONS_PER_SECOND, SIM_THINK_SCALE, SESSION_IDLE_SECONDS, METRICS_TOKEN, TROUBLE_*), the refusal to listen
 * beyond loopback without a token, and console output (this is a CLI, so it prints). Must not touch: routes
 * (app.ts).
 */
import { initBusinessMetrics } from '../../../src';
import { startShop, type RunningShop } from './app';
import { buildShopAssets } from './assets';
import { isLoopbackHost } from './guard';
import { troubleFromEnv } from './trouble';

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

export async function main(options: MainOptions): Promise<RunningShop> {
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

  // OTEL_METRICS_EXPORTER=otlp (`npm run stack`): push over OTLP as well (endpoint and protocol from the OTEL_*
  // variables); /metrics and the dashboard keep working from the same handle.
  const push = (env.OTEL_METRICS_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .includes('otlp');
  const telemetry = initBusinessMetrics({
    exporters: push ? ['prometheus', 'otlp'] : ['prometheus'],
    // The shop serves /metrics on its own port instead of the exporter's standalone server.
    prometheus: { preventServerStart: true },
    serviceName: env.OTEL_SERVICE_NAME || 'demo-shop',
    // REDIS_URL: count distinct shoppers fleet-wide (every shop instance reports the same number). Instances
    // sharing Redis need one hash key; the demo falls back to a fixed one, a real app keeps its key secret.
    activeUsers: env.REDIS_URL
      ? {
          hashKey: env.OTEL_BUSINESS_METRICS_USER_HASH_KEY || 'demo-shop-active-users-key',
          redis: { url: env.REDIS_URL, flushIntervalMillis: 5000 },
        }
      : undefined,
  });
  await telemetry.ready;
  const assets = await buildShopAssets(options.shopDir);
  const shop = await startShop({
    telemetry,
    assets,
    host,
    port,
    simulate: simulate
      ? {
          sessionsPerSecond: numberFrom(env, 'SIM_SESSIONS_PER_SECOND', 3),
          thinkScale: numberFrom(env, 'SIM_THINK_SCALE', 1),
        }
      : false,
    trouble: troubleFromEnv(env),
    sessions: { idleMs: numberFrom(env, 'SESSION_IDLE_SECONDS', 120) * 1000 },
    operatorToken: token || undefined,
    allowedHosts: extraHosts,
  });

  console.log(`
  Demo shop of otel-business-metrics is running.

    Shop        ${shop.url}/
    Dashboard   ${shop.url}/dashboard
    Metrics     ${shop.url}/metrics${token ? '  (Authorization: Bearer $METRICS_TOKEN)' : ''}
    Trouble     ${shop.url}/admin${token ? '\n    (dashboard and admin ask for a password: METRICS_TOKEN, any user name)' : ''}

  Traffic simulator: ${simulate ? 'on (SIMULATE=0 to switch off)' : 'off'}. Ctrl-C stops.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the shop…`);
    await shop.stop();
    await telemetry.shutdown({ timeoutMillis: 3000 });
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return shop;
}
