/**
 * docs/active-users.md: its examples run here as written (between the `docs example` markers; the docs import
 * from 'otel-business-metrics'), through the public API: trackActiveUser on the singleton and on handle.metrics,
 * precision, the Redis store against a real redis-server, the Express middleware fed from the session, and what
 * updateActiveUsers does next to trackActiveUser.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics, businessMetrics, initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { activeUsersMiddleware } from '../../src/integrations/express';
import { parseExposition } from '../support/exposition';
import { REDIS_SERVER, startRedis } from '../support/redis-server';
import { withEnv } from '../support/env';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: { id: string; plan: string };
    }
  }
}

const itWithRedis = REDIS_SERVER ? it : it.skip;

async function activeUsers(handle: BusinessMetricsHandle): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const sample of parseExposition(await handle.metrics.getMetrics()).find('business_active_users'))
    values[`${sample.labels.window}/${sample.labels.user_tier}`] = sample.value;
  return values;
}

async function dropped(handle: BusinessMetricsHandle, reason: string): Promise<number> {
  const found = parseExposition(await handle.metrics.getMetrics()).find('business_metrics_dropped_total', {
    metric: 'business_active_users',
    reason,
  });
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

let restoreEnv: () => void = () => undefined;
let telemetry: BusinessMetricsHandle | undefined;
beforeEach(() => {
  // A fixed key makes the estimates (and so the assertions) the same on every run.
  restoreEnv = withEnv({
    OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_BUSINESS_METRICS_USER_HASH_KEY: 'docs-examples-fixed-key-0123',
  });
});
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  restoreEnv();
});

describe('docs/active-users.md examples, run as written', () => {
  it('trackActiveUser on the singleton: distinct users per window, repeats not counted', async () => {
    const users = Array.from({ length: 500 }, (_, i) => ({
      id: `user-${i}`,
      plan: i % 5 === 0 ? 'pro' : 'free',
    }));
    let user = users[0];
    // --- docs example: track ---
    const telemetry = initBusinessMetrics({ exporters: ['prometheus'] });

    // On every request (or sign-in, or app open) of a known user:
    businessMetrics.trackActiveUser(user.id, { userTier: user.plan });
    // --- end ---
    try {
      for (let pass = 0; pass < 3; pass++)
        for (user of users) businessMetrics.trackActiveUser(user.id, { userTier: user.plan });
      const values = await activeUsers(telemetry);
      expect(Object.keys(values).sort()).toEqual(
        ['daily', 'weekly', 'monthly'].flatMap((w) => [`${w}/free`, `${w}/pro`]).sort(),
      );
      // Within the small-range error of a 16,384-register sketch (a few users at 400), repeats not counted.
      for (const window of ['daily', 'weekly', 'monthly']) {
        expect(Math.abs(values[`${window}/free`] - 400)).toBeLessThanOrEqual(4);
        expect(Math.abs(values[`${window}/pro`] - 100)).toBeLessThanOrEqual(1);
      }
      // The exposition never carries an id.
      expect(await telemetry.metrics.getMetrics()).not.toMatch(/user-\d/);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('precision is an option', async () => {
    // --- docs example: precision ---
    const telemetry = initBusinessMetrics({ exporters: ['prometheus'], activeUsers: { precision: 16 } });
    // --- end ---
    try {
      for (let i = 0; i < 2000; i++) businessMetrics.trackActiveUser(`u${i}`, { userTier: 'enterprise' });
      const daily = parseExposition(await telemetry.metrics.getMetrics()).value('business_active_users', {
        window: 'daily',
        user_tier: 'enterprise',
      });
      expect(Math.abs(daily - 2000)).toBeLessThanOrEqual(10);
    } finally {
      await telemetry.shutdown();
    }
    expect(() => initBusinessMetrics({ exporters: ['none'], activeUsers: { precision: 20 } })).toThrow(
      /activeUsers.precision must be an integer from 4 to 18 \(got 20\)/,
    );
  });

  it('updateActiveUsers keeps working for other tiers; for a tracked tier it is dropped and counted', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'] });
    telemetry.metrics.updateActiveUsers('daily', { pro: 5, enterprise: 7 });
    for (let i = 0; i < 3; i++) telemetry.metrics.trackActiveUser(`p${i}`, { userTier: 'pro' });
    telemetry.metrics.updateActiveUsers('daily', { pro: 50 });
    const values = await activeUsers(telemetry);
    expect(values['daily/pro']).toBe(3);
    expect(values['daily/enterprise']).toBe(7);
    expect(await dropped(telemetry, 'invalid_argument')).toBe(1);
  });

  it('bad ids and unknown tiers are dropped and counted; strict mode names the rule without the id', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'] });
    telemetry.metrics.trackActiveUser('x'.repeat(1 << 20), { userTier: 'pro' });
    telemetry.metrics.trackActiveUser(42 as unknown as string, { userTier: 'pro' });
    telemetry.metrics.trackActiveUser('ok', { userTier: 'platinum' });
    expect(await dropped(telemetry, 'too_large')).toBe(1);
    expect(await dropped(telemetry, 'invalid_argument')).toBe(2);
    await telemetry.shutdown();
    telemetry = initBusinessMetrics({ exporters: ['prometheus'], strict: true });
    expect(() =>
      telemetry!.metrics.trackActiveUser('secret-user-id'.repeat(30), { userTier: 'pro' }),
    ).toThrow(
      new TypeError(
        'businessMetrics.trackActiveUser: userId must be at most 256 characters (activeUsers.maxUserIdLength) ' +
          '(got a string of 420 characters)',
      ),
    );
  });

  itWithRedis('the Redis store: two instances report one fleet-wide count', async () => {
    const redis = await startRedis();
    const restore = withEnv({ ACTIVE_USERS_HASH_KEY: 'docs-example-shared-secret', REDIS_URL: redis.url });
    try {
      // --- docs example: redis ---
      const telemetry = initBusinessMetrics({
        exporters: ['prometheus'],
        activeUsers: {
          hashKey: process.env.ACTIVE_USERS_HASH_KEY, // the same secret on every instance
          redis: { url: process.env.REDIS_URL },
        },
      });
      // --- end ---
      // A second instance of the fleet (a BusinessMetrics on its own meter, sharing key and Redis).
      const other = new BusinessMetrics(new MeterProvider().getMeter('other-instance'), {
        activeUsers: { hashKey: process.env.ACTIVE_USERS_HASH_KEY, redis: { url: process.env.REDIS_URL! } },
      });
      try {
        for (let i = 0; i < 600; i++) telemetry.metrics.trackActiveUser(`u${i}`, { userTier: 'pro' });
        for (let i = 400; i < 1000; i++) other.trackActiveUser(`u${i}`, { userTier: 'pro' });
        await other.flushActiveUsers();
        await (telemetry.metrics as unknown as { flushActiveUsers(): Promise<void> }).flushActiveUsers();
        const fleet = (await activeUsers(telemetry))['daily/pro'];
        expect(Math.abs(fleet - 1000)).toBeLessThanOrEqual(10);
      } finally {
        await other.close();
        await telemetry.shutdown();
      }
    } finally {
      restore();
      await redis.stop();
    }
  });

  it('the Express middleware counts identified requests from the session, and never fails a request', async () => {
    telemetry = initBusinessMetrics({ exporters: ['prometheus'] });
    const app = express();
    app.use((req, _res, next) => {
      const id = req.headers['x-user'];
      if (typeof id === 'string') req.user = { id, plan: 'pro' };
      if (req.headers['x-broken'] === '1')
        Object.defineProperty(req, 'user', {
          get: () => {
            throw new Error('session store down');
          },
        });
      next();
    });
    // --- docs example: express ---
    app.use(
      activeUsersMiddleware({
        resolveUser: (req) => (req.user ? { userId: req.user.id, userTier: req.user.plan } : undefined),
      }),
    );
    // --- end ---
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const requests: Array<Record<string, string>> = [
        ...Array.from({ length: 30 }, (_, i) => ({ 'x-user': `shopper-${i % 10}` })),
        {},
        { 'x-broken': '1' },
      ];
      for (const headers of requests) expect((await fetch(url, { headers })).status).toBe(200);
      expect((await activeUsers(telemetry))['daily/pro']).toBe(10);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
