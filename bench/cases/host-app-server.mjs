/**
 * A demo-style shop server for the host-app row: plain node:http, a checkout page per request (a small HTML cart,
 * as the demo shop renders: ~2 KB, escaped product names, formatted prices) whose handler records business
 * events through the `businessMetrics` singleton, as the seed's code does, its duration timed by the package's
 * `httpMetricsMiddleware`, and `/metrics` mounted on the same server. With `metrics: false` the package is never initialised, so every record call is the no-op an app gets
 * before init: the app's code is identical in both variants.
 *
 * Owns: the server (127.0.0.1, free port), per-request events, and the self-check that every request's events
 * were exported. Must not touch: load generation (host-app-load.mjs), statistics.
 */
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DIST, loadPackage, parseExposition, require, sampleTotals } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const pkg = loadPackage();
const { businessMetrics, BUSINESS_METRICS: M, prometheusFamilyName } = pkg;
const STEPS = ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed'];
const SOURCES = ['direct', 'google', 'newsletter'];
const DEVICES = ['desktop', 'mobile'];
const TIERS = ['free', 'pro'];
const CATEGORIES = ['books', 'garden', 'toys'];
const PRODUCTS = Array.from({ length: 12 }, (_, i) => ({
  id: `p${i}`,
  name: `Product <${i}> & "friends"`,
  category: CATEGORIES[i % 3],
  priceCents: 499 + i * 350,
}));

const escapeHtml = (text) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch],
  );

/** The checkout page of request n: a cart of a few products, as the demo's views render it. */
function renderCart(n, step) {
  const lines = [];
  let total = 0;
  for (let k = 0; k < 4; k++) {
    const product = PRODUCTS[(n + k * 5) % PRODUCTS.length];
    const quantity = 1 + ((n + k) % 3);
    total += product.priceCents * quantity;
    lines.push(
      `<tr><td><a href="/product/${product.id}">${escapeHtml(product.name)}</a></td><td>${quantity}</td>` +
        `<td>${(product.priceCents / 100).toFixed(2)}</td></tr>`,
    );
  }
  return {
    total,
    html:
      `<!doctype html><html><head><title>Checkout: ${step}</title><link rel="stylesheet" href="/assets/shop.css">` +
      `</head><body><h1>Checkout</h1><table>${lines.join('')}</table><p>Total: ${(total / 100).toFixed(2)}</p>` +
      `<form method="post" action="/checkout/next"><button>Continue</button></form></body></html>`,
  };
}

/** The middleware as this build takes it; a build before `{ telemetry }` (a baseline twin) takes a meter. */
function timedBy(express, telemetry) {
  try {
    return express.httpMetricsMiddleware({ telemetry });
  } catch {
    return express.httpMetricsMiddleware({ meter: telemetry.meterProvider.getMeter('bench-shop') });
  }
}

/**
 * An OTLP/HTTP receiver on 127.0.0.1 that answers every export (`healthy`) or accepts connections and never
 * answers (`hangs`: a wedged Collector).
 */
async function startReceiver(kind) {
  const sockets = new Set();
  const server =
    kind === 'healthy'
      ? createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()))
      : createNetServer((socket) => sockets.add(socket.on('error', () => undefined)));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/metrics`,
    close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

serveCase(async ({ metrics, events = true, otlp }) => {
  // `otlp`: the app also pushes to a Collector that answers, or to one that never does (exports time out).
  const receiver = otlp ? await startReceiver(otlp) : undefined;
  const telemetry = metrics
    ? pkg.initBusinessMetrics({
        exporters: receiver ? ['prometheus', 'otlp'] : ['prometheus'],
        prometheus: { preventServerStart: true },
        ...(receiver && {
          otlp: { url: receiver.url, exportIntervalMillis: 500, exportTimeoutMillis: 250 },
        }),
        serviceName: 'bench-shop',
        env: {},
      })
    : undefined;
  // With metrics on, every request is also timed by the package's HTTP middleware, as an instrumented app's is
  // (plain node:http here: no Express route, so no http.route label).
  const express = telemetry ? require(join(dirname(DIST), 'integrations', 'express', 'index.js')) : undefined;
  const httpMetrics = express ? timedBy(express, telemetry) : undefined;
  const noop = () => undefined;
  let requests = 0;
  let orders = 0;
  const sessionStart = Date.now() - 90_000;
  // The load generator marks the start and end of its measured phase: the server's own CPU time per request in
  // between is the capacity measure (the load generator shares the machine, so throughput alone can be bound by
  // the client rather than the server).
  const marks = [];
  const server = createServer((req, res) => {
    httpMetrics?.(req, res, noop);
    const url = new URL(req.url, 'http://shop.local');
    if (url.pathname === '/__bench/mark') {
      const cpu = process.cpuUsage();
      marks.push({ cpuMicros: cpu.user + cpu.system, requests });
      return res.writeHead(204).end();
    }
    if (url.pathname === '/metrics') {
      if (!telemetry) return res.writeHead(404).end();
      return telemetry.metricsHandler(req, res);
    }
    if (url.pathname !== '/api/checkout') return res.writeHead(404).end();
    const n = requests++;
    const step = STEPS[n % STEPS.length];
    const source = url.searchParams.get('utm_source') ?? SOURCES[n % SOURCES.length];
    const deviceType = DEVICES[(n >> 1) % DEVICES.length];
    // A few business events per request, as a checkout handler records them.
    if (events) {
      businessMetrics.recordFunnelStep(step, { source, deviceType });
      businessMetrics.recordFeatureUsage('checkout', { userTier: TIERS[n % 2], isNewUser: n % 3 === 0 });
    }
    const page = renderCart(n, step);
    if (step === 'order_confirmed' && events) {
      orders++;
      businessMetrics.recordRevenue(page.total, {
        productCategory: CATEGORIES[n % 3],
        paymentMethod: 'card',
        region: 'eu',
      });
      businessMetrics.recordConversion('purchase', { source, deviceType, sessionStartTime: sessionStart });
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(page.html),
    });
    res.end(page.html);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: async () => ({ port: server.address().port }),
    async check(_operations, { expectedRequests }) {
      const wrong = [];
      if (requests < expectedRequests)
        wrong.push(`server saw ${requests} requests, load generator ${expectedRequests}`);
      if (marks.length !== 2) wrong.push(`expected 2 marks of the measured phase, got ${marks.length}`);
      const measured = marks.length === 2 ? marks[1].requests - marks[0].requests : 0;
      const cpuMicrosPerRequest = measured > 0 ? (marks[1].cpuMicros - marks[0].cpuMicros) / measured : NaN;
      let detail = `${requests} requests`;
      if (telemetry) {
        const samples = parseExposition(await telemetry.metrics.getMetrics());
        const funnel = sampleTotals(samples, prometheusFamilyName(M.funnelStep)).sum;
        const features = sampleTotals(samples, prometheusFamilyName(M.featureUsage)).sum;
        const conversions = sampleTotals(samples, prometheusFamilyName(M.conversions)).sum;
        const expectedEvents = events ? requests : 0;
        if (funnel !== expectedEvents) wrong.push(`funnel total ${funnel} != ${expectedEvents}`);
        if (features !== expectedEvents) wrong.push(`feature total ${features} != ${expectedEvents}`);
        if (conversions !== orders) wrong.push(`conversions ${conversions} != ${orders} orders`);
        const guarded =
          sampleTotals(samples, 'business_metrics_dropped_total').sum +
          sampleTotals(samples, 'business_metrics_label_overflow_total').sum;
        if (guarded !== 0) wrong.push(`${guarded} measurements relabelled or dropped`);
        if (receiver) {
          const failures = (exposition) =>
            exposition
              .filter((sample) => sample.name === 'business_metrics_export_failures_total')
              .filter((sample) => sample.labels.includes('exporter="otlp"'))
              .reduce((sum, sample) => sum + sample.value, 0);
          const during = failures(samples);
          // A run shorter than an export interval (smoke mode) has not pushed yet: one explicit push proves the
          // fault is real (it fails at the export timeout).
          await telemetry.forceFlush({ timeoutMillis: 1000 }).catch(() => undefined);
          const after = failures(parseExposition(await telemetry.metrics.getMetrics()));
          if (otlp === 'hangs' && after === 0) wrong.push('no export to the hanging Collector failed');
          if (otlp === 'healthy' && after !== 0)
            wrong.push(`${after} exports to the healthy Collector failed`);
          detail += `, failed otlp exports during the run=${during}`;
        }
        const timed = sampleTotals(samples, 'http_server_request_duration_seconds_count').sum;
        if (httpMetrics && timed < requests) wrong.push(`HTTP durations ${timed} < ${requests} requests`);
        detail += `, funnel=${funnel} features=${features} conversions=${conversions} http=${timed}`;
      }
      return wrong.length
        ? { ok: false, detail: wrong.join('; ') }
        : { ok: true, detail, cpuMicrosPerRequest };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await telemetry?.shutdown({ timeoutMillis: 1000 });
      await receiver?.close();
    },
  };
});
