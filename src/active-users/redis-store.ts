/**
 * The fleet-wide active-users store: at every flush each instance merges the registers of its changed tier-day
 * sketches into per-tier, per-day Redis HyperLogLogs (SET of Redis's dense encoding into a scratch key, then
 * PFMERGE), and reads the window counts back with PFCOUNT over the window's day keys; for weekly and monthly also
 * the count of the days tomorrow's window still covers (the carry), which keeps those windows at the fleet's figure
 * across UTC midnight until the new day's first successful flush.
 *
 * Why registers and not PFADD of each user: the local sketch already holds everything this instance saw, so the
 * recording call does no store work at all (no per-user queue, the same cost as in-process), an outage loses
 * nothing (the next successful flush sends the sketches as they are then), and what crosses the network is
 * 12 KiB per changed tier-day, not one member per user. Redis's registers for a key are the register-wise
 * maximum over the fleet, exactly as with PFADD, and PFCOUNT runs the same estimator (Ertl's) as the local one.
 *
 * Owns: the one pipelined round trip per flush interval, key names and their expiry, which tier-days Redis has
 * acknowledged, the fleet counts and carries read back and for which day they hold, failure accounting. Must not
 * touch: hashing, updating sketches, metrics instruments, the byte encoding (redis-encoding.ts), loading ioredis
 * (redis-client.ts).
 *
 * Nothing that reaches Redis identifies a user: values are HyperLogLog registers (a few bits per register of
 * keyed digests, never a digest or an id) and keys are `<prefix>:<tier>:<YYYY-MM-DD>`, the tier encoded
 * (see {@link encodeTier}).
 *
 * What Redis answers is checked before use (docs/safety.md#peers): a key of the wrong type (another tool's, a
 * broken HyperLogLog) spoils only its own tier-day, which is left out of merges and counts for a while and counted
 * locally; a PFCOUNT answer that is not a whole number >= 0 is refused, one above `limits.maxActiveUsers`
 * clamped; and a day's fleet count never goes down within the day (a Redis restarted empty is being repaired
 * by the instances, which takes one flush of each).
 */
import { randomBytes } from 'node:crypto';
import { printable, safeMessage, TimeoutError, withTimeout } from '../support';
import {
  DAY_MS,
  dayLabel,
  RETAINED_DAYS,
  type ActiveUserWindowName,
  ACTIVE_USER_WINDOW_DAYS,
} from './day-sketches';
import { connectRedis, type RedisClientLike, type RedisPipelineLike } from './redis-client';
import { denseHyperLogLog } from './redis-encoding';

/** Options of the Redis store (`activeUsers.redis`). */
export interface RedisStoreOptions {
  /** `redis://` URL to connect to (needs the `ioredis` package). Ignored when `client` is given. */
  url?: string;
  /** A connected ioredis client you own: the store never quits it. Give it `enableOfflineQueue: false` or the
   * store skips flushes while it is not `ready`. */
  client?: RedisClientLike;
  /** Prefix of every key. Default `obm:active_users`. Keep it identical on every instance of one fleet. */
  keyPrefix?: string;
  /** How often changed sketches are merged into Redis and window counts read back. Default 10000 ms. */
  flushIntervalMillis?: number;
  /** A flush that has not answered after this long counts as failed. Default 2000 ms. */
  timeoutMillis?: number;
}

/** One tier-day sketch as the store reads it at a flush (the tracker's, never written here). */
export interface TierDaySketch {
  readonly tier: string;
  readonly day: number;
  /** Changes whenever a register grows: Redis is sent the sketch again when it differs from the acknowledged one. */
  readonly version: number;
  readonly registers: Uint8Array;
}

/**
 * Why a flush did not reach Redis, or what of Redis's answer was refused (the `reason` label of the store's failure
 * self-metric): `invalid` is a key of the wrong type or an answer out of range.
 */
export type StoreFailureReason = 'unavailable' | 'timeout' | 'error' | 'busy' | 'invalid';

/** How long a key found to be of the wrong type is left alone before it is tried again. */
const BAD_KEY_MILLIS = 10 * 60_000;

interface FleetCount {
  readonly day: number;
  readonly value: number;
}

/** One PFCOUNT of a flush: a window's, or its carry (the days of it that tomorrow's window still covers). */
interface WindowCount {
  readonly tier: string;
  readonly window: ActiveUserWindowName;
  readonly carry: boolean;
  readonly keys: string[];
}

/** Counts of the store's own trouble, read by observable self-metrics. */
export interface StoreHealth {
  readonly failures: Readonly<Record<StoreFailureReason, number>>;
  /** Flushes Redis answered. */
  readonly flushes: number;
}

export class RedisActiveUsersStore {
  private readonly client: RedisClientLike;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly intervalMillis: number;
  private readonly timeoutMillis: number;
  /** Scratch key of this store: each changed sketch is SET here, then PFMERGEd into its day key. */
  private readonly scratchKey: string;
  /** Tiers ever sent or read (PFCOUNT covers them even on a day this instance saw none of their users). */
  private readonly tiers = new Set<string>();
  /** `tier\0day` -> the sketch version Redis has merged. */
  private readonly acknowledged = new Map<string, number>();
  /** `tier\0window` -> the fleet's count for the window ending on `day`. */
  private readonly fleet = new Map<string, FleetCount>();
  /**
   * `tier\0window` -> a floor for tomorrow: the fleet's count over the days of today's window that tomorrow's window
   * still covers (its `day` is tomorrow). It keeps weekly and monthly at the fleet's figure across UTC midnight until
   * the new day's first successful flush.
   */
  private readonly carry = new Map<string, FleetCount>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  /** Shutdown's deadline passed: what fails afterwards is only counted. */
  private abandoned = false;
  private readonly failureCounts: Record<StoreFailureReason, number> = {
    unavailable: 0,
    timeout: 0,
    error: 0,
    busy: 0,
    invalid: 0,
  };
  private flushCount = 0;
  /** Day keys Redis refused as the wrong type, until when they are left out. */
  private readonly badKeys = new Map<string, number>();

  private readonly onError = (error: Error): void => {
    if (!this.abandoned)
      this.warn('redis-connection', `otel-business-metrics: Redis (active users): ${safeMessage(error)}`);
  };
  private readonly onReady = (): void => {
    this.acknowledged.clear();
    this.badKeys.clear();
  };

  /**
   * @param warn rate-limited warning sink (never receives user ids: there are none here).
   * @param sketches the retained tier-day sketches at the moment of a flush (precision 14 or more).
   * @param maxCount the largest distinct count believed (`limits.maxActiveUsers`): larger answers are clamped.
   * @param today the UTC day whose windows a flush counts (default: the day of `now`).
   * @throws OptionalPeerError naming `ioredis` when a URL is configured and the package is missing or broken.
   */
  constructor(
    options: RedisStoreOptions,
    private readonly now: () => number,
    private readonly warn: (key: string, message: string) => void,
    private readonly sketches: () => Iterable<TierDaySketch>,
    private readonly maxCount = Number.MAX_SAFE_INTEGER,
    private readonly today: () => number = () => Math.floor(now() / DAY_MS),
  ) {
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
    this.scratchKey = `${this.prefix}:merge:${randomBytes(8).toString('hex')}`;
    if (options.client !== undefined) {
      if (typeof options.client?.pipeline !== 'function') {
        throw new TypeError('activeUsers.redis.client must be an ioredis client (it has no pipeline())');
      }
      this.client = options.client;
      this.ownsClient = false;
    } else if (typeof options.url === 'string' && options.url !== '') {
      this.client = connectRedis(options.url, this.timeoutMillis);
      this.ownsClient = true;
    } else {
      throw new TypeError('activeUsers.redis needs a `url` (redis://host:port) or an ioredis `client`');
    }
    // Without a listener ioredis prints every connection error to the console itself.
    this.client.on?.('error', this.onError);
    // A new connection may reach a restarted (emptied) or different Redis: send every retained sketch again, and
    // try keys that were of the wrong type again.
    this.client.on?.('ready', this.onReady);
    this.timer = setInterval(() => void this.flush(), this.intervalMillis);
    this.timer.unref();
  }

  /**
   * The fleet-wide count of the window ending on `today`, as far as Redis's answers tell: the larger of the count
   * of today's last successful flush and, for weekly and monthly, the carry of yesterday's last one (the fleet's
   * users of the days today's window shares with yesterday's, a lower bound of today's window). Undefined when Redis
   * answered neither today nor yesterday.
   */
  fleetEstimate(tier: string, window: ActiveUserWindowName, today: number): number | undefined {
    const key = `${tier}\0${window}`;
    const count = this.fleet.get(key);
    const carried = this.carry.get(key);
    const own = count !== undefined && count.day === today ? count.value : undefined;
    const floor = carried !== undefined && carried.day === today ? carried.value : undefined;
    if (own === undefined) return floor;
    return floor === undefined ? own : Math.max(own, floor);
  }

  get health(): StoreHealth {
    return { failures: { ...this.failureCounts }, flushes: this.flushCount };
  }

  /** Tier-day sketches that changed since Redis last acknowledged them. */
  get pending(): number {
    let count = 0;
    for (const sketch of this.sketches()) if (this.isChanged(sketch)) count++;
    return count;
  }

  /**
   * Merge the changed sketches into Redis and read the window counts: one pipelined round trip. Resolves when
   * done or failed; never rejects. A flush still running when the next one is due makes that one a no-op
   * (counted as `busy`).
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
        return this.send(this.today());
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * True when the client can take commands now. A first connection still being made is waited for (within the
   * timeout), so a script that records and shuts down at once still delivers; a reconnection after an outage is
   * not: that flush fails at once, and the next one sends what changed meanwhile.
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

  /**
   * Final flush, then stop, quitting the connection if the store opened it; each step within `timeoutMillis`
   * (the option). With `deadlineMillis` (the handle's shutdown passes what is left of its deadline) the whole of it
   * ends by then: a connection the store opened is closed where it stands, and the warning says what was lost.
   */
  async shutdown(deadlineMillis?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    const finishing = this.finish();
    if (deadlineMillis === undefined) return finishing;
    try {
      await withTimeout(finishing, deadlineMillis, 'the final Redis flush');
    } catch {
      const what = `otel-business-metrics: shutdown: the active users' Redis store did not finish its final flush within ${deadlineMillis} ms`;
      if (!this.ownsClient) {
        // Your client stays open: the flush goes on there and may still arrive, or fail and say so itself.
        this.warn('redis-shutdown', `${what}; it goes on, on the client you passed in`);
        return;
      }
      // What still waits for Redis (the flush in flight, the final one, QUIT) would hold the process open past
      // the deadline: the socket is closed, and they fail at once, counted but not warned (this says it all);
      // `finish` still removes the listeners when they have.
      this.abandoned = true;
      this.client.disconnect?.();
      this.warn(
        'redis-shutdown',
        `${what}; what changed since its last flush did not reach Redis (its connection was closed)`,
      );
    }
  }

  private async finish(): Promise<void> {
    await this.inFlight;
    await this.flush();
    this.detach();
    if (this.ownsClient) {
      try {
        await withTimeout(Promise.resolve(this.client.quit?.()), this.timeoutMillis, 'Redis QUIT');
      } catch {
        this.client.disconnect?.();
      }
    }
  }

  /**
   * A client the app passed in outlives this store: leave nothing of it behind (a listener would keep the store,
   * its sketches included, reachable for as long as the client lives, and warn for it after shutdown).
   */
  private detach(): void {
    this.client.removeListener?.('error', this.onError);
    this.client.removeListener?.('ready', this.onReady);
  }

  private async send(today: number): Promise<void> {
    const pipeline = this.client.pipeline();
    let commands = 0;
    const sent: Array<{ tierDay: string; key: string; version: number; replies: number[] }> = [];
    for (const sketch of this.sketches()) {
      this.tiers.add(sketch.tier);
      if (!this.isChanged(sketch)) continue;
      const key = this.key(sketch.tier, sketch.day);
      if (this.isBad(key)) continue;
      // The scratch key expires on its own should the connection drop between SET and DEL.
      pipeline.set(this.scratchKey, denseHyperLogLog(sketch.registers), 'PX', 10 * this.timeoutMillis);
      pipeline.pfmerge(key, this.scratchKey);
      // A day key outlives the last window that covers it by a day (clock skew between instances).
      pipeline.expireat(key, ((sketch.day + RETAINED_DAYS + 1) * DAY_MS) / 1000);
      sent.push({
        tierDay: `${sketch.tier}\0${sketch.day}`,
        key,
        version: sketch.version,
        replies: [commands, commands + 1, commands + 2],
      });
      commands += 3;
    }
    if (sent.length > 0) {
      pipeline.del(this.scratchKey);
      commands++;
    }
    const counted = this.queueCounts(pipeline, today);
    if (counted.length === 0) return;
    const replies = await this.exec(pipeline, commands + counted.length);
    if (replies === undefined) return;
    // Per-command errors only (ioredis's commandTimeout answers every command of a stalled pipeline with one): a
    // failure, counted below, not a flush Redis answered.
    if (replies.some(([error]) => error === null)) this.flushCount++;
    let refused = 0;
    for (const { tierDay, key, version, replies: at } of sent) {
      const errors = at.map((i) => replies[i][0]).filter((error) => error !== null);
      if (errors.length === 0) this.acknowledged.set(tierDay, version);
      else if (errors.some(isWrongType)) refused += this.markBad(key, 'it is not a HyperLogLog');
      else this.fail('error', safeMessage(errors[0]));
    }
    this.forgetBefore(today - RETAINED_DAYS + 1);
    const wrongType = this.readCounts(counted, replies.slice(commands), today);
    refused += wrongType.refused;
    // A count that failed because one of its day keys is of the wrong type: find that key, count without it.
    if (wrongType.failed.length > 0) refused += await this.countAround(wrongType.failed, today);
    if (refused > 0) {
      this.failureCounts.invalid += refused;
      this.warn(
        'redis-invalid',
        `otel-business-metrics: Redis (active users) answered ${refused} time(s) with a key of the wrong type or a ` +
          'count out of range; that tier-day is counted locally',
      );
    }
  }

  /**
   * Queues one PFCOUNT per tier and window over the window's day keys (leaving out keys of the wrong type) and, for
   * windows longer than a day, one over the days of it that tomorrow's window still covers (the carry).
   */
  private queueCounts(
    pipeline: RedisPipelineLike,
    today: number,
    only?: readonly WindowCount[],
  ): WindowCount[] {
    const counted: WindowCount[] = [];
    const wanted =
      only ??
      [...this.tiers].flatMap((tier) =>
        (Object.keys(ACTIVE_USER_WINDOW_DAYS) as ActiveUserWindowName[]).flatMap((window) => [
          { tier, window, carry: false },
          { tier, window, carry: true },
        ]),
      );
    for (const { tier, window, carry } of wanted) {
      const keys: string[] = [];
      // The carry leaves out the window's first day: tomorrow's window no longer covers it (none for daily).
      const first = today - ACTIVE_USER_WINDOW_DAYS[window] + (carry ? 2 : 1);
      for (let day = first; day <= today; day++) {
        const key = this.key(tier, day);
        if (!this.isBad(key)) keys.push(key);
      }
      if (keys.length === 0) continue;
      pipeline.pfcount(...keys);
      counted.push({ tier, window, carry, keys });
    }
    return counted;
  }

  /**
   * Stores the window counts Redis answered. Returns how many answers were refused (not a whole number >= 0) or
   * clamped, and the counts that failed because a key was of the wrong type.
   */
  private readCounts(
    counted: readonly WindowCount[],
    replies: ReadonlyArray<[Error | null, unknown]>,
    today: number,
  ): { refused: number; failed: WindowCount[] } {
    let refused = 0;
    const failed: WindowCount[] = [];
    counted.forEach((count, i) => {
      const [error, answer] = replies[i];
      if (error !== null) {
        if (isWrongType(error)) failed.push(count);
        else this.fail('error', safeMessage(error));
        return;
      }
      const value = Number(answer);
      if (!Number.isSafeInteger(value) || value < 0) {
        refused++;
        return;
      }
      if (value > this.maxCount) refused++;
      const counts = count.carry ? this.carry : this.fleet;
      // A carry is a floor for the window ending tomorrow.
      setCount(
        counts,
        `${count.tier}\0${count.window}`,
        count.carry ? today + 1 : today,
        Math.min(value, this.maxCount),
      );
    });
    return { refused, failed };
  }

  /** One more round trip on the rare path: which day keys are of the wrong type, then the counts without them. */
  private async countAround(failed: readonly WindowCount[], today: number): Promise<number> {
    const keys = [...new Set(failed.flatMap((count) => count.keys))];
    const probe = this.client.pipeline();
    for (const key of keys) probe.pfcount(key);
    const answers = await this.exec(probe, keys.length);
    if (answers === undefined) return 0;
    let refused = 0;
    keys.forEach((key, i) => {
      if (answers[i][0] !== null && isWrongType(answers[i][0]))
        refused += this.markBad(key, 'it is not a HyperLogLog');
    });
    const recount = this.client.pipeline();
    const counted = this.queueCounts(recount, today, failed);
    if (counted.length === 0) return refused;
    const replies = await this.exec(recount, counted.length);
    if (replies !== undefined) refused += this.readCounts(counted, replies, today).refused;
    return refused;
  }

  /** Runs a pipeline within the timeout; its replies when Redis answered every command, else undefined (counted). */
  private async exec(
    pipeline: RedisPipelineLike,
    commands: number,
  ): Promise<ReadonlyArray<[Error | null, unknown]> | undefined> {
    let replies: unknown;
    try {
      replies = await withTimeout(pipeline.exec(), this.timeoutMillis, 'Redis flush');
    } catch (error) {
      const timedOut = error instanceof TimeoutError;
      this.fail(
        timedOut ? 'timeout' : 'error',
        timedOut ? `Redis did not answer within ${this.timeoutMillis} ms` : safeMessage(error),
      );
      return undefined;
    }
    const wellFormed =
      Array.isArray(replies) &&
      replies.length === commands &&
      replies.every((reply) => Array.isArray(reply) && (reply[0] === null || reply[0] instanceof Error));
    if (!wellFormed) {
      this.fail('error', replies === null ? 'no reply' : 'a reply that is not one answer per command');
      return undefined;
    }
    return replies as ReadonlyArray<[Error | null, unknown]>;
  }

  private isBad(key: string): boolean {
    const until = this.badKeys.get(key);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.badKeys.delete(key);
    return false;
  }

  /** Leaves a key of the wrong type alone for a while; returns 1 (one refused answer) the first time. */
  private markBad(key: string, why: string): number {
    const known = this.badKeys.has(key);
    this.badKeys.set(key, this.now() + BAD_KEY_MILLIS);
    if (!known) {
      this.warn(
        `redis-bad-key:${key}`,
        `otel-business-metrics: Redis key ${printable(key)} is left alone for ${BAD_KEY_MILLIS / 60_000} minutes: ${why}`,
      );
    }
    return 1;
  }

  private isChanged(sketch: TierDaySketch): boolean {
    return this.acknowledged.get(`${sketch.tier}\0${sketch.day}`) !== sketch.version;
  }

  /** Drop acknowledgements of days no window covers any more (their sketches are gone too). */
  private forgetBefore(firstKept: number): void {
    for (const key of this.acknowledged.keys()) {
      if (Number(key.slice(key.indexOf('\0') + 1)) < firstKept) this.acknowledged.delete(key);
    }
  }

  private fail(reason: StoreFailureReason, detail: string): void {
    this.failureCounts[reason]++;
    if (this.abandoned) return;
    this.warn(
      `redis-${reason}`,
      `otel-business-metrics: active users not sent to Redis (${reason}: ${detail}); counting locally, ` +
        `${this.pending} changed tier-day sketches go at the next flush`,
    );
  }

  private key(tier: string, day: number): string {
    return `${this.prefix}:${encodeTier(tier)}:${dayLabel(day)}`;
  }
}

/**
 * A tier as it appears in a key: letters, digits, `_`, `.` and `-` as they are, every other character as the
 * percent-encoded bytes of its UTF-8 (`a:b{x}*` -> `a%3Ab%7Bx%7D%2A`). Reversible (`decodeURIComponent`), so
 * two tiers never share a key; and nothing in it is a Redis Cluster hash tag (`{...}`), a glob character of
 * KEYS/SCAN patterns, or the `:` that separates the key's parts. The default tiers are unchanged.
 */
export function encodeTier(tier: string): string {
  if (/^[A-Za-z0-9_.-]*$/.test(tier)) return tier;
  let out = '';
  for (const char of tier) {
    if (/^[A-Za-z0-9_.-]$/.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8'))
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Within one UTC day the fleet's distinct count only grows: a smaller answer means Redis lost registers. */
function setCount(counts: Map<string, FleetCount>, key: string, day: number, value: number): void {
  const previous = counts.get(key);
  const floor = previous !== undefined && previous.day === day ? previous.value : 0;
  counts.set(key, { day, value: Math.max(floor, value) });
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1 (got ${String(value)})`);
  }
  return value;
}
