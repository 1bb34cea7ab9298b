// The seed's checkout funnel on Fastify 5 (run: npm run build && node examples/fastify/app.mjs).
import Fastify from 'fastify';
import { CheckoutTracker, initBusinessMetrics, installShutdownHooks } from 'otel-business-metrics';
import { businessMetricsPlugin, deriveSessionContext } from 'otel-business-metrics/fastify';

const telemetry = initBusinessMetrics({
  exporters: ['prometheus'],
  prometheus: { preventServerStart: true }, // /metrics is served on the app's own port
  serviceName: 'fastify-shop',
});
installShutdownHooks(telemetry);

const app = Fastify();
await app.register(businessMetricsPlugin, {
  telemetry, // http.server.request.duration for every route, labelled with the route pattern
  metrics: process.env.METRICS_TOKEN ? { auth: { bearerToken: process.env.METRICS_TOKEN } } : true,
  engagement: { features: ['size_guide', 'search'], milestones: ['first_purchase'] }, // POST /api/engagement
});

// One route per funnel step: POST /api/checkout/cart, shipping, payment, review, complete.
app.post('/api/checkout/:step', async (request, reply) => {
  // In a real app, derive this once when the session starts and keep it in the session.
  const context = deriveSessionContext(request); // { source, deviceType, experimentVariant }
  const tracker = new CheckoutTracker({ ...context, sessionStartTime: new Date(Date.now() - 120_000) });
  const body = request.body ?? {};
  switch (request.params.step) {
    case 'cart':
      tracker.trackCartView(body.cartValueCents, body.itemCount);
      break;
    case 'shipping':
      tracker.trackShippingInfo();
      break;
    case 'payment':
      tracker.trackPaymentInfo(body.paymentMethod);
      break;
    case 'review':
      tracker.trackOrderReview();
      break;
    case 'complete':
      tracker.trackPurchaseComplete(body.orderValue, body.productCategory, body.paymentMethod, body.region);
      break;
    default:
      return reply.code(404).send({ error: 'no such step' });
  }
  return { success: true };
});

const url = await app.listen({ port: Number(process.env.PORT ?? 3002), host: '127.0.0.1' });
console.log(`Fastify shop at ${url}, metrics at ${url}/metrics`);
