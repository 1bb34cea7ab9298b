/**
 * A demo-style shop server for the host-app row: plain node:http, a JSON API whose handlers record business
 * events through the `businessMetrics` singleton, as the seed's code does, and `/metrics` mounted on the same
 * server. With `metrics: false` the package is never initialised, so every record call is the no-op an app gets
 * before init: the app's code is identical in both variants.
 *
 * Owns: the server (127.0.0.1, free port), per-request events, and the self-check that every request's events
 * were exported. Must not touch: load generation (host-app-load.mjs), statistics.
 */
import { createServer } from 'node:http';
import { loadPackage, parseExposition, sampleTotals } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const pkg = loadPackage();
const { businessMetrics, BUSINESS_METRICS: M, prometheusFamilyName } = pkg;
const STEPS = ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed'];
const SOURCES = ['direct', 'google', 'newsletter'];
const DEVICES = ['desktop', 'mobile'];
const TIERS = ['free', 'pro'];
const CATEGORIES = ['books', 'garden', 'toys'];

serveCase(async ({ metrics }) => {
  const telemetry = metrics
    ? pkg.initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus: { preventServerStart: true },
        serviceName: 'bench-shop',
        env: {},
      })
    : undefined;
  let requests = 0;
  let orders = 0;
  const sessionStart = Date.now() - 90_000;
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://shop.local');
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
    businessMetrics.recordFunnelStep(step, { source, deviceType });
    businessMetrics.recordFeatureUsage('checkout', { userTier: TIERS[n % 2], isNewUser: n % 3 === 0 });
    let order;
    if (step === 'order_confirmed') {
      orders++;
      const amount = 1000 + (n % 7) * 250;
      businessMetrics.recordRevenue(amount, {
        productCategory: CATEGORIES[n % 3],
        paymentMethod: 'card',
        region: 'eu',
      });
      businessMetrics.recordConversion('purchase', { source, deviceType, sessionStartTime: sessionStart });
      order = { id: `o-${n}`, amount };
    }
    const body = JSON.stringify({ ok: true, step, next: STEPS[(n + 1) % STEPS.length], order });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: async () => ({ port: server.address().port }),
    async check(_operations, { expectedRequests }) {
      const wrong = [];
      if (requests < expectedRequests)
        wrong.push(`server saw ${requests} requests, load generator ${expectedRequests}`);
      let detail = `${requests} requests`;
      if (telemetry) {
        const samples = parseExposition(await telemetry.metrics.getMetrics());
        const funnel = sampleTotals(samples, prometheusFamilyName(M.funnelStep)).sum;
        const features = sampleTotals(samples, prometheusFamilyName(M.featureUsage)).sum;
        const conversions = sampleTotals(samples, prometheusFamilyName(M.conversions)).sum;
        if (funnel !== requests) wrong.push(`funnel total ${funnel} != ${requests} requests`);
        if (features !== requests) wrong.push(`feature total ${features} != ${requests} requests`);
        if (conversions !== orders) wrong.push(`conversions ${conversions} != ${orders} orders`);
        detail += `, funnel=${funnel} features=${features} conversions=${conversions}`;
      }
      return wrong.length ? { ok: false, detail: wrong.join('; ') } : { ok: true, detail };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await telemetry?.shutdown();
    },
  };
});
