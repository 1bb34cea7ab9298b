/**
 * The code examples of docs/prometheus.md, run as written; only the import path differs (the docs import from
 * 'otel-business-metrics').
 */
import { createServer, type IncomingMessage } from 'node:http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusPullReader, serializePrometheus } from '../../../src/exporters/prometheus';
import { parseExposition } from '../../support/exposition';
import { freePort } from '../../support/prometheus-server';
import { httpRequest } from '../../support/http';

describe('docs/prometheus.md: Prometheus exporter examples', () => {
  it('standalone endpoint with a bearer token on an ephemeral port', async () => {
    process.env.METRICS_TOKEN = 'readme-token';
    // --- README example 1 ---
    const reader = new PrometheusPullReader({ port: 0, auth: { bearerToken: process.env.METRICS_TOKEN! } });
    const meterProvider = new MeterProvider({ readers: [reader] });
    await reader.ready; // rejects with e.g. "... could not listen on 127.0.0.1:9464: address already in use (EADDRINUSE)"
    meterProvider
      .getMeter('shop')
      .createHistogram('http.server.request.duration', { unit: 's' })
      .record(0.12);
    // --- end ---
    const scrape = await httpRequest(reader.url, { headers: { authorization: 'Bearer readme-token' } });
    expect(scrape.status).toBe(200);
    expect(parseExposition(scrape.body).value('http_server_request_duration_seconds_count')).toBe(1);
    expect((await httpRequest(reader.url)).status).toBe(401);
    await meterProvider.shutdown();
    delete process.env.METRICS_TOKEN;
  });

  it("mounted on the app's own server behind the app's auth", async () => {
    const isAdmin = (req: IncomingMessage) => req.headers['x-role'] === 'admin';
    // --- README example 2 ---
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const server = createServer((req, res) => {
      if (req.url === '/internal/metrics' && isAdmin(req)) return reader.metricsHandler(req, res);
      res.writeHead(404).end();
    });
    // --- end ---
    meterProvider.getMeter('shop').createCounter('orders').add(2);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${port}/internal/metrics`;
      expect((await httpRequest(url)).status).toBe(404);
      const scrape = await httpRequest(url, { headers: { 'x-role': 'admin' } });
      expect(parseExposition(scrape.body).value('orders_total')).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await meterProvider.shutdown();
    }
  });

  it('serializing collected metrics yourself', async () => {
    const reader = new PrometheusPullReader({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [reader] });
    meterProvider.getMeter('shop').createUpDownCounter('queue.size', { unit: '{job}' }).add(3);
    // --- README example 3 ---
    const { resourceMetrics } = await reader.collect();
    const text = serializePrometheus(resourceMetrics, { withoutTargetInfo: true, metricNaming: 'collector' });
    // --- end ---
    expect(text).toContain('# TYPE queue_size gauge\nqueue_size{otel_scope_name="shop"} 3\n');
    expect(await reader.getMetrics()).toContain('target_info');
    await meterProvider.shutdown();
  });
});
