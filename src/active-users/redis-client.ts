/**
 * The Redis client the active-users store talks to: the subset of ioredis (v5 or v6) it uses, and opening a
 * connection of its own from a URL with the optional `ioredis` package.
 *
 * Owns: the client and pipeline shapes, loading `ioredis` (only when a URL is configured) and the connection
 * options. Must not touch: what is sent (redis-store.ts), the encoding (redis-encoding.ts).
 */
import { loadOptionalPeer } from '../support';

/** The subset of an ioredis client (v5 or v6) the store uses. */
export interface RedisClientLike {
  /** ioredis connection state; the store only sends when it is `ready`. */
  readonly status?: string;
  pipeline(): RedisPipelineLike;
  quit?(): Promise<unknown>;
  disconnect?(): void;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  on?(event: 'ready', listener: () => void): unknown;
  once?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
}

export interface RedisPipelineLike {
  set(key: string, value: Buffer, expiryMode: 'PX', millis: number): unknown;
  pfmerge(destination: string, ...sources: string[]): unknown;
  del(...keys: string[]): unknown;
  expireat(key: string, unixSeconds: number): unknown;
  pfcount(...keys: string[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * A connection of the store's own to `url`, through the optional `ioredis` package.
 * @throws OptionalPeerError naming `ioredis` (not installed, or installed and failing to load, with the cause).
 */
export function connectRedis(url: string, timeoutMillis: number): RedisClientLike {
  const loaded = loadOptionalPeer<{ default?: unknown }>({
    name: 'ioredis',
    neededBy: 'activeUsers.redis.url',
    alternative: 'pass your own client as activeUsers.redis.client',
  });
  const Redis = (loaded.default ?? loaded) as new (url: string, options: object) => RedisClientLike;
  return new Redis(url, {
    // Fail fast while disconnected instead of queueing inside ioredis without bound: the local sketches keep
    // everything, and the next flush after the reconnection sends them.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMillis,
    connectTimeout: timeoutMillis,
    retryStrategy: (attempt: number) => Math.min(attempt * 250, 5000),
  });
}
