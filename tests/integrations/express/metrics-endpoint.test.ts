/**
 * src/integrations/express/metrics-endpoint.ts directly, on a real Express app over a real socket: metricsMiddleware
 * serves the handle's exposition (text 0.0.4 by default, OpenMetrics when the scraper asks), refuses a scrape
 * without the configured bearer token with 401 and a challenge, answers 503 with the reason for a handle without a
 * Prometheus exporter, and refuses a malformed token at setup with a TypeError naming the option; basic
 * credentials are asked for with a Basic challenge.
 */
import type { Server } from 'node:http';
import express from 'express';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../../src';
import { metricsMiddleware } from '../../../src/integrations/express';
import { basicAuth, listenOnLoopback } from '../../support/http';

let telemetry: BusinessMetricsHandle;
let server: Server | undefined;
beforeEach(() => {
  telemetry = initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    env: {},
  });
  telemetry.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
});
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await telemetry.shutdown({ timeoutMillis: 2000 });
});

async function serve(middleware: express.RequestHandler): Promise<string> {
  const app = express();
  app.get('/metrics', middleware);
  let base: string;
  ({ server, base } = await listenOnLoopback(app));
  return `${base}/metrics`;
}

it('serves the exposition, and OpenMetrics to a scraper that asks for it', async () => {
  const url = await serve(metricsMiddleware(telemetry));
  const text = await fetch(url);
  expect(text.status).toBe(200);
  expect(text.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const body = await text.text();
  expect(body).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
  expect(body).not.toContain('# EOF');

  const open = await fetch(url, {
    headers: { accept: 'application/openmetrics-text;version=1.0.0;q=1,text/plain;version=0.0.4;q=0.5' },
  });
  expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
  expect((await open.text()).trimEnd().endsWith('# EOF')).toBe(true);
});

it('asks for the bearer token it was given, and serves only with it', async () => {
  const url = await serve(metricsMiddleware(telemetry, { auth: { bearerToken: 'scrape-token-1' } }));
  const anonymous = await fetch(url);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(await anonymous.text()).not.toContain('business_');
  const wrong = await fetch(url, { headers: { authorization: 'Bearer wrong-token' } });
  expect(wrong.status).toBe(401);
  expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
  const allowed = await fetch(url, { headers: { authorization: 'Bearer scrape-token-1' } });
  expect(allowed.status).toBe(200);
  expect(await allowed.text()).toContain('business_funnel_step_total');
});

it('asks for basic credentials it was given, and serves only with them', async () => {
  const url = await serve(metricsMiddleware(telemetry, { auth: { username: 'prom', password: 'pw' } }));
  const challenge = await fetch(url);
  expect(challenge.status).toBe(401);
  expect(challenge.headers.get('www-authenticate')).toMatch(/^Basic/);
  const basic = await fetch(url, { headers: { authorization: basicAuth('prom', 'pw') } });
  expect(basic.status).toBe(200);
  expect(await basic.text()).toContain('business_funnel_step_total');
});

it('refuses a malformed token at setup, naming the option', () => {
  expect(() => metricsMiddleware(telemetry, { auth: { bearerToken: ' padded ' } })).toThrow(
    /bearerToken must be visible ASCII without spaces/,
  );
});

it('answers 503 with the reason for a handle without a Prometheus exporter (credentials checked first)', async () => {
  await telemetry.shutdown({ timeoutMillis: 2000 });
  telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
  const open = await serve(metricsMiddleware(telemetry));
  const answer = await fetch(open);
  expect(answer.status).toBe(503);
  expect(await answer.text()).toMatch(/prometheus/i);
  await new Promise((resolve) => server!.close(resolve));
  const guarded = await serve(metricsMiddleware(telemetry, { auth: { bearerToken: 'scrape-token-1' } }));
  expect((await fetch(guarded)).status).toBe(401);
  await new Promise((resolve) => server!.close(resolve));
  // A source object without a handler (what a handle without a Prometheus exporter has) is the same.
  expect((await fetch(await serve(metricsMiddleware({ metricsHandler: undefined })))).status).toBe(503);
});
