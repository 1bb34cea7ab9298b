/**
 * src/active-users/redis-encoding.ts directly: a sketch in Redis's dense HyperLogLog format (header `HYLL`, dense
 * encoding, stale cached cardinality, 16,384 six-bit little-endian registers), finer sketches folded to precision
 * 14 first; every register read back from the bytes equals the sketch's, across byte boundaries and at the maximum
 * value 51. Then a real redis-server takes it as its own: the registers of a native HyperLogLog (PFDEBUG GETREG),
 * encoded here, give the same PFCOUNT, and PFMERGE with the native one counts the same users once.
 */
import Redis from 'ioredis';
import { foldRegisters } from '../../src/active-users/hyperloglog';
import { denseHyperLogLog, REDIS_HLL_PRECISION } from '../../src/active-users/redis-encoding';
import { mulberry32 } from '../support/random';
import { REDIS_SERVER, startRedis } from '../support/redis-server';

const itWithRedis = REDIS_SERVER ? it : it.skip;
const REGISTERS = 1 << REDIS_HLL_PRECISION;

/** Register i of a dense Redis HyperLogLog: 6 bits at bit 6i after the 16-byte header. */
function registerAt(blob: Buffer, i: number): number {
  const bit = i * 6;
  const byte = 16 + (bit >>> 3);
  const shift = bit & 7;
  const word = blob[byte] | ((blob[byte + 1] ?? 0) << 8);
  return (word >>> shift) & 0x3f;
}

it('writes the dense header and every register, six bits each, as stored', () => {
  const random = mulberry32(14);
  const sketch = Uint8Array.from({ length: REGISTERS }, () =>
    random() < 0.3 ? 0 : 1 + Math.floor(random() * 51),
  );
  sketch[0] = 51;
  sketch[REGISTERS - 1] = 51;
  const blob = denseHyperLogLog(sketch);
  expect(blob.length).toBe(16 + (REGISTERS * 6) / 8);
  expect(blob.subarray(0, 4).toString('latin1')).toBe('HYLL');
  expect(blob[4]).toBe(0); // dense
  expect([...blob.subarray(5, 15)]).toEqual(Array(10).fill(0));
  expect(blob[15]).toBe(0x80); // cached cardinality stale
  const read = Array.from({ length: REGISTERS }, (_, i) => registerAt(blob, i));
  expect(read).toEqual([...sketch]);
});

it('folds a finer sketch to precision 14 first', () => {
  const random = mulberry32(16);
  const fine = Uint8Array.from({ length: 1 << 16 }, () =>
    random() < 0.5 ? 0 : 1 + Math.floor(random() * 40),
  );
  const blob = denseHyperLogLog(fine);
  const folded = foldRegisters(fine, REDIS_HLL_PRECISION);
  expect(Array.from({ length: REGISTERS }, (_, i) => registerAt(blob, i))).toEqual([...folded]);
});

itWithRedis('is taken by a real redis-server as its own HyperLogLog', async () => {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    // The same 1,000 users: natively with PFADD; Redis's own registers (PFDEBUG GETREG) become our sketch.
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    await client.pfadd('native', ...users);
    const registers = Uint8Array.from((await client.call('PFDEBUG', 'GETREG', 'native')) as number[]);
    expect(registers.length).toBe(REGISTERS);
    expect(registers.some((r) => r > 0)).toBe(true);
    await client.set('ours', denseHyperLogLog(registers));
    const count = await client.pfcount('ours');
    expect(count).toBe(await client.pfcount('native'));
    await client.pfmerge('both', 'ours', 'native');
    expect(await client.pfcount('both')).toBe(count);
  } finally {
    client.disconnect();
    await redis.stop();
  }
});
