/**
 * src/integrations/express/active-users.ts directly, on a real Express app over a real socket: by default the user
 * comes from `req.session` (userId, userTier; a missing tier is `unknown`, no userId is not counted), repeats of a
 * user are one distinct user, `resolveUser` replaces the default, a throwing resolver costs no request (warned
 * once, without its message) and the middleware always passes the request on.
 */
import type { Server } from 'node:http';
import express, { type Request } from 'express';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../../src';
import { activeUsersMiddleware } from '../../../src/integrations/express';
import { parseExposition } from '../../support/exposition';
import { listenOnLoopback } from '../../support/http';

let telemetry: BusinessMetricsHandle;
let server: Server | undefined;
beforeEach(() => {
  telemetry = initBusinessMetrics({
    exporters: ['none'],
    env: {},
    activeUsers: { hashKey: 'express-active-users-test-key-0123' },
  });
});
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await telemetry.shutdown({ timeoutMillis: 2000 });
  diag.disable();
});

/** Daily distinct users per tier. */
async function daily(): Promise<Record<string, number>> {
  const samples = parseExposition(await telemetry.metrics.getMetrics()).find('business_active_users', {
    window: 'daily',
  });
  return Object.fromEntries(samples.map((s) => [s.labels.user_tier, s.value]));
}

/** An app whose session is the request's `x-user` and `x-tier` headers, with the middleware in front. */
async function start(middleware: express.RequestHandler): Promise<string> {
  const app = express();
  app.use((req, _res, next) => {
    const userId = req.get('x-user');
    (req as Request & { session?: object }).session = userId
      ? { userId, userTier: req.get('x-tier') }
      : undefined;
    next();
  });
  app.use(middleware);
  app.get('/', (_req, res) => void res.send('ok'));
  let base: string;
  ({ server, base } = await listenOnLoopback(app));
  return base;
}

const get = async (base: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}/`, { headers });
  return [response.status, await response.text()];
};

it("counts the session's user per tier, distinct, with unknown for a missing tier and none without a userId", async () => {
  const base = await start(activeUsersMiddleware({ metrics: telemetry.metrics }));
  expect(await get(base, { 'x-user': 'u1', 'x-tier': 'pro' })).toEqual([200, 'ok']);
  expect(await get(base, { 'x-user': 'u1', 'x-tier': 'pro' })).toEqual([200, 'ok']);
  await get(base, { 'x-user': 'u2', 'x-tier': 'pro' });
  await get(base, { 'x-user': 'u3' });
  expect(await get(base)).toEqual([200, 'ok']);
  expect(await daily()).toEqual({ pro: 2, unknown: 1 });
});

it('uses resolveUser instead of the session when given', async () => {
  const base = await start(
    activeUsersMiddleware({
      metrics: telemetry.metrics,
      resolveUser: (req) => ({ userId: `api:${req.get('x-api-key')}`, userTier: 'enterprise' }),
    }),
  );
  await get(base, { 'x-api-key': 'a', 'x-user': 'ignored', 'x-tier': 'pro' });
  await get(base, { 'x-api-key': 'b' });
  expect(await daily()).toEqual({ enterprise: 2 });
});

it('answers every request when resolveUser throws, and warns once without the error text', async () => {
  const warnings: string[] = [];
  diag.setLogger(
    {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const base = await start(
    activeUsersMiddleware({
      metrics: telemetry.metrics,
      resolveUser: () => {
        throw new TypeError('session secret s3cr3t');
      },
    }),
  );
  expect(await get(base)).toEqual([200, 'ok']);
  expect(await get(base)).toEqual([200, 'ok']);
  expect(
    warnings.filter((w) => w.includes("activeUsersMiddleware's resolveUser threw (TypeError)")),
  ).toHaveLength(1);
  expect(warnings.join('\n')).not.toContain('s3cr3t');
  expect(await daily()).toEqual({});
});
