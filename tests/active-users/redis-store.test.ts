/**
 * src/active-users/redis-store.ts, fleet-wide active users through a real redis-server: 4 real processes with
 * overlapping user sets agree on the union, which equals exactly the sketch one process builds of the same users with
 * the same key; Redis killed and restarted empty mid-run (the app keeps counting, failures are counted and warned at a
 * bounded rate, the first flush after the reconnection restores the fleet count completely); UTC day roll-over with an
 * injected clock; Redis's PFCOUNT of the merged registers equals the local estimate exactly; nothing in Redis names a
 * user.
 *
 * Every instance runs on one injected clock, read once for the whole file, so no test depends on the UTC day
 * staying the same while it runs. Waits are for events: an instance's answer, a marker command in MONITOR's stream.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import Redis from 'ioredis';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';
import { ActiveUsersCounter } from '../../src/active-users/tracker';
import { HyperLogLog } from '../../src/active-users/hyperloglog';
import { UserIdHasher } from '../../src/active-users/user-hash';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';
import { REDIS_SERVER, startRedis, type RedisServer } from '../support/redis-server';
import { waitUntil } from '../support/wait';

const itWithRedis = REDIS_SERVER ? it : it.skip;
/** The instances' clock (epoch ms): now, read once, so a run across UTC midnight keeps one day. */
const CLOCK = Date.now();
const TODAY = new Date(CLOCK).toISOString().slice(0, 10);
/** The fixture's key (tests/active-users/fixtures/instance.ts). */
const FLEET_KEY = 'fleet-shared-secret-for-tests';

/** The estimate of one sketch (precision 14, the store's) holding users `${prefix}from` .. `${prefix}(to - 1)`. */
function referenceEstimate(ranges: ReadonlyArray<readonly [number, number]>, key = FLEET_KEY): number {
  const hasher = new UserIdHasher(key);
  const sketch = new HyperLogLog(14);
  for (const [from, to] of ranges) {
    for (let i = from; i < to; i++) sketch.add(hasher.hash(`user-${i}`), hasher.low);
  }
  return sketch.estimate();
}
const outDir = mkdtempSync(join(tmpdir(), 'obm-active-users-'));
const script = join(outDir, 'instance.js');
const children = new Set<ChildProcess>();

interface Instance {
  request<T = Record<string, unknown>>(message: Record<string, unknown>): Promise<T>;
  readonly stderr: () => string;
  exit(): Promise<void>;
}

interface Health {
  failures: Record<string, number>;
  flushes: number;
}

beforeAll(() => {
  if (!REDIS_SERVER) return;
  buildSync({
    entryPoints: [join(__dirname, 'fixtures', 'instance.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
});

async function startInstance(redis: RedisServer, options: { clock?: number } = {}) {
  const child = fork(script, [redis.url], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // The bundle lives in a temporary folder: ioredis, an optional peer loaded at run time, comes from this
    // repository's node_modules, as from an app's.
    env: {
      ...process.env,
      NODE_PATH: join(__dirname, '../../node_modules'),
      START_CLOCK: String(options.clock ?? CLOCK),
    },
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const replies: Array<(message: Record<string, unknown>) => void> = [];
  child.on('message', (message: Record<string, unknown>) => replies.shift()?.(message));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance did not answer; stderr: ${stderr}`)), 30_000);
      replies.push((message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  await next(); // ready
  const instance: Instance = {
    async request<T>(message: Record<string, unknown>) {
      const reply = next();
      child.send(message);
      return (await reply) as T;
    },
    stderr: () => stderr,
    async exit() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await instance.request({ type: 'exit' });
      await exited;
      children.delete(child);
    },
  };
  return instance;
}

const within = (value: number, truth: number, tolerance: number) =>
  Math.abs(value - truth) <= tolerance * truth;

describe('active users through one real Redis', () => {
  let redis: RedisServer;
  afterEach(async () => {
    await redis?.stop();
  });

  itWithRedis(
    '4 processes with overlapping users report the same fleet-wide union: one sketch of all of them',
    async () => {
      redis = await startRedis();
      const instances = await Promise.all([0, 1, 2, 3].map(() => startInstance(redis)));
      // Instance i sees users [50k i, 50k i + 100k): 400k calls, 250k distinct 'pro' users; plus 'free' users
      // [0, 3000) seen by every instance (a small count, where the union must stay near exact).
      await Promise.all(
        instances.map((instance, i) =>
          instance
            .request({ type: 'track', from: 50_000 * i, to: 50_000 * i + 100_000, tier: 'pro' })
            .then(() => instance.request({ type: 'track', from: 0, to: 3000, tier: 'free' })),
        ),
      );
      for (const instance of instances) {
        const { health } = await instance.request<{ health: Health }>({ type: 'flush' });
        expect(health.flushes).toBe(1);
      }
      // A second round of flushes reads the counts after every instance has written.
      const reports = [];
      for (const instance of instances) {
        await instance.request({ type: 'flush' });
        reports.push(
          await instance.request<{ values: Record<string, number>; local: Record<string, number> }>({
            type: 'values',
          }),
        );
      }
      const pro = referenceEstimate([[0, 250_000]]);
      const free = referenceEstimate([[0, 3000]]);
      expect(within(pro, 250_000, 0.02)).toBe(true); // the sketch itself is sane
      for (const [i, { values, local }] of reports.entries()) {
        for (const window of ['daily', 'weekly', 'monthly']) {
          // One fleet-wide number, in every instance: Redis's union of the registers, exactly one sketch of all.
          expect({ window, pro: values[`${window}/pro`], free: values[`${window}/free`] }).toEqual({
            window,
            pro,
            free,
          });
        }
        // Each process alone knows only its 100k users.
        expect(local['daily/pro']).toBe(referenceEstimate([[50_000 * i, 50_000 * i + 100_000]]));
      }

      // Nothing in Redis names a user: keys are prefix:tier:date, values are HyperLogLog registers.
      const client = new Redis(redis.url);
      try {
        const keys = (await client.keys('*')).sort();
        expect(keys).toEqual([`obm:active_users:free:${TODAY}`, `obm:active_users:pro:${TODAY}`]);
        for (const key of keys) {
          const ttl = await client.ttl(key);
          expect(ttl).toBeGreaterThan(29 * 86_400);
          expect(ttl).toBeLessThanOrEqual(32 * 86_400);
          const value = await client.getBuffer(key);
          expect(value!.subarray(0, 4).toString()).toBe('HYLL');
          expect(value!.includes('user-')).toBe(false);
        }
      } finally {
        client.disconnect();
      }
      await Promise.all(instances.map((instance) => instance.exit()));
    },
  );

  itWithRedis(
    'recording sends nothing to Redis; a flush merges each changed tier-day once, an unchanged one not again',
    async () => {
      redis = await startRedis();
      // monitor() opens a connection of its own: the client it is called on must be closed too, or its
      // reconnection attempts outlive the test once Redis stops.
      const client = new Redis(redis.url);
      const monitor = await client.monitor();
      const marker = new Redis(redis.url);
      const commands: string[][] = [];
      let markerSeen: (() => void) | undefined;
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'echo' && args[1] === 'obm-test-marker') markerSeen?.();
        else commands.push(args);
      });
      /** MONITOR streams commands in the server's execution order: once a marker sent now shows up, every command
       * the instance sent before it (its flush has been answered) has been seen. */
      const seenSoFar = async () => {
        const seen = new Promise<void>((resolve) => (markerSeen = resolve));
        await marker.echo('obm-test-marker');
        await seen;
        return [...commands];
      };
      try {
        const instance = await startInstance(redis);
        await instance.request({ type: 'flush' }); // connected (ioredis's ready check done); nothing to send yet
        await seenSoFar();
        commands.length = 0;

        await instance.request({ type: 'track', from: 0, to: 10_000, tier: 'pro' });
        await instance.request({ type: 'track', from: 0, to: 100, tier: 'free' });
        expect(await seenSoFar()).toEqual([]);

        await instance.request({ type: 'flush' });
        await seenSoFar();
        const names = (list: string[][]) => list.map(([name]) => name.toLowerCase());
        const today = TODAY;
        expect(names(commands).filter((name) => name !== 'pfcount')).toEqual([
          ...['set', 'pfmerge', 'expireat', 'set', 'pfmerge', 'expireat'],
          'del',
        ]);
        expect(
          commands
            .filter(([name]) => name.toLowerCase() === 'pfmerge')
            .map(([, key]) => key)
            .sort(),
        ).toEqual([`obm:active_users:free:${today}`, `obm:active_users:pro:${today}`]);
        // 2 tiers x (3 windows + the carries of weekly and monthly, the days tomorrow's windows still cover); each
        // SET carries one dense HyperLogLog (MONITOR shows its bytes escaped).
        expect(names(commands).filter((name) => name === 'pfcount')).toHaveLength(10);
        for (const [name, , value] of commands)
          if (name.toLowerCase() === 'set') expect(value.startsWith('HYLL')).toBe(true);

        commands.length = 0;
        await instance.request({ type: 'flush' });
        expect(names(await seenSoFar())).toEqual(Array(10).fill('pfcount'));
        await instance.exit();
      } finally {
        monitor.disconnect();
        client.disconnect();
        marker.disconnect();
      }
    },
  );

  itWithRedis(
    "folds a finer local precision into Redis's 14: PFCOUNT equals a precision-14 sketch of the same users",
    async () => {
      redis = await startRedis();
      const key = 'fold-test-shared-secret-0123';
      const metrics = new BusinessMetrics(new MeterProvider().getMeter('fold'), {
        now: () => CLOCK,
        activeUsers: {
          hashKey: key,
          precision: 16,
          redis: { url: redis.url, flushIntervalMillis: 3_600_000 },
        },
      });
      const hasher = new UserIdHasher(key);
      const coarse = new HyperLogLog(14);
      try {
        for (let i = 0; i < 30_000; i++) {
          metrics.trackActiveUser(`user-${i}`, { userTier: 'pro' });
          coarse.add(hasher.hash(`user-${i}`), hasher.low);
        }
        await metrics.flushActiveUsers();
        const reader = new Redis(redis.url);
        try {
          expect(await reader.pfcount(`obm:active_users:pro:${TODAY}`)).toBe(coarse.estimate());
        } finally {
          reader.disconnect();
        }
      } finally {
        await metrics.close();
      }
    },
  );

  itWithRedis(
    'Redis killed and restarted empty mid-run: recording goes on, failures are counted and warned at a bounded rate, the first flush after the reconnection restores the fleet count completely',
    async () => {
      redis = await startRedis();
      const [a, b] = await Promise.all([startInstance(redis), startInstance(redis)]);
      await a.request({ type: 'track', from: 0, to: 20_000, tier: 'pro' });
      expect((await a.request<{ health: Health }>({ type: 'flush' })).health.flushes).toBe(1);

      await redis.kill();
      // During the outage a tracks 40k new users.
      // (The recording call sends nothing to Redis at all: the MONITOR test above. Its cost is bench row
      // active-users-redis, not a bound here.)
      await a.request({ type: 'track', from: 20_000, to: 60_000, tier: 'pro' });
      let health: Health | undefined;
      for (let i = 0; i < 5; i++) health = (await a.request<{ health: Health }>({ type: 'flush' })).health;
      const failed = Object.values(health!.failures).reduce((sum, n) => sum + n, 0);
      expect(failed).toBe(5);
      expect(health!.flushes).toBe(1);
      // Local counting never stopped.
      const localDuring = await a.request<{ local: Record<string, number> }>({ type: 'values' });
      expect(localDuring.local['daily/pro']).toBe(referenceEstimate([[0, 60_000]]));
      // Warnings are rate-limited: one per failure reason per minute, however many flushes failed.
      const warned = a
        .stderr()
        .split('\n')
        .filter((line) => line.includes('not sent to Redis'));
      expect(warned.length).toBeGreaterThanOrEqual(1);
      expect(warned.length).toBeLessThanOrEqual(3);
      expect(a.stderr()).not.toMatch(/user-\d/);

      // Redis comes back without the 20k it had acknowledged (no persistence): a new connection may reach a
      // restarted or different server, so the first flush on it sends every retained sketch again.
      await redis.restart();
      // Flush until one succeeds (ioredis reconnects on its own schedule).
      const flushUntilSent = async (instance: Instance, flushes: number) => {
        let now: Health | undefined;
        await waitUntil(
          `${flushes} successful flushes to the restarted Redis`,
          async () => {
            now = (await instance.request<{ health: Health }>({ type: 'flush' })).health;
            return now.flushes >= flushes || `${now.flushes} so far`;
          },
          { intervalMillis: 50 },
        );
        return now!;
      };
      expect((await flushUntilSent(a, 2)).flushes).toBe(2);
      // Another instance sees the whole fleet: the 20k from before the outage and the 40k from during it.
      await b.request({ type: 'track', from: 100_000, to: 101_000, tier: 'pro' });
      await flushUntilSent(b, 1);
      const fleet = await b.request<{ values: Record<string, number> }>({ type: 'values' });
      expect(fleet.values['daily/pro']).toBe(
        referenceEstimate([
          [0, 60_000],
          [100_000, 101_000],
        ]),
      );
      await Promise.all([a.exit(), b.exit()]);
    },
  );

  itWithRedis('windows roll over at UTC midnight (injected clock), in Redis as locally', async () => {
    redis = await startRedis();
    // One second before the coming UTC midnight: a day Redis still keeps (a fixed past date would make the keys
    // expire on arrival once it is more than 31 days old).
    const start = new Date(CLOCK);
    const [year, month, date] = [start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()];
    const day1 = Date.UTC(year, month, date + 1) - 1000;
    const [key1, key2] = [day1, day1 + 2000].map(
      (at) => `obm:active_users:free:${new Date(at).toISOString().slice(0, 10)}`,
    );
    const instance = await startInstance(redis, { clock: day1 });
    await instance.request({ type: 'track', from: 0, to: 1000, tier: 'free' });
    await instance.request({ type: 'flush' });
    let report = await instance.request<{ values: Record<string, number>; local: Record<string, number> }>({
      type: 'values',
    });
    expect(report.values['daily/free']).toBe(referenceEstimate([[0, 1000]]));
    // Redis holds this instance's registers: its estimator (Ertl's, as here) gives exactly the local estimate.
    const reader = new Redis(redis.url);
    try {
      expect(await reader.pfcount(key1)).toBe(report.local['daily/free']);
    } finally {
      reader.disconnect();
    }
    await instance.request({ type: 'clock', now: day1 + 2000 }); // 00:00:01 the next day
    await instance.request({ type: 'track', from: 500, to: 1200, tier: 'free' });
    await instance.request({ type: 'flush' });
    report = await instance.request<typeof report>({ type: 'values' });
    expect(report.values['daily/free']).toBe(referenceEstimate([[500, 1200]]));
    expect(report.values['weekly/free']).toBe(referenceEstimate([[0, 1200]]));
    expect(report.values['monthly/free']).toBe(referenceEstimate([[0, 1200]]));
    const client = new Redis(redis.url);
    try {
      expect((await client.keys('*')).sort()).toEqual([key1, key2]);
      // Each day key expires a day after the last window that covers it ends.
      const expiry = await client.call('EXPIRETIME', key1);
      expect(Number(expiry)).toBe(Date.UTC(year, month, date + 31) / 1000);
    } finally {
      client.disconnect();
    }
    await instance.exit();
  });
});

describe('fleet counts around UTC midnight and clock leaps (in-process instances, injected clock)', () => {
  const DAY = 86_400_000;
  let redis: RedisServer | undefined;
  let harness: GuardHarness | undefined;
  let clock = CLOCK;
  const counters: ActiveUsersCounter[] = [];
  afterEach(async () => {
    await Promise.all(counters.splice(0).map((counter) => counter.shutdown(5000)));
    await redis?.stop();
    await harness?.close();
  });
  const instance = () => {
    const counter = new ActiveUsersCounter(
      // No timer flush during the test: every flush is the test's.
      {
        hashKey: FLEET_KEY,
        redis: { url: redis!.url, flushIntervalMillis: 3_600_000, timeoutMillis: 500 },
      },
      {
        reporter: harness!.reporter,
        now: () => clock,
        tierPolicy: { kind: 'allow', values: ['free'] },
        maxLabelLength: 64,
        family: 'business_active_users',
        warn: () => undefined,
      },
    );
    counters.push(counter);
    return counter;
  };
  const values = (counter: ActiveUsersCounter) => {
    const seen: Record<string, number> = {};
    counter.forEachValue((value, attributes) => (seen[String(attributes.window)] = value));
    return seen;
  };
  const track = (counter: ActiveUsersCounter, from: number, to: number) => {
    for (let i = from; i < to; i++) counter.track(`user-${i}`, { userTier: 'free' });
  };

  itWithRedis(
    "keep the fleet's figure until the new day's first flush (also with Redis down), without the day that left the window",
    async () => {
      redis = await startRedis();
      harness = createGuardHarness();
      const today = Math.floor(CLOCK / DAY); // a recent day: Redis keeps its keys
      clock = (today - 6) * DAY + DAY / 2;
      const [a, b] = [instance(), instance()];
      // Six days ago (tomorrow's week no longer covers it, tomorrow's month does): users [0, 1000) on a.
      track(a, 0, 1000);
      // The days go by, read at a collection each day (a clock that leaps several days is believed only later).
      for (let day = today - 5; day <= today; day++) {
        clock = day * DAY + DAY / 2;
        values(a);
      }
      // Today, 23:59:55: a sees [1000, 4000), b [4000, 7000); both flush, a reads the fleet's counts last.
      clock = (today + 1) * DAY - 5000;
      track(a, 1000, 4000);
      track(b, 4000, 7000);
      await a.flush();
      await b.flush();
      await a.flush();
      expect(values(a)).toEqual({
        daily: referenceEstimate([[1000, 7000]]),
        weekly: referenceEstimate([[0, 7000]]),
        monthly: referenceEstimate([[0, 7000]]),
      });
      // 00:00:05, before a's first flush of the new day: nobody today yet, and the week and month keep the fleet's
      // users of the days they still cover (the week without six days ago), not a's own ~1/2 of them.
      clock += 10_000;
      const carried = {
        daily: 0,
        weekly: referenceEstimate([[1000, 7000]]),
        monthly: referenceEstimate([[0, 7000]]),
      };
      expect(values(a)).toEqual(carried);
      // Redis not answering since before midnight: the flush fails (times out), the figures stay.
      redis.pause();
      try {
        const failures = () => Object.values(a.storeHealth!.failures).reduce((x, y) => x + y, 0);
        const before = failures();
        const flushes = a.storeHealth!.flushes;
        await a.flush();
        expect(failures()).toBeGreaterThan(before);
        // A flush Redis never answered is a failure, not one of the flushes it answered.
        expect(a.storeHealth!.flushes).toBe(flushes);
        expect(values(a)).toEqual(carried);
      } finally {
        redis.resume();
      }
      // Still no successful flush at the next midnight: yesterday's carry does not cover today's windows; a
      // counts alone.
      clock += DAY;
      expect(values(a)).toEqual({
        daily: 0,
        weekly: referenceEstimate([[1000, 4000]]),
        monthly: referenceEstimate([[0, 4000]]),
      });
    },
  );

  itWithRedis(
    "a flush while the clock is a year ahead for a moment counts today's windows, not that day's",
    async () => {
      redis = await startRedis();
      harness = createGuardHarness();
      clock = CLOCK;
      const [a, b] = [instance(), instance()];
      track(a, 0, 3000);
      track(b, 3000, 6000);
      await a.flush();
      await b.flush();
      await a.flush();
      const fleet = referenceEstimate([[0, 6000]]);
      expect(values(a)).toEqual({ daily: fleet, weekly: fleet, monthly: fleet });
      clock = CLOCK + 365 * DAY; // one bad reading, at a flush
      await a.flush();
      clock = CLOCK + 1000;
      expect(values(a)).toEqual({ daily: fleet, weekly: fleet, monthly: fleet });
    },
  );
});

describe('a client the app passes in', () => {
  it('keeps none of its listeners on the client after shutdown, however many stores it served', async () => {
    // An ioredis client that never connects (lazyConnect): the store only adds and removes its listeners here.
    const client = new Redis({ lazyConnect: true, enableOfflineQueue: false });
    try {
      const before = [client.listenerCount('error'), client.listenerCount('ready')];
      for (let i = 0; i < 3; i++) {
        const provider = new MeterProvider();
        const metrics = new BusinessMetrics(provider.getMeter('app'), {
          activeUsers: { hashKey: FLEET_KEY, redis: { client } },
        });
        expect([client.listenerCount('error'), client.listenerCount('ready')]).toEqual([
          before[0]! + 1,
          before[1]! + 1,
        ]);
        await metrics.close();
        await provider.shutdown();
        expect([client.listenerCount('error'), client.listenerCount('ready')]).toEqual(before);
      }
    } finally {
      client.disconnect();
    }
  });
});
