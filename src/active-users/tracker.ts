/**
 * `trackActiveUser`: validates a call, hashes the id with the keyed hash and adds it to the tier's sketch of the
 * current UTC day (a Redis store merges those sketches into the fleet's at its flushes); at collection, reports
 * `business_active_users{window, user_tier}` for every window and tier.
 *
 * Owns: the argument rules of trackActiveUser (and their redacted messages), counting calls whose clock reading the
 * day sketches refuse, the tier vocabulary of tracked users, the choice between the local and the fleet-wide count,
 * handing the store's failure tallies to the self-metric. Must not touch:
 * instruments (the caller registers the gauge and reads `forEachValue`), exporters, the id itself beyond the
 * hash call: it is never stored, logged, put in a message, a label or a Redis key.
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/`, `src/cluster/`.
 */
import type { Attributes } from '@opentelemetry/api';
import { OTHER_LABEL_VALUE, type LabelPolicy } from '../catalog/labels';
import { normalizeLabelValue, rawLengthBound } from '../guard/normalize';
import type { GuardReporter } from '../guard/reporter';
import {
  ACTIVE_USER_WINDOWS,
  CLOCK_LEAP_CONFIRM_MS,
  DaySketches,
  dayLabel,
  type ActiveUserWindowName,
  type ClockRefusal,
  type DaySketchSnapshot,
} from './day-sketches';
import { checkPrecision, DEFAULT_PRECISION } from './hyperloglog';
import { REDIS_HLL_PRECISION } from './redis-encoding';
import type { RedisActiveUsersStore, RedisStoreOptions, StoreHealth, TierDaySketch } from './redis-store';
import { UserIdHasher, type UserHashKey } from './user-hash';

/** Options of distinct-user counting (`activeUsers` in initBusinessMetrics / BusinessMetrics options). */
export interface ActiveUsersOptions {
  /** Registers per sketch as a power of two, 4-18. Default 14: 16,384 registers (16 KiB per tier and day),
   * standard error 0.81%. */
  precision?: number;
  /**
   * Secret for the keyed hash of user ids (>= 16 bytes). Default: env OTEL_BUSINESS_METRICS_USER_HASH_KEY, else a
   * random key per process, which is fine for one process but NOT across processes: cluster workers and
   * instances sharing Redis must use the same key, or one user counts once per process.
   */
  hashKey?: UserHashKey;
  /** Longest user id accepted, in UTF-16 code units. Default 256. */
  maxUserIdLength?: number;
  /** Count fleet-wide through Redis (PFADD per tier and day, PFCOUNT per window). Requires `hashKey`. */
  redis?: RedisStoreOptions;
}

/** The metadata of `trackActiveUser`. */
export interface ActiveUserMetadata {
  /** The `user_tier` label; must be accepted by the `user_tier` label policy, else the call is dropped. */
  userTier: string;
}

/** Everything the counter needs from the BusinessMetrics that owns it. */
export interface ActiveUsersContext {
  readonly reporter: GuardReporter;
  readonly now: () => number;
  /** The clock that stamps a tracked user's UTC day, if not `now`: it may be slightly old (coarse-clock.ts). */
  readonly stampNow?: () => number;
  /**
   * A monotonic clock in ms (`performance.now()`), given only when `now` is the real wall clock: a leap of days that
   * it vouches for (the process ran through the gap) is believed at once (DaySketches). With an injected `now` it
   * says nothing about that clock, and is left out.
   */
  readonly monotonicNow?: () => number;
  readonly tierPolicy: LabelPolicy;
  readonly maxLabelLength: number;
  /** The largest distinct count believed from the Redis store (`limits.maxActiveUsers`); larger answers are clamped. */
  readonly maxActiveUsers?: number;
  /** Prometheus family name, for drop reports. */
  readonly family: string;
  /** Warnings at a bounded rate (the reporter's). */
  readonly warn: (key: string, message: string) => void;
}

const METHOD = 'trackActiveUser';
const DEFAULT_MAX_USER_ID_LENGTH = 256;

type TierState = ReturnType<DaySketches['tier']>;

export class ActiveUsersCounter {
  readonly precision: number;
  private readonly sketches: DaySketches;
  private readonly hasher: UserIdHasher;
  private readonly maxIdLength: number;
  private readonly stampNow: () => number;
  private readonly store: RedisActiveUsersStore | undefined;
  private readonly tiers = new Map<string, TierState>();
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly maxOpenTiers: number;
  private openTiers = 0;
  /** A cluster worker: its sketches travel to the primary, which reports the union; it reports nothing itself. */
  private reportsThroughPrimary = false;
  private readonly tierRule: string;
  private readonly attributes = new Map<string, Attributes>();

  /** @throws TypeError/RangeError for malformed options (at init, never on the hot path). */
  constructor(
    options: ActiveUsersOptions,
    private readonly context: ActiveUsersContext,
  ) {
    if (typeof options !== 'object' || options === null) throw new TypeError('activeUsers must be an object');
    this.precision = checkPrecision(options.precision ?? DEFAULT_PRECISION);
    const maxIdLength = options.maxUserIdLength ?? DEFAULT_MAX_USER_ID_LENGTH;
    if (!Number.isSafeInteger(maxIdLength) || maxIdLength < 1) {
      throw new RangeError(
        `activeUsers.maxUserIdLength must be an integer >= 1 (got ${String(maxIdLength)})`,
      );
    }
    this.maxIdLength = maxIdLength;
    this.stampNow = context.stampNow ?? context.now;
    this.sketches = new DaySketches(this.precision, context.monotonicNow);
    this.hasher = new UserIdHasher(options.hashKey);

    const policy = context.tierPolicy;
    const normalized = (values: readonly string[]) =>
      values
        .map((value) => normalizeLabelValue(value, context.maxLabelLength))
        .filter((value): value is string => typeof value === 'string');
    if (policy.kind === 'allow') {
      this.allowed = new Set(normalized(policy.values));
      this.maxOpenTiers = 0;
      this.tierRule = `must be one of ${[...this.allowed].join(', ')} (limits.labels.user_tier)`;
    } else {
      this.allowed = undefined;
      this.maxOpenTiers = policy.maxValues;
      for (const tier of normalized(policy.known ?? [])) this.tiers.set(tier, this.sketches.tier(tier));
      this.tierRule = `must be a known tier or one of at most ${policy.maxValues} more (limits.labels.user_tier)`;
    }
    if (this.allowed) for (const tier of this.allowed) this.tiers.set(tier, this.sketches.tier(tier));

    if (options.redis !== undefined) {
      if (options.hashKey === undefined) {
        throw new TypeError(
          'activeUsers.redis needs activeUsers.hashKey (or OTEL_BUSINESS_METRICS_USER_HASH_KEY): every instance ' +
            'must hash a user id to the same digest, or each instance counts the same user again',
        );
      }
      if (this.precision < REDIS_HLL_PRECISION) {
        throw new RangeError(
          `activeUsers.redis needs activeUsers.precision ${REDIS_HLL_PRECISION} or more: Redis's HyperLogLogs have ` +
            `2^${REDIS_HLL_PRECISION} registers, and a coarser sketch cannot be merged into them (got ${this.precision})`,
        );
      }
      // Loaded only when configured: an app without the Redis store never loads it.
      const { RedisActiveUsersStore: Store } = require('./redis-store') as typeof import('./redis-store');
      this.store = new Store(
        options.redis,
        context.now,
        context.warn,
        () => this.sketches.sketches(),
        context.maxActiveUsers,
        // The day Redis's windows end on: the sketches' current day while a clock leap is not confirmed.
        () => this.sketches.today(context.now()),
      );
    }
  }

  /**
   * Record that `userId` was active now. Never throws outside strict mode, and in it only for the caller's own
   * arguments (never for the clock); the id never leaves this call.
   */
  track(userId: unknown, metadata: unknown): void {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > this.maxIdLength) {
      this.refuseId(userId);
      return;
    }
    if (typeof metadata !== 'object' || metadata === null) {
      this.context.reporter.drop(
        METHOD,
        'metadata',
        this.context.family,
        'invalid_argument',
        'must be an object',
        metadata,
      );
      return;
    }
    const rawTier = (metadata as { userTier?: unknown }).userTier;
    let state = typeof rawTier === 'string' ? this.tiers.get(rawTier) : undefined;
    if (state === undefined) {
      state = this.resolveTier(rawTier);
      if (state === undefined) return;
    }
    const high = this.hasher.hash(userId);
    const at = this.stampNow();
    const refused = this.sketches.add(state, at, high, this.hasher.low);
    if (refused !== undefined) this.refuseTime(refused, at);
  }

  /** Tiers with users in the retained days (updateActiveUsers values for them are ignored). */
  isTracked(tier: string): boolean {
    const normalized = normalizeLabelValue(tier, this.context.maxLabelLength);
    if (typeof normalized !== 'string') return false;
    const state = this.tiers.get(normalized);
    return state !== undefined && state.days.size > 0;
  }

  /**
   * Every (window, tier) value for the gauge: the local estimate, or with Redis the larger of it and the last
   * fleet-wide count for today (the fleet includes this process, so the larger one is the better lower bound
   * while Redis is unreachable). Right after UTC midnight, until the new day's first successful flush, weekly and
   * monthly keep the fleet's figure through yesterday's carry (RedisActiveUsersStore.fleetEstimate).
   */
  forEachValue(visit: (value: number, attributes: Attributes) => void): void {
    // A reading even in a cluster worker, which reports nothing: its collections move the current day too, so a day
    // without calls does not leave the next call looking like a leap.
    const today = this.sketches.today(this.context.now());
    if (this.reportsThroughPrimary) return;
    for (const tier of this.sketches.tierNames) {
      for (const window of ACTIVE_USER_WINDOWS) {
        const local = this.sketches.estimate(tier, window, today);
        const fleet = this.store?.fleetEstimate(tier, window, today);
        if (local === 0 && fleet === undefined && !this.isTracked(tier)) continue;
        visit(Math.max(local, fleet ?? 0), this.attributesOf(window, tier));
      }
    }
  }

  /** The local estimate alone (tests, cluster). */
  localEstimate(tier: string, window: ActiveUserWindowName): number {
    return this.sketches.estimate(tier, window, this.sketches.today(this.context.now()));
  }

  /** Cluster worker: stop reporting values here; the primary merges this process's sketches and reports. */
  reportThroughPrimary(): void {
    this.reportsThroughPrimary = true;
  }

  /** Register copies of the retained tier-days (for merging in another process). */
  snapshot(fromDay?: number): DaySketchSnapshot[] {
    return this.sketches.snapshot(fromDay);
  }

  /** The retained tier-day sketches as they are (not copied), with the version that changes when they grow. */
  sketchStates(): IterableIterator<TierDaySketch> {
    return this.sketches.sketches();
  }

  /**
   * Merge another process's tier-days register-wise. Every tier must be one this process accepts (the
   * `user_tier` policy, and its cap of open tiers): a worker cannot add tiers, and so label values, without
   * bound. Throws a TypeError before merging anything otherwise.
   */
  merge(snapshots: readonly DaySketchSnapshot[]): void {
    for (const { tier } of snapshots) {
      if (this.peerTier(tier) === undefined) {
        throw new TypeError(
          `active-users snapshot tier ${JSON.stringify(tier.slice(0, 64))} is not accepted here`,
        );
      }
    }
    this.sketches.merge(snapshots, this.sketches.today(this.context.now()));
  }

  /** A tier named by another process: as `resolveTier`, but refused quietly (it is not a caller's argument). */
  private peerTier(tier: string): TierState | undefined {
    const known = this.tiers.get(tier);
    if (known !== undefined) return known;
    if (normalizeLabelValue(tier, this.context.maxLabelLength) !== tier) return undefined;
    if (this.allowed !== undefined || this.openTiers >= this.maxOpenTiers || tier === OTHER_LABEL_VALUE) {
      return undefined;
    }
    this.openTiers++;
    const state = this.sketches.tier(tier);
    this.tiers.set(tier, state);
    return state;
  }

  /** The Redis store's trouble counts (undefined without a store). */
  get storeHealth(): StoreHealth | undefined {
    return this.store?.health;
  }

  /** Merge the changed sketches into Redis now (no-op without a store). */
  flush(): Promise<void> {
    return this.store?.flush() ?? Promise.resolve();
  }

  /** Final flush and disconnect, by `deadlineMillis` if given (see RedisActiveUsersStore.shutdown). Never rejects. */
  shutdown(deadlineMillis?: number): Promise<void> {
    return this.store?.shutdown(deadlineMillis).catch(() => undefined) ?? Promise.resolve();
  }

  private attributesOf(window: ActiveUserWindowName, tier: string): Attributes {
    const key = `${window}\0${tier}`;
    let attributes = this.attributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ window, user_tier: tier });
      this.attributes.set(key, attributes);
    }
    return attributes;
  }

  private resolveTier(raw: unknown): TierState | undefined {
    const normalized = normalizeLabelValue(raw, this.context.maxLabelLength);
    const family = this.context.family;
    if (typeof normalized !== 'string') {
      this.context.reporter.drop(METHOD, 'metadata.userTier', family, 'invalid_argument', this.tierRule, raw);
      return undefined;
    }
    let state = this.tiers.get(normalized);
    if (state === undefined) {
      if (
        this.allowed !== undefined ||
        this.openTiers >= this.maxOpenTiers ||
        normalized === OTHER_LABEL_VALUE
      ) {
        this.context.reporter.drop(
          METHOD,
          'metadata.userTier',
          family,
          'invalid_argument',
          this.tierRule,
          raw,
        );
        return undefined;
      }
      this.openTiers++;
      state = this.sketches.tier(normalized);
      this.tiers.set(normalized, state);
    }
    // Cache the raw spelling too, within a bound, so a flood of distinct spellings cannot grow the map, and never
    // a long one: the map would keep the caller's whole string.
    if (
      typeof raw === 'string' &&
      raw.length <= rawLengthBound(this.context.maxLabelLength) &&
      this.tiers.size < 4 * (this.maxOpenTiers + 16)
    ) {
      this.tiers.set(raw, state);
    }
    return state;
  }

  /**
   * Reports a call whose clock reading the sketches refuse: more than a day after the current UTC day, not (yet)
   * confirmed (`future_time`), or before every window of it (`invalid_time`). Only the reading is quoted. Never
   * throws, not even in strict mode: the clock is no argument of the call, and a leap (a laptop waking after days,
   * fake timers jumping) is not the caller's mistake; throwing would fail every call until the leap is believed.
   */
  private refuseTime(refused: ClockRefusal, at: number): void {
    // Not a time at all (a broken injected clock: NaN, beyond a Date's range): before every window too.
    const valid = Math.abs(at) <= 8.64e15;
    const current = this.sketches.currentDay;
    this.context.reporter.dropForCondition(
      METHOD,
      'the clock',
      this.context.family,
      refused === 'ahead' ? 'future_time' : 'invalid_time',
      !valid || Number.isNaN(current)
        ? 'must read a time (epoch milliseconds a Date can hold)'
        : `must read a UTC day from 30 days before the current one (${dayLabel(current)}) to the day after ` +
            `it, or stay on another day for ${CLOCK_LEAP_CONFIRM_MS / 60_000} minutes`,
      valid ? new Date(at).toISOString() : String(at),
    );
  }

  /** Reports a refused id by its shape only: the value itself must never reach a message. */
  private refuseId(userId: unknown): void {
    const tooLong = typeof userId === 'string' && userId.length > 0;
    const shape =
      typeof userId === 'string'
        ? tooLong
          ? `a string of ${userId.length} characters`
          : 'an empty string'
        : userId === null
          ? 'null'
          : Array.isArray(userId)
            ? 'an array'
            : `a value of type ${typeof userId}`;
    this.context.reporter.dropRedacted(
      METHOD,
      'userId',
      this.context.family,
      tooLong ? 'too_large' : 'invalid_argument',
      tooLong
        ? `must be at most ${this.maxIdLength} characters (activeUsers.maxUserIdLength)`
        : 'must be a non-empty string',
      shape,
    );
  }
}
