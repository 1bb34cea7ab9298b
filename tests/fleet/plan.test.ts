/**
 * The fleet's plan as data (otel-collector/thanos/fleet.mjs, and `npm run stack -- --fleet` on top of it), without
 * starting anything: every listener of every process is on 127.0.0.1 (Receive's Cap'n Proto server included, which
 * Thanos opens on 0.0.0.0:19391 unless told), the hashring is ketama with replication factor 3, Receive has an
 * out-of-order window, Query dedups along both replica labels, Rule evaluates the rule files prometheus.yml loads
 * but those using `anchored` (which Thanos Query 0.42 refuses), the bucket is a FILESYSTEM one, the gateways and agent run the shipped Collector configs, and the stack's
 * shop instances push into the plan's gateways and agent. thanos.e2e.test.ts runs the same plan for real.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND, readYaml } from '../backend/backend-files';
import { REPO } from '../support/go-binaries';
import { fleetPlan, type FleetPlan } from './fleet';

const plan = fleetPlan({ work: '/tmp/obm-plan-test' });
const stack = JSON.parse(
  execFileSync(process.execPath, [join(REPO, 'scripts', 'stack.mjs'), '--fleet', '--print-config'], {
    encoding: 'utf8',
  }),
) as FleetPlan & { shops: Array<{ name: string; env: Record<string, string> }> };

const flag = (name: string, prefix: string) =>
  plan.processes
    .find((candidate) => candidate.name === name)!
    .args.filter((arg) => arg.startsWith(`--${prefix}=`))
    .map((arg) => arg.slice(prefix.length + 3));

describe('the fleet plan (otel-collector/thanos/fleet.mjs)', () => {
  it('puts every address of every process on 127.0.0.1, Cap’n Proto included', () => {
    const addresses: string[] = [];
    for (const planned of plan.processes) {
      const text = [...planned.args, ...Object.values(planned.env ?? {})].join(' ');
      addresses.push(
        ...[...text.matchAll(/(?:^|[\s="/])([\w.-]+):(\d{2,5})\b/g)].map((m) => `${m[1]}:${m[2]}`),
      );
    }
    expect(addresses.length).toBeGreaterThan(40);
    expect(addresses.filter((address) => !address.startsWith('127.0.0.1:'))).toEqual([]);
    for (const name of ['receive-0', 'receive-1', 'receive-2']) {
      expect(flag(name, 'receive.capnproto-address')).toEqual([`127.0.0.1:${plan.ports[name].capnproto}`]);
    }
  });

  it('runs Receive as a ketama hashring with replication factor 3 and an out-of-order window', () => {
    const hashrings = Object.keys(plan.files).find((path) => path.endsWith('hashrings.json'))!;
    expect(flag('receive-0', 'receive.hashrings-file')).toEqual([hashrings]);
    const [hashring] = JSON.parse(plan.files[hashrings]) as [
      { algorithm: string; endpoints: Array<{ address: string; capnproto_address: string }> },
    ];
    expect(hashring.algorithm).toBe('ketama');
    expect(hashring.endpoints).toHaveLength(3);
    for (const name of ['receive-0', 'receive-1', 'receive-2']) {
      expect(flag(name, 'receive.replication-factor')).toEqual(['3']);
      expect(flag(name, 'receive.hashrings-algorithm')).toEqual(['ketama']);
      expect(flag(name, 'tsdb.out-of-order.time-window')).toEqual(['10m']);
      expect(hashring.endpoints).toContainEqual({
        address: flag(name, 'receive.local-endpoint')[0],
        capnproto_address: flag(name, 'receive.capnproto-address')[0],
      });
    }
  });

  it('dedups in Query along the replica labels Receive and Rule set; Rule loads prometheus.yml’s rule files but the anchored ones', () => {
    expect(flag('query', 'query.replica-label').sort()).toEqual(['receive_replica', 'rule_replica']);
    expect(flag('receive-1', 'label')).toEqual(['receive_replica="1"']);
    expect(flag('rule', 'label')).toEqual(['rule_replica="0"']);
    const loaded = readYaml<{ rule_files: string[] }>(
      join(BACKEND, 'prometheus', 'prometheus.yml'),
    ).rule_files;
    const files = loaded.map((file) => join(BACKEND, 'prometheus', file));
    // Thanos Query 0.42 refuses `anchored` (thanos.e2e.test.ts shows it), so Rule could not evaluate those.
    const anchored = files.filter((file) =>
      /\banchored\b/.test(readFileSync(file, 'utf8').replace(/#.*$/gm, '')),
    );
    expect(anchored.map((file) => file.split('/').pop())).toEqual(['business-money.yml']);
    expect(flag('rule', 'rule-file')).toEqual(files.filter((file) => !anchored.includes(file)));
  });

  it('keeps blocks in a FILESYSTEM bucket that Receive, Rule, Store and the Compactor share', () => {
    const bucketFile = Object.keys(plan.files).find((path) => path.endsWith('bucket.yml'))!;
    expect(plan.files[bucketFile]).toBe(`type: FILESYSTEM\nconfig:\n  directory: ${plan.bucket}\n`);
    for (const name of ['receive-0', 'rule', 'store', 'compact']) {
      expect(flag(name, 'objstore.config-file')).toEqual([bucketFile]);
    }
    expect(flag('compact', 'deduplication.replica-label').sort()).toEqual([
      'receive_replica',
      'rule_replica',
    ]);
  });

  it('runs the shipped gateway and agent Collector configs', () => {
    const config = (name: string) => plan.processes.find((candidate) => candidate.name === name)!.args;
    for (const name of ['gateway-0', 'gateway-1', 'gateway-2']) {
      expect(config(name)).toEqual(['--config', join(BACKEND, 'collector-gateway.yaml')]);
    }
    expect(config('agent')).toEqual(['--config', join(BACKEND, 'collector-agent.yaml')]);
  });
});

describe('npm run stack -- --fleet', () => {
  it('runs the plan with Alertmanager and the Compactor waiting for work', () => {
    expect(stack.processes.map((planned) => planned.name)).toEqual(
      plan.processes.map((planned) => planned.name),
    );
    expect(stack.processes.find((planned) => planned.name === 'compact')!.args).toContain('--wait');
    expect(
      stack.processes
        .find((planned) => planned.name === 'rule')!
        .args.some((arg) => arg.startsWith('--alertmanagers.config=')),
    ).toBe(true);
  });

  it('pushes the shop instances, with stable ids, to one gateway each and the last as delta through the agent', () => {
    const shops = stack.shops;
    expect(shops.length).toBeGreaterThanOrEqual(3);
    expect(new Set(shops.map((shop) => shop.env.OTEL_RESOURCE_ATTRIBUTES)).size).toBe(shops.length);
    for (const shop of shops.slice(0, -1)) {
      expect(stack.urls.gateways).toContain(shop.env.OTEL_EXPORTER_OTLP_ENDPOINT);
      expect(shop.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).toBe('cumulative');
      expect(shop.env.HOST).toBe('127.0.0.1');
    }
    const delta = shops.at(-1)!;
    expect(delta.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(stack.urls.agent);
    expect(delta.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).toBe('delta');
  });
});
