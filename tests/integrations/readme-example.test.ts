/**
 * The Express example of docs/integrations.md, run for real (imports point at src/ instead of the package name;
 * the code between the markers is the doc's, verbatim), as a reader runs it: without METRICS_TOKEN (an open
 * /metrics) and with it (a bearer token).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { parseExposition, sumOf } from '../../examples/shop/server/exposition';
// The doc imports: 'otel-business-metrics' and 'otel-business-metrics/express'.
import express from 'express';
import { BUSINESS_METRICS, CheckoutTracker, initBusinessMetrics, prometheusFamilyName } from '../../src';
import {
  deriveSessionContext,
  engagementRouter,
  httpMetricsMiddleware,
  metricsMiddleware,
} from '../../src/integrations/express';

/** The doc's code, verbatim between the markers; returns what it built. */
function docsExample() {
  // --- README example start ---
  const telemetry = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true }, // serve /metrics on the app's own port instead
    serviceName: 'checkout',
  });

  const app = express();
  app.use(httpMetricsMiddleware({ telemetry }));
  // Revenue is sensitive: with METRICS_TOKEN set, /metrics asks for it (Prometheus sends it: credentials_file).
  const metricsToken = process.env.METRICS_TOKEN;
  app.get(
    '/metrics',
    metricsMiddleware(telemetry, metricsToken ? { auth: { bearerToken: metricsToken } } : {}),
  );
  app.use('/api/engagement', engagementRouter({ features: ['dashboard_export', 'search'] }));

  app.post('/api/checkout/complete', express.json(), (req, res) => {
    // In a real app, derive this once when the session starts and keep it in the session.
    const context = deriveSessionContext(req); // { source, deviceType, experimentVariant }
    const tracker = new CheckoutTracker({ ...context, sessionStartTime: new Date(Date.now() - 120_000) });
    const { orderValue, productCategory, paymentMethod, region } = req.body;
    try {
      // await processOrder(orderId);
      tracker.trackPurchaseComplete(orderValue, productCategory, paymentMethod, region);
      res.json({ success: true });
    } catch {
      tracker.trackCheckoutError();
      res.status(500).json({ success: false, error: 'Order failed' });
    }
  });
  // --- README example end ---
  return { telemetry, app };
}

describe.each([
  ['without METRICS_TOKEN', undefined],
  ['with METRICS_TOKEN', 'readme-token'],
])('docs/integrations.md Express example, %s', (_, token) => {
  let server: Server;
  let shutdown: () => Promise<void>;

  beforeAll(async () => {
    if (token === undefined) delete process.env.METRICS_TOKEN;
    else process.env.METRICS_TOKEN = token;
    const { telemetry, app } = docsExample();
    await telemetry.ready;
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    shutdown = () => telemetry.shutdown({ timeoutMillis: 2000 });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await shutdown();
    delete process.env.METRICS_TOKEN;
  });

  it('records the checkout with the derived context and serves it, behind the token when one is set', async () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const checkout = await fetch(`${base}/api/checkout/complete?utm_source=newsletter`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148',
        cookie: 'experiment_variant=A',
      },
      body: JSON.stringify({
        orderValue: 2599,
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu_west',
      }),
    });
    expect(await checkout.json()).toEqual({ success: true });
    const feature = await fetch(`${base}/api/engagement`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        session: { userTier: 'pro', entryPage: '/dashboard', isNewUser: false },
        events: [{ kind: 'feature', name: 'unlisted_feature' }],
      }),
    });
    expect(feature.status).toBe(400);

    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(token === undefined ? 200 : 401);
    const scrape =
      token === undefined
        ? anonymous
        : await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(scrape.status).toBe(200);
    const samples = parseExposition(await scrape.text());
    expect(
      sumOf(samples, prometheusFamilyName(BUSINESS_METRICS.funnelStep), {
        step: 'order_confirmed',
        source: 'newsletter',
        device_type: 'mobile',
        experiment_variant: 'A',
      }),
    ).toBe(1);
    expect(sumOf(samples, prometheusFamilyName(BUSINESS_METRICS.revenue), { region: 'eu_west' })).toBe(2599);
    expect(sumOf(samples, prometheusFamilyName(BUSINESS_METRICS.featureUsage))).toBe(0);
  });
});
