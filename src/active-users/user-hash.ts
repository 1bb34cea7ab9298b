/**
 * The keyed hash that turns a user id into 64 pseudorandom bits before anything else sees it.
 *
 * Owns: the hash function (HalfSipHash-1-3 with 64-bit output over the id's UTF-16LE code units), key derivation
 * from a configured secret, and the default per-process random key. Must not touch: sketches, Redis, metrics.
 * Nothing here keeps, logs or returns the id itself: only the 64-bit digest leaves `hash()`.
 *
 * Why HalfSipHash and not an HMAC or a seeded multiply-hash (measured, `npm run bench -- --only=active-users`
 * and docs/active-users.md): an HMAC-SHA256 through node:crypto costs ~1-2 us per call (object creation and a
 * native call), ten times the whole budget; SipHash-2-4 needs 64-bit arithmetic that JavaScript emulates with
 * pairs of 32-bit halves (about 2x HalfSipHash). HalfSipHash is the SipHash construction on 32-bit words, so it
 * runs on JavaScript's native int32 operations, and it is still a keyed PRF (the Linux kernel uses it for the
 * same job: hashing attacker-influenced input under a secret key, with the same 1-3 rounds as here: one
 * compression round per word and three finalization rounds, which halves the per-word cost of 2-4). A seeded non-cryptographic hash (Murmur,
 * xxHash) would be slightly faster but its seed is not a secret in any useful sense: seed-independent collisions
 * and seed recovery are known for both, so the digests sent to Redis could be linked back to guessed ids.
 */
import { createHash, randomBytes } from 'node:crypto';

/**
 * `String.prototype.charCodeAt` called through a bound `call`. Why: in V8 11 (Node 20), once any class in the
 * process extends String (ioredis's RESP decoder does: `class VerbatimString extends String`), `id.charCodeAt(i)`
 * loses its fast path and the hash costs ~4x; the bound form keeps it (measured in docs/active-users.md).
 */
const charCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt) as (
  text: string,
  index: number,
) => number;

/** What `trackActiveUser` accepts as `hashKey`: any secret of at least 16 bytes (string or bytes). */
export type UserHashKey = string | Uint8Array;

/** The shortest accepted secret: a shorter one can be guessed before it protects anything. */
export const MIN_HASH_KEY_BYTES = 16;

/**
 * Keyed 64-bit hash of user ids. `hash(id)` returns the high 32 bits and leaves the low 32 bits in `low`, so the
 * hot path allocates nothing.
 */
export class UserIdHasher {
  /** Low 32 bits of the last digest (unsigned). */
  low = 0;
  private readonly k0: number;
  private readonly k1: number;

  /**
   * @param key the shared secret; undefined draws a random key for this process only (see docs/active-users.md:
   *   processes that must agree on a user, such as cluster workers or instances sharing Redis, need one key).
   * @throws TypeError when the key is not a string or bytes, or is shorter than 16 bytes.
   */
  constructor(key?: UserHashKey) {
    const material = key === undefined ? randomBytes(32) : keyBytes(key);
    // Any secret length works: SHA-256 condenses it to the 64 key bits HalfSipHash uses.
    const digest = createHash('sha256')
      .update('otel-business-metrics/active-users/v1\0')
      .update(material)
      .digest();
    this.k0 = digest.readUInt32LE(0) | 0;
    this.k1 = digest.readUInt32LE(4) | 0;
  }

  /** @internal A hasher with the raw 8-byte HalfSipHash key (test vectors). */
  static withRawKey(key: Uint8Array): UserIdHasher {
    const hasher = new UserIdHasher(new Uint8Array(MIN_HASH_KEY_BYTES));
    const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    (hasher as unknown as { k0: number }).k0 = view.readUInt32LE(0) | 0;
    (hasher as unknown as { k1: number }).k1 = view.readUInt32LE(4) | 0;
    return hasher;
  }

  /** High 32 bits of the digest of `id` (unsigned); the low 32 bits are in `this.low` afterwards. */
  hash(id: string): number {
    const length = id.length;
    let v0 = this.k0;
    let v1 = this.k1 ^ 0xee;
    let v2 = 0x6c796765 ^ this.k0;
    let v3 = 0x74656462 ^ this.k1;
    // Two UTF-16 code units per 32-bit little-endian word: the bytes of the id's UTF-16LE encoding.
    const pairs = length >>> 1;
    for (let i = 0; i < pairs; i++) {
      const m = charCodeAt(id, 2 * i) | (charCodeAt(id, 2 * i + 1) << 16);
      v3 ^= m;
      // One SipRound (c = 1), inlined: a call per round costs more than the round.
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= m;
    }
    // Last block: the byte length in the top byte, the odd code unit (if any) in the low two bytes.
    let b = (length << 25) | 0;
    if (length & 1) b |= charCodeAt(id, length - 1);
    v3 ^= b;
    for (let r = 0; r < 1; r++) {
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    v0 ^= b;
    v2 ^= 0xee;
    for (let r = 0; r < 3; r++) {
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    const first = (v1 ^ v3) >>> 0;
    v1 ^= 0xdd;
    for (let r = 0; r < 3; r++) {
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    // The reference writes the first word to output bytes 0-3 and the second to 4-7 (little-endian), so as a
    // 64-bit little-endian number the second word is the high half.
    this.low = first;
    return (v1 ^ v3) >>> 0;
  }
}

function keyBytes(key: UserHashKey): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = Buffer.from(key, 'utf8');
  else if (key instanceof Uint8Array) bytes = key;
  else throw new TypeError('activeUsers.hashKey must be a string or a Uint8Array/Buffer');
  if (bytes.length < MIN_HASH_KEY_BYTES) {
    throw new TypeError(
      `activeUsers.hashKey must be at least ${MIN_HASH_KEY_BYTES} bytes (got ${bytes.length}); ` +
        'use e.g. `openssl rand -hex 32`',
    );
  }
  return bytes;
}

/**
 * @internal Reference HalfSipHash-c-d (64-bit output) over raw bytes with a raw 8-byte key, for tests only: with
 * c = 2, d = 4 it reproduces the published test vectors; the production hash is c = 1, d = 3.
 */
export function halfSipHash64Bytes(
  input: Uint8Array,
  key: Uint8Array,
  compressionRounds = 2,
  finalizationRounds = 4,
): [number, number] {
  const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  let v0 = view.readUInt32LE(0) | 0;
  let v1 = (view.readUInt32LE(4) ^ 0xee) | 0;
  let v2 = 0x6c796765 ^ v0;
  let v3 = 0x74656462 ^ view.readUInt32LE(4);
  const round = () => {
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  };
  const whole = input.length - (input.length % 4);
  for (let i = 0; i < whole; i += 4) {
    const m = input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24);
    v3 ^= m;
    for (let r = 0; r < compressionRounds; r++) round();
    v0 ^= m;
  }
  let b = input.length << 24;
  for (let i = input.length - 1; i >= whole; i--) b |= input[i] << (8 * (i - whole));
  v3 ^= b;
  for (let r = 0; r < compressionRounds; r++) round();
  v0 ^= b;
  v2 ^= 0xee;
  for (let r = 0; r < finalizationRounds; r++) round();
  const first = (v1 ^ v3) >>> 0;
  v1 ^= 0xdd;
  for (let r = 0; r < finalizationRounds; r++) round();
  return [(v1 ^ v3) >>> 0, first];
}
