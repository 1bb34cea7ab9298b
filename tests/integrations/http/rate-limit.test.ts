import { TokenBucketLimiter } from '../../../src/integrations/http/rate-limit';

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
    // The first flood clients were evicted with empty buckets: they come back with their debt, not a full bucket.
    expect(limiter.take('client-0').allowed).toBe(false);
  });

  it('does not refill a throttled client pushed out by a flood of other clients', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({
      capacity: 5,
      refillPerSecond: 0.01,
      maxClients: 50,
      now: () => now,
    });
    const drained = () => {
      let allowed = 0;
      while (limiter.take('victim-or-attacker').allowed) allowed++;
      return allowed;
    };
    expect(drained()).toBe(5);
    for (let i = 0; i < 10_000; i++) limiter.take(`203.0.113.${i % 256}-${i}`);
    now += 1000;
    // One second at 0.01 tokens/s: still no whole token, exactly as if it had never been evicted.
    expect(limiter.take('victim-or-attacker').allowed).toBe(false);
    // Debts are never more than a full bucket: after 500 s (5 tokens), the client is whole again.
    now += 500_000;
    expect(drained()).toBe(5);
    // Clients that never ran dry are evicted without a trace, so newcomers still get a full bucket.
    for (let i = 0; i < 200; i++) limiter.take(`fresh-${i}`);
    let fresh = 0;
    while (limiter.take('newcomer').allowed) fresh++;
    expect(fresh).toBe(5);
  });

  it('keys IPv6 clients by their /56 (configurable) and IPv4-mapped addresses by the IPv4 address', () => {
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 0 });
    const allowed = (addresses: string[]) => addresses.filter((a) => limiter.take(a).allowed).length;
    // 60 addresses rotating inside one /64 (and so one /56): one bucket of 3.
    const rotating = Array.from({ length: 60 }, (_, i) => `2001:db8:1:2ab:${i.toString(16)}::${i + 1}`);
    expect(allowed(rotating)).toBe(3);
    // Another /64 in the same /56 shares it; another /56 does not.
    expect(allowed(['2001:db8:1:2ff::1'])).toBe(0);
    expect(allowed(['2001:db8:1:300::1'])).toBe(1);
    expect(allowed(['::ffff:192.0.2.7', '192.0.2.7', '::FFFF:c000:207', '192.0.2.7'])).toBe(3);
    expect(limiter.keyOf('2001:DB8:1:2:ab::1%eth0')).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(limiter.keyOf('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(limiter.keyOf('not an address')).toBe('not an address');

    const perAddress = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0, ipv6PrefixLength: 128 });
    expect(rotating.filter((a) => perAddress.take(a).allowed)).toHaveLength(60);
    expect(() => new TokenBucketLimiter({ ipv6PrefixLength: 0 })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ ipv6PrefixLength: 129 })).toThrow(/ipv6PrefixLength/);
  });
});
