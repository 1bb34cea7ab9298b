// The scenario app on Fastify 5 (otel-business-metrics/fastify).
import Fastify from 'fastify';
import { businessMetricsPlugin, deriveSessionContext } from 'otel-business-metrics/fastify';
import { ENGAGEMENT, TOKEN, completeCheckout, ready, telemetryFor } from './config.mjs';

const telemetry = telemetryFor('fastify');
const app = Fastify({ trustProxy: '127.0.0.1' });
await app.register(businessMetricsPlugin, {
  telemetry,
  metrics: { auth: { bearerToken: TOKEN } },
  engagement: ENGAGEMENT,
});
app.get('/product/:id', async (request) => `product ${request.params.id}`);
app.post('/api/checkout/complete', async (request) =>
  completeCheckout(deriveSessionContext(request), request.body),
);
app.get('/hang', () => new Promise(() => undefined));
app.get('/boom', async () => {
  throw new Error('boom');
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
ready(url, async () => {
  app.server.closeAllConnections();
  await telemetry.shutdown({ timeoutMillis: 1000 });
});
