/**
 * Exemplars over OTLP end to end, on real processes: business methods run inside spans of the real OTel trace SDK
 * in an app that pushes over each OTLP protocol (http/protobuf, http/json, gRPC) to our Collector running the
 * shipped collector-gateway.yaml, whose prometheus_remote_write exporter writes into Prometheus 3 (remote-write
 * receiver, exemplar storage on); `/api/v1/query_exemplars` then returns, for each protocol's instance, the trace
 * and span ids of the span that recorded the value, on the counter series and on the histogram bucket the value
 * fell in, and nothing on a series recorded outside any span. One Collector and one Prometheus serve the three
 * protocols; each app is told apart by its service.instance.id (the `instance` label).
 */
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../src';
import { REPO, requireGoBinary } from '../support/go-binaries';
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

describeE2e('exemplars over OTLP, through the Collector, into Prometheus 3', () => {
  let prometheus: PrometheusServer | undefined;
  let gateway: Supervised | undefined;
  let handle: BusinessMetricsHandle | undefined;
  const spans = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager();
  const recorded = new Map<Protocol, Recorded>();
  const startSeconds = Math.floor(Date.now() / 1000) - 60;

  const exemplarsOf = async (selector: string): Promise<ExemplarResult[]> => {
    const body = await prometheus!.api<{ status: string; data: ExemplarResult[]; error?: string }>(
      `/api/v1/query_exemplars?query=${encodeURIComponent(selector)}&start=${startSeconds}&end=${
        Math.ceil(Date.now() / 1000) + 60
      }`,
    );
    if (body.status !== 'success') throw new Error(`${selector}: ${body.error}`);
    return body.data;
  };

  /** Records the workload inside spans and pushes it once over `protocol`; the export is answered when it returns. */
  async function pushOver(protocol: Protocol, otlpHttp: string, otlpGrpc: string): Promise<Recorded> {
    handle = initBusinessMetrics({
      exporters: ['otlp'],
      serviceName: 'shop',
      resourceAttributes: { 'service.instance.id': instanceOf(protocol) },
      // Only the flushes below export.
      otlp: {
        protocol,
        url: protocol === 'grpc' ? otlpGrpc : `${otlpHttp}/v1/metrics`,
        exportIntervalMillis: 600_000,
      },
      env: {},
    });
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
    // Rejects if the Collector did not accept the export.
    await handle.forceFlush();
    await handle.shutdown();
    handle = undefined;
    return {
      conversion: { traceId: conversion.traceId, spanId: conversion.spanId },
      order: { traceId: order.traceId, spanId: order.spanId },
    };
  }

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    );
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
        await pushOver(protocol, `http://127.0.0.1:${http}`, `http://127.0.0.1:${grpc}`),
      );
    }
    // The gateway batches for up to a second before it writes.
    await waitUntil(
      'Prometheus holds the exemplars of every protocol',
      async () => {
        const found = await exemplarsOf(`${PROMETHEUS_FAMILIES.timeToConversion}_bucket`);
        const instances = new Set(found.map((series) => series.seriesLabels.instance));
        const missing = PROTOCOLS.filter((protocol) => !instances.has(instanceOf(protocol)));
        return missing.length === 0 || `none yet from ${missing.join(', ')}`;
      },
      { timeoutMillis: 30_000, intervalMillis: 250, context: (missing) => `${missing}\n${gateway!.log()}` },
    );
  }, 120_000);

  afterAll(async () => {
    await handle?.shutdown();
    await gateway?.stop();
    await prometheus?.stop();
    trace.disable();
    context.disable();
  }, 30_000);

  describe.each(PROTOCOLS)('%s', (protocol) => {
    const instance = `instance="${instanceOf(protocol)}"`;

    it('the time-to-conversion bucket the value fell in carries the span that recorded it', async () => {
      const { conversion } = recorded.get(protocol)!;
      const found = await exemplarsOf(`${PROMETHEUS_FAMILIES.timeToConversion}_bucket{${instance}}`);
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
      const conversions = await exemplarsOf(`${PROMETHEUS_FAMILIES.conversions}{${instance}}`);
      expect(conversions.map((series) => series.seriesLabels.source)).toEqual(['email']);
      expect(conversions[0].exemplars.map((exemplar) => [exemplar.labels, Number(exemplar.value)])).toEqual([
        [{ trace_id: conversion.traceId, span_id: conversion.spanId }, 1],
      ]);
      const revenue = await exemplarsOf(`${PROMETHEUS_FAMILIES.revenue}{${instance}}`);
      expect(revenue.map((series) => series.exemplars.map((e) => [e.labels, Number(e.value)]))).toEqual([
        [[{ trace_id: order.traceId, span_id: order.spanId }, 2599]],
      ]);
      const orders = await exemplarsOf(`${PROMETHEUS_FAMILIES.orderValue}_bucket{${instance}}`);
      expect(orders.map((series) => [series.seriesLabels.le, series.exemplars[0].labels.trace_id])).toEqual([
        ['5000', order.traceId],
      ]);
    });
  });
});
