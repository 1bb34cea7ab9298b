/**
 * The Go-built binaries of the push-path tests (our Collector distribution, Prometheus 3, its promtool, Thanos), found
 * where otel-collector/build/build-binaries.mjs caches them; and a real Collector process running
 * otel-collector/collector.yaml on free loopback ports.
 *
 * In CI (`CI=true`) a missing binary throws at module load, failing the test file loudly: `.ci/run` builds them.
 * Locally the dependent tests are skipped with a visible message saying how to build them.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './prometheus-server';
import { supervise } from './processes';

export const REPO = join(__dirname, '..', '..');
export const BUILD_SCRIPT = join(REPO, 'otel-collector', 'build', 'build-binaries.mjs');
export const COLLECTOR_CONFIG = join(REPO, 'otel-collector', 'collector.yaml');

export type GoBinary = 'otelcol' | 'prometheus' | 'promtool' | 'thanos';

interface PathTable {
  cacheRoot: string;
  otelcol: { path: string; present: boolean };
  prometheus: { path: string; present: boolean };
  promtool: { path: string; present: boolean };
  thanos: { path: string; present: boolean };
}

let table: PathTable | undefined;

/** Where the build script puts each binary for the current inputs (the script itself is the one source). */
export function goBinaryPaths(): PathTable {
  table ??= JSON.parse(execFileSync(process.execPath, [BUILD_SCRIPT, '--paths'], { encoding: 'utf8' }));
  return table!;
}

/** The binary's path, or undefined (locally) after printing how to build it; throws in CI. */
export function requireGoBinary(name: GoBinary): string | undefined {
  const entry = goBinaryPaths()[name];
  if (entry.present) return entry.path;
  const message =
    `${name} is not built (${entry.path} is missing): run \`node otel-collector/build/build-binaries.mjs\` ` +
    '(Go >= 1.26 and the Go module proxy; a cold build takes minutes, later runs reuse the cache)';
  if (process.env.CI) throw new Error(`${message}. CI builds it in .ci/run: see there.`);
  console.warn(`SKIPPING: ${message}; tests that need it cannot run.`);
  return undefined;
}

export interface Collector {
  /** OTLP/HTTP base URL (append /v1/metrics) and OTLP/gRPC URL. */
  readonly httpUrl: string;
  readonly grpcUrl: string;
  /** host:port of the Prometheus exporter, for a scrape config. */
  readonly metricsTarget: string;
  /** Base URL of the Collector's own metrics (otelcol_*; append /metrics). */
  readonly telemetryUrl: string;
  readonly process: ChildProcess;
  /** Recent stderr (the debug exporter and the Collector's own log). */
  log(): string;
  /** SIGKILL, as a crash would; the ports stay reserved for restart(). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the sockets stay open and nothing answers, as a wedged Collector. */
  pause(): void;
  resume(): void;
  /** Start again on the same ports (after kill()). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `binary --config collector.yaml` with every listen address moved to a free 127.0.0.1 port. */
export async function startCollector(binary: string, configFile = COLLECTOR_CONFIG): Promise<Collector> {
  const [grpc, http, metrics, health, telemetry] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    OBM_COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    OBM_COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    OBM_COLLECTOR_PROMETHEUS_ENDPOINT: `127.0.0.1:${metrics}`,
    OBM_COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    OBM_COLLECTOR_TELEMETRY_HOST: '127.0.0.1',
    OBM_COLLECTOR_TELEMETRY_PORT: String(telemetry),
  };
  const collector = await supervise(
    'the Collector',
    binary,
    ['--config', configFile],
    env,
    `http://127.0.0.1:${health}/`,
  );
  return {
    httpUrl: `http://127.0.0.1:${http}`,
    grpcUrl: `http://127.0.0.1:${grpc}`,
    metricsTarget: `127.0.0.1:${metrics}`,
    telemetryUrl: `http://127.0.0.1:${telemetry}`,
    get process() {
      return collector.process;
    },
    log: collector.log,
    kill: collector.kill,
    pause: () => collector.signal('SIGSTOP'),
    resume: () => collector.signal('SIGCONT'),
    restart: collector.restart,
    stop: collector.stop,
  };
}
