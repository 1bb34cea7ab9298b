/**
 * One cold start, run as its own `node` process by bench/cases/cold-start.mjs: load the library, set it up, record
 * one funnel step and serve it to one scrape (or send it once), then print one JSON line (peak RSS, CPU time) and
 * exit. Arguments: the variant, the package's dist/index.js, and for `ours-otlp` the OTLP/HTTP receiver's URL.
 *
 * The scrape comes from outside, as Prometheus's does: a pull variant prints `{"url": ...}` once it listens, the
 * parent scrapes that URL and then writes a line to this process's stdin, and the variant shuts down. (Scraping
 * itself with `fetch` loaded Node's undici, ~15 MiB of peak RSS that no real server pays; it was the ~11 MiB by
 * which the pull-only variant exceeded `ours-otlp`, which sends with node:http.)
 *
 * - `ours`: `require` + `initBusinessMetrics({ exporters: ['prometheus'] })` on its own server (port 0), the
 *   pull-only configuration;
 * - `ours-otlp`: `require` + `initBusinessMetrics({ exporters: ['otlp'] })` + one export (forceFlush);
 * - `prom-client`: `require('prom-client')` + a Registry with the same counter (no collectDefaultMetrics) served
 *   by a node:http server;
 * - `raw-sdk`: `require` of the SDK and its Prometheus exporter (mounted on a node:http server, since its own
 *   port 0 means 9464) + the same counter.
 *
 * Owns: what each variant does in its one life. Must not touch: wall time (the parent measures the process).
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:http';

const [variant, dist, otlpUrl] = process.argv.slice(2);
const require = createRequire(dist);
const LABELS = { step: 'cart_view', source: 'google', device_type: 'mobile', experiment_variant: 'control' };

/** Tells the parent where to scrape, and resolves when it says it has scraped. */
function scrapedFromOutside(url) {
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  return new Promise((resolve) => process.stdin.once('data', resolve));
}

async function serveOnce(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  await scrapedFromOutside(`http://127.0.0.1:${server.address().port}/metrics`);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const VARIANTS = {
  async ours() {
    const { initBusinessMetrics, businessMetrics } = require(dist);
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { host: '127.0.0.1', port: 0 },
      serviceName: 'cold-start',
      env: {},
    });
    await telemetry.ready;
    businessMetrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
    await scrapedFromOutside(telemetry.prometheus.url);
    await telemetry.shutdown();
  },
  async 'ours-otlp'() {
    const { initBusinessMetrics, businessMetrics } = require(dist);
    const telemetry = initBusinessMetrics({
      exporters: ['otlp'],
      otlp: { url: otlpUrl },
      serviceName: 'cold-start',
      env: {},
    });
    businessMetrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
    await telemetry.forceFlush();
    await telemetry.shutdown();
    // What the receiver got is checked by the parent (it counts the pushes that carry the step).
  },
  async 'prom-client'() {
    const client = require('prom-client');
    const registry = new client.Registry();
    const counter = new client.Counter({
      name: 'business_funnel_step_total',
      help: 'Funnel steps',
      labelNames: Object.keys(LABELS),
      registers: [registry],
    });
    counter.inc(LABELS);
    await serveOnce(async (req, res) => {
      res.setHeader('Content-Type', registry.contentType);
      res.end(await registry.metrics());
    });
  },
  async 'raw-sdk'() {
    const { MeterProvider } = require('@opentelemetry/sdk-metrics');
    const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    provider.getMeter('cold-start').createCounter('business_funnel_step').add(1, LABELS);
    await serveOnce((req, res) => exporter.getMetricsRequestHandler(req, res));
    await provider.shutdown();
  },
};

await VARIANTS[variant]();
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ maxRssKb: usage.maxRSS, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 })}\n`,
);
