/**
 * `npm run stack` and docker-compose.yml use the same configuration: the stack runs the very files compose mounts
 * (collector.yaml, prometheus/prometheus.yml + rules, alertmanager/alertmanager.yml) on the ports compose publishes,
 * and its Prometheus config differs from the shipped one only by the rewrites scripts/stack.mjs states (service
 * names -> 127.0.0.1, absolute rule paths, no pull job because the shop pushes). Debian's promtool checks the
 * rewritten config.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { BACKEND, readYaml } from '../backend/backend-files';
import { REPO, requireGoBinary } from '../support/go-binaries';
import { OTLP_DEFAULTS, PROMETHEUS_DEFAULTS } from '../../src/config/defaults';

interface ScrapeJob {
  job_name: string;
  honor_labels?: boolean;
  metrics_path?: string;
  static_configs: Array<{ targets: string[] }>;
}
interface PromConfig {
  global: Record<string, string>;
  rule_files: string[];
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: ScrapeJob[];
}
interface Compose {
  services: Record<string, { command?: string[] | string; volumes?: string[]; ports?: string[] }>;
}
interface StackPlan {
  ports: Record<string, Record<string, number>>;
  collector: { config: string; env: Record<string, string> };
  prometheus: { source: string; config: PromConfig; flags: string[] };
  alertmanager: { config: string };
  shop: { env: Record<string, string> };
  shopPort: number;
  listens: Record<string, number>;
}

const plan = JSON.parse(
  execFileSync(process.execPath, [join(REPO, 'scripts', 'stack.mjs'), '--print-config'], {
    encoding: 'utf8',
  }),
) as StackPlan;
const compose = readYaml<Compose>(join(BACKEND, 'docker-compose.yml'));
const shipped = readYaml<PromConfig>(join(BACKEND, 'prometheus', 'prometheus.yml'));
// The shipped config is Prometheus 3.16's (business-money.yml needs `anchored`): checked by its own promtool.
const promtool = requireGoBinary('promtool');

/** The host file behind a container path, through the service's volume mounts. */
function hostFile(service: string, containerPath: string): string {
  for (const volume of compose.services[service].volumes ?? []) {
    const [host, container] = volume.split(':');
    if (containerPath === container || containerPath.startsWith(`${container}/`)) {
      return resolve(BACKEND, host, containerPath.slice(container.length).replace(/^\//, ''));
    }
  }
  throw new Error(`${containerPath} is not mounted into ${service}`);
}

function configFlag(service: string): string {
  const command = compose.services[service].command ?? [];
  const args = Array.isArray(command) ? command : [command];
  const flag = args.find((arg) => /^--config(\.file)?=/.test(arg))!;
  return flag.split('=')[1];
}

describe('npm run stack and docker-compose.yml', () => {
  it('run the same collector.yaml, prometheus.yml and alertmanager.yml', () => {
    expect(plan.collector.config).toBe(hostFile('otel-collector', configFlag('otel-collector')));
    expect(plan.prometheus.source).toBe(hostFile('prometheus', configFlag('prometheus')));
    expect(plan.alertmanager.config).toBe(hostFile('alertmanager', configFlag('alertmanager')));
  });

  it('listen on the ports compose publishes', () => {
    const published = (service: string) =>
      (compose.services[service].ports ?? [])
        .map((mapping) => Number(String(mapping).split(':').at(-2)))
        .sort();
    const collectorPorts = Object.entries(plan.collector.env)
      .filter(([name]) => name.endsWith('_ENDPOINT'))
      .map(([, endpoint]) => Number(endpoint.split(':')[1]))
      .sort();
    expect(collectorPorts).toEqual(published('otel-collector'));
    expect(plan.shop.env.PORT).toBe(String(published('app')[0]));
    expect(new URL(plan.shop.env.OTEL_EXPORTER_OTLP_ENDPOINT).port).toBe(
      plan.collector.env.OBM_COLLECTOR_OTLP_HTTP_ENDPOINT.split(':')[1],
    );
  });

  it('use the shipped prometheus.yml with only the stated rewrites', () => {
    const local = plan.prometheus.config;
    expect(local.global).toEqual(shipped.global);
    expect(local.rule_files).toEqual(shipped.rule_files.map((file) => join(BACKEND, 'prometheus', file)));
    const loopback = (target: string) => {
      const [host, port] = target.split(':');
      return `127.0.0.1:${host === 'localhost' ? port : (plan.ports[host]?.[port] ?? port)}`;
    };
    expect(local.alerting.alertmanagers[0].static_configs[0].targets).toEqual(
      shipped.alerting.alertmanagers[0].static_configs[0].targets.map(loopback),
    );
    const expectedJobs = shipped.scrape_configs
      .filter((job) => job.job_name !== 'business-app')
      .map((job) => ({
        ...job,
        static_configs: job.static_configs.map((group) => ({ targets: group.targets.map(loopback) })),
      }));
    expect(local.scrape_configs).toEqual(expectedJobs);
    expect(shipped.scrape_configs.map((job) => job.job_name)).toContain('business-app');
  });

  it("start Prometheus with compose's flags: created timestamps make the first increment count, exemplars are kept", () => {
    const command = compose.services.prometheus.command as string[];
    expect(plan.prometheus.flags).toEqual(command.filter((flag) => !flag.startsWith('--config.file=')));
    expect(plan.prometheus.flags).toContain('--enable-feature=created-timestamp-zero-ingestion');
    expect(plan.prometheus.flags).toContain('--enable-feature=exemplar-storage');
  });

  (promtool ? it : it.skip)('writes a config promtool accepts, rules included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obm-stack-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, stringify(plan.prometheus.config));
      const output = execFileSync(promtool!, ['check', 'config', file], { encoding: 'utf8' });
      expect(output).toMatch(new RegExp(`SUCCESS: ${shipped.rule_files.length} rule files found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps every port it listens on off the package's own default (so an app with the defaults still starts)", () => {
    const listens = Object.values(plan.listens);
    expect(listens).not.toContain(PROMETHEUS_DEFAULTS.port);
    expect(plan.shopPort).not.toBe(PROMETHEUS_DEFAULTS.port);
    // The Collector is where the package sends by default: that port is the stack's, on purpose.
    expect(listens).toContain(Number(new URL(OTLP_DEFAULTS.httpEndpoint).port));
    expect(new Set(listens).size).toBe(listens.length);
  });

  it('names a busy port and what needed it, and starts nothing', async () => {
    const blocker = createServer();
    // Another stack may hold it already: then it is busy all the same.
    await new Promise<void>((done) => {
      blocker.once('error', () => done());
      blocker.listen({ port: plan.shopPort, host: '127.0.0.1' }, () => done());
    });
    try {
      const run = spawn(process.execPath, [join(REPO, 'scripts', 'stack.mjs')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let said = '';
      run.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
      run.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
      const code = await new Promise<number | null>((done) => run.once('exit', (exitCode) => done(exitCode)));
      expect(code).toBe(1);
      expect(said).toMatch(
        new RegExp(
          `npm run stack: ports? .*${plan.shopPort} \\(demo shop\\).* already in use on 127\\.0\\.0\\.1`,
        ),
      );
      expect(said).not.toContain('[build-binaries]');
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });

  it('prints its usage for --help and starts nothing; refuses an unknown option with exit code 2', () => {
    const stack = join(REPO, 'scripts', 'stack.mjs');
    const help = execFileSync(process.execPath, [stack, '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^Usage: npm run stack/);
    for (const option of ['--fleet', '--rebuild', '--print-config']) expect(help).toContain(option);
    let refused: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, [stack, '--flet'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      refused = error as { status?: number; stderr?: string };
    }
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('unknown option --flet');
  });
});
