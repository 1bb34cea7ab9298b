import { diag, DiagLogLevel, ValueType, type DiagLogger } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  PrometheusPullReader,
  serializePrometheus,
  otelToPrometheusName,
  type ExpositionFormat,
} from '../../../src/exporters/prometheus';
import { labelSetMergePasses } from '../../../src/exporters/prometheus/serializer';
import { parseExposition } from '../../support/exposition';
import {
  createQueueDepthProducer,
  createWorkload,
  DURATION_BUCKETS,
  METER_NAME,
  METER_VERSION,
} from './fixture';
import { checkMetrics, promtool, PromtoolChecks } from '../../support/promtool';

const itWithPromtool = promtool ? it : it.skip;
const forPromtool = new PromtoolChecks();

/** An exemplar as the package's cells keep one: a sampled span's ids, the value, when (epoch ms). */
function exemplar(value: number, timeUnixMs: number) {
  return { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), value, timeUnixMs };
}

function captureDiag(): { errors: string[]; restore(): void } {
  const errors: string[] = [];
  const logger: DiagLogger = {
    error: (message, ...args) => errors.push([message, ...args.map(String)].join(' ')),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, DiagLogLevel.ERROR);
  return { errors, restore: () => diag.disable() };
}

/** Collects once from our reader, so both serializers see the very same ResourceMetrics object. */
async function collectFixture(
  rounds = 2,
): Promise<{ resourceMetrics: ResourceMetrics; close(): Promise<void> }> {
  const reader = new PrometheusPullReader({
    preventServerStart: true,
    metricProducers: [createQueueDepthProducer(() => 7)],
  });
  const workload = createWorkload([reader]);
  workload.record(rounds);
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return { resourceMetrics, close: () => workload.shutdown() };
}

describe('serializePrometheus compared with @opentelemetry/exporter-prometheus 0.223', () => {
  it("is byte-identical to the upstream serializer with metricNaming 'upstream'", async () => {
    const { resourceMetrics, close } = await collectFixture();
    const ours = serializePrometheus(resourceMetrics, { metricNaming: 'upstream' });
    expect(ours).toBe(new PrometheusSerializer().serialize(resourceMetrics));
    expect(serializePrometheus(resourceMetrics, { metricNaming: 'upstream', withoutScopeInfo: true })).toBe(
      new PrometheusSerializer(undefined, false, undefined, false, true).serialize(resourceMetrics),
    );
    expect(serializePrometheus(resourceMetrics, { metricNaming: 'upstream', withoutTargetInfo: true })).toBe(
      new PrometheusSerializer(undefined, false, undefined, true, false).serialize(resourceMetrics),
    );
    await close();
  });

  it('differs with the default (collector) naming only by the unit suffixes in family and sample names', async () => {
    const { resourceMetrics, close } = await collectFixture();
    const ours = parseExposition(serializePrometheus(resourceMetrics));
    const upstream = parseExposition(new PrometheusSerializer().serialize(resourceMetrics));
    // The whole difference, spelled out: the two instruments whose unit has a Prometheus word.
    const renamed: Record<string, string> = {
      http_server_request_duration: 'http_server_request_duration_seconds',
      process_memory_usage: 'process_memory_usage_bytes',
    };
    expect([...ours.families.keys()]).toEqual(
      [...upstream.families.keys()].map((name) => renamed[name] ?? name),
    );
    for (const family of upstream.families.values()) {
      const twin = ours.family(renamed[family.name] ?? family.name);
      expect({ type: twin.type, help: twin.help, unit: twin.unit }).toEqual({
        type: family.type,
        help: family.help,
        unit: family.unit,
      });
      expect(twin.samples).toEqual(
        family.samples.map((sample) => ({ ...sample, name: sample.name.replace(family.name, twin.name) })),
      );
    }
    await close();
  });

  it('matches the upstream exporter served over its own request handler on the same provider', async () => {
    const ours = new PrometheusPullReader({ preventServerStart: true, metricNaming: 'upstream' });
    const upstream = new PrometheusExporter({ preventServerStart: true });
    const workload = createWorkload([ours, upstream]);
    workload.record(3);
    const upstreamText = await new Promise<string>((resolve) => {
      let body = '';
      const response = {
        statusCode: 0,
        setHeader: () => undefined,
        end: (chunk: string) => {
          body += chunk;
          resolve(body);
        },
      };
      // The handler only uses statusCode, setHeader and end.
      upstream.getMetricsRequestHandler({} as never, response as never);
    });
    expect(await ours.getMetrics()).toBe(upstreamText);
    await workload.shutdown();
  });

  it('differs from upstream on exponential histograms: a classic histogram, where upstream emits an empty family', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true, metricNaming: 'upstream' });
    const provider = new MeterProvider({
      readers: [reader],
      views: [{ instrumentName: 'latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    provider.getMeter('m').createHistogram('latency', { unit: 'ms' }).record(12);
    const { resourceMetrics } = await reader.collect();
    expect(new PrometheusSerializer().serialize(resourceMetrics)).toMatch(/# TYPE latency untyped\n$/);
    const ours = parseExposition(serializePrometheus(resourceMetrics, { metricNaming: 'upstream' }));
    expect(ours.family('latency').type).toBe('histogram');
    expect(ours.value('latency_count', { otel_scope_name: 'm' })).toBe(1);
    await provider.shutdown();
  });
});

describe('serializePrometheus output', () => {
  it('has every family, type, label, bucket and value of the workload', async () => {
    const { resourceMetrics, close } = await collectFixture(2);
    const text = serializePrometheus(resourceMetrics);
    const scrape = parseExposition(text);
    const scope = { otel_scope_name: METER_NAME, otel_scope_version: METER_VERSION };

    expect(scrape.family('target_info').type).toBe('gauge');
    expect(scrape.value('target_info', { service_name: 'shop', service_version: '1.2.3' })).toBe(1);

    const requests = scrape.family('http_server_requests_total');
    expect([requests.type, requests.help, requests.unit]).toEqual([
      'counter',
      'Requests served',
      '{request}',
    ]);
    expect(requests.samples.map((s) => s.labels)).toEqual([
      { http_request_method: 'GET', http_route: '/a', ...scope },
      { http_request_method: 'POST', http_route: '/b', ...scope },
    ]);
    expect(scrape.value('http_server_requests_total', { http_request_method: 'GET' })).toBe(6);
    expect(scrape.value('http_server_requests_total', { http_request_method: 'POST' })).toBe(4);

    const duration = scrape.family('http_server_request_duration_seconds');
    expect(duration.type).toBe('histogram');
    const series = { http_route: '/a', ...scope };
    const buckets = scrape.find('http_server_request_duration_seconds_bucket', series);
    expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([2, 2, 4, 6, 8, 10]);
    expect(scrape.value('http_server_request_duration_seconds_count', series)).toBe(10);
    expect(scrape.value('http_server_request_duration_seconds_sum', series)).toBeCloseTo(2 * 12.553, 9);

    expect(scrape.family('queue_active_jobs').type).toBe('gauge'); // non-monotonic sum
    expect(scrape.value('queue_active_jobs', { queue: 'orders', ...scope })).toBe(6);
    expect(scrape.family('process_memory_usage_bytes').type).toBe('gauge');
    expect(scrape.value('process_memory_usage_bytes', { memory_kind: 'rss', ...scope })).toBe(1048576);
    expect(scrape.value('queue_depth', { queue: 'orders', otel_scope_name: 'queue-bridge' })).toBe(7);
    expect(scrape.families.size).toBe(6);
    await close();
  });

  it('formats values like upstream: NaN, +Inf, -Inf, exponents, float noise', () => {
    const now: [number, number] = [0, 0];
    const gauge = (value: number, label: string) => ({
      startTime: now,
      endTime: now,
      attributes: { v: label },
      value,
    });
    const metric: MetricData = {
      descriptor: { name: 'weird', description: '', unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [
        gauge(NaN, 'nan'),
        gauge(Infinity, 'inf'),
        gauge(-Infinity, 'minf'),
        gauge(1e21, 'big'),
        gauge(0.1 + 0.2, 'noise'),
        gauge(-0, 'negzero'),
        gauge(5e-324, 'tiny'),
      ],
    };
    const resourceMetrics: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 's' }, metrics: [metric] }],
    };
    const text = serializePrometheus(resourceMetrics, { metricNaming: 'upstream' });
    expect(text).toBe(new PrometheusSerializer().serialize(resourceMetrics));
    expect(text).toContain('weird{v="nan",otel_scope_name="s"} NaN\n');
    expect(text).toContain('weird{v="inf",otel_scope_name="s"} +Inf\n');
    expect(text).toContain('weird{v="minf",otel_scope_name="s"} -Inf\n');
    expect(text).toContain('# HELP weird description missing\n');
    const scrape = parseExposition(text);
    expect(scrape.value('weird', { v: 'nan' })).toBeNaN();
    expect(scrape.value('weird', { v: 'big' })).toBe(1e21);
    expect(scrape.value('weird', { v: 'noise' })).toBe(0.1 + 0.2);
    expect(scrape.value('weird', { v: 'tiny' })).toBe(5e-324);
  });

  it('escapes label values and HELP text so quotes, backslashes, newlines and unicode round-trip', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const nasty = ['say "hi"', 'C:\\path\\', 'two\nlines', 'ünïcødé ✓ 🛒', '\\"\n\\n', 'tab\there', ''];
    const counter = provider
      .getMeter('m')
      .createCounter('nasty', { description: 'Help with \\ backslash\nand "quotes"', unit: '{x}' });
    nasty.forEach((value, index) => counter.add(index + 1, { value }));
    const text = await reader.getMetrics();
    const scrape = parseExposition(text);
    expect(scrape.family('nasty_total').help).toBe('Help with \\ backslash\nand "quotes"');
    for (const [index, value] of nasty.entries())
      expect(scrape.value('nasty_total', { value })).toBe(index + 1);
    forPromtool.add('escaped label values and help', text);
    await provider.shutdown();
  });

  it('never throws on attribute values of any type, and the result parses', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const now: [number, number] = [0, 0];
    const attributes = {
      flag: true,
      count: 3,
      ratio: NaN,
      list: ['a', 'b'],
      none: null,
      missing: undefined,
      fn: () => 1,
      big: BigInt(12),
      loop: circular,
    } as never;
    const resourceMetrics: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              descriptor: { name: 'odd', description: 'd', unit: '', valueType: ValueType.INT },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.GAUGE,
              dataPoints: [{ startTime: now, endTime: now, attributes, value: 1 }],
            },
          ],
        },
      ],
    };
    const labels = parseExposition(serializePrometheus(resourceMetrics)).family('odd').samples[0].labels;
    // JSON where upstream uses JSON (true, 3, null for NaN, ["a","b"]); String() where JSON cannot encode.
    expect(labels).toMatchObject({
      flag: 'true',
      count: '3',
      ratio: 'null',
      list: '["a","b"]',
      none: 'null',
    });
    expect(labels).toMatchObject({ missing: '', big: '12', loop: '[object Object]' });
    expect(labels.fn).toContain('1');
  });

  it('keeps the output valid when attribute keys collide with each other or with exporter labels', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('m', '1.0');
    meter.createCounter('c').add(1, {
      'a.b': 'x',
      a_b: 'y',
      '1st': 'one',
      '': 'gone',
      'otel.scope.name': 'mine',
      le: 'l',
      quantile: 'q',
    });
    meter.createHistogram('h', { advice: { explicitBucketBoundaries: [1] } }).record(0.5, { le: 'mine' });
    const text = await reader.getMetrics();
    const scrape = parseExposition(text);
    expect(scrape.family('c_total').samples[0].labels).toEqual({
      a_b: 'x;y',
      key_1st: 'one',
      exported_otel_scope_name: 'mine',
      exported_le: 'l', // promtool flags `le` outside histograms
      exported_quantile: 'q',
      otel_scope_name: 'm',
      otel_scope_version: '1.0',
    });
    expect(scrape.find('h_bucket').map((s) => s.labels)).toEqual([
      { exported_le: 'mine', otel_scope_name: 'm', otel_scope_version: '1.0', le: '1' },
      { exported_le: 'mine', otel_scope_name: 'm', otel_scope_version: '1.0', le: '+Inf' },
    ]);
    forPromtool.add('reserved and invalid label names', text);
    await provider.shutdown();
  });

  it('merges same-name families from two meters and drops a family whose type conflicts', async () => {
    const diagCapture = captureDiag();
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('one').createCounter('jobs.done', { description: 'Jobs done' }).add(1);
    provider.getMeter('two').createCounter('jobs.done', { description: 'Jobs done' }).add(2);
    provider
      .getMeter('three')
      .createObservableGauge('jobs_done_total')
      .addCallback((result) => result.observe(9));
    const text = await reader.getMetrics();
    const scrape = parseExposition(text); // would throw on a second HELP/TYPE or split samples
    expect(scrape.find('jobs_done_total').map((s) => [s.labels.otel_scope_name, s.value])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
    expect(diagCapture.errors.some((message) => message.includes('already exists with type counter'))).toBe(
      true,
    );
    diagCapture.restore();
    forPromtool.add('merged same-name families', text);
    await provider.shutdown();
  });

  it("says '# no registered metrics' when nothing was recorded, like upstream", async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader], resource: resourceFromAttributes({ a: 'b' }) });
    const { resourceMetrics } = await reader.collect();
    expect(serializePrometheus(resourceMetrics)).toBe(new PrometheusSerializer().serialize(resourceMetrics));
    expect(serializePrometheus(resourceMetrics, { withoutTargetInfo: true })).toBe('# no registered metrics');
    await provider.shutdown();
  });

  it('reflects new values on every scrape although label strings are cached per attributes object', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true, metricProducers: [] });
    const workload = createWorkload([reader]);
    workload.record(1);
    const first = parseExposition(await reader.getMetrics());
    workload.record(4);
    workload.memoryBytes = 2048;
    const second = parseExposition(await reader.getMetrics());
    expect(first.value('http_server_requests_total', { http_route: '/a' })).toBe(3);
    expect(second.value('http_server_requests_total', { http_route: '/a' })).toBe(15);
    expect(second.value('http_server_request_duration_seconds_count')).toBe(25);
    expect(second.value('process_memory_usage_bytes')).toBe(2048);
    expect(second.samples.map((s) => [s.name, s.labels])).toEqual(
      first.samples.map((s) => [s.name, s.labels]),
    );
    await workload.shutdown();
  });

  itWithPromtool('passes promtool check metrics (parser and lint) for the whole workload', async () => {
    const { resourceMetrics, close } = await collectFixture();
    expect(checkMetrics(serializePrometheus(resourceMetrics))).toEqual({ status: 0, output: '' });
    await close();
  });

  it('names technical metrics exactly as an OpenTelemetry Collector would', () => {
    expect(otelToPrometheusName('http.server.request.duration', 's', 'histogram')).toBe(
      'http_server_request_duration_seconds',
    );
  });
});

describe('serializePrometheus: points of one metric that Prometheus reads as one series', () => {
  it('merges them: counters and up-down counters summed, histograms bucket by bucket, gauges the larger', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('app');
    // Two series in the SDK each (the values' types differ), one label set in Prometheus.
    const requests = meter.createCounter('requests');
    requests.add(3, { code: 200, method: 'GET' });
    requests.add(5, { method: 'GET', code: '200' });
    requests.add(7, { code: 404, method: 'GET' });
    const inFlight = meter.createUpDownCounter('in_flight');
    inFlight.add(2, { code: 200 });
    inFlight.add(3, { code: '200' });
    const latency = meter.createHistogram('latency', { advice: { explicitBucketBoundaries: [1, 10] } });
    latency.record(0.5, { code: 200 });
    latency.record(5, { code: '200' });
    latency.record(50, { code: '200' });
    const temperature = meter.createGauge('temperature');
    temperature.record(4, { code: 200 });
    temperature.record(9, { code: '200' });
    // Keys that sanitize alike, and an empty value (Prometheus reads `route=""` as no label).
    const jobs = meter.createCounter('jobs');
    jobs.add(1, { 'queue.name': 'mail' });
    jobs.add(2, { queue_name: 'mail' });
    jobs.add(4, { queue_name: 'mail', route: '' });
    jobs.add(8, { queue_name: 'sms' });

    const { resourceMetrics } = await reader.collect();
    const text = serializePrometheus(resourceMetrics, { withoutScopeInfo: true });
    const scrape = parseExposition(text);
    expect(scrape.find('requests_total').map((s) => [s.labels, s.value])).toEqual([
      [{ code: '200', method: 'GET' }, 8],
      [{ code: '404', method: 'GET' }, 7],
    ]);
    expect(scrape.find('in_flight').map((s) => [s.labels, s.value])).toEqual([[{ code: '200' }, 5]]);
    expect(scrape.find('latency_bucket').map((s) => [s.labels, s.value])).toEqual([
      [{ code: '200', le: '1' }, 1],
      [{ code: '200', le: '10' }, 2],
      [{ code: '200', le: '+Inf' }, 3],
    ]);
    expect(scrape.value('latency_count')).toBe(3);
    expect(scrape.value('latency_sum')).toBe(55.5);
    expect(scrape.find('temperature').map((s) => [s.labels, s.value])).toEqual([[{ code: '200' }, 9]]);
    expect(scrape.find('jobs_total').map((s) => [s.labels.queue_name, s.value])).toEqual([
      ['mail', 7],
      ['sms', 8],
    ]);
    forPromtool.add('label sets printed alike', text);

    // Only the exposition merges: what the SDK collected (and OTLP exports) keeps every typed attribute set.
    const collected = resourceMetrics.scopeMetrics[0].metrics.find((m) => m.descriptor.name === 'requests')!;
    expect(collected.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ code: 200, method: 'GET' }, 3],
      [{ method: 'GET', code: '200' }, 5],
      [{ code: 404, method: 'GET' }, 7],
    ]);
    await provider.shutdown();
  });

  it('keeps the earliest _created and the latest exemplar, and merges histograms of other boundaries on the ones they share', () => {
    const point = <T>(
      attributes: Record<string, unknown>,
      start: number,
      value: T,
      exemplars?: unknown[],
    ) => ({
      startTime: [start, 0] as [number, number],
      endTime: [200, 0] as [number, number],
      attributes: attributes as never,
      value,
      ...(exemplars ? { exemplars } : {}),
    });
    const resourceMetrics: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              descriptor: { name: 'orders', description: 'd', unit: '', valueType: ValueType.INT },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [
                point({ code: 200 }, 100, 3, [exemplar(1, 150_000)]),
                point({ code: '200' }, 50, 5, [exemplar(2, 160_000)]),
              ],
            },
            {
              descriptor: { name: 'size', description: 'd', unit: '', valueType: ValueType.DOUBLE },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: [
                point({ code: 200 }, 100, {
                  buckets: { boundaries: [1, 2, 4], counts: [1, 1, 1, 1] },
                  sum: 10,
                  count: 4,
                }),
                point({ code: '200' }, 60, {
                  buckets: { boundaries: [2, 4, 8], counts: [0, 2, 0, 1] },
                  sum: 20,
                  count: 3,
                }),
              ],
            },
          ],
        },
      ],
    };
    const text = serializePrometheus(resourceMetrics, { format: 'openmetrics', withoutScopeInfo: true });
    expect(text).toContain(
      'orders_total{code="200"} 8 # {trace_id="' +
        'a'.repeat(32) +
        '",span_id="' +
        'b'.repeat(16) +
        '"} 2 160\norders_created{code="200"} 50\n',
    );
    expect(text).toContain(
      [
        'size_bucket{code="200",le="2"} 2',
        'size_bucket{code="200",le="4"} 5',
        'size_bucket{code="200",le="+Inf"} 7',
        'size_count{code="200"} 7',
        'size_sum{code="200"} 30',
        'size_created{code="200"} 60',
      ].join('\n'),
    );
    expect(text.match(/code="200"/g)).toHaveLength(8);
  });
});

describe('serializePrometheus: deciding whether points of one metric may print alike', () => {
  /** One counter (or histogram) metric with a point per attributes object, values 1, 2, 4, ... */
  function metricOf(
    attributes: readonly Record<string, unknown>[],
    type: DataPointType.SUM | DataPointType.HISTOGRAM = DataPointType.SUM,
  ): ResourceMetrics {
    const dataPoints = attributes.map((attrs, i) => ({
      startTime: [100, 0] as [number, number],
      endTime: [200, 0] as [number, number],
      attributes: attrs as never,
      value:
        type === DataPointType.SUM
          ? 2 ** i
          : { buckets: { boundaries: [10], counts: [2 ** i, 0] }, sum: 2 ** i, count: 2 ** i },
    }));
    const descriptor = { name: 'reqs', description: 'd', unit: '', valueType: ValueType.INT };
    const metric = (
      type === DataPointType.SUM
        ? {
            descriptor,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints,
          }
        : {
            descriptor,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.HISTOGRAM,
            dataPoints,
          }
    ) as MetricData;
    return {
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 's' }, metrics: [metric] }],
    };
  }

  /** The counter's sample lines, and how many merge passes serializing it took. */
  function scrape(
    attributes: readonly Record<string, unknown>[],
    type?: DataPointType.SUM | DataPointType.HISTOGRAM,
  ): { lines: string[]; passes: number } {
    const before = labelSetMergePasses.count;
    const text = serializePrometheus(metricOf(attributes, type), {
      withoutScopeInfo: true,
      withoutTargetInfo: true,
    });
    const lines = text.split('\n').filter((line) => line.startsWith('reqs'));
    return { lines, passes: labelSetMergePasses.count - before };
  }

  it('needs no merge pass for OpenTelemetry-style attributes of one shape (dotted keys, numeric values)', () => {
    const attributes = Array.from({ length: 6 }, (_, i) => ({
      'http.request.method': i % 2 ? 'GET' : 'POST',
      'http.route': `/r${i % 3}`,
      'http.response.status_code': [200, 404][Math.floor(i / 3)],
      'server.port': 8080.5 - i, // not integers either
      'url.secure': i % 2 === 0,
    }));
    const first = scrape(attributes);
    expect(first.passes).toBe(0);
    expect(first.lines).toEqual(
      attributes.map(
        (a, i) =>
          `reqs_total{http_request_method="${a['http.request.method']}",http_route="${a['http.route']}",` +
          `http_response_status_code="${a['http.response.status_code']}",server_port="${a['server.port']}",` +
          `url_secure="${a['url.secure']}"} ${2 ** i}`,
      ),
    );
    expect(scrape(attributes)).toEqual(first); // and so on every later scrape, from the cache
    expect(scrape(attributes, DataPointType.HISTOGRAM).passes).toBe(0);
  });

  it('merges strings with lone surrogates that go out as the same U+FFFD, and histograms in one pass', () => {
    // The answer is UTF-8: each lone surrogate becomes U+FFFD, so these three print one label set.
    const strings = scrape([{ a: '\uD800' }, { a: '\uDC00' }, { a: '\uFFFD' }]);
    expect(strings.passes).toBe(1);
    expect(strings.lines).toHaveLength(1);
    expect(strings.lines[0]).toMatch(/ 7$/);
    // Merged points are not checked again (the histogram took a second pass over them).
    const mixed = [{ code: '200' }, { code: 404 }, { code: 200 }, { code: '404' }];
    expect(scrape(mixed).passes).toBe(1);
    const histogram = scrape(mixed, DataPointType.HISTOGRAM);
    expect(histogram.passes).toBe(1);
    expect(histogram.lines.filter((line) => line.startsWith('reqs_count'))).toEqual([
      'reqs_count{code="200"} 5',
      'reqs_count{code="404"} 10',
    ]);
  });

  it('needs no merge pass when an optional attribute is on some points only, and keeps them apart', () => {
    const { lines, passes } = scrape([
      { 'http.route': '/a', 'http.response.status_code': 200 },
      { 'http.route': '/a', 'http.response.status_code': 500, 'error.type': 'timeout' },
      { 'http.response.status_code': 500, 'http.route': '/a', 'error.type': '500' }, // keys in another order
      { 'http.route': '/b', 'http.response.status_code': 200 },
      { 'http.route': '/a', 'http.response.status_code': 500 },
    ]);
    expect(passes).toBe(0);
    expect(lines).toEqual([
      'reqs_total{http_route="/a",http_response_status_code="200"} 1',
      'reqs_total{http_route="/a",http_response_status_code="500",error_type="timeout"} 2',
      'reqs_total{http_response_status_code="500",http_route="/a",error_type="500"} 4',
      'reqs_total{http_route="/b",http_response_status_code="200"} 8',
      'reqs_total{http_route="/a",http_response_status_code="500"} 16',
    ]);
  });

  it('needs no merge pass for distinct values of one type that print distinctly', () => {
    expect(scrape([{ ok: true }, { ok: false }]).passes).toBe(0);
    expect(scrape([{ n: 1 }, { n: 1.5 }, { n: 1e21 }, { n: 0 }]).passes).toBe(0);
    const arrays = scrape([{ tags: ['a', 'b'] }, { tags: ['a,b'] }, { tags: [1] }, { tags: ['1'] }]);
    expect(arrays.passes).toBe(0);
    expect(arrays.lines).toEqual([
      'reqs_total{tags="[\\"a\\",\\"b\\"]"} 1',
      'reqs_total{tags="[\\"a,b\\"]"} 2',
      'reqs_total{tags="[1]"} 4',
      'reqs_total{tags="[\\"1\\"]"} 8',
    ]);
  });

  it.each([
    ['a number and a string', [{ code: 200 }, { code: '200' }], 'code="200"'],
    ['a boolean and a string', [{ ok: true }, { ok: 'true' }], 'ok="true"'],
    ['an array and its JSON', [{ t: ['x'] }, { t: '["x"]' }], 't="[\\"x\\"]"'],
    ['null and "null"', [{ v: null }, { v: 'null' }], 'v="null"'],
    ['an empty value and no label', [{ a: 'x', b: '' }, { a: 'x' }], 'a="x",b=""'],
    [
      'an empty string and undefined',
      [
        { a: 'x', b: '' },
        { a: 'x', b: undefined },
      ],
      'a="x",b=""',
    ],
    ['keys that sanitize alike', [{ 'a.b': 'x' }, { a_b: 'x' }], 'a_b="x"'],
    [
      'keys joined into one label',
      [
        { 'a.b': 'x;y', a_b: 'z' },
        { 'a.b': 'x', a_b: 'y;z' },
      ],
      'a_b="x;y;z"',
    ],
    [
      'values under a key without a label name',
      [
        { '': 'x', a: '1' },
        { '': 'y', a: '1' },
      ],
      'a="1"',
    ],
    ['a reserved name renamed into another key', [{ le: '1' }, { exported_le: '1' }], 'exported_le="1"'],
    ['-0 and 0 (both print 0)', [{ v: -0 }, { v: 0 }], 'v="0"'],
    ['NaN and Infinity (both print null)', [{ v: NaN }, { v: Infinity }], 'v="null"'],
    ['arrays holding NaN and null', [{ v: [NaN] }, { v: [null] }], 'v="[null]"'],
    ['-0 and 0 in arrays', [{ v: [-0] }, { v: [0] }], 'v="[0]"'],
  ])('merges %s: one series, their sum', (_, attributes, labels) => {
    const { lines, passes } = scrape([{ other: 'series' }, ...attributes]);
    expect(passes).toBe(1);
    expect(lines).toEqual(['reqs_total{other="series"} 1', `reqs_total{${labels}} 6`]);
  });

  it('merges points found alike only after others were written: the first keeps its place', () => {
    const { lines, passes } = scrape([{ code: '200' }, { code: '404' }, { code: 200 }, { code: 404 }]);
    expect(passes).toBe(1);
    expect(lines).toEqual(['reqs_total{code="200"} 5', 'reqs_total{code="404"} 10']);
    const histogram = scrape([{ code: '200' }, { code: 200 }], DataPointType.HISTOGRAM);
    expect(histogram.passes).toBe(1);
    expect(histogram.lines).toContain('reqs_count{code="200"} 3');
  });

  it('still tells shapes apart by their signature once the shape cache was cleared', () => {
    const before = { code: 200 };
    expect(scrape([before]).passes).toBe(0);
    // More distinct shapes than the cache holds: it is cleared, and `{code: 404}` gets a shape object of its own.
    scrape(Array.from({ length: 10_001 }, (_, i) => ({ [`k${i}`]: 'v' })));
    const { lines, passes } = scrape([before, { code: 404 }]);
    expect(passes).toBe(0);
    expect(lines).toEqual(['reqs_total{code="200"} 1', 'reqs_total{code="404"} 2']);
  });
});

describe('serializePrometheus: metrics of one family that print the same series', () => {
  /** Sample lines (with labels) printed more than once: Prometheus would keep one of each, silently. */
  function duplicateSamples(text: string): string[] {
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const series = line.slice(0, line.indexOf('{') === -1 ? line.indexOf(' ') : line.indexOf('} ') + 1);
      if (seen.has(series)) duplicates.push(series);
      seen.add(series);
    }
    return duplicates;
  }

  function samplesOf(text: string, prefix: string): string[] {
    return text.split('\n').filter((line) => line.startsWith(prefix));
  }

  /** Counters, up-down counters, gauges and histograms of one name on meters `one` (value 1) and `two` (10). */
  async function twoMeters(options: { withoutScopeInfo?: boolean }, format: ExpositionFormat) {
    const reader = new PrometheusPullReader({ preventServerStart: true, ...options });
    const provider = new MeterProvider({ readers: [reader] });
    for (const [meterName, value] of [
      ['one', 1],
      ['two', 10],
    ] as const) {
      const meter = provider.getMeter(meterName);
      meter.createCounter('jobs').add(value, { queue: 'mail' });
      meter.createUpDownCounter('in_flight').add(value, { queue: 'mail' });
      meter.createGauge('temperature').record(value, { room: 'a' });
      meter.createHistogram('latency', { advice: { explicitBucketBoundaries: [5] } }).record(value, {
        queue: 'mail',
      });
    }
    provider.getMeter('two').createCounter('jobs').add(4, { queue: 'sms' }); // a series of one meter only
    const before = labelSetMergePasses.count;
    const text = await reader.getMetrics(format);
    await provider.shutdown();
    return { text, passes: labelSetMergePasses.count - before };
  }

  it.each(['prometheus', 'openmetrics'] as const)(
    'merges the same instrument of two meters written without scope labels (%s)',
    async (format) => {
      const { text, passes } = await twoMeters({ withoutScopeInfo: true }, format);
      expect(duplicateSamples(text)).toEqual([]);
      expect(passes).toBe(4); // one per family fed twice
      const withoutCreated = (lines: string[]) => lines.filter((line) => !line.includes('_created'));
      expect(withoutCreated(samplesOf(text, 'jobs_'))).toEqual([
        'jobs_total{queue="mail"} 11',
        'jobs_total{queue="sms"} 4',
      ]);
      expect(samplesOf(text, 'in_flight')).toEqual(['in_flight{queue="mail"} 11']);
      expect(samplesOf(text, 'temperature')).toEqual(['temperature{room="a"} 10']);
      expect(withoutCreated(samplesOf(text, 'latency')).sort()).toEqual(
        [
          'latency_bucket{queue="mail",le="5"} 1',
          'latency_bucket{queue="mail",le="+Inf"} 2',
          'latency_count{queue="mail"} 2',
          'latency_sum{queue="mail"} 11',
        ].sort(),
      );
      if (format === 'openmetrics') {
        expect(samplesOf(text, 'jobs_created')).toHaveLength(2);
        expect(samplesOf(text, 'latency_created')).toHaveLength(1);
      } else {
        forPromtool.add('one family fed by two meters without scope labels', text);
      }
    },
  );

  it('keeps the two meters apart, without a merge pass, when their scope labels tell them apart', async () => {
    const { text, passes } = await twoMeters({}, 'prometheus');
    expect(passes).toBe(0);
    expect(samplesOf(text, 'jobs_total')).toEqual([
      'jobs_total{queue="mail",otel_scope_name="one"} 1',
      'jobs_total{queue="mail",otel_scope_name="two"} 10',
      'jobs_total{queue="sms",otel_scope_name="two"} 4',
    ]);
    expect(samplesOf(text, 'temperature')).toEqual([
      'temperature{room="a",otel_scope_name="one"} 1',
      'temperature{room="a",otel_scope_name="two"} 10',
    ]);
  });

  it.each(['prometheus', 'openmetrics'] as const)(
    'merges two instruments of one meter whose names sanitize alike, scope labels and all (%s)',
    async (format) => {
      const reader = new PrometheusPullReader({ preventServerStart: true });
      const provider = new MeterProvider({ readers: [reader] });
      const meter = provider.getMeter('m');
      meter.createCounter('jobs.done').add(1, { queue: 'mail' });
      meter.createCounter('jobs_done').add(2, { queue: 'mail' });
      meter.createCounter('jobs_done').add(4, { queue: 'sms' });
      // With the in-metric kind on top: `code` as a number and as a string, in either instrument.
      meter.createCounter('jobs.done').add(8, { queue: 'mail', code: 200 });
      meter.createCounter('jobs_done').add(16, { queue: 'mail', code: '200' });
      const size = { advice: { explicitBucketBoundaries: [10, 100] } };
      meter.createHistogram('size.bytes', size).record(5, { queue: 'mail' });
      meter.createHistogram('size_bytes', size).record(50, { queue: 'mail' });
      const text = await reader.getMetrics(format);
      await provider.shutdown();
      expect(duplicateSamples(text)).toEqual([]);
      const scope = 'otel_scope_name="m"';
      expect(samplesOf(text, 'jobs_done_total')).toEqual([
        `jobs_done_total{queue="mail",${scope}} 3`,
        `jobs_done_total{queue="mail",code="200",${scope}} 24`,
        `jobs_done_total{queue="sms",${scope}} 4`,
      ]);
      expect(samplesOf(text, 'size_bytes_bucket')).toEqual([
        `size_bytes_bucket{queue="mail",${scope},le="10"} 1`,
        `size_bytes_bucket{queue="mail",${scope},le="100"} 2`,
        `size_bytes_bucket{queue="mail",${scope},le="+Inf"} 2`,
      ]);
      expect(samplesOf(text, 'size_bytes_sum')).toEqual([`size_bytes_sum{queue="mail",${scope}} 55`]);
      if (format === 'prometheus') forPromtool.add('one family fed by names that sanitize alike', text);
    },
  );

  it('merges across scopes that print the same scope labels: earliest _created, latest exemplar, shared bounds, and a gauge beside an up-down counter takes the larger', () => {
    const point = <T>(start: number, value: T, exemplars?: unknown[]) => ({
      startTime: [start, 0] as [number, number],
      endTime: [200, 0] as [number, number],
      attributes: { code: '200' },
      value,
      ...(exemplars ? { exemplars } : {}),
    });
    const descriptor = (name: string) => ({ name, description: 'd', unit: '', valueType: ValueType.DOUBLE });
    const cumulative = AggregationTemporality.CUMULATIVE;
    const scopeMetrics = (scope: { name: string; version?: string }, at: number, values: number[]) => ({
      scope,
      metrics: [
        {
          descriptor: descriptor('orders'),
          aggregationTemporality: cumulative,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: [point(at, values[0], [exemplar(values[0], at * 1000 + 100_000)])],
        },
        {
          descriptor: descriptor('size'),
          aggregationTemporality: cumulative,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [
            point(
              at,
              at === 100
                ? { buckets: { boundaries: [1, 2, 4], counts: [1, 1, 1, 1] }, sum: 10, count: 4 }
                : { buckets: { boundaries: [2, 4, 8], counts: [0, 2, 0, 1] }, sum: 20, count: 3 },
            ),
          ],
        },
        {
          descriptor: descriptor('level'),
          aggregationTemporality: cumulative,
          // The first scope's is an up-down counter, the second's a gauge: one gauge family.
          ...(at === 100
            ? { dataPointType: DataPointType.SUM, isMonotonic: false }
            : { dataPointType: DataPointType.GAUGE }),
          dataPoints: [point(at, values[1])],
        },
      ] as MetricData[],
    });
    const resourceMetrics: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        scopeMetrics({ name: 's' }, 100, [3, 4]),
        scopeMetrics({ name: 's' }, 50, [5, 9]), // another scope object, printed alike
        scopeMetrics({ name: 's', version: '2' }, 70, [100, 100]), // printed apart
      ],
    };
    const text = serializePrometheus(resourceMetrics, { format: 'openmetrics' });
    expect(duplicateSamples(text)).toEqual([]);
    const s = 'otel_scope_name="s"';
    const v2 = 'otel_scope_name="s",otel_scope_version="2"';
    const traced = (value: number, seconds: number) =>
      ` # {trace_id="${'a'.repeat(32)}",span_id="${'b'.repeat(16)}"} ${value} ${seconds}`;
    expect(samplesOf(text, 'orders')).toEqual([
      `orders_total{code="200",${s}} 8` + traced(3, 200), // the exemplar recorded last (at 200 s)
      `orders_created{code="200",${s}} 50`,
      `orders_total{code="200",${v2}} 100` + traced(100, 170),
      `orders_created{code="200",${v2}} 70`,
    ]);
    expect(samplesOf(text, 'size').slice(0, 6)).toEqual([
      `size_bucket{code="200",${s},le="2"} 2`,
      `size_bucket{code="200",${s},le="4"} 5`,
      `size_bucket{code="200",${s},le="+Inf"} 7`,
      `size_count{code="200",${s}} 7`,
      `size_sum{code="200",${s}} 30`,
      `size_created{code="200",${s}} 50`,
    ]);
    expect(samplesOf(text, 'level')).toEqual([`level{code="200",${s}} 9`, `level{code="200",${v2}} 100`]);
  });

  it.each([
    ['up-down, gauge, up-down', ['sum', 'gauge', 'sum']],
    ['up-down, up-down, gauge', ['sum', 'sum', 'gauge']],
    ['gauge, up-down, up-down', ['gauge', 'sum', 'sum']],
  ] as const)(
    'sums the up-down counters of a gauge family before taking the larger of them and the gauge, whatever the order (%s)',
    (_order, kinds) => {
      // The up-down counters hold 3 and 5, the gauge 4: the level is 3 + 5 = 8, in any order of the three scopes.
      const values = { sum: [3, 5], gauge: [4] };
      const next = { sum: 0, gauge: 0 };
      const resourceMetrics: ResourceMetrics = {
        resource: resourceFromAttributes({}),
        scopeMetrics: kinds.map((kind) => ({
          scope: { name: 's' }, // a scope object each, printed alike
          metrics: [
            {
              descriptor: { name: 'level', description: 'd', unit: '', valueType: ValueType.DOUBLE },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              ...(kind === 'sum'
                ? { dataPointType: DataPointType.SUM, isMonotonic: false }
                : { dataPointType: DataPointType.GAUGE }),
              dataPoints: [
                {
                  startTime: [100, 0],
                  endTime: [200, 0],
                  attributes: { code: '200' },
                  value: values[kind][next[kind]++],
                },
              ],
            } as MetricData,
          ],
        })),
      };
      const text = serializePrometheus(resourceMetrics, { format: 'prometheus' });
      expect(samplesOf(text, 'level')).toEqual(['level{code="200",otel_scope_name="s"} 8']);
    },
  );
});

describe('serializePrometheus output, checked by promtool', () => {
  itWithPromtool('every exposition the tests above produced passes promtool check metrics', () => {
    forPromtool.expectClean([
      'escaped label values and help',
      'reserved and invalid label names',
      'merged same-name families',
      'label sets printed alike',
      'one family fed by two meters without scope labels',
      'one family fed by names that sanitize alike',
    ]);
  });
});
