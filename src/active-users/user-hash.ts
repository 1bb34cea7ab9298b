/**
 * The keyed hash that turns a user id into 64 pseudorandom bits before anything else sees it.
 *
 * Owns: the hash function (HalfSipHash-1-3 with 64-bit output over the id's Latin-1 or UTF-16LE bytes), key derivation
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
import { charCodeAt } from '../guard/char-code';

/** What `trackActiveUser` accepts as `hashKey`: any secret of at least 16 bytes (string or bytes). */
export type UserHashKey = string | Uint8Array;

/** The shortest accepted secret: a shorter one can be guessed before it protects anything. */
export const MIN_HASH_KEY_BYTES = 16;

/**
 * Keyed 64-bit hash of user ids. `hash(id)` returns the high 32 bits and leaves the low 32 bits in `low`, so the
 * hot path allocates nothing.
 *
 * The message is the id's Latin-1 bytes when every code unit fits in a byte (ids are almost always ASCII), else
 * its UTF-16LE bytes. Why two encodings: a 32-bit word then carries four characters instead of two, which halves
 * the compression rounds. Each encoding has its own key, so a Latin-1 id and a wider id with the same bytes
 * (`"a\u0001"` and `"\u0161"`) get unrelated digests.
 */
export class UserIdHasher {
  /** Low 32 bits of the last digest (unsigned). */
  low = 0;
  private readonly k0: number;
  private readonly k1: number;
  private readonly wideK0: number;
  private readonly wideK1: number;

  /**
   * @param key the shared secret; undefined draws a random key for this process only (see docs/active-users.md:
   *   processes that must agree on a user, such as cluster workers or instances sharing Redis, need one key).
   * @throws TypeError when the key is not a string or bytes, or is shorter than 16 bytes.
   */
  constructor(key?: UserHashKey) {
    const material = key === undefined ? randomBytes(32) : keyBytes(key);
    // Any secret length works: SHA-256 condenses it to the two 64-bit keys HalfSipHash uses.
    const digest = createHash('sha256')
      .update('otel-business-metrics/active-users/v1\0')
      .update(material)
      .digest();
    this.k0 = digest.readInt32LE(0);
    this.k1 = digest.readInt32LE(4);
    this.wideK0 = digest.readInt32LE(8);
    this.wideK1 = digest.readInt32LE(12);
  }

  /** @internal A hasher with raw 8-byte HalfSipHash keys for Latin-1 and wider ids (test vectors). */
  static withRawKeys(latin1Key: Uint8Array, wideKey: Uint8Array): UserIdHasher {
    const hasher = new UserIdHasher(new Uint8Array(MIN_HASH_KEY_BYTES));
    const words = (key: Uint8Array) => {
      const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
      return [view.readInt32LE(0), view.readInt32LE(4)];
    };
    const fields = hasher as unknown as Record<'k0' | 'k1' | 'wideK0' | 'wideK1', number>;
    [fields.k0, fields.k1] = words(latin1Key);
    [fields.wideK0, fields.wideK1] = words(wideKey);
    return hasher;
  }

  /** High 32 bits of the digest of `id` (unsigned); the low 32 bits are in `this.low` afterwards. */
  hash(id: string): number {
    return this.digest(id, false);
  }

  /**
   * HalfSipHash-1-3 with 64-bit output over the id's Latin-1 bytes (`wide` false) or UTF-16LE bytes. The Latin-1
   * pass restarts as wide at the first code unit above 0xFF. One copy of the SipRound per phase: the loops keep
   * the state in four locals, where a helper function would need an object or fields on the hot path.
   */
  private digest(id: string, wide: boolean): number {
    const length = id.length;
    // `| 0`: the key fields are declared before they are set, so V8 types them as any value; without it the
    // state below is boxed on every round (measured: ~90 instead of ~65 ns per 26-character id).
    const k0 = (wide ? this.wideK0 : this.k0) | 0;
    const k1 = (wide ? this.wideK1 : this.k1) | 0;
    let v0 = k0;
    let v1 = k1 ^ 0xee;
    let v2 = 0x6c796765 ^ k0;
    let v3 = 0x74656462 ^ k1;
    const unitsPerWord = wide ? 2 : 4;
    const words = wide ? length >>> 1 : length >>> 2;
    // Words of the message, little-endian, then the last block: the byte length (mod 256) in the top byte and
    // the bytes left over below it.
    for (let word = 0; word <= words; word++) {
      const at = word * unitsPerWord;
      let m: number;
      if (word < words) {
        if (wide) m = charCodeAt(id, at) | (charCodeAt(id, at + 1) << 16);
        else {
          const c0 = charCodeAt(id, at);
          const c1 = charCodeAt(id, at + 1);
          const c2 = charCodeAt(id, at + 2);
          const c3 = charCodeAt(id, at + 3);
          if ((c0 | c1 | c2 | c3) > 0xff) return this.digest(id, true);
          m = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
        }
      } else {
        m = (wide ? length << 25 : length << 24) | 0;
        for (let i = at; i < length; i++) {
          const unit = charCodeAt(id, i);
          if (!wide && unit > 0xff) return this.digest(id, true);
          m |= wide ? unit : unit << (8 * (i - at));
        }
      }
      // One compression round (c = 1).
      v3 ^= m;
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
    // Three finalization rounds (d = 3) per output word.
    v2 ^= 0xee;
    let first = 0;
    for (let round = 0; round < 6; round++) {
      if (round === 3) {
        first = (v1 ^ v3) >>> 0;
        v1 ^= 0xdd;
      }
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
