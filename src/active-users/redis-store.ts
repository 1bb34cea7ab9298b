/**
 * The fleet-wide active-users store: every instance PFADDs the hashed users it saw into per-tier, per-day Redis
 * HyperLogLogs, and reads the window counts back with PFCOUNT over the window's day keys.
 *
 * Owns: the bounded queue between the hot path and Redis, the one pipelined round trip per flush interval, key
 * names and their expiry, failure accounting, and loading `ioredis` (only when a URL is configured). Must not
 * touch: hashing, local sketches, metrics instruments.
 *
 * Nothing that reaches Redis identifies a user: members are the 64-bit keyed digests (16 hex characters) and
 * keys are `<prefix>:<tier>:<YYYY-MM-DD>`. Redis keeps only HyperLogLog registers, never the members.
 */
import {
  DAY_MS,
  dayLabel,
  RETAINED_DAYS,
  type ActiveUserWindowName,
  ACTIVE_USER_WINDOW_DAYS,
} from './day-sketches';

/** The subset of an ioredis client (v5 or v6) the store uses. */
export interface RedisClientLike {
  /** ioredis connection state; the store only sends when it is `ready`. */
  readonly status?: string;
  pipeline(): RedisPipelineLike;
  quit?(): Promise<unknown>;
  disconnect?(): void;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  once?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
}

export interface RedisPipelineLike {
  pfadd(key: string, ...members: string[]): unknown;
  expireat(key: string, unixSeconds: number): unknown;
  pfcount(...keys: string[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Options of the Redis store (`activeUsers.redis`). */
export interface RedisStoreOptions {
  /** `redis://` URL to connect to (needs the `ioredis` package). Ignored when `client` is given. */
  url?: string;
  /** A connected ioredis client you own: the store never quits it. Give it `enableOfflineQueue: false` or the
   * store skips flushes while it is not `ready`. */
  client?: RedisClientLike;
  /** Prefix of every key. Default `obm:active_users`. Keep it identical on every instance of one fleet. */
  keyPrefix?: string;
  /** How often queued users are sent and window counts read back. Default 10000 ms. */
  flushIntervalMillis?: number;
  /** A flush that has not answered after this long counts as failed. Default 2000 ms. */
  timeoutMillis?: number;
  /** Distinct (user, tier, day) entries kept for Redis between flushes and during an outage. Default 100000
   * (about 1.5 MB). Beyond it new entries are counted locally only (see docs/active-users.md). */
  maxQueuedUsers?: number;
}

/** Why a flush did not reach Redis (the `reason` label of the store's failure self-metric). */
export type StoreFailureReason = 'unavailable' | 'timeout' | 'error' | 'busy';

interface FleetCount {
  readonly day: number;
  readonly value: number;
}

const TIER_SLOTS = 1024;

/** Entries of the recent-digest filter: 4,096 x 12 B = 48 KiB, small enough to stay in cache on the hot path. */
const RECENT_SLOTS = 4096;

/**
 * The bounded queue of (tier, day, 64-bit digest) entries for the next flush: appended in order, so a new user
 * costs a sequential write, not a probe into a table sized for the whole queue (which missed the cache on every
 * call and cost ~3x an in-process count). A direct-mapped filter of recent entries drops most repeats of a busy
 * user, so repeats rarely take queue space; a repeat it misses is queued again, which PFADD absorbs.
 */
class DigestQueue {
  /** Entry i is [tag, high, low] at 3i..3i+2 (tag 0 = empty); entries 0..size-1 are in use. */
  readonly slots: Int32Array;
  size = 0;
  private readonly recent = new Int32Array(RECENT_SLOTS * 3);

  constructor(readonly limit: number) {
    this.slots = new Int32Array(limit * 3);
  }

  /** False when the queue is full and the entry is not a recent repeat. */
  insert(tag: number, high: number, low: number): boolean {
    const h = high | 0;
    const l = low | 0;
    const recent = this.recent;
    const at = ((l ^ Math.imul(tag, 0x9e3779b1)) & (RECENT_SLOTS - 1)) * 3;
    if (recent[at] === tag && recent[at + 1] === h && recent[at + 2] === l) return true;
    if (this.size >= this.limit) return false;
    const end = this.size * 3;
    const slots = this.slots;
    slots[end] = tag;
    slots[end + 1] = h;
    slots[end + 2] = l;
    this.size++;
    recent[at] = tag;
    recent[at + 1] = h;
    recent[at + 2] = l;
    return true;
  }

  clear(): void {
    if (this.size === 0) return;
    this.slots.fill(0, 0, this.size * 3);
    this.recent.fill(0);
    this.size = 0;
  }
}

/** Counts of the store's own trouble, read by observable self-metrics. */
export interface StoreHealth {
  readonly failures: Readonly<Record<StoreFailureReason, number>>;
  /** Entries not queued for Redis because the queue was full (they stay in the local count). */
  readonly overflow: number;
  /** Flushes Redis answered. */
  readonly flushes: number;
}

export class RedisActiveUsersStore {
  private readonly client: RedisClientLike;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly intervalMillis: number;
  private readonly timeoutMillis: number;
  private active: DigestQueue;
  private spare: DigestQueue;
  private readonly tierNames: string[] = [];
  private readonly tierIds = new Map<string, number>();
  private readonly fleet = new Map<string, FleetCount>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private readonly failureCounts: Record<StoreFailureReason, number> = {
    unavailable: 0,
    timeout: 0,
    error: 0,
    busy: 0,
  };
  private overflowCount = 0;
  private flushCount = 0;

  /**
   * @param warn rate-limited warning sink (never receives user ids: there are none here).
   * @throws Error naming `ioredis` when a URL is configured and the package is not installed.
   */
  constructor(
    options: RedisStoreOptions,
    private readonly now: () => number,
    private readonly warn: (key: string, message: string) => void,
  ) {
    const limit = positiveInteger(options.maxQueuedUsers, 100_000, 'activeUsers.redis.maxQueuedUsers');
    this.intervalMillis = positiveInteger(
      options.flushIntervalMillis,
      10_000,
      'activeUsers.redis.flushIntervalMillis',
    );
    this.timeoutMillis = positiveInteger(options.timeoutMillis, 2000, 'activeUsers.redis.timeoutMillis');
    this.prefix = options.keyPrefix ?? 'obm:active_users';
    if (typeof this.prefix !== 'string' || this.prefix === '' || /\s/.test(this.prefix)) {
      throw new TypeError('activeUsers.redis.keyPrefix must be a non-empty string without spaces');
    }
    this.active = new DigestQueue(limit);
    this.spare = new DigestQueue(limit);
    if (options.client !== undefined) {
      if (typeof options.client?.pipeline !== 'function') {
        throw new TypeError('activeUsers.redis.client must be an ioredis client (it has no pipeline())');
      }
      this.client = options.client;
      this.ownsClient = false;
    } else if (typeof options.url === 'string' && options.url !== '') {
      this.client = connect(options.url, this.timeoutMillis);
      this.ownsClient = true;
    } else {
      throw new TypeError('activeUsers.redis needs a `url` (redis://host:port) or an ioredis `client`');
    }
    // Without a listener ioredis prints every connection error to the console itself.
    this.client.on?.('error', (error: Error) =>
      this.warn('redis-connection', `otel-business-metrics: Redis (active users): ${safeMessage(error)}`),
    );
    this.timer = setInterval(() => void this.flush(), this.intervalMillis);
    this.timer.unref();
  }

  /** Queue a hashed user for the next flush. O(1), no I/O, never throws. */
  enqueue(tier: string, day: number, high: number, low: number): void {
    let id = this.tierIds.get(tier);
    if (id === undefined) {
      if (this.tierNames.length >= TIER_SLOTS - 1) return;
      id = this.tierNames.length;
      this.tierNames.push(tier);
      this.tierIds.set(tier, id);
    }
    if (!this.active.insert(day * TIER_SLOTS + id + 1, high, low)) this.overflowCount++;
  }

  /** The fleet-wide count of the last successful flush, if it was for `today`. */
  fleetEstimate(tier: string, window: ActiveUserWindowName, today: number): number | undefined {
    const count = this.fleet.get(`${tier}\0${window}`);
    return count !== undefined && count.day === today ? count.value : undefined;
  }

  get health(): StoreHealth {
    return { failures: { ...this.failureCounts }, overflow: this.overflowCount, flushes: this.flushCount };
  }

  /** Entries waiting for Redis. */
  get queued(): number {
    return this.active.size + (this.inFlight ? this.spare.size : 0);
  }

  /**
   * Send queued users and read the window counts: one pipelined round trip. Resolves when done or failed;
   * never rejects. A flush still running when the next one is due makes that one a no-op (counted as `busy`).
   */
  flush(): Promise<void> {
    if (this.inFlight) {
      this.fail('busy', 'the previous flush is still waiting for Redis');
      return this.inFlight;
    }
    this.inFlight = this.connected()
      .then((ready) => {
        if (!ready) {
          this.fail('unavailable', `Redis connection is ${this.client.status}`);
          return;
        }
        const sending = this.active;
        this.active = this.spare;
        this.spare = sending;
        return this.send(sending, Math.floor(this.now() / DAY_MS));
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * True when the client can take commands now. A first connection still being made is waited for (within the
   * timeout), so a script that records and shuts down at once still delivers; a reconnection after an outage is
   * not: that flush fails at once and its entries wait in the queue.
   */
  private connected(): Promise<boolean> {
    const status = this.client.status;
    if (status === undefined || status === 'ready') return Promise.resolve(true);
    if (!['connecting', 'connect', 'wait'].includes(status) || !this.client.once)
      return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.client.removeListener?.('ready', onReady);
        resolve(this.client.status === 'ready');
      }, this.timeoutMillis);
      timer.unref();
      this.client.once!('ready', onReady);
    });
  }

  /** Final flush within `timeoutMillis`, then stop (and close the connection if the store opened it). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.flush();
    if (this.ownsClient) {
      try {
        await withTimeout(Promise.resolve(this.client.quit?.()), this.timeoutMillis);
      } catch {
        this.client.disconnect?.();
      }
    }
  }

  private async send(queue: DigestQueue, today: number): Promise<void> {
    const pipeline = this.client.pipeline();
    const byKey = new Map<number, string[]>();
    const slots = queue.slots;
    for (let at = 0, end = queue.size * 3; at < end; at += 3) {
      const tag = slots[at];
      let members = byKey.get(tag);
      if (members === undefined) {
        members = [];
        byKey.set(tag, members);
      }
      members.push(hex32(slots[at + 1]) + hex32(slots[at + 2]));
    }
    for (const [tag, members] of byKey) {
      const day = Math.floor((tag - 1) / TIER_SLOTS);
      const key = this.key(this.tierNames[(tag - 1) % TIER_SLOTS], day);
      for (let i = 0; i < members.length; i += 1000) pipeline.pfadd(key, ...members.slice(i, i + 1000));
      // A day key outlives the last window that covers it by a day (clock skew between instances).
      pipeline.expireat(key, ((day + RETAINED_DAYS + 1) * DAY_MS) / 1000);
    }
    const counted: Array<{ tier: string; window: ActiveUserWindowName }> = [];
    for (const tier of this.tierNames) {
      for (const window of Object.keys(ACTIVE_USER_WINDOW_DAYS) as ActiveUserWindowName[]) {
        const keys: string[] = [];
        for (let day = today - ACTIVE_USER_WINDOW_DAYS[window] + 1; day <= today; day++)
          keys.push(this.key(tier, day));
        pipeline.pfcount(...keys);
        counted.push({ tier, window });
      }
    }
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await withTimeout(pipeline.exec(), this.timeoutMillis);
    } catch (error) {
      this.requeue(queue);
      const timedOut = error instanceof TimeoutError;
      this.fail(
        timedOut ? 'timeout' : 'error',
        timedOut ? `Redis did not answer within ${this.timeoutMillis} ms` : safeMessage(error),
      );
      return;
    }
    const failed = replies?.find(([error]) => error !== null)?.[0] ?? (replies ? undefined : 'no reply');
    if (failed !== undefined) {
      this.requeue(queue);
      this.fail('error', safeMessage(failed));
      return;
    }
    queue.clear();
    this.flushCount++;
    const counts = replies!.slice(replies!.length - counted.length);
    counted.forEach(({ tier, window }, i) => {
      const value = Number(counts[i][1]);
      if (Number.isFinite(value)) this.fleet.set(`${tier}\0${window}`, { day: today, value });
    });
  }

  /** Put a failed flush's entries back in front of what arrived meanwhile (PFADD is idempotent). */
  private requeue(queue: DigestQueue): void {
    const slots = queue.slots;
    for (let at = 0, end = queue.size * 3; at < end; at += 3) {
      if (!this.active.insert(slots[at], slots[at + 1], slots[at + 2])) this.overflowCount++;
    }
    queue.clear();
  }

  private fail(reason: StoreFailureReason, detail: string): void {
    this.failureCounts[reason]++;
    this.warn(
      `redis-${reason}`,
      `otel-business-metrics: active users not sent to Redis (${reason}: ${detail}); counting locally, ` +
        `${this.queued} entries queued for retry`,
    );
  }

  private key(tier: string, day: number): string {
    return `${this.prefix}:${tier}:${dayLabel(day)}`;
  }
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

class TimeoutError extends Error {}

function withTimeout<T>(work: Promise<T>, millis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError('timeout')), millis);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function safeMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // eslint-disable-next-line no-control-regex
  return text.slice(0, 200).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1 (got ${String(value)})`);
  }
  return value;
}

/** Load ioredis only now: it is an optional peer dependency, needed only with a Redis URL. */
function connect(url: string, timeoutMillis: number): RedisClientLike {
  let Redis: new (url: string, options: object) => RedisClientLike;
  try {
    const loaded = require('ioredis') as { default?: unknown };
    Redis = (loaded.default ?? loaded) as typeof Redis;
  } catch {
    throw new Error(
      'activeUsers.redis.url needs the `ioredis` package (an optional peer dependency of otel-business-metrics): ' +
        'npm install ioredis, or pass your own client as activeUsers.redis.client',
    );
  }
  return new Redis(url, {
    // Fail fast while disconnected instead of queueing inside ioredis without bound: the store keeps its own
    // bounded queue and retries at the next flush.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMillis,
    connectTimeout: timeoutMillis,
    retryStrategy: (attempt: number) => Math.min(attempt * 250, 5000),
  });
}
