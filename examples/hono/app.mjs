// The seed's checkout funnel on Hono 4 with @hono/node-server (run: npm run build && node examples/hono/app.mjs).
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { CheckoutTracker, initBusinessMetrics, installShutdownHooks } from 'otel-business-metrics';
import {
  deriveSessionContext,
  engagementHandler,
  httpMetricsMiddleware,
  metricsHandler,
} from 'otel-business-metrics/fetch';

const telemetry = initBusinessMetrics({
  exporters: ['prometheus'],
  prometheus: { preventServerStart: true }, // /metrics is a route of this app
  serviceName: 'hono-shop',
});
installShutdownHooks(telemetry);

const token = process.env.METRICS_TOKEN;
const metrics = metricsHandler({ telemetry, auth: token ? { bearerToken: token } : undefined });
const engagement = engagementHandler({ features: ['size_guide', 'search'], milestones: ['first_purchase'] });

const app = new Hono();
app.use(httpMetricsMiddleware({ telemetry })); // http.route is the pattern Hono matched
app.all('/metrics', (c) => metrics(c.req.raw));
// Rate-limited per client: Hono's connection info knows the address (behind a proxy, use its header instead).
app.all('/api/engagement', (c) => engagement.forClient(c.req.raw, getConnInfo(c).remote.address));

// One route per funnel step: POST /api/checkout/cart, shipping, payment, review, complete.
app.post('/api/checkout/:step', async (c) => {
  // In a real app, derive this once when the session starts and keep it in the session.
  const context = deriveSessionContext(c.req.raw); // { source, deviceType, experimentVariant }
  const tracker = new CheckoutTracker({ ...context, sessionStartTime: new Date(Date.now() - 120_000) });
  const body = await c.req.json().catch(() => ({}));
  const step = c.req.param('step');
  if (step === 'cart') tracker.trackCartView(body.cartValueCents, body.itemCount);
  else if (step === 'shipping') tracker.trackShippingInfo();
  else if (step === 'payment') tracker.trackPaymentInfo(body.paymentMethod);
  else if (step === 'review') tracker.trackOrderReview();
  else if (step === 'complete')
    tracker.trackPurchaseComplete(body.orderValue, body.productCategory, body.paymentMethod, body.region);
  else return c.json({ error: 'no such step' }, 404);
  return c.json({ success: true });
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3004), hostname: '127.0.0.1' }, (info) =>
  console.log(`Hono shop at http://127.0.0.1:${info.port}, metrics at /metrics`),
);
