/**
 * A per-client token bucket with bounded memory, for endpoints browsers can call anonymously.
 *
 * Owns: token accounting and the eviction policy (least recently seen client first once `maxClients` is reached).
 * Must not touch: Express or HTTP (the router adapts it), metrics.
 */

export interface TokenBucketOptions {
  /** Burst size: requests a client may make at once. Default 20. */
  readonly capacity?: number;
  /** Sustained rate: tokens added per second. Default 2. */
  readonly refillPerSecond?: number;
  /** Clients remembered at most; the least recently seen is forgotten first. Default 10000. */
  readonly maxClients?: number;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** Seconds until the next token, when refused. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by client (an IP address, typically). */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 20);
    this.refillPerMs = Math.max(0, options.refillPerSecond ?? 2) / 1000;
    this.maxClients = Math.max(1, options.maxClients ?? 10000);
    this.now = options.now ?? (() => Date.now());
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Take one token for `client`. */
  take(client: string): TakeResult {
    const now = this.now();
    const existing = this.buckets.get(client);
    const bucket = existing ?? { tokens: this.capacity, updatedAt: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    bucket.updatedAt = now;
    // Re-inserting moves the client to the end of the Map's insertion order, which makes the first key the least
    // recently seen one: the eviction candidate.
    if (existing) this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const wait = this.refillPerMs > 0 ? (1 - bucket.tokens) / this.refillPerMs / 1000 : 60;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
  }
}
