/**
 * Distinct active users: HyperLogLog sketches per tier and UTC day, a keyed hash of ids, and an optional Redis
 * store for fleet-wide counts. Owns: re-exports only.
 */
export { ActiveUsersCounter, type ActiveUserMetadata, type ActiveUsersOptions } from './tracker';
export {
  ACTIVE_USER_WINDOW_DAYS,
  RETAINED_DAYS,
  dayLabel,
  utcDay,
  type ActiveUserWindowName,
  type DaySketchSnapshot,
} from './day-sketches';
export { DEFAULT_PRECISION, HyperLogLog, MAX_PRECISION, MIN_PRECISION, estimateUnion } from './hyperloglog';
export {
  RedisActiveUsersStore,
  type RedisStoreOptions,
  type StoreFailureReason,
  type StoreHealth,
} from './redis-store';
export type { RedisClientLike, RedisPipelineLike } from './redis-client';
export { MIN_HASH_KEY_BYTES, UserIdHasher, type UserHashKey } from './user-hash';
