#!/usr/bin/env node
// `npm run stack`: the whole push-path stack on this machine, without Docker. Builds what is missing (our Collector
// and Prometheus 3, through otel-collector/build/build-binaries.mjs; the package through `npm run build`), then
// starts the Collector with otel-collector/collector.yaml, Prometheus 3 with our rules, Alertmanager with
// otel-collector/alertmanager/alertmanager.yml and the demo shop pushing over OTLP; prints the URLs; Ctrl-C stops all.
// `npm run stack -- --fleet` runs the fleet past one Prometheus instead (docs/beyond-one-prometheus.md): the plan of
// otel-collector/thanos/fleet.mjs (3 gateways, the agent, Thanos Receive x3, Query, Rule, Store, Compactor),
// Alertmanager, and the demo shop as several instances, three pushing cumulative to one gateway each and one pushing
// delta through the agent.
//
// Owns: process supervision of the stack and the loopback rewrite of the compose configuration.
// Must not: keep a configuration of its own. Ports come from docker-compose.yml's published ports and every config
// file is the one docker-compose.yml mounts; the only differences are written in localPrometheusConfig() and
// checked by tests/push/stack.test.ts (`node scripts/stack.mjs --print-config`). The fleet's flags and files are
// fleet.mjs's; this script adds the shop instances (`--fleet --print-config` prints both, tests/fleet/plan.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { fleetPlan } from '../otel-collector/thanos/fleet.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BACKEND = join(REPO, 'otel-collector');
const BUILD_SCRIPT = join(BACKEND, 'build', 'build-binaries.mjs');
/** The Collector's own metrics (not published by docker-compose.yml: the container keeps it inside). */
const COLLECTOR_TELEMETRY_PORT = 8888;

function readCompose() {
  return parse(readFileSync(join(BACKEND, 'docker-compose.yml'), 'utf8'));
}

/**
 * Prometheus's command-line flags from docker-compose.yml, except the config file (the stack writes its loopback
 * copy): the feature flags the shipped rules rely on (created timestamps for exact money) and the retention.
 */
export function composePrometheusFlags() {
  const command = readCompose().services.prometheus.command ?? [];
  return (Array.isArray(command) ? command : [command]).filter((flag) => !flag.startsWith('--config.file='));
}

/** Host ports docker-compose.yml publishes, by service and container port. */
function composePorts() {
  const compose = readCompose();
  const ports = {};
  for (const [service, definition] of Object.entries(compose.services)) {
    ports[service] = Object.fromEntries(
      (definition.ports ?? []).map((mapping) => {
        // `[address:]host:container`
        const [host, container] = String(mapping).split(':').slice(-2).map(Number);
        return [container, host];
      }),
    );
  }
  return ports;
}

/**
 * The shipped prometheus.yml with the compose service names replaced by 127.0.0.1 and their published ports, the
 * rule files made absolute, and the pull job left out: the shop pushes over OTLP here, and scraping it as well
 * would count every event twice (as prometheus.yml itself says).
 */
export function localPrometheusConfig(ports) {
  const config = parse(readFileSync(join(BACKEND, 'prometheus', 'prometheus.yml'), 'utf8'));
  const local = (target) => {
    const [host, port] = target.split(':');
    if (host === 'localhost') return `127.0.0.1:${ports.prometheus[9090]}`;
    return `127.0.0.1:${ports[host]?.[Number(port)] ?? port}`;
  };
  config.rule_files = config.rule_files.map((file) => join(BACKEND, 'prometheus', file));
  for (const manager of config.alerting.alertmanagers) {
    for (const group of manager.static_configs) group.targets = group.targets.map(local);
  }
  config.scrape_configs = config.scrape_configs
    .filter((job) => job.job_name !== 'business-app')
    .map((job) => ({
      ...job,
      static_configs: job.static_configs.map((group) => ({ ...group, targets: group.targets.map(local) })),
    }));
  return config;
}

function plan() {
  const ports = composePorts();
  const collector = ports['otel-collector'];
  // The shop's one published port (3001: off 9464, the package's default, so an app of yours can use it).
  const [shopPort] = Object.values(ports.app);
  return {
    ports,
    shopPort,
    /** Every port the stack listens on, by what listens: checked free before anything starts. */
    listens: {
      'Collector OTLP gRPC': collector[4317],
      'Collector OTLP HTTP': collector[4318],
      'Collector Prometheus exporter': collector[8889],
      'Collector health check': collector[13133],
      'Collector telemetry': COLLECTOR_TELEMETRY_PORT,
      Alertmanager: ports.alertmanager[9093],
      Prometheus: ports.prometheus[9090],
      'demo shop': shopPort,
    },
    collector: {
      config: join(BACKEND, 'collector.yaml'),
      env: {
        OBM_COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${collector[4317]}`,
        OBM_COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${collector[4318]}`,
        OBM_COLLECTOR_PROMETHEUS_ENDPOINT: `127.0.0.1:${collector[8889]}`,
        OBM_COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${collector[13133]}`,
        OBM_COLLECTOR_TELEMETRY_HOST: '127.0.0.1',
        OBM_COLLECTOR_TELEMETRY_PORT: String(COLLECTOR_TELEMETRY_PORT),
      },
    },
    prometheus: {
      source: join(BACKEND, 'prometheus', 'prometheus.yml'),
      config: localPrometheusConfig(ports),
      flags: composePrometheusFlags(),
    },
    alertmanager: { config: join(BACKEND, 'alertmanager', 'alertmanager.yml') },
    shop: {
      env: {
        PORT: String(shopPort),
        HOST: '127.0.0.1',
        OTEL_SERVICE_NAME: 'shop',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector[4318]}`,
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
      },
    },
  };
}

/** Demo shop instances of the fleet: HTTP ports from 3001 up (as the single stack's shop), stable ids. */
const FLEET_SHOPS = 4;

/** fleet.mjs's plan with the stack's options, plus the demo shop instances pushing into it. */
function fleetStackPlan(work) {
  const fleet = fleetPlan({ work, alertmanager: true, compactWait: true });
  const shops = Array.from({ length: FLEET_SHOPS }, (_, i) => {
    const delta = i === FLEET_SHOPS - 1;
    return {
      name: `shop-${i}`,
      env: {
        PORT: String(3001 + i),
        HOST: '127.0.0.1',
        OTEL_SERVICE_NAME: 'shop',
        // A stable id per instance: a restart continues its series instead of adding new ones to the store.
        OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=shop-${i}`,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: delta
          ? fleet.urls.agent
          : fleet.urls.gateways[i % fleet.urls.gateways.length],
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: delta ? 'delta' : 'cumulative',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
      },
    };
  });
  // Every port the fleet listens on, by what needs it, for the check before anything starts.
  const listens = {};
  for (const [name, ports] of Object.entries(fleet.ports)) {
    for (const [kind, port] of Object.entries(ports)) listens[`${name} ${kind}`] = port;
  }
  for (const shop of shops) listens[shop.name] = Number(shop.env.PORT);
  return { ...fleet, shops, listens };
}

function findAlertmanager() {
  for (const name of ['alertmanager', 'prometheus-alertmanager']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return undefined;
}

/** Whether 127.0.0.1:port can be listened on right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Throws, naming every busy port and what needed it, before anything is started. */
async function checkPortsFree(listens) {
  const busy = [];
  for (const [what, port] of Object.entries(listens)) if (!(await portFree(port))) busy.push([what, port]);
  if (busy.length === 0) return;
  const list = busy.map(([what, port]) => `${port} (${what})`).join(', ');
  const first = busy[0][1];
  throw new Error(
    `port${busy.length > 1 ? 's' : ''} ${list} already in use on 127.0.0.1: stop what listens there ` +
      `(\`ss -ltnp 'sport = :${first}'\` names it; another \`npm run stack\` or \`docker compose up\` is likely), ` +
      "then run npm run stack again. The ports are docker-compose.yml's published ones (with --fleet: " +
      'otel-collector/thanos/fleet.mjs).',
  );
}

async function waitFor(url, what, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}); see its output above`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer ${url} within 60 s`);
}

const USAGE = `Usage: npm run stack [-- --fleet] [-- --rebuild] [-- --print-config]

  (no option)      the Collector, Prometheus 3, Alertmanager and the demo shop pushing over OTLP, on loopback
  --fleet          the fleet past one Prometheus instead (gateways, agent, Thanos; docs/beyond-one-prometheus.md)
  --rebuild        run npm run build first even when dist/ exists
  --print-config   print the processes, ports and configuration it would start, and start nothing
  --help, -h       this text

Ctrl-C (or SIGTERM) stops every process it started.`;
const OPTIONS = new Set(['--fleet', '--rebuild', '--print-config']);

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = args.filter((arg) => !OPTIONS.has(arg));
  if (unknown.length > 0) {
    process.stderr.write(`npm run stack: unknown option ${unknown.join(' ')}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const fleetMode = process.argv.includes('--fleet');
  const work = mkdtempSync(join(tmpdir(), 'obm-stack-'));
  const stack = fleetMode ? fleetStackPlan(work) : plan();
  if (process.argv.includes('--print-config')) {
    rmSync(work, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(stack, null, 2)}\n`);
    return;
  }
  const alertmanager = findAlertmanager();
  if (!alertmanager) throw new Error('Alertmanager is missing: apt-get install prometheus-alertmanager');
  await checkPortsFree(stack.listens);
  const built = spawnSync(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error('building the Collector / Prometheus / Thanos failed (see above)');
  const binaries = JSON.parse(built.stdout.toString());
  if (!existsSync(join(REPO, 'dist', 'index.js')) || process.argv.includes('--rebuild')) {
    const npm = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
    if (npm.status !== 0) throw new Error('npm run build failed');
  }

  const children = [];
  const start = (name, command, args, env = {}) => {
    const child = spawn(command, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = (stream, out) =>
      stream.setEncoding('utf8').on('data', (text) => {
        for (const line of text.split('\n')) if (line.trim()) out.write(`[${name}] ${line}\n`);
      });
    prefix(child.stdout, process.stdout);
    prefix(child.stderr, process.stderr);
    children.push(child);
    return child;
  };
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    // The shops first, so their final OTLP exports still reach the Collectors.
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        child.once('exit', () => (clearTimeout(timer), r()));
      });
    }
    rmSync(work, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    if (fleetMode) await runFleet(stack, work, binaries, alertmanager, start);
    else await runSingle(stack, work, binaries, alertmanager, start);
    for (const child of children) {
      child.once('exit', (code) => {
        if (!stopping) {
          console.error(`a stack process exited (${code}); stopping the rest`);
          void stopAll(1);
        }
      });
    }
  } catch (error) {
    console.error(`npm run stack: ${error.message}`);
    await stopAll(1);
  }
}

/** One Collector, one Prometheus 3, Alertmanager and the shop: the compose stack on loopback. */
async function runSingle(stack, work, binaries, alertmanager, start) {
  const promConfig = join(work, 'prometheus.yml');
  writeFileSync(promConfig, stringify(stack.prometheus.config));
  const { ports } = stack;
  const collector = start(
    'collector',
    binaries.otelcol.path,
    ['--config', stack.collector.config],
    stack.collector.env,
  );
  await waitFor(`http://127.0.0.1:${ports['otel-collector'][13133]}/`, 'the Collector', collector);
  const am = start('alertmanager', alertmanager, [
    `--config.file=${stack.alertmanager.config}`,
    `--web.listen-address=127.0.0.1:${ports.alertmanager[9093]}`,
    `--storage.path=${join(work, 'alertmanager')}`,
    '--cluster.listen-address=',
  ]);
  await waitFor(`http://127.0.0.1:${ports.alertmanager[9093]}/-/ready`, 'Alertmanager', am);
  const prometheus = start('prometheus', binaries.prometheus.path, [
    `--config.file=${promConfig}`,
    ...stack.prometheus.flags,
    `--storage.tsdb.path=${join(work, 'prometheus')}`,
    `--web.listen-address=127.0.0.1:${ports.prometheus[9090]}`,
  ]);
  await waitFor(`http://127.0.0.1:${ports.prometheus[9090]}/-/ready`, 'Prometheus', prometheus);
  const shop = start('shop', process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], stack.shop.env);
  await waitFor(`http://127.0.0.1:${stack.shopPort}/`, 'the demo shop', shop);
  const prom = `http://127.0.0.1:${ports.prometheus[9090]}`;
  console.log(`
  otel-business-metrics stack is running (no Docker; the same config files as otel-collector/docker-compose.yml).

    Demo shop           http://127.0.0.1:${stack.shopPort}/   (dashboard: /dashboard), pushing OTLP http/protobuf
    Collector OTLP      http://127.0.0.1:${ports['otel-collector'][4318]} (HTTP), 127.0.0.1:${ports['otel-collector'][4317]} (gRPC)
    Collector metrics   http://127.0.0.1:${ports['otel-collector'][8889]}/metrics   (what Prometheus scrapes)
    Prometheus 3 API    ${prom}/api/v1/query?query=business:conversion_rate:ratio_rate1h
                        ${prom}/api/v1/rules   ${prom}/api/v1/alerts
                        (a Prometheus built from its Go module has no web UI: its assets are built by npm upstream)
    Alertmanager        http://127.0.0.1:${ports.alertmanager[9093]}/

  Ctrl-C stops everything.
`);
}

/** The fleet past one Prometheus (fleet.mjs's plan), Alertmanager and several shop instances, on loopback. */
async function runFleet(stack, work, binaries, alertmanager, start) {
  mkdirSync(stack.bucket, { recursive: true });
  for (const [path, content] of Object.entries(stack.files)) writeFileSync(path, content);
  const am = start('alertmanager', alertmanager, [
    `--config.file=${join(BACKEND, 'alertmanager', 'alertmanager.yml')}`,
    `--web.listen-address=127.0.0.1:${stack.ports.alertmanager.http}`,
    `--storage.path=${join(work, 'alertmanager')}`,
    '--cluster.listen-address=',
  ]);
  await waitFor(`http://127.0.0.1:${stack.ports.alertmanager.http}/-/ready`, 'Alertmanager', am);
  for (const planned of stack.processes) {
    const child = start(planned.name, binaries[planned.binary].path, planned.args, planned.env);
    if (planned.ready) await waitFor(planned.ready, planned.name, child);
  }
  for (const shop of stack.shops) {
    const child = start(shop.name, process.execPath, [join(REPO, 'examples', 'shop', 'start.mjs')], shop.env);
    await waitFor(`http://127.0.0.1:${shop.env.PORT}/`, shop.name, child);
  }
  const query = stack.urls.query;
  console.log(`
  otel-business-metrics fleet is running (no Docker; docs/beyond-one-prometheus.md).

    Demo shops          ${stack.shops.map((shop) => `http://127.0.0.1:${shop.env.PORT}/`).join('  ')}
                        (the last pushes delta through the agent; the others cumulative, one gateway each)
    Gateways (OTLP)     ${stack.urls.gateways.join('  ')}
    Agent (OTLP)        ${stack.urls.agent}
    Thanos Query API    ${query}/api/v1/query?query=business:conversion_rate:ratio_rate1h
                        (the Grafana datasource; dedup on receive_replica and rule_replica)
    Thanos Rule         ${stack.urls.rule}/api/v1/rules   ${stack.urls.rule}/api/v1/alerts
    Alertmanager        http://127.0.0.1:${stack.ports.alertmanager.http}/
    Bucket (FILESYSTEM) ${stack.bucket}   (removed at exit)

  Ctrl-C stops everything.
`);
}

main().catch((error) => {
  console.error(`npm run stack: ${error.message}`);
  process.exit(1);
});
