/**
 * The Redis active-users store under a broken or hostile Redis, against a real redis-server on a free loopback
 * port: a key of the wrong type spoils only its own tier-day; a PFCOUNT answer from a poisoned HyperLogLog is
 * clamped to `limits.maxActiveUsers`; tier names are encoded in keys (no Redis Cluster hash tag, no glob
 * character, reversible); a day's distinct count never goes down while Redis, restarted empty, is repaired; a Redis
 * frozen at shutdown (SIGSTOP) holds the handle's shutdown no longer than its deadline. Every instance is a real
 * BusinessMetrics with its own ioredis connection, on one injected clock.
 */
import Redis from 'ioredis';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics, initBusinessMetrics } from '../../src';
import { captureDiag } from '../support/diag-messages';
import { HyperLogLog } from '../../src/active-users/hyperloglog';
import { UserIdHasher } from '../../src/active-users/user-hash';
import { pointsOf, TestReader } from '../support/collect';
import { REDIS_SERVER, startRedis, type RedisServer } from '../support/redis-server';
import { waitUntil } from '../support/wait';

const itWithRedis = REDIS_SERVER ? it : it.skip;
const KEY = 'fleet-shared-secret-for-peer-tests';
const DAY_MS = 86_400_000;
/** Noon UTC of today: far from midnight whatever the test's duration. */
const CLOCK = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
const dayLabel = (offset = 0) => new Date(CLOCK + offset * DAY_MS).toISOString().slice(0, 10);
const activeUsers = 'business_active_users';

interface Instance {
  readonly metrics: BusinessMetrics;
  track(from: number, to: number, tier: string): void;
  /** Flushes; true when Redis took it without a new failure of any reason. */
  flush(): Promise<boolean>;
  values(): Promise<Record<string, number>>;
  failures(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

function instance(redis: RedisServer, options: { tierCap?: number; maxActiveUsers?: number } = {}): Instance {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'), {
    now: () => CLOCK,
    activeUsers: {
      hashKey: KEY,
      redis: { url: redis.url, flushIntervalMillis: 3_600_000, timeoutMillis: 10_000 },
    },
    limits: {
      ...(options.maxActiveUsers ? { maxActiveUsers: options.maxActiveUsers } : {}),
      ...(options.tierCap ? { labels: { user_tier: { kind: 'capped', maxValues: options.tierCap } } } : {}),
    },
  });
  const failures = async () => {
    const points = pointsOf(await reader.resourceMetrics(), 'business_metrics_active_users_store_failures');
    return Object.fromEntries(points.map((p) => [String(p.attributes.reason), p.value as number]));
  };
  const totalFailures = async () => Object.values(await failures()).reduce((a, b) => a + b, 0);
  return {
    metrics,
    track(from, to, tier) {
      for (let i = from; i < to; i++) metrics.trackActiveUser(`user-${i}`, { userTier: tier });
    },
    async flush() {
      const before = await totalFailures();
      await metrics.flushActiveUsers();
      return (await totalFailures()) === before;
    },
    async values() {
      const points = pointsOf(await reader.resourceMetrics(), activeUsers);
      return Object.fromEntries(
        points.map((p) => [
          `${String(p.attributes.window)}/${String(p.attributes.user_tier)}`,
          p.value as number,
        ]),
      );
    },
    failures,
    async close() {
      await metrics.close();
      await provider.shutdown();
    },
  };
}

/** The estimate of one precision-14 sketch of users `user-from` .. `user-(to - 1)`, hashed with the fleet key. */
function reference(from: number, to: number): number {
  const hasher = new UserIdHasher(KEY);
  const sketch = new HyperLogLog(14);
  for (let i = from; i < to; i++) sketch.add(hasher.hash(`user-${i}`), hasher.low);
  return sketch.estimate();
}

/** A dense Redis HyperLogLog whose 16,384 registers all hold `rank`: PFCOUNT answers nonsense for it. */
function poisonedHyperLogLog(rank: number): Buffer {
  const out = Buffer.alloc(16 + 12_288);
  out.write('HYLL', 0, 'latin1');
  out[15] = 0x80; // cached cardinality stale
  for (let i = 0; i < 16_384; i++) {
    const bit = i * 6;
    const byte = 16 + (bit >>> 3);
    const shift = bit & 7;
    out[byte] |= (rank << shift) & 0xff;
    if (shift > 2) out[byte + 1] |= rank >>> (8 - shift);
  }
  return out;
}

describe('the Redis store under a broken or hostile Redis (real redis-server)', () => {
  let redis: RedisServer;
  let client: Redis;
  const instances: Instance[] = [];
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close()));
    client?.disconnect();
    await redis?.stop();
  });
  const start = async (options?: Parameters<typeof instance>[1]) => {
    const created = instance(redis, options);
    instances.push(created);
    return created;
  };
  beforeEach(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });

  itWithRedis(
    'a key of the wrong type spoils only its own tier-day; every other tier-day is merged and counted',
    async () => {
      // Someone (another tool, another version) left a list where today's `pro` HyperLogLog belongs.
      await client.lpush(`obm:active_users:pro:${dayLabel()}`, 'not a HyperLogLog');
      const a = await start();
      a.track(0, 2000, 'pro');
      a.track(10_000, 13_000, 'free');
      expect(await a.flush()).toBe(false); // counted: one tier-day could not be merged
      expect((await a.failures()).invalid).toBeGreaterThanOrEqual(1);
      // `free` reached Redis and its fleet count was read back, although `pro`'s key is broken.
      expect(await client.pfcount(`obm:active_users:free:${dayLabel()}`)).toBe(reference(10_000, 13_000));
      const b = await start();
      b.track(12_000, 14_000, 'free');
      await b.flush();
      expect((await b.values())['daily/free']).toBe(reference(10_000, 14_000));
      // `pro` is still counted locally; the broken key is left as it was, not overwritten.
      expect((await a.values())['daily/pro']).toBe(reference(0, 2000));
      expect(await client.type(`obm:active_users:pro:${dayLabel()}`)).toBe('list');
    },
  );

  itWithRedis(
    'a PFCOUNT answer from a poisoned HyperLogLog is clamped to limits.maxActiveUsers, and counted',
    async () => {
      // Yesterday's `pro` key holds registers no real set of users produces (PFCOUNT: about 1.3e13).
      await client.set(`obm:active_users:pro:${dayLabel(-1)}`, poisonedHyperLogLog(30));
      expect(await client.pfcount(`obm:active_users:pro:${dayLabel(-1)}`)).toBeGreaterThan(1e12);
      const a = await start({ maxActiveUsers: 1_000_000 });
      a.track(0, 500, 'pro');
      await a.flush();
      const values = await a.values();
      expect(values['daily/pro']).toBe(reference(0, 500)); // today's key is sound
      expect(values['weekly/pro']).toBeLessThanOrEqual(1_000_000);
      expect(values['monthly/pro']).toBeLessThanOrEqual(1_000_000);
      expect((await a.failures()).invalid).toBeGreaterThanOrEqual(1);
    },
  );

  itWithRedis(
    'tier names are encoded in keys: no hash tag, no glob character, no collision, reversible',
    async () => {
      const a = await start({ tierCap: 10 });
      const tiers = ['a:b{x}*', 'a%3Ab', 'a:b', 'plain_tier-1.2'];
      tiers.forEach((tier, i) => a.track(i * 1000, i * 1000 + 100 + i, tier));
      expect(await a.flush()).toBe(true);
      const keys = (await client.keys('*')).sort();
      expect(keys).toHaveLength(tiers.length);
      const decoded: string[] = [];
      for (const key of keys) {
        const [prefix, kind, tier, day] = key.split(':');
        expect(`${prefix}:${kind}`).toBe('obm:active_users');
        expect(day).toBe(dayLabel());
        expect(tier).toMatch(/^[A-Za-z0-9_.%-]+$/); // nothing Redis Cluster or KEYS/SCAN patterns would read
        decoded.push(decodeURIComponent(tier));
      }
      expect(decoded.sort()).toEqual([...tiers].sort());
      // Each tier's fleet count is its own users: no two tiers shared a key.
      const values = await a.values();
      tiers.forEach((tier, i) =>
        expect(values[`daily/${tier}`]).toBe(reference(i * 1000, i * 1000 + 100 + i)),
      );
      expect(keys).toContain('obm:active_users:plain_tier-1.2:' + dayLabel()); // plain names unchanged
    },
  );

  itWithRedis(
    "a day's distinct count never goes down, also while a Redis restarted empty is being repaired",
    async () => {
      const a = await start();
      const b = await start();
      a.track(0, 20_000, 'pro');
      b.track(10_000, 30_000, 'pro');
      for (const instance of [a, b, a]) expect(await instance.flush()).toBe(true);
      const before = (await a.values())['daily/pro'];
      expect(before).toBe(reference(0, 30_000));

      await redis.restart(); // empty: no persistence
      // A flush succeeds once the client has reconnected (on its own schedule); one that never does fails here
      // instead of letting the checks below read an unreachable Redis as a smaller count.
      const flushUntilSent = async (instance: typeof a, name: string) => {
        await waitUntil(`${name} to flush to the restarted Redis`, () => instance.flush(), {
          timeoutMillis: 20_000,
          intervalMillis: 50,
        });
      };
      // a reconnects and sends its own 20,000 users first; Redis then knows fewer users than a reported.
      const seen: number[] = [before];
      await flushUntilSent(a, 'a');
      seen.push((await a.values())['daily/pro']);
      expect(await client.pfcount(`obm:active_users:pro:${dayLabel()}`).catch(() => -1)).toBeLessThan(before);
      // b repairs its part; a's next read sees the whole day again.
      await flushUntilSent(b, 'b');
      await a.flush();
      seen.push((await a.values())['daily/pro']);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
      expect(seen.at(-1)).toBe(reference(0, 30_000));
    },
  );
});

/** No error, and one warning: the store's own, that its final flush did not finish by the deadline, then `ending`. */
function expectOnlyDeadlineWarning(diag: ReturnType<typeof captureDiag>, ending: string): void {
  expect(diag.errors).toEqual([]);
  expect(diag.warnings).toHaveLength(1);
  const [prefix, rest] = diag.warnings[0].split(/ within \d+ ms; /);
  expect(prefix).toBe(
    "otel-business-metrics: shutdown: the active users' Redis store did not finish its final flush",
  );
  expect(rest).toBe(ending);
}

describe('a Redis that stops answering at shutdown', () => {
  itWithRedis(
    "does not hold shutdown past its deadline: the connection is closed and the loss said, by the store's name",
    async () => {
      const redis = await startRedis();
      const diag = captureDiag();
      try {
        const handle = initBusinessMetrics({
          exporters: ['none'],
          env: {},
          activeUsers: {
            hashKey: KEY,
            // Each step's own timeout far beyond the shutdown deadline: only the deadline can end the final flush.
            redis: { url: redis.url, flushIntervalMillis: 3_600_000, timeoutMillis: 60_000 },
          },
        });
        const metrics = handle.metrics as unknown as BusinessMetrics;
        metrics.trackActiveUser('user-1', { userTier: 'pro' });
        await metrics.flushActiveUsers();
        expect(diag.warnings).toEqual([]);
        metrics.trackActiveUser('user-2', { userTier: 'pro' });
        redis.pause();
        await handle.shutdown({ timeoutMillis: 1000 });
        expectOnlyDeadlineWarning(
          diag,
          'what changed since its last flush did not reach Redis (its connection was closed)',
        );
        // Closed by the store, not left to the paused server: once it runs again, only this client is connected.
        redis.resume();
        const admin = new Redis(redis.url);
        try {
          await waitUntil('the store to have closed its connection', async () =>
            /connected_clients:1\r?\n/.test(await admin.info('clients')),
          );
        } finally {
          admin.disconnect();
        }
      } finally {
        diag.stop();
        redis.resume();
        await redis.stop();
      }
    },
  );

  itWithRedis(
    'with a client the app passed in: says the flush goes on there, and leaves the client open',
    async () => {
      const redis = await startRedis();
      const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      const diag = captureDiag();
      try {
        await waitUntil('the app client to be ready', () => client.status === 'ready');
        const handle = initBusinessMetrics({
          exporters: ['none'],
          env: {},
          activeUsers: {
            hashKey: KEY,
            redis: { client, flushIntervalMillis: 3_600_000, timeoutMillis: 60_000 },
          },
        });
        const metrics = handle.metrics as unknown as BusinessMetrics;
        metrics.trackActiveUser('user-1', { userTier: 'pro' });
        redis.pause();
        await handle.shutdown({ timeoutMillis: 500 });
        expectOnlyDeadlineWarning(diag, 'it goes on, on the client you passed in');
        // The app's client was not closed: once Redis runs again, it answers.
        redis.resume();
        expect(await client.ping()).toBe('PONG');
      } finally {
        diag.stop();
        client.disconnect();
        redis.resume();
        await redis.stop();
      }
    },
  );
});
