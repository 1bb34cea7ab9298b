/**
 * src/active-users/redis-client.ts, the store's own Redis connection, against a real redis-server on a free
 * loopback port: connectRedis opens an ioredis client that becomes ready and runs the pipeline commands the store
 * sends; while nothing listens, a command fails at once instead of waiting in an unbounded offline queue; the
 * reconnection back-off grows and is capped; and an ioredis that fails to load is an OptionalPeerError that
 * names it, the option that needs it and the alternative.
 */
import { connectRedis, type RedisClientLike } from '../../src/active-users/redis-client';
import { OptionalPeerError } from '../../src/support';
import { freePort } from '../support/prometheus-server';
import { REDIS_SERVER, startRedis, type RedisServer } from '../support/redis-server';

const itWithRedis = REDIS_SERVER ? it : it.skip;

/** What ioredis exposes of the options a client was made with. */
interface IoRedisOptions {
  enableOfflineQueue: boolean;
  maxRetriesPerRequest: number | null;
  commandTimeout: number;
  connectTimeout: number;
  retryStrategy: (attempt: number) => number;
}

const ready = (client: RedisClientLike) => new Promise<void>((resolve) => client.once!('ready', resolve));

describe('connectRedis', () => {
  let redis: RedisServer | undefined;
  let client: RedisClientLike | undefined;
  afterEach(async () => {
    client?.disconnect?.();
    client = undefined;
    await redis?.stop();
    redis = undefined;
  });

  itWithRedis('connects to the URL and runs the pipeline commands the store sends', async () => {
    redis = await startRedis();
    client = connectRedis(redis.url, 5000);
    await ready(client);
    expect(client.status).toBe('ready');
    // The store's calls, on the subset of the pipeline it types (RedisPipelineLike).
    const pipeline = client.pipeline();
    pipeline.set('obm:test:a', Buffer.from('registers'), 'PX', 60_000);
    pipeline.pfcount('obm:test:none');
    pipeline.expireat('obm:test:a', Math.floor(Date.now() / 1000) + 3600);
    pipeline.del('obm:test:a');
    const results = await pipeline.exec();
    expect(results).toEqual([
      [null, 'OK'],
      [null, 0],
      [null, 1],
      [null, 1],
    ]);
    await client.quit!();
    client = undefined;
  });

  it('fails a command at once while nothing listens, instead of queueing it', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    client = connectRedis(url, 5000);
    client.on!('error', () => undefined); // connection refused, reported through the rejected command
    // ioredis answers a pipeline with one [error, result] pair per command.
    const pipeline = client.pipeline();
    pipeline.pfcount('obm:test:none');
    const [[error, result]] = (await pipeline.exec())!;
    expect(error?.message).toBe("Stream isn't writeable and enableOfflineQueue options is false");
    expect(result).toBeUndefined();
  });

  it('gives ioredis the fail-fast options, the timeout, and a back-off that grows to 5 s', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    client = connectRedis(url, 1234);
    client.on!('error', () => undefined);
    const options = (client as unknown as { options: IoRedisOptions }).options;
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1234,
      connectTimeout: 1234,
    });
    expect([1, 2, 4, 20, 21, 1000].map((attempt) => options.retryStrategy(attempt))).toEqual([
      250, 500, 1000, 5000, 5000, 5000,
    ]);
  });

  it('says which option needs ioredis, and the alternative, when it cannot be loaded', () => {
    jest.isolateModules(() => {
      jest.doMock('ioredis', () => {
        throw new Error('ioredis needs a newer Node');
      });
      const isolated =
        require('../../src/active-users/redis-client') as typeof import('../../src/active-users/redis-client');
      const support = require('../../src/support') as typeof import('../../src/support');
      let thrown: unknown;
      try {
        isolated.connectRedis('redis://127.0.0.1:1', 1000);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(support.OptionalPeerError);
      const error = thrown as OptionalPeerError;
      expect(error.message).toContain('activeUsers.redis.url needs the optional package ioredis');
      expect(error.message).toContain('installed but failed to load');
      expect(error.message).toContain('ioredis needs a newer Node');
      expect(error.message).toContain('pass your own client as activeUsers.redis.client');
    });
  });
});
