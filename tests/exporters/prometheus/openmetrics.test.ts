/**
 * OpenMetrics 1.0 output, content negotiation and gzip on both /metrics endpoints, and exponential histograms.
 * (The negotiation functions themselves: negotiation.test.ts.)
 * (Exemplars through a real Prometheus: exemplars.e2e.test.ts.)
 */
import { gunzipSync } from 'node:zlib';
import { request, type Server } from 'node:http';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import express from 'express';
import {
  exponentialAsExplicit,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_TEXT_CONTENT_TYPE,
  PrometheusPullReader,
  serializePrometheus,
} from '../../../src/exporters/prometheus';
import { metricsMiddleware } from '../../../src/integrations/express';
import { parseExposition } from '../../support/exposition';
import { checkMetrics, promtool } from '../../support/promtool';
import { PROMETHEUS_ACCEPT } from './fixture';

const itWithPromtool = promtool ? it : it.skip;
const START: [number, number] = [1_700_000_000, 250_000_000];
const END: [number, number] = [1_700_000_060, 0];
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function single(metrics: MetricData[]): ResourceMetrics {
  return { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'shop', version: '1.0' }, metrics }] };
}

function descriptor(name: string, unit: string, description = 'help') {
  return { name, unit, description, valueType: ValueType.DOUBLE };
}

const counter: MetricData = {
  descriptor: descriptor('orders', '{order}', 'Orders "placed"\\ by\nshoppers'),
  aggregationTemporality: AggregationTemporality.CUMULATIVE,
  dataPointType: DataPointType.SUM,
  isMonotonic: true,
  dataPoints: [
    {
      startTime: START,
      endTime: END,
      attributes: { region: 'eu "west"\n\\1' },
      value: 3,
      exemplars: [{ traceId: TRACE, spanId: SPAN, value: 1, timeUnixMs: 1_700_000_030_500 }],
    } as never,
    { startTime: START, endTime: END, attributes: { region: 'us' }, value: 2 },
  ],
};

const histogram: MetricData = {
  descriptor: descriptor('checkout.duration', 's'),
  aggregationTemporality: AggregationTemporality.CUMULATIVE,
  dataPointType: DataPointType.HISTOGRAM,
  dataPoints: [
    {
      startTime: START,
      endTime: END,
      attributes: {},
      value: { buckets: { boundaries: [1, 5], counts: [1, 2, 0] }, sum: 9.5, count: 3, min: 0.5, max: 4.5 },
      exemplars: [
        undefined,
        { traceId: TRACE, spanId: SPAN, value: 4.5, timeUnixMs: 1_700_000_031_000 },
        undefined,
      ],
    } as never,
  ],
};

const gauge: MetricData = {
  descriptor: descriptor('queue.depth', 'By'),
  aggregationTemporality: AggregationTemporality.CUMULATIVE,
  dataPointType: DataPointType.GAUGE,
  dataPoints: [{ startTime: START, endTime: END, attributes: {}, value: 7 }],
};

describe('OpenMetrics 1.0 serialization', () => {
  const text = serializePrometheus(single([counter, histogram, gauge]), {
    format: 'openmetrics',
    withoutTargetInfo: true,
    withoutScopeInfo: true,
  });

  it('is exactly the OpenMetrics text: _total samples, _created, exemplars, units only as name suffix, # EOF', () => {
    expect(text).toBe(
      [
        '# HELP orders Orders \\"placed\\"\\\\ by\\nshoppers',
        '# TYPE orders counter',
        'orders_total{region="eu \\"west\\"\\n\\\\1"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1 1700000030.5',
        'orders_created{region="eu \\"west\\"\\n\\\\1"} 1700000000.25',
        'orders_total{region="us"} 2',
        'orders_created{region="us"} 1700000000.25',
        '# HELP checkout_duration_seconds help',
        '# TYPE checkout_duration_seconds histogram',
        '# UNIT checkout_duration_seconds seconds',
        'checkout_duration_seconds_bucket{le="1"} 1',
        'checkout_duration_seconds_bucket{le="5"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 4.5 1700000031',
        'checkout_duration_seconds_bucket{le="+Inf"} 3',
        'checkout_duration_seconds_count 3',
        'checkout_duration_seconds_sum 9.5',
        'checkout_duration_seconds_created 1700000000.25',
        '# HELP queue_depth_bytes help',
        '# TYPE queue_depth_bytes gauge',
        '# UNIT queue_depth_bytes bytes',
        'queue_depth_bytes 7',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('leaves # UNIT out where the family name does not end with the unit (upstream naming), and in 0.0.4', () => {
    const upstream = serializePrometheus(single([histogram]), {
      format: 'openmetrics',
      metricNaming: 'upstream',
    });
    expect(upstream).toContain('# TYPE checkout_duration histogram\n');
    expect(upstream).not.toContain('# UNIT');
    const classic = serializePrometheus(single([counter, histogram]));
    expect(classic).not.toMatch(/_created|# EOF|trace_id/);
    expect(classic).toContain('# TYPE orders_total counter\n');
  });

  it('declares target_info as an info family and ends an empty exposition with # EOF alone', () => {
    expect(serializePrometheus(single([]), { format: 'openmetrics' })).toBe(
      '# HELP target Target metadata\n# TYPE target info\ntarget_info 1\n# EOF\n',
    );
    expect(serializePrometheus(single([]), { format: 'openmetrics', withoutTargetInfo: true })).toBe(
      '# EOF\n',
    );
  });
});

describe('exponential histograms', () => {
  const values = [0, 0.3, 3, 4, 12, 100, 1000];

  async function collectExponential(format: 'prometheus' | 'openmetrics') {
    const reader = new PrometheusPullReader({
      preventServerStart: true,
      withoutScopeInfo: true,
      withoutTargetInfo: true,
    });
    const provider = new MeterProvider({
      readers: [reader],
      views: [{ instrumentName: 'latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const latency = provider.getMeter('m').createHistogram('latency', { unit: 's' });
    for (const value of values) latency.record(value);
    const text = await reader.getMetrics(format);
    await provider.shutdown();
    return text;
  }

  it('are exported as classic histograms with exact cumulative counts, never as an empty family', async () => {
    const text = await collectExponential('prometheus');
    const family = parseExposition(text).family('latency_seconds');
    expect(family.type).toBe('histogram');
    const buckets = family.samples.filter((sample) => sample.name === 'latency_seconds_bucket');
    expect(buckets.length).toBeGreaterThan(3);
    for (const bucket of buckets) {
      const le = bucket.labels.le === '+Inf' ? Infinity : Number(bucket.labels.le);
      expect({ le, count: bucket.value }).toEqual({ le, count: values.filter((v) => v <= le).length });
    }
    expect(parseExposition(text).value('latency_seconds_count', {})).toBe(values.length);
    expect(parseExposition(text).value('latency_seconds_sum', {})).toBeCloseTo(1119.3, 6);
    expect(await collectExponential('openmetrics')).toMatch(
      /# TYPE latency_seconds histogram\n(.|\n)*# EOF\n$/,
    );
  });

  itWithPromtool('pass promtool check metrics', async () => {
    expect(checkMetrics(await collectExponential('prometheus'))).toEqual({ status: 0, output: '' });
  });

  it('convert negative buckets below le="0"', () => {
    const explicit = exponentialAsExplicit({
      count: 3,
      sum: -2.5,
      scale: 0,
      zeroCount: 1,
      negative: { offset: 1, bucketCounts: [1] }, // (-4, -2]
      positive: { offset: -1, bucketCounts: [1] }, // (0.5, 1]
    });
    expect(explicit.buckets).toEqual({ boundaries: [-2, 0, 1], counts: [1, 1, 1, 0] });
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function rawGet(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(['standalone', 'express'])('the %s /metrics endpoint', (kind) => {
  let reader: PrometheusPullReader;
  let provider: MeterProvider;
  let server: Server | undefined;
  let url: string;

  beforeAll(async () => {
    reader = new PrometheusPullReader({ port: 0, preventServerStart: kind === 'express' });
    provider = new MeterProvider({ readers: [reader] });
    const orders = provider.getMeter('shop').createCounter('orders');
    for (let i = 0; i < 300; i++) orders.add(1, { sku: `sku-${i}` });
    await reader.ready;
    if (kind === 'standalone') {
      url = reader.url;
      return;
    }
    const app = express();
    app.get('/metrics', metricsMiddleware(reader.metricsHandler));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  });
  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await provider.shutdown();
  });

  it('answers Prometheus (OpenMetrics + gzip) with a gzipped OpenMetrics body', async () => {
    const response = await rawGet(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers.vary).toBe('Accept, Accept-Encoding');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    const text = gunzipSync(response.body).toString('utf8');
    expect(text).toContain('# TYPE orders counter\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(response.body.length).toBeLessThan(Buffer.byteLength(text) / 5);
  });

  it('keeps 0.0.4 text, uncompressed, for a scraper that asks for neither', async () => {
    const response = await rawGet(url, {});
    expect(response.headers['content-type']).toBe(PROMETHEUS_TEXT_CONTENT_TYPE);
    expect(response.headers['content-encoding']).toBeUndefined();
    const text = response.body.toString('utf8');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    expect(text).toContain('# TYPE orders_total counter\n');
    expect(text).not.toContain('# EOF');
  });

  itWithPromtool('serves gzipped 0.0.4 text that promtool accepts', async () => {
    const response = await rawGet(url, { accept: 'text/plain', 'accept-encoding': 'gzip' });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(checkMetrics(gunzipSync(response.body).toString('utf8'))).toEqual({ status: 0, output: '' });
  });
});
