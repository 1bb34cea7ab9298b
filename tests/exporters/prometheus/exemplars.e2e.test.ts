/**
 * Exemplars end to end through a real Prometheus 2.42 with exemplar storage on: business methods run inside
 * spans of the real OTel trace SDK, Prometheus scrapes both /metrics endpoints (the standalone server and the
 * Express mount) as it does by default (asking for OpenMetrics, accepting gzip), and `/api/v1/query_exemplars`
 * returns the trace id of the span that recorded the value. The unit in Prometheus's metadata proves the scrape
 * was parsed as OpenMetrics (0.0.4 text cannot carry it into Prometheus).
 */
import type { Server } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { initBusinessMetrics, PROMETHEUS_FAMILIES, type BusinessMetricsHandle } from '../../../src';
import { metricsMiddleware } from '../../../src/integrations/express';
import { requireBinary } from '../../support/binaries';
import { startPrometheus, type PrometheusServer } from '../../support/prometheus-server';
import { waitUntil } from '../../support/wait';

const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const describeWithPrometheus = prometheusBinary ? describe : describe.skip;

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

describeWithPrometheus('exemplars through a real Prometheus (--enable-feature=exemplar-storage)', () => {
  let telemetry: BusinessMetricsHandle;
  let prometheus: PrometheusServer | undefined;
  let expressServer: Server;
  const spans = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager();
  let conversionTrace = '';
  let conversionSpan = '';
  let revenueTrace = '';
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

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    );
    telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { host: '127.0.0.1', port: 0 },
      serviceName: 'shop',
      env: {},
    });
    await telemetry.ready;
    const app = express();
    app.get('/metrics', metricsMiddleware(telemetry));
    expressServer = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const expressPort = (expressServer.address() as { port: number }).port;

    const tracer = trace.getTracer('checkout');
    tracer.startActiveSpan('POST /checkout', (span) => {
      telemetry.metrics.recordConversion('purchase', {
        source: 'email',
        deviceType: 'mobile',
        sessionStartTime: Date.now() - 42_000,
      });
      conversionTrace = span.spanContext().traceId;
      conversionSpan = span.spanContext().spanId;
      span.end();
    });
    tracer.startActiveSpan('POST /pay', (span) => {
      telemetry.metrics.recordRevenue(2599, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu',
      });
      revenueTrace = span.spanContext().traceId;
      span.end();
    });
    // Outside any span: counted, but no exemplar (checked below).
    telemetry.metrics.recordConversion('purchase', {
      source: 'direct',
      deviceType: 'desktop',
      sessionStartTime: Date.now() - 5_000,
    });

    const standalone = new URL(telemetry.prometheus!.url);
    prometheus = await startPrometheus(prometheusBinary!, {
      extraArgs: ['--enable-feature=exemplar-storage'],
      config: [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: standalone',
        `    metrics_path: ${standalone.pathname}`,
        '    static_configs:',
        `      - targets: ['${standalone.host}']`,
        '  - job_name: express',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${expressPort}']`,
      ].join('\n'),
    });
    await waitUntil(
      'Prometheus holds exemplars from both jobs',
      async () => {
        const found = await exemplarsOf(`${PROMETHEUS_FAMILIES.timeToConversion}_bucket`);
        const jobs = [...new Set(found.map((series) => series.seriesLabels.job))];
        return jobs.length === 2 || `jobs with exemplars: ${jobs.join(', ') || 'none'}`;
      },
      { timeoutMillis: 20_000, intervalMillis: 500 },
    );
  }, 40_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => expressServer?.close(resolve));
    await telemetry?.shutdown();
    trace.disable();
    context.disable();
  });

  it.each(['standalone', 'express'])(
    '%s endpoint: the time-to-conversion bucket exemplar carries the span that recorded it',
    async (job) => {
      const found = await exemplarsOf(`${PROMETHEUS_FAMILIES.timeToConversion}_bucket{job="${job}"}`);
      expect(found).toHaveLength(1);
      expect(found[0].seriesLabels).toMatchObject({ le: '60', conversion_type: 'purchase' });
      expect(found[0].exemplars).toHaveLength(1);
      expect(found[0].exemplars[0].labels).toEqual({ trace_id: conversionTrace, span_id: conversionSpan });
      expect(Number(found[0].exemplars[0].value)).toBeCloseTo(42, 0);
      // The recorded span is a real one the trace SDK exported.
      expect(spans.getFinishedSpans().map((span) => span.spanContext().traceId)).toContain(conversionTrace);
    },
  );

  it('counter samples carry exemplars too, only on the series recorded inside a span', async () => {
    const conversions = await exemplarsOf(`${PROMETHEUS_FAMILIES.conversions}{job="standalone"}`);
    expect(conversions.map((series) => series.seriesLabels.source)).toEqual(['email']);
    expect(conversions[0].exemplars[0].labels.trace_id).toBe(conversionTrace);
    const revenue = await exemplarsOf(`${PROMETHEUS_FAMILIES.revenue}{job="express"}`);
    expect(revenue[0].exemplars[0].labels.trace_id).toBe(revenueTrace);
    expect(Number(revenue[0].exemplars[0].value)).toBe(2599);
  });

  it('was scraped as OpenMetrics without errors: healthy targets and the unit in the metadata', async () => {
    const targets = await prometheus!.api<{
      data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
    }>('/api/v1/targets');
    expect(
      targets.data.activeTargets
        .map((t) => ({ job: t.labels.job, health: t.health, error: t.lastError }))
        .sort((a, b) => a.job.localeCompare(b.job)),
    ).toEqual([
      { job: 'express', health: 'up', error: '' },
      { job: 'standalone', health: 'up', error: '' },
    ]);
    const metadata = await prometheus!.api<{ data: Record<string, { type: string; unit: string }[]> }>(
      `/api/v1/metadata?metric=${PROMETHEUS_FAMILIES.timeToConversion}`,
    );
    expect(metadata.data[PROMETHEUS_FAMILIES.timeToConversion][0]).toMatchObject({
      type: 'histogram',
      unit: 'seconds',
    });
  });
});
