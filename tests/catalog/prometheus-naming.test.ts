/**
 * src/catalog/prometheus-naming.ts, the one place OpenTelemetry names become Prometheus names: the Collector's
 * default translation (unit words, per-unit suffixes, `_total`, `_ratio`, cleanup) case by case after its
 * normalize_name.go, the upstream JS exporter's naming for users migrating from it, label-name sanitising, the
 * choice between the two, and every catalog family named exactly as the real SDK and our serializer expose it.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BUSINESS_METRIC_LIST, SELF_METRICS, prometheusType, type MetricDefinition } from '../../src/catalog';
import {
  otelToPrometheusName,
  prometheusFamilyName,
  prometheusLabelName,
  prometheusMetricName,
  shapeOfKind,
  upstreamPrometheusName,
  type OtlpMetricShape,
} from '../../src/catalog/prometheus-naming';
import { PrometheusPullReader } from '../../src/exporters/prometheus';
import { parseExposition } from '../support/exposition';

describe('otelToPrometheusName: the OpenTelemetry Collector default translation', () => {
  // [OTel name, unit, shape, Prometheus name]. Cases follow the Collector's normalize_name.go rules.
  const cases: Array<[string, string, OtlpMetricShape, string]> = [
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['business_session_duration_seconds', 's', 'histogram', 'business_session_duration_seconds'],
    ['rpc.server.duration', 'ms', 'histogram', 'rpc_server_duration_milliseconds'],
    ['system.filesystem.usage', 'By', 'gauge', 'system_filesystem_usage_bytes'],
    ['system.network.io', 'By', 'monotonicSum', 'system_network_io_bytes_total'],
    ['process.memory', 'MiBy', 'nonMonotonicSum', 'process_memory_mebibytes'],
    ['hw.temperature', 'Cel', 'gauge', 'hw_temperature_celsius'],
    ['disk.busy', '%', 'gauge', 'disk_busy_percent'],
    ['system.cpu.utilization', '1', 'gauge', 'system_cpu_utilization_ratio'],
    ['queue.fill_ratio', '1', 'gauge', 'queue_fill_ratio'],
    ['pool.usage', '1', 'nonMonotonicSum', 'pool_usage'], // `_ratio` is for OTLP gauges only
    ['http.server.requests', '{request}', 'monotonicSum', 'http_server_requests_total'],
    ['business_funnel_step', '{step}', 'monotonicSum', 'business_funnel_step_total'],
    ['business_revenue_per_minute_cents', '{cent}', 'gauge', 'business_revenue_per_minute_cents'],
    ['requests.rate', '{request}/s', 'gauge', 'requests_rate_per_second'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['speed', 'm/s', 'gauge', 'speed_meters_per_second'],
    ['churn', 'KiBy/m', 'gauge', 'churn_kibibytes_per_minute'], // `m` after the slash is a minute
    ['events', '{event}/min', 'gauge', 'events_per_min'], // `min` is not in the per-unit table
    ['rate.per_second', '1/s', 'gauge', 'rate_per_second'],
    ['jobs.done', '', 'monotonicSum', 'jobs_done_total'],
    ['jobs_done_total', '', 'monotonicSum', 'jobs_done_total'],
    ['total.requests', '', 'monotonicSum', 'requests_total'],
    ['network.transmit.total', 'By', 'monotonicSum', 'network_transmit_bytes_total'],
    ['jobs_done_total', '', 'gauge', 'jobs_done_total'],
    ['1xx.responses', '', 'monotonicSum', '_1xx_responses_total'],
    ['foo__bar..baz-qux/quux', 'km', 'gauge', 'foo_bar_baz_qux_quux_km'],
    ['latency', ' s ', 'histogram', 'latency_seconds'],
    ['latency', 'weird unit!', 'histogram', 'latency_weird_unit'],
    ['...', '', 'gauge', ''],
  ];
  it.each(cases)('%s [%s] (%s) -> %s', (name, unit, shape, expected) => {
    expect(otelToPrometheusName(name, unit, shape)).toBe(expected);
  });
});

describe('upstreamPrometheusName: @opentelemetry/exporter-prometheus 0.223 naming', () => {
  it.each([
    ['http.server.request.duration', 'histogram', 'http_server_request_duration'],
    ['jobs.done', 'monotonicSum', 'jobs_done_total'],
    ['jobs_done_total', 'monotonicSum', 'jobs_done_total'],
    ['total.requests', 'monotonicSum', 'total_requests_total'],
    ['a__b', 'gauge', 'a_b'],
    ['1xx', 'gauge', '_1xx'],
    ['_', 'gauge', ''],
  ] as Array<[string, OtlpMetricShape, string]>)('%s (%s) -> %s', (name, shape, expected) => {
    expect(upstreamPrometheusName(name, shape)).toBe(expected);
  });
});

describe('prometheusLabelName', () => {
  it.each([
    ['http.request.method', 'http_request_method'],
    ['device_type', 'device_type'],
    ['a..b', 'a_b'],
    ['__name__', '_name_'],
    ['1st', 'key_1st'],
    ['ünï', '_n_'],
    ['', ''],
  ])('%j -> %j', (key, expected) => expect(prometheusLabelName(key)).toBe(expected));
});

describe('prometheusMetricName and shapeOfKind', () => {
  it('names by the Collector translation by default, by the upstream exporter on request', () => {
    expect(prometheusMetricName('http.server.request.duration', 's', 'histogram')).toBe(
      'http_server_request_duration_seconds',
    );
    expect(prometheusMetricName('http.server.request.duration', 's', 'histogram', 'collector')).toBe(
      'http_server_request_duration_seconds',
    );
    expect(prometheusMetricName('http.server.request.duration', 's', 'histogram', 'upstream')).toBe(
      'http_server_request_duration',
    );
    expect(prometheusMetricName('total.requests', '', 'monotonicSum', 'upstream')).toBe(
      'total_requests_total',
    );
  });

  it('maps catalog kinds to the OTLP shapes the instruments produce', () => {
    expect(
      (['counter', 'updowncounter', 'histogram', 'gauge'] as const).map((kind) => shapeOfKind(kind)),
    ).toEqual(['monotonicSum', 'nonMonotonicSum', 'histogram', 'gauge']);
    // The shape decides the suffix of a catalog family: `_total` for counters only, `_ratio` for gauges only.
    const family = (kind: 'counter' | 'updowncounter' | 'gauge') =>
      prometheusFamilyName({ name: 'x', kind, unit: '1' });
    expect([family('counter'), family('updowncounter'), family('gauge')]).toEqual([
      'x_total',
      'x',
      'x_ratio',
    ]);
  });
});

describe('catalog metrics through the real SDK and serializer', () => {
  const definitions: MetricDefinition[] = [...BUSINESS_METRIC_LIST, ...Object.values(SELF_METRICS)];

  it('every catalog family name is exactly prometheusFamilyName(def), with its type, labels and buckets', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('catalog-check');
    for (const def of definitions) {
      const attributes = Object.fromEntries(def.labels.map((label) => [label, 'x']));
      const options = { unit: def.unit, description: def.description };
      if (def.kind === 'counter') meter.createCounter(def.name, options).add(1, attributes);
      else if (def.kind === 'histogram') {
        const advice = { explicitBucketBoundaries: [...(def.buckets ?? [])] };
        meter.createHistogram(def.name, { ...options, advice }).record(1, attributes);
      } else
        meter.createObservableGauge(def.name, options).addCallback((result) => result.observe(1, attributes));
    }
    const scrape = parseExposition(await reader.getMetrics());
    expect([...scrape.families.keys()]).toEqual([
      'target_info',
      ...definitions.map((def) => prometheusFamilyName(def)),
    ]);
    for (const def of definitions) {
      const family = scrape.family(prometheusFamilyName(def));
      expect([def.name, family.type, family.help]).toEqual([def.name, prometheusType(def), def.description]);
      const sample = family.samples.find((s) => s.name.endsWith('_bucket')) ?? family.samples[0];
      const labelKeys = Object.keys(sample.labels).filter((key) => !key.startsWith('otel_scope_'));
      expect(labelKeys).toEqual(def.kind === 'histogram' ? [...def.labels, 'le'] : [...def.labels]);
      if (def.kind === 'histogram') {
        const les = family.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le);
        expect(les).toEqual([...(def.buckets ?? []).map(String), '+Inf']);
      }
    }
    await provider.shutdown();
  });
});
