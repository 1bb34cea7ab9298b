/**
 * A local sketch in Redis's own HyperLogLog byte format, so a SET of it into a scratch key and a PFMERGE merge it
 * into the fleet's day key register by register (redis/src/hyperloglog.c).
 *
 * Owns: Redis's register count and its dense encoding. Must not touch: connections, keys, flushing (redis-store.ts),
 * the sketches' arithmetic (hyperloglog.ts).
 */
import { foldRegisters } from './hyperloglog';

/** Redis's HyperLogLogs have 2^14 registers; local sketches of a higher precision are folded to it. */
export const REDIS_HLL_PRECISION = 14;

/**
 * A sketch in Redis's dense HyperLogLog encoding, folded to precision 14 first if it is finer: the header `HYLL`,
 * the encoding byte 0 (dense), three unused bytes and an 8-byte cached cardinality marked stale (top bit of its
 * last byte), then the 16,384 registers as 6-bit fields, little-endian, register i at bit 6i. Registers hold
 * 0..51 (1 + 50 rank bits after the 14 index bits), as in Redis.
 */
export function denseHyperLogLog(sketch: Uint8Array): Buffer {
  const registers = foldRegisters(sketch, REDIS_HLL_PRECISION);
  const HEADER = 16;
  const out = Buffer.alloc(HEADER + (registers.length * 6) / 8);
  out.write('HYLL', 0, 'latin1');
  out[15] = 0x80;
  for (let i = 0; i < registers.length; i++) {
    const value = registers[i];
    if (value === 0) continue;
    const bit = i * 6;
    const byte = HEADER + (bit >>> 3);
    const shift = bit & 7;
    out[byte] |= (value << shift) & 0xff;
    if (shift > 2) out[byte + 1] |= value >>> (8 - shift);
  }
  return out;
}
