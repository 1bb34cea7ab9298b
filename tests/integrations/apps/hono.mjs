// The scenario app on Hono 4 with @hono/node-server (otel-business-metrics/fetch).
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import {
  deriveSessionContext,
  engagementHandler,
  httpMetricsMiddleware,
  metricsHandler,
} from 'otel-business-metrics/fetch';
import { ENGAGEMENT, TOKEN, clientBehindLoopback, completeCheckout, ready, telemetryFor } from './config.mjs';

const telemetry = telemetryFor('hono');
const metrics = metricsHandler({ telemetry, auth: { bearerToken: TOKEN } });
const engagement = engagementHandler(ENGAGEMENT);
const app = new Hono();
app.use(httpMetricsMiddleware({ telemetry }));
app.all('/metrics', (c) => metrics(c.req.raw));
app.all('/api/engagement', (c) =>
  engagement.forClient(
    c.req.raw,
    clientBehindLoopback(getConnInfo(c).remote.address, c.req.header('x-forwarded-for')),
  ),
);
app.get('/product/:id', (c) => c.text(`product ${c.req.param('id')}`));
app.post('/api/checkout/complete', async (c) =>
  c.json(completeCheckout(deriveSessionContext(c.req.raw), await c.req.json())),
);
app.get('/hang', () => new Promise(() => undefined));
app.get('/boom', () => {
  throw new Error('boom');
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  ready(`http://127.0.0.1:${info.port}`, async () => {
    server.closeAllConnections();
    await telemetry.shutdown({ timeoutMillis: 1000 });
  }),
);
