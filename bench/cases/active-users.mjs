/**
 * Distinct active users: the per-call cost of `trackActiveUser` (in-process, and with the Redis store) next to a
 * `Set.add` of the same id strings, the keyed-hash candidates alone (why HalfSipHash), and the memory of one
 * tier-day sketch next to bare 16 KiB typed arrays.
 *
 * Owns: one variant per process (`params.row` / `params.variant`), the id pool (65,536 ids of the usual shape,
 * cycled), and the self-checks (the exported count equals the distinct ids tracked within 2%; the Set holds them
 * all). Must not touch: rounds, statistics (bench/run.mjs).
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { serveCase, settleHeap } from '../lib/child.mjs';
import { dirname, join } from 'node:path';
import { DIST, loadPackage, parseExposition, require } from '../lib/workload.mjs';

const pkg = loadPackage();
const POOL = 65_536;
const MASK = POOL - 1;
const TIERS = ['free', 'pro', 'enterprise'];
// Ids as apps have them: a prefix, a base-36 counter and 16 hex characters (a session-cookie or database id), made before timing.
const IDS = Array.from(
  { length: POOL },
  (_, i) => `user_${i.toString(36)}_${randomBytes(8).toString('hex')}`,
);
const METADATA = TIERS.map((userTier) => ({ userTier }));
const HASH_KEY = 'bench-shared-secret-0123456789';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real redis-server on a free loopback port (stopped by close()). */
async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise((resolve, reject) => {
    let output = '';
    child.on('error', (error) =>
      reject(new Error(`redis-server: ${error.message} (apt-get install redis-server)`)),
    );
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** The exported daily counts, summed over tiers. */
async function dailyTotal(telemetry) {
  const samples = parseExposition(await telemetry.metrics.getMetrics());
  // Labels are the raw `k="v",...` text here.
  return samples
    .filter((s) => s.name === 'business_active_users' && s.labels.includes('window="daily"'))
    .reduce((sum, s) => sum + s.value, 0);
}

async function tracking(redis) {
  const server = redis ? await startRedis() : undefined;
  const telemetry = pkg.initBusinessMetrics({
    exporters: ['none'],
    serviceName: 'bench',
    env: {},
    // A flush interval longer than the run: the recording call is measured, the network work happens at flush.
    activeUsers: {
      hashKey: HASH_KEY,
      ...(server ? { redis: { url: server.url, flushIntervalMillis: 3_600_000 } } : {}),
    },
  });
  const metrics = telemetry.metrics;
  return {
    round(n, done) {
      for (let i = done; i < done + n; i++) metrics.trackActiveUser(IDS[i & MASK], METADATA[(i & MASK) % 3]);
    },
    async check(operations) {
      const distinct = Math.min(operations, POOL);
      const total = await dailyTotal(telemetry);
      const ok = Math.abs(total - distinct) <= 0.02 * distinct;
      return { ok, detail: `exported ${total} distinct users for ${distinct} distinct ids tracked` };
    },
    async close() {
      await telemetry.shutdown();
      server?.stop();
    },
  };
}

function hashOnly(hash) {
  let sink = 0;
  return {
    round(n, done) {
      for (let i = done; i < done + n; i++) sink ^= hash(IDS[i & MASK]);
    },
    check: () => ({ ok: true, detail: `hash only (xor of digests ${sink >>> 0})` }),
  };
}

function murmur3(text, seed) {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= text.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Bytes per tier-day sketch: 3 tiers x 30 days, one user each, through the public API with an injected clock.
 * The recorder and its first sketch exist before the baseline, so the figure is the cost of each further
 * tier-day, not of the recorder.
 */
async function sketchMemory(kind) {
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const provider = new MeterProvider();
  const SKETCHES = TIERS.length * 30 - 1;
  let kept;
  return {
    async round() {
      kept = undefined;
      let clock = Date.UTC(2026, 10, 1);
      const metrics =
        kind === 'ours'
          ? new pkg.BusinessMetrics(provider.getMeter('bench'), {
              now: () => clock,
              activeUsers: { hashKey: HASH_KEY },
            })
          : undefined;
      metrics?.trackActiveUser('user-0', { userTier: TIERS[0] });
      const before = await settleHeap();
      const buffersBefore = process.memoryUsage().arrayBuffers;
      if (metrics) {
        for (let day = 0; day < 30; day++, clock += 86_400_000)
          for (const userTier of TIERS) metrics.trackActiveUser(`user-${day}`, { userTier });
        kept = metrics;
      } else {
        kept = Array.from({ length: SKETCHES }, () => new Uint8Array(16_384));
      }
      const after = await settleHeap();
      const buffers = process.memoryUsage().arrayBuffers - buffersBefore;
      return (after - before + buffers) / SKETCHES;
    },
    check: () => ({ ok: kept !== undefined, detail: `${SKETCHES} tier-day sketches (heap + array buffers)` }),
    close: () => provider.shutdown(),
  };
}

const VARIANTS = {
  ours: () => tracking(false),
  'ours-redis': () => tracking(true),
  'set-add': () => {
    const set = new Set();
    return {
      round(n, done) {
        for (let i = done; i < done + n; i++) set.add(IDS[i & MASK]);
      },
      check: (operations) => ({
        ok: set.size === Math.min(operations, POOL),
        detail: `Set holds ${set.size} ids`,
      }),
    };
  },
  'hash-halfsiphash': () => {
    const hasher = new (require(join(dirname(DIST), 'active-users', 'user-hash.js')).UserIdHasher)(HASH_KEY);
    return hashOnly((id) => hasher.hash(id) ^ hasher.low);
  },
  'hash-murmur3-seeded-x2': () => hashOnly((id) => murmur3(id, 0x9747b28c) ^ murmur3(id, 0x1b873593)),
  'hash-hmac-sha256': () => {
    const key = createHash('sha256').update(HASH_KEY).digest();
    return hashOnly((id) => createHmac('sha256', key).update(id).digest().readUInt32LE(0));
  },
  'sketch-memory-ours': () => sketchMemory('ours'),
  'sketch-memory-uint8array': () => sketchMemory('uint8array'),
};

serveCase(async (params) => {
  const factory = VARIANTS[params.variant];
  if (!factory) throw new Error(`unknown variant ${params.variant}`);
  return factory();
});
