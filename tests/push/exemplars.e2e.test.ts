/**
 * Exemplars over OTLP end to end, on real processes: business methods run inside spans of the real OTel trace SDK
 * in an app that pushes to our Collector; Prometheus 3 (exemplar storage on) then returns, from
 * `/api/v1/query_exemplars`, the trace and span ids of the span that recorded the value, on the counter series and
 * on the histogram bucket the value fell in, and nothing on a series recorded outside any span. Two Collector paths:
 *   remote write  each OTLP protocol (http/protobuf, http/json, gRPC) into the shipped collector-gateway.yaml, whose
 *                 prometheus_remote_write exporter writes into Prometheus 3 (one Collector and one Prometheus serve
 *                 the three protocols; each app is told apart by its service.instance.id, the `instance` label);
 *   scrape        the default single-Collector path: http/protobuf into the shipped collector.yaml, whose prometheus
 *                 exporter Prometheus 3 scrapes, once with its default negotiation (OpenMetrics first: exemplars
 *                 only because collector.yaml turns OpenMetrics on) and once with the shipped stack's
 *                 created-timestamp flag (protobuf first, which carries them either way).
 */
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type InitOptions } from '../../src';
import { REPO, requireGoBinary, startCollector, type Collector } from '../support/go-binaries';
import { freePort } from '../support/ports';
import { supervise, type Supervised } from '../support/processes';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';

const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const describeE2e = otelcol && prometheus3 ? describe : describe.skip;

const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
type Protocol = (typeof PROTOCOLS)[number];
const instanceOf = (protocol: Protocol) => `shop-${protocol.replace(/\W/g, '-')}`;

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/** The spans one app recorded in: the conversion (its time to conversion is 42 s) and the order of 2599 cents. */
interface Recorded {
  conversion: { traceId: string; spanId: string };
  order: { traceId: string; spanId: string };
}

const spans = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
const startSeconds = Math.floor(Date.now() / 1000) - 60;

async function exemplarsOf(prometheus: PrometheusServer, selector: string): Promise<ExemplarResult[]> {
  const body = await prometheus.api<{ status: string; data: ExemplarResult[]; error?: string }>(
    `/api/v1/query_exemplars?query=${encodeURIComponent(selector)}&start=${startSeconds}&end=${
      Math.ceil(Date.now() / 1000) + 60
    }`,
  );
  if (body.status !== 'success') throw new Error(`${selector}: ${body.error}`);
  return body.data;
}

/**
 * Records the workload inside spans as app `instance` and pushes it once with `otlp`; resolves once the export was
 * answered (it rejects if the Collector did not accept it).
 */
async function recordAndPush(instance: string, otlp: NonNullable<InitOptions['otlp']>): Promise<Recorded> {
  const handle = initBusinessMetrics({
    exporters: ['otlp'],
    serviceName: 'shop',
    resourceAttributes: { 'service.instance.id': instance },
    // Only the flush below exports.
    otlp: { exportIntervalMillis: 600_000, ...otlp },
    env: {},
  });
  try {
    const metrics = handle.metrics;
    const tracer = trace.getTracer('checkout');
    const conversion = tracer.startActiveSpan('POST /checkout', (span) => {
      metrics.recordConversion('purchase', {
        source: 'email',
        deviceType: 'mobile',
        sessionStartTime: Date.now() - 42_000,
      });
      span.end();
      return span.spanContext();
    });
    const order = tracer.startActiveSpan('POST /pay', (span) => {
      metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
      span.end();
      return span.spanContext();
    });
    // Outside any span: counted, no exemplar.
    metrics.recordConversion('purchase', {
      source: 'direct',
      deviceType: 'desktop',
      sessionStartTime: Date.now(),
    });
    await handle.forceFlush();
    return {
      conversion: { traceId: conversion.traceId, spanId: conversion.spanId },
      order: { traceId: order.traceId, spanId: order.spanId },
    };
  } finally {
    await handle.shutdown();
  }
}

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
});

afterAll(() => {
  trace.disable();
  context.disable();
});

describeE2e('exemplars over OTLP, through the gateway Collector, remote-written into Prometheus 3', () => {
  let prometheus: PrometheusServer | undefined;
  let gateway: Supervised | undefined;
  const recorded = new Map<Protocol, Recorded>();

  beforeAll(async () => {
    prometheus = await startPrometheus(prometheus3!, {
      config: 'global:\n  evaluation_interval: 15s\n',
      extraArgs: ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage'],
    });
    const [grpc, http, health] = [await freePort(), await freePort(), await freePort()];
    gateway = await supervise(
      'the gateway Collector',
      otelcol!,
      ['--config', join(REPO, 'otel-collector', 'collector-gateway.yaml')],
      {
        OBM_GATEWAY_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        OBM_GATEWAY_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        OBM_GATEWAY_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        OBM_GATEWAY_REMOTE_WRITE_URL: `${prometheus.url}/api/v1/write`,
      },
      `http://127.0.0.1:${health}/`,
    );
    for (const protocol of PROTOCOLS) {
      recorded.set(
        protocol,
        await recordAndPush(instanceOf(protocol), {
          protocol,
          url: protocol === 'grpc' ? `http://127.0.0.1:${grpc}` : `http://127.0.0.1:${http}/v1/metrics`,
        }),
      );
    }
    // The gateway batches for up to a second before it writes.
    await waitUntil(
      'Prometheus holds the exemplars of every protocol',
      async () => {
        const found = await exemplarsOf(prometheus!, `${PROMETHEUS_FAMILIES.timeToConversion}_bucket`);
        const instances = new Set(found.map((series) => series.seriesLabels.instance));
        const missing = PROTOCOLS.filter((protocol) => !instances.has(instanceOf(protocol)));
        return missing.length === 0 || `none yet from ${missing.join(', ')}`;
      },
      { timeoutMillis: 30_000, intervalMillis: 250, context: (missing) => `${missing}\n${gateway!.log()}` },
    );
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await prometheus?.stop();
  }, 30_000);

  describe.each(PROTOCOLS)('%s', (protocol) => {
    const instance = `instance="${instanceOf(protocol)}"`;

    it('the time-to-conversion bucket the value fell in carries the span that recorded it', async () => {
      const { conversion } = recorded.get(protocol)!;
      const found = await exemplarsOf(
        prometheus!,
        `${PROMETHEUS_FAMILIES.timeToConversion}_bucket{${instance}}`,
      );
      expect(found).toHaveLength(1);
      expect(found[0].seriesLabels).toMatchObject({ le: '60', conversion_type: 'purchase', job: 'shop' });
      expect(found[0].exemplars).toHaveLength(1);
      expect(found[0].exemplars[0].labels).toEqual({
        trace_id: conversion.traceId,
        span_id: conversion.spanId,
      });
      expect(Number(found[0].exemplars[0].value)).toBeCloseTo(42, 0);
      // The span is a real one the trace SDK exported.
      expect(spans.getFinishedSpans().map((span) => span.spanContext().spanId)).toContain(conversion.spanId);
    });

    it('counter series carry theirs too, only the ones recorded inside a span', async () => {
      const { conversion, order } = recorded.get(protocol)!;
      const conversions = await exemplarsOf(prometheus!, `${PROMETHEUS_FAMILIES.conversions}{${instance}}`);
      expect(conversions.map((series) => series.seriesLabels.source)).toEqual(['email']);
      expect(conversions[0].exemplars.map((exemplar) => [exemplar.labels, Number(exemplar.value)])).toEqual([
        [{ trace_id: conversion.traceId, span_id: conversion.spanId }, 1],
      ]);
      const revenue = await exemplarsOf(prometheus!, `${PROMETHEUS_FAMILIES.revenue}{${instance}}`);
      expect(revenue.map((series) => series.exemplars.map((e) => [e.labels, Number(e.value)]))).toEqual([
        [[{ trace_id: order.traceId, span_id: order.spanId }, 2599]],
      ]);
      const orders = await exemplarsOf(prometheus!, `${PROMETHEUS_FAMILIES.orderValue}_bucket{${instance}}`);
      expect(orders.map((series) => [series.seriesLabels.le, series.exemplars[0].labels.trace_id])).toEqual([
        ['5000', order.traceId],
      ]);
    });
  });
});

/**
 * How a Prometheus scrapes the Collector decides the format: with its default negotiation it asks for OpenMetrics
 * first, and the exporter answers in text 0.0.4 (no exemplar syntax) unless `enable_open_metrics` is on; with
 * created-timestamp-zero-ingestion (docker-compose.yml, `npm run stack`) it asks for protobuf first, which the
 * exporter always serves, exemplars included.
 */
const SCRAPERS = [
  { name: 'default negotiation (OpenMetrics)', flags: [] },
  {
    name: "the shipped stack's flags (protobuf)",
    flags: ['--enable-feature=created-timestamp-zero-ingestion'],
  },
] as const;

describeE2e(
  "exemplars over OTLP, through collector.yaml's prometheus exporter, scraped by Prometheus 3",
  () => {
    const instance = 'shop-scraped';
    let collector: Collector | undefined;
    const scrapers = new Map<string, PrometheusServer>();
    let recorded: Recorded;

    beforeAll(async () => {
      collector = await startCollector(otelcol!);
      // As otel-collector/prometheus/prometheus.yml scrapes the Collector (honor_labels), every second.
      const config = [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: otel-collector',
        '    honor_labels: true',
        '    static_configs:',
        `      - targets: ['${collector.metricsTarget}']`,
        '',
      ].join('\n');
      for (const { name, flags } of SCRAPERS) {
        scrapers.set(
          name,
          await startPrometheus(prometheus3!, {
            config,
            extraArgs: ['--enable-feature=exemplar-storage', ...flags],
          }),
        );
      }
      recorded = await recordAndPush(instance, {
        protocol: 'http/protobuf',
        url: `${collector.httpUrl}/v1/metrics`,
      });
      // The batch processor holds the push for up to 5 s. A scrape stores a sample's exemplars with the sample, and
      // the one export reaches the exporter in one batch: once a Prometheus holds these series, it holds whatever
      // exemplars the exporter served with them.
      const pushed = [
        `${PROMETHEUS_FAMILIES.timeToConversion}_bucket`,
        PROMETHEUS_FAMILIES.conversions,
        PROMETHEUS_FAMILIES.revenue,
        `${PROMETHEUS_FAMILIES.orderValue}_bucket`,
      ];
      await waitUntil(
        'every Prometheus scraped the pushed series',
        async () => {
          for (const [name, prometheus] of scrapers) {
            for (const family of pushed) {
              const body = await prometheus.api<{ data: { result: unknown[] } }>(
                `/api/v1/query?query=${encodeURIComponent(`${family}{instance="${instance}"}`)}`,
              );
              if (body.data.result.length === 0) return `${name}: no ${family} yet`;
            }
          }
          return undefined;
        },
        { context: (missing) => `${missing}\n${collector!.log()}` },
      );
    }, 120_000);

    afterAll(async () => {
      await Promise.all([...scrapers.values()].map((prometheus) => prometheus.stop()));
      await collector?.stop();
    }, 30_000);

    describe.each(SCRAPERS.map(({ name }) => name))('%s', (name) => {
      const selector = (family: string) => `${family}{instance="${instance}"}`;

      it('shows the span on the bucket the value fell in and on the counter series recorded inside spans', async () => {
        const prometheus = scrapers.get(name)!;
        const { conversion, order } = recorded;
        const buckets = await exemplarsOf(
          prometheus,
          selector(`${PROMETHEUS_FAMILIES.timeToConversion}_bucket`),
        );
        expect(buckets.map((series) => [Number(series.seriesLabels.le), series.exemplars.length])).toEqual([
          [60, 1],
        ]);
        expect(buckets[0].exemplars[0].labels).toEqual({
          trace_id: conversion.traceId,
          span_id: conversion.spanId,
        });
        expect(Number(buckets[0].exemplars[0].value)).toBeCloseTo(42, 0);
        const conversions = await exemplarsOf(prometheus, selector(PROMETHEUS_FAMILIES.conversions));
        expect(
          conversions.map((series) => [
            series.seriesLabels.source,
            series.exemplars.map((e) => [e.labels, Number(e.value)]),
          ]),
        ).toEqual([['email', [[{ trace_id: conversion.traceId, span_id: conversion.spanId }, 1]]]]);
        const revenue = await exemplarsOf(prometheus, selector(PROMETHEUS_FAMILIES.revenue));
        expect(revenue.map((series) => series.exemplars.map((e) => [e.labels, Number(e.value)]))).toEqual([
          [[{ trace_id: order.traceId, span_id: order.spanId }, 2599]],
        ]);
        const orders = await exemplarsOf(prometheus, selector(`${PROMETHEUS_FAMILIES.orderValue}_bucket`));
        expect(
          orders.map((series) => [Number(series.seriesLabels.le), series.exemplars[0].labels.trace_id]),
        ).toEqual([[5000, order.traceId]]);
      });

      it("adds no series: no _created, the seed's names and target_info, a healthy target", async () => {
        const prometheus = scrapers.get(name)!;
        const names = await prometheus.api<{ data: string[] }>(
          `/api/v1/label/__name__/values?match[]=${encodeURIComponent(`{instance="${instance}"}`)}`,
        );
        expect(names.data.filter((metric) => metric.endsWith('_created'))).toEqual([]);
        expect(names.data).toEqual(
          expect.arrayContaining([
            PROMETHEUS_FAMILIES.conversions,
            PROMETHEUS_FAMILIES.revenue,
            `${PROMETHEUS_FAMILIES.orderValue}_bucket`,
            'target_info',
          ]),
        );
        const up = await prometheus.api<{ data: { result: Array<{ value: [number, string] }> } }>(
          `/api/v1/query?query=${encodeURIComponent('up{job="otel-collector"}')}`,
        );
        expect(up.data.result.map((sample) => sample.value[1])).toEqual(['1']);
      });
    });
  },
);
