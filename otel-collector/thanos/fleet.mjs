#!/usr/bin/env node
// The fleet behind the push path once one Prometheus is not enough (docs/beyond-one-prometheus.md), as the command
// lines and files each process runs with: 3 gateway Collectors (../collector-gateway.yaml), an agent Collector
// (../collector-agent.yaml), Thanos Receive x3 (ketama hashring, replication factor 3), Query (replica dedup),
// Rule (the shipped recording and alert files, evaluated against Query), Store and Compactor on a FILESYSTEM
// bucket. Every listener is on 127.0.0.1, including the ones Thanos opens unless told (Receive's Cap'n Proto
// replication server on 0.0.0.0:19391).
//
// Owns: the Thanos flags and files of the fleet, and which process listens where.
// Must not: start anything (scripts/stack.mjs --fleet and tests/fleet/ run the plan), or keep a Collector or rule
// configuration of its own (the plan points at the files in otel-collector/).
//
// As a command: `node otel-collector/thanos/fleet.mjs '<options JSON>'` prints the plan as JSON.
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const BACKEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The label each replica of a series carries; Query and the Compactor dedup along these. */
export const REPLICA_LABELS = ['receive_replica', 'rule_replica'];

/**
 * Receive's write limits (--receive.limits-config). Per remote-write request: far above what a gateway sends in one
 * batch (collector-gateway.yaml: at most 8192 points a batch), so only a runaway sender is refused (413, not
 * retried: the gateway counts the points as failed). Head series per tenant: the fleet's budget (see the guide's
 * sizing); needs the meta-monitoring query to know the current count, so it is left to the operator.
 */
export const RECEIVE_LIMITS = {
  write: {
    global: { max_concurrency: 30 },
    default: {
      request: { size_bytes_limit: 4 * 1024 * 1024, series_limit: 20_000, samples_limit: 20_000 },
    },
  },
};

/** Default ports of the fleet stack (tests pass free ones). Receivers, gateways: one block per replica. */
function defaultPorts(receivers, gateways) {
  const ports = {
    query: { http: 10902, grpc: 10901 },
    rule: { http: 10912, grpc: 10911 },
    store: { http: 10922, grpc: 10921 },
    compact: { http: 10932 },
    agent: { grpc: 4327, http: 4328, health: 13143, telemetry: 8898 },
    alertmanager: { http: 9093 },
  };
  for (let i = 0; i < receivers; i++) {
    ports[`receive-${i}`] = {
      http: 10942 + 10 * i,
      grpc: 10941 + 10 * i,
      remoteWrite: 19291 + i,
      capnproto: 19391 + i,
    };
  }
  for (let i = 0; i < gateways; i++) {
    ports[`gateway-${i}`] = { grpc: 4417 + 10 * i, http: 4418 + 10 * i, health: 13233 + 10 * i };
  }
  return ports;
}

const loopback = (port) => `127.0.0.1:${port}`;

/**
 * @param {object} options
 * @param {string} options.work             folder for data, the bucket and the generated files
 * @param {Record<string, Record<string, number>>} [options.ports]  ports by process name (defaults: the stack's)
 * @param {number} [options.receivers]      3
 * @param {number} [options.gateways]       3
 * @param {string[]} [options.ruleFiles]    rule files Thanos Rule evaluates (default: every shipped rule file)
 * @param {string} [options.evalInterval]   Rule's evaluation interval, '15s'
 * @param {string} [options.outOfOrderWindow]  Receive's out-of-order window, '10m'
 * @param {number} [options.gatewayTelemetryMillis]  how often a gateway pushes its own metrics, 15000
 * @param {string} [options.storeSync]      how often Store looks for new blocks in the bucket, '3m'
 * @param {boolean} [options.compactWait]   keep the Compactor running (the stack) instead of one pass (tests)
 * @param {boolean} [options.alertmanager]  send Rule's alerts to the plan's Alertmanager port
 */
export function fleetPlan(options) {
  const receivers = options.receivers ?? 3;
  const gateways = options.gateways ?? 3;
  const ports = { ...defaultPorts(receivers, gateways), ...(options.ports ?? {}) };
  const work = resolve(options.work);
  const file = (name) => join(work, name);
  const receiverNames = Array.from({ length: receivers }, (_, i) => `receive-${i}`);
  const gatewayNames = Array.from({ length: gateways }, (_, i) => `gateway-${i}`);

  const files = {
    [file('bucket.yml')]: `type: FILESYSTEM\nconfig:\n  directory: ${file('bucket')}\n`,
    // One hashring, every receiver in it; with replication factor 3 on 3 receivers each holds every series, and
    // a write succeeds once 2 of the 3 copies are written (quorum), so one receiver may be down.
    [file('hashrings.json')]: `${JSON.stringify(
      [
        {
          hashring: 'default',
          algorithm: 'ketama',
          endpoints: receiverNames.map((name) => ({
            address: loopback(ports[name].grpc),
            capnproto_address: loopback(ports[name].capnproto),
          })),
        },
      ],
      null,
      2,
    )}\n`,
    [file('receive-limits.yml')]: `${JSON.stringify(RECEIVE_LIMITS, null, 2)}\n`,
  };
  const ruleFiles = options.ruleFiles ?? defaultRuleFiles();
  const stores = [...receiverNames, 'rule', 'store'].map((name) => ({ address: loopback(ports[name].grpc) }));
  const common = (name) => [
    '--log.level=warn',
    `--http-address=${loopback(ports[name].http)}`,
    ...(ports[name].grpc ? [`--grpc-address=${loopback(ports[name].grpc)}`] : []),
  ];

  const processes = [];
  receiverNames.forEach((name, i) => {
    processes.push({
      name,
      binary: 'thanos',
      args: [
        'receive',
        ...common(name),
        `--remote-write.address=${loopback(ports[name].remoteWrite)}`,
        `--receive.capnproto-address=${loopback(ports[name].capnproto)}`,
        `--receive.local-endpoint=${loopback(ports[name].grpc)}`,
        `--receive.hashrings-file=${file('hashrings.json')}`,
        '--receive.hashrings-algorithm=ketama',
        '--receive.replication-factor=3',
        `--label=receive_replica="${i}"`,
        `--tsdb.path=${file(`${name}-data`)}`,
        // Two gateways may deliver a series' samples out of order (each sends in order, but an app's exports rotate
        // between them); 10m covers a gateway's whole retry budget (collector-gateway.yaml: 60 s) many times.
        `--tsdb.out-of-order.time-window=${options.outOfOrderWindow ?? '10m'}`,
        // No retention (0d) turns Receive's tenant pruning off. In v0.42.4 the pruning job panics on a tenant whose
        // TSDB is still opening (nil Head in shouldBeMarkedInactive; fixed upstream in thanos-io/thanos#8990). It runs
        // at every minute of the day divisible by twice the block duration, so a fleet started in such a minute
        // (00:00, 04:00, ... UTC) died at start. Reproduced with 30 s blocks (pruning every minute): 1d panicked, 0d
        // ran. The fleet's data lives minutes in a temporary folder; nothing here relies on retention.
        '--tsdb.retention=0d',
        // Exemplars: the gateways forward what apps send (the package's OTLP exporter writes them; docs/exemplars.md).
        '--tsdb.max-exemplars=100000',
        `--objstore.config-file=${file('bucket.yml')}`,
        `--receive.limits-config-file=${file('receive-limits.yml')}`,
      ],
      ready: `http://${loopback(ports[name].http)}/-/ready`,
    });
  });
  processes.push({
    name: 'store',
    binary: 'thanos',
    args: [
      'store',
      ...common('store'),
      `--data-dir=${file('store-cache')}`,
      `--objstore.config-file=${file('bucket.yml')}`,
      `--sync-block-duration=${options.storeSync ?? '3m'}`,
    ],
    ready: `http://${loopback(ports.store.http)}/-/ready`,
  });
  processes.push({
    name: 'query',
    binary: 'thanos',
    args: [
      'query',
      ...common('query'),
      `--endpoint.sd-config=${JSON.stringify({ endpoints: stores })}`,
      ...REPLICA_LABELS.map((label) => `--query.replica-label=${label}`),
    ],
    ready: `http://${loopback(ports.query.http)}/-/ready`,
  });
  processes.push({
    name: 'rule',
    binary: 'thanos',
    args: [
      'rule',
      ...common('rule'),
      `--data-dir=${file('rule-data')}`,
      ...ruleFiles.map((rules) => `--rule-file=${rules}`),
      `--eval-interval=${options.evalInterval ?? '15s'}`,
      `--query.config=${JSON.stringify([{ static_configs: [loopback(ports.query.http)], scheme: 'http' }])}`,
      ...(options.alertmanager
        ? [
            `--alertmanagers.config=${JSON.stringify({
              alertmanagers: [
                { static_configs: [loopback(ports.alertmanager.http)], scheme: 'http', api_version: 'v2' },
              ],
            })}`,
          ]
        : []),
      '--label=rule_replica="0"',
      `--objstore.config-file=${file('bucket.yml')}`,
    ],
    ready: `http://${loopback(ports.rule.http)}/-/ready`,
  });
  processes.push({
    name: 'compact',
    binary: 'thanos',
    args: [
      'compact',
      '--log.level=warn',
      `--http-address=${loopback(ports.compact.http)}`,
      `--data-dir=${file('compact-data')}`,
      `--objstore.config-file=${file('bucket.yml')}`,
      // Merges the receivers' replica blocks into one (and enables the vertical compaction that Receive's
      // out-of-order window needs: overlapping blocks otherwise halt the Compactor).
      ...REPLICA_LABELS.map((label) => `--deduplication.replica-label=${label}`),
      '--retention.resolution-raw=90d',
      '--retention.resolution-5m=1y',
      '--retention.resolution-1h=2y',
      // One pass (tests): take blocks however fresh, and delete what was compacted at once, so Store never sees a
      // source block beside its compacted block.
      ...(options.compactWait
        ? ['--wait', '--wait-interval=5m']
        : ['--consistency-delay=0s', '--delete-delay=0s']),
    ],
    ready: options.compactWait ? `http://${loopback(ports.compact.http)}/-/ready` : undefined,
  });
  gatewayNames.forEach((name, i) => {
    const gateway = ports[name];
    processes.push({
      name,
      binary: 'otelcol',
      args: ['--config', join(BACKEND, 'collector-gateway.yaml')],
      env: {
        OBM_GATEWAY_OTLP_GRPC_ENDPOINT: loopback(gateway.grpc),
        OBM_GATEWAY_OTLP_HTTP_ENDPOINT: loopback(gateway.http),
        OBM_GATEWAY_HEALTH_ENDPOINT: loopback(gateway.health),
        // Any receiver forwards a write to the series' owners. In production a load balancer over every receiver
        // is the gateways' one address; here gateway i writes to receiver i, leaving the last receiver without
        // direct writes, so killing it shows the quorum (2 of 3 copies) alone, without a gateway losing its target.
        OBM_GATEWAY_REMOTE_WRITE_URL: `http://${loopback(
          ports[receiverNames[i % Math.max(1, receivers - 1)]].remoteWrite,
        )}/api/v1/receive`,
        OBM_GATEWAY_ID: name,
        OBM_GATEWAY_TELEMETRY_INTERVAL_MS: String(options.gatewayTelemetryMillis ?? 15_000),
      },
      ready: `http://${loopback(gateway.health)}/`,
    });
  });
  processes.push({
    name: 'agent',
    binary: 'otelcol',
    args: ['--config', join(BACKEND, 'collector-agent.yaml')],
    env: {
      OBM_AGENT_OTLP_GRPC_ENDPOINT: loopback(ports.agent.grpc),
      OBM_AGENT_OTLP_HTTP_ENDPOINT: loopback(ports.agent.http),
      OBM_AGENT_HEALTH_ENDPOINT: loopback(ports.agent.health),
      OBM_AGENT_TELEMETRY_HOST: '127.0.0.1',
      OBM_AGENT_TELEMETRY_PORT: String(ports.agent.telemetry),
      // Pinned to the first gateway (no load-balancing exporter at v0.165; put an L4 balancer here in production).
      OBM_AGENT_GATEWAY_URL: `http://${loopback(ports[gatewayNames[0]].http)}`,
    },
    ready: `http://${loopback(ports.agent.health)}/`,
  });

  return {
    ports,
    files,
    bucket: file('bucket'),
    processes,
    urls: {
      query: `http://${loopback(ports.query.http)}`,
      rule: `http://${loopback(ports.rule.http)}`,
      store: `http://${loopback(ports.store.http)}`,
      gateways: gatewayNames.map((name) => `http://${loopback(ports[name].http)}`),
      agent: `http://${loopback(ports.agent.http)}`,
      receivers: receiverNames.map((name) => `http://${loopback(ports[name].remoteWrite)}/api/v1/receive`),
    },
  };
}

/**
 * The rule files prometheus.yml loads, so Thanos Rule evaluates what one Prometheus would; except files whose rules
 * use Prometheus 3.16's `anchored` windows (business-money.yml), which Thanos Query 0.42 refuses ("anchored
 * modifier is experimental and not enabled", and no flag enables it): docs/beyond-one-prometheus.md says what to
 * use for money on Thanos instead.
 */
function defaultRuleFiles() {
  const lines = readFileSync(join(BACKEND, 'prometheus', 'prometheus.yml'), 'utf8').split('\n');
  const files = [];
  // The indented lines under `rule_files:` (comments among them), read without a YAML dependency.
  for (const line of lines.slice(lines.indexOf('rule_files:') + 1)) {
    if (!/^\s/.test(line)) break;
    const item = /^\s+- (\S+)/.exec(line);
    if (item) files.push(join(BACKEND, 'prometheus', item[1]));
  }
  return files.filter((file) => !/\banchored\b/.test(readFileSync(file, 'utf8').replace(/#.*$/gm, '')));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(fleetPlan(JSON.parse(process.argv[2] ?? '{}')), null, 2)}\n`);
}
