/**
 * src/active-users/user-hash.ts, the keyed hash of user ids: the reference HalfSipHash against the published
 * vectors, ids hashed as HalfSipHash-1-3 of their Latin-1 or UTF-16LE bytes under separate keys (so the two
 * encodings never collide), one key giving one digest in every process, and keys refused when too short.
 */
import { halfSipHash64Bytes, MIN_HASH_KEY_BYTES, UserIdHasher } from '../../src/active-users/user-hash';

const KEY = 'test-key-0123456789abcdef';
const hex = (high: number, low: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(low, 0);
  bytes.writeUInt32LE(high, 4);
  return bytes.toString('hex');
};

describe('keyed hash (HalfSipHash, 64-bit output)', () => {
  it('the reference implementation matches the published HalfSipHash-2-4 vectors (key 00..07, input 00..n-1)', () => {
    const key = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
    // vectors_hsip64[0] and [4] of github.com/veorq/SipHash vectors.h
    expect(hex(...halfSipHash64Bytes(bytes(0), key))).toBe('218d1f59b9b83cc8');
    expect(hex(...halfSipHash64Bytes(bytes(4), key))).toBe('d5e78a175be52ea1');
  });

  it('hashes an id whose code units fit in a byte as HalfSipHash-1-3 of its Latin-1 bytes, for every length mod 4', () => {
    const latin1Key = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
    const hasher = UserIdHasher.withRawKeys(latin1Key, Uint8Array.from([1, 1, 2, 3, 5, 8, 13, 21]));
    for (const id of ['', 'a', 'ab', 'abc', 'abcd', 'user-42', 'caf\u00e9-\u00ff\u0001', 'x'.repeat(255)]) {
      const high = hasher.hash(id);
      const bytes = Buffer.from(id, 'latin1');
      expect(hex(high, hasher.low)).toBe(hex(...halfSipHash64Bytes(bytes, latin1Key, 1, 3)));
      expect(hex(high, hasher.low)).not.toBe(hex(...halfSipHash64Bytes(bytes, latin1Key)));
    }
  });

  it('hashes any other id as HalfSipHash-1-3 of its UTF-16LE bytes under the second key, wherever the wide character is', () => {
    const wideKey = Uint8Array.from([1, 1, 2, 3, 5, 8, 13, 21]);
    const hasher = UserIdHasher.withRawKeys(Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]), wideKey);
    for (const id of [
      '\u0161',
      'ü-€-😀',
      '€bcde',
      'abcd€',
      'abcdefg€',
      'user-42-\u4e2d',
      'y'.repeat(254) + '€',
    ]) {
      const high = hasher.hash(id);
      expect(hex(high, hasher.low)).toBe(
        hex(...halfSipHash64Bytes(Buffer.from(id, 'utf16le'), wideKey, 1, 3)),
      );
    }
  });

  it('separates the encodings: a Latin-1 id and a wider id with the same bytes get different digests', () => {
    const hasher = new UserIdHasher(KEY);
    // Both are the bytes 61 01: "a\u0001" in Latin-1, "\u0161" in UTF-16LE.
    expect(Buffer.from('a\u0001', 'latin1').equals(Buffer.from('\u0161', 'utf16le'))).toBe(true);
    const latin1 = hex(hasher.hash('a\u0001'), hasher.low);
    expect(hex(hasher.hash('\u0161'), hasher.low)).not.toBe(latin1);
  });

  it('depends on the key: one key gives one digest in every process, another key a different one', () => {
    const a = new UserIdHasher(KEY);
    const b = new UserIdHasher(KEY);
    const other = new UserIdHasher(`${KEY}!`);
    const random = new UserIdHasher();
    const digest = (h: UserIdHasher) => hex(h.hash('user-1'), h.low);
    expect(digest(a)).toBe(digest(b));
    expect(digest(other)).not.toBe(digest(a));
    expect(digest(random)).not.toBe(digest(a));
  });

  it('refuses keys that are too short or not bytes', () => {
    expect(MIN_HASH_KEY_BYTES).toBe(16);
    expect(() => new UserIdHasher('short')).toThrow(/at least 16 bytes/);
    expect(() => new UserIdHasher('x'.repeat(MIN_HASH_KEY_BYTES - 1))).toThrow(
      /at least 16 bytes \(got 15\)/,
    );
    expect(() => new UserIdHasher(new Uint8Array(MIN_HASH_KEY_BYTES))).not.toThrow();
    expect(() => new UserIdHasher(42 as unknown as string)).toThrow(/string or a Uint8Array/);
  });
});
