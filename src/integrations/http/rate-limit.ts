/**
 * A per-client token bucket with bounded memory, for endpoints browsers can call anonymously.
 *
 * Owns: token accounting, what counts as one client (an IPv6 network prefix, an IPv4-mapped address unmapped), and
 * the eviction policy (least recently seen client first once `maxClients` is reached, with the debts of evicted
 * clients kept in a fixed-size table so that pushing a throttled client out does not refill its bucket). Must not
 * touch: Express or HTTP (the router adapts it), metrics.
 */
import { isIP } from 'node:net';

export interface TokenBucketOptions {
  /** Burst size: requests a client may make at once. Default 20. */
  readonly capacity?: number;
  /** Sustained rate: tokens added per second. Default 2. */
  readonly refillPerSecond?: number;
  /** Clients remembered at most; the least recently seen is forgotten first. Default 10000. */
  readonly maxClients?: number;
  /**
   * IPv6 clients are keyed by this many leading bits of their address (default 56): one subscriber usually holds a
   * whole /56 or /64, so keying by full address gives a single client 2^64 fresh buckets. 128 keys by full
   * address. IPv4 clients (and IPv4-mapped IPv6 addresses such as `::ffff:192.0.2.1`) are keyed by address.
   */
  readonly ipv6PrefixLength?: number;
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

/** Default IPv6 prefix length clients are keyed by. */
export const DEFAULT_IPV6_PREFIX_LENGTH = 56;

/** Token buckets keyed by client (an IP address, typically). */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly maxClients: number;
  private readonly ipv6PrefixLength: number;
  private readonly now: () => number;
  // Debts of evicted clients: each slot holds the lowest token count (refilled to `debtAt`) of any client hashed
  // to it. A returning client starts from the highest of its two slots, which is never more than it had left, so
  // an eviction can only lower a bucket, never refill it. A collision can make an unrelated newcomer start below
  // a full bucket, never above: memory stays fixed (16 bytes per slot) whatever the number of clients.
  private readonly debtTokens: Float64Array;
  private readonly debtAt: Float64Array;
  private readonly debtMask: number;

  constructor(options: TokenBucketOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 20);
    this.refillPerMs = Math.max(0, options.refillPerSecond ?? 2) / 1000;
    this.maxClients = Math.max(1, options.maxClients ?? 10000);
    const prefix = options.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH;
    if (!Number.isInteger(prefix) || prefix < 1 || prefix > 128) {
      throw new RangeError(`ipv6PrefixLength must be an integer from 1 to 128 (got ${String(prefix)})`);
    }
    this.ipv6PrefixLength = prefix;
    this.now = options.now ?? (() => Date.now());
    let slots = 1024;
    while (slots < this.maxClients && slots < 1 << 20) slots <<= 1;
    this.debtTokens = new Float64Array(slots).fill(this.capacity);
    this.debtAt = new Float64Array(slots);
    this.debtMask = slots - 1;
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** The key `client` is counted under: an IPv6 network prefix, an unmapped IPv4 address, or `client` itself. */
  keyOf(client: string): string {
    return clientKey(client, this.ipv6PrefixLength);
  }

  /** Take one token for `client` (an IP address is keyed as {@link keyOf} says). */
  take(client: string): TakeResult {
    const key = this.keyOf(client);
    const now = this.now();
    const existing = this.buckets.get(key);
    const bucket = existing ?? { tokens: this.returningTokens(key, now), updatedAt: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    bucket.updatedAt = now;
    // Re-inserting moves the client to the end of the Map's insertion order, which makes the first key the least
    // recently seen one: the eviction candidate.
    if (existing) this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxClients) this.evictOldest(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const wait = this.refillPerMs > 0 ? (1 - bucket.tokens) / this.refillPerMs / 1000 : 60;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
  }

  private evictOldest(now: number): void {
    const oldest = this.buckets.entries().next().value;
    if (oldest === undefined) return;
    const [key, bucket] = oldest;
    this.buckets.delete(key);
    const tokens = this.refilled(bucket.tokens, bucket.updatedAt, now);
    if (tokens >= this.capacity) return;
    const [a, b] = slotsOf(key, this.debtMask);
    for (const slot of [a, b]) {
      if (tokens < this.refilled(this.debtTokens[slot]!, this.debtAt[slot]!, now)) {
        this.debtTokens[slot] = tokens;
        this.debtAt[slot] = now;
      }
    }
  }

  private returningTokens(key: string, now: number): number {
    const [a, b] = slotsOf(key, this.debtMask);
    return Math.max(
      this.refilled(this.debtTokens[a]!, this.debtAt[a]!, now),
      this.refilled(this.debtTokens[b]!, this.debtAt[b]!, now),
    );
  }

  private refilled(tokens: number, at: number, now: number): number {
    return Math.min(this.capacity, tokens + Math.max(0, now - at) * this.refillPerMs);
  }
}

/**
 * The rate-limit key of a client address: IPv4 as is, an IPv4-mapped IPv6 address as its IPv4 address, any other
 * IPv6 address as its first `ipv6PrefixLength` bits (`2001:db8:0:1200::/56`). Anything that is not an IP address is
 * returned unchanged.
 */
export function clientKey(client: string, ipv6PrefixLength: number = DEFAULT_IPV6_PREFIX_LENGTH): string {
  const zone = client.indexOf('%');
  const address = zone === -1 ? client : client.slice(0, zone);
  const version = isIP(address);
  if (version !== 6) return version === 4 ? address : client;
  const groups = ipv6Groups(address);
  if (groups === undefined) return client;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    if (groups[5] === 0xffff)
      return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  const bits = Math.min(128, Math.max(0, ipv6PrefixLength));
  const masked = groups.map((group, i) => {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    return keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${bits}`;
}

/** The eight 16-bit groups of a valid IPv6 address (already checked by `isIP`), an IPv4 tail included. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const octets = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const want = 8 - tail.length;
  const double = text.indexOf('::');
  let groups: number[];
  if (double === -1) {
    groups = parse(text);
  } else {
    const head = parse(text.slice(0, double));
    const rest = parse(text.slice(double + 2));
    groups = [...head, ...new Array<number>(Math.max(0, want - head.length - rest.length)).fill(0), ...rest];
  }
  groups.push(...tail);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

/** Two slot indexes of a key (FNV-1a with two offsets). */
function slotsOf(key: string, mask: number): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  const first = (a >>> 0) & mask;
  let second = (b >>> 0) & mask;
  if (second === first) second = (second + 1) & mask;
  return [first, second];
}
