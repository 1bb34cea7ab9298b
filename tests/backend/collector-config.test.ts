/**
 * The collector config and the compose file as files (the real Collector runs them in tests/push/; no Docker
 * engine runs here): every pipeline component defined, processors in a safe order, the Prometheus exporter's name
 * translation stated, and the ports the same in collector.yaml, docker-compose.yml, prometheus.yml and
 * otel-collector/README.md. Listen addresses are `${env:OBM_COLLECTOR_*:-default}`; the defaults are checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND, commentedRemoteWrite, readYaml } from './backend-files';

type Components = Record<string, Record<string, unknown> | null>;
interface CollectorConfig {
  extensions?: Components;
  receivers: Components;
  processors: Components;
  exporters: Components;
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  };
}
interface Compose {
  services: Record<
    string,
    { image?: string; ports?: string[]; volumes?: string[]; build?: unknown; command?: unknown }
  >;
}

const collector = readYaml<CollectorConfig>(join(BACKEND, 'collector.yaml'));
const collectorText = readFileSync(join(BACKEND, 'collector.yaml'), 'utf8');
const compose = readYaml<Compose>(join(BACKEND, 'docker-compose.yml'));
const prometheus = readYaml<{
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
}>(join(BACKEND, 'prometheus', 'prometheus.yml'));
const readme = readFileSync(join(BACKEND, 'README.md'), 'utf8');

/** `${env:NAME:-0.0.0.0:4317}` -> `0.0.0.0:4317`: what the Collector listens on when the variable is unset. */
const defaultOf = (value: string): string => /^\$\{env:\w+:-(.*)\}$/.exec(value)?.[1] ?? value;
const portOf = (endpoint: string): number => Number(/:(\d+)$/.exec(defaultOf(endpoint))![1]);
/** Host ports of `[address:]host:container` mappings. */
const publishedPorts = (service: string): number[] =>
  (compose.services[service].ports ?? []).map((mapping) => Number(String(mapping).split(':').at(-2)));

describe('collector.yaml', () => {
  it('references only defined components in every pipeline', () => {
    const pipelines = Object.entries(collector.service.pipelines);
    expect(pipelines.length).toBeGreaterThan(0);
    for (const [, pipeline] of pipelines) {
      for (const name of pipeline.receivers) expect(Object.keys(collector.receivers)).toContain(name);
      for (const name of pipeline.processors ?? []) expect(Object.keys(collector.processors)).toContain(name);
      for (const name of pipeline.exporters) expect(Object.keys(collector.exporters)).toContain(name);
    }
    for (const name of collector.service.extensions ?? [])
      expect(Object.keys(collector.extensions ?? {})).toContain(name);
  });

  it('runs memory_limiter first and batch last, with resource and delta_to_cumulative, and exports to prometheus and debug', () => {
    const metrics = collector.service.pipelines.metrics;
    expect(metrics.processors?.[0]).toBe('memory_limiter');
    expect(metrics.processors?.at(-1)).toBe('batch');
    expect(metrics.processors).toEqual(expect.arrayContaining(['resource', 'delta_to_cumulative']));
    expect(metrics.exporters).toEqual(expect.arrayContaining(['prometheus', 'debug']));
  });

  it('receives OTLP on gRPC 4317 and HTTP 4318 bound for other containers', () => {
    const protocols = (collector.receivers.otlp as { protocols: Record<string, { endpoint: string }> })
      .protocols;
    expect(defaultOf(protocols.grpc.endpoint)).toBe('0.0.0.0:4317');
    expect(defaultOf(protocols.http.endpoint)).toBe('0.0.0.0:4318');
  });

  it('states the Prometheus exporter name translation that keeps the seed names, not a default', () => {
    const exporter = collector.exporters.prometheus as Record<string, unknown>;
    expect(exporter.translation_strategy).toBe('UnderscoreEscapingWithSuffixes');
    expect(exporter).not.toHaveProperty('add_metric_suffixes');
    expect((exporter.resource_to_telemetry_conversion as { enabled: boolean }).enabled).toBe(false);
  });

  it('serves OpenMetrics, the only text format with exemplars (tests/push/exemplars.e2e.test.ts scrapes it)', () => {
    expect((collector.exporters.prometheus as Record<string, unknown>).enable_open_metrics).toBe(true);
  });

  it('names its target version and carries a commented remote-write alternative in contrib v0.165 keys', () => {
    expect(collectorText).toMatch(/otelcol-contrib v0\.\d+/);
    const image = compose.services['otel-collector'].image!;
    expect(collectorText).toContain(image.split(':')[1]);
    // The commented block, uncommented, is the remote-write exporter collector-gateway.yaml runs against Thanos.
    const block = commentedRemoteWrite().parsed;
    const gateway = readYaml<CollectorConfig>(join(BACKEND, 'collector-gateway.yaml')).exporters
      .prometheus_remote_write as Record<string, unknown>;
    expect(Object.keys(block)).toEqual(['prometheus_remote_write']);
    const exporter = block.prometheus_remote_write as Record<string, unknown>;
    expect(exporter.http).toEqual({
      endpoint: expect.stringMatching(/^http:\/\/prometheus:9090\/api\/v1\/write$/),
    });
    for (const key of [
      'protobuf_message',
      'translation_strategy',
      'resource_constant_labels',
      'max_batch_request_parallelism',
    ]) {
      expect({ key, value: exporter[key] }).toEqual({ key, value: gateway[key] });
    }
    expect(exporter).not.toHaveProperty('endpoint');
    expect(exporter).not.toHaveProperty('add_metric_suffixes');
    expect(exporter).not.toHaveProperty('resource_to_telemetry_conversion');
  });
});

describe('ports agree across collector.yaml, docker-compose.yml, prometheus.yml and otel-collector/README.md', () => {
  const exporterPort = portOf((collector.exporters.prometheus as { endpoint: string }).endpoint);
  const healthPort = portOf((collector.extensions!.health_check as { endpoint: string }).endpoint);

  it('publishes the collector ports it listens on', () => {
    expect(publishedPorts('otel-collector').sort()).toEqual([4317, 4318, exporterPort, healthPort].sort());
  });

  it('scrapes the collector exporter and the app on the ports compose uses', () => {
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs[0].targets]),
    );
    expect(targets['otel-collector']).toEqual([`otel-collector:${exporterPort}`]);
    expect(targets['business-app']).toEqual([`app:${publishedPorts('app')[0]}`]);
  });

  it('documents every published port in otel-collector/README.md', () => {
    for (const [service, definition] of Object.entries(compose.services)) {
      for (const port of publishedPorts(service)) {
        expect({ service, port, documented: readme.includes(`| ${port} `) }).toEqual({
          service,
          port,
          documented: true,
        });
      }
      expect(definition.image ?? definition.build).toBeTruthy();
    }
  });

  it('publishes every port on loopback unless OBM_PUBLISH_ADDRESS says otherwise, and documents the switch', () => {
    // Unauthenticated OTLP receivers, Prometheus, Alertmanager, Grafana's admin/admin and the demo token must not
    // face the network because someone ran `docker compose up` on a laptop in a café.
    const mappings = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) {
      expect(String(mapping)).toMatch(/^\$\{OBM_PUBLISH_ADDRESS:-127\.0\.0\.1\}:\d+:\d+$/);
    }
    expect(readme).toMatch(/OBM_PUBLISH_ADDRESS=0\.0\.0\.0 docker compose up/);
  });

  it('mounts the files this directory ships', () => {
    const mounts = Object.values(compose.services).flatMap((service) => service.volumes ?? []);
    for (const path of [
      './collector.yaml',
      './prometheus',
      './alertmanager',
      './grafana/provisioning',
      './grafana/dashboards',
    ]) {
      expect(mounts.some((mount) => mount.startsWith(`${path}:`))).toBe(true);
    }
  });
});
