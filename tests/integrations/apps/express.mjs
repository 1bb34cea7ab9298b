// The scenario app on Express 5 (otel-business-metrics/express).
import express from 'express';
import {
  deriveSessionContext,
  engagementRouter,
  httpMetricsMiddleware,
  metricsMiddleware,
} from 'otel-business-metrics/express';
import { ENGAGEMENT, TOKEN, completeCheckout, ready, telemetryFor } from './config.mjs';

const telemetry = telemetryFor('express');
const app = express();
app.set('trust proxy', 'loopback');
app.use(httpMetricsMiddleware({ telemetry }));
app.all('/metrics', metricsMiddleware(telemetry, { auth: { bearerToken: TOKEN } }));
app.use('/api/engagement', engagementRouter(ENGAGEMENT));
app.get('/product/:id', (req, res) => void res.type('text').send(`product ${req.params.id}`));
app.post('/api/checkout/complete', express.json(), (req, res) => {
  res.json(completeCheckout(deriveSessionContext(req), req.body));
});
app.get('/hang', () => undefined);
app.get('/boom', () => {
  throw new Error('boom');
});
const server = app.listen(0, '127.0.0.1', () =>
  ready(`http://127.0.0.1:${server.address().port}`, async () => {
    server.closeAllConnections();
    await telemetry.shutdown({ timeoutMillis: 1000 });
  }),
);
