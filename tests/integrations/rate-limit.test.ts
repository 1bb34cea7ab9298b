import { TokenBucketLimiter } from '../../src/integrations/express/rate-limit';

describe('TokenBucketLimiter', () => {
  it('allows a burst of `capacity`, then refuses until tokens refill', () => {
    let now = 1_000_000;
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 1, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('a');
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    now += 1000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('remembers at most maxClients, forgetting the least recently seen', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({
      capacity: 1,
      refillPerSecond: 0,
      maxClients: 100,
      now: () => now,
    });
    expect(limiter.take('keep').allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      limiter.take(`client-${i}`);
      // "keep" stays recently seen, so it is never the eviction candidate and its empty bucket persists.
      if (i % 50 === 0) expect(limiter.take('keep').allowed).toBe(false);
    }
    expect(limiter.size).toBe(100);
    // The first flood clients were evicted: they come back with a full bucket.
    expect(limiter.take('client-0').allowed).toBe(true);
  });
});
