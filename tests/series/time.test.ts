/**
 * src/series/time.ts: the store's clock gives the very HrTime @opentelemetry/core's hrTime() gives for the same
 * `performance.now()` reading (the start times and end times the store reports must not move when it stopped
 * calling core), and a series' birth column turns into that HrTime.
 */
import { hrTime } from '@opentelemetry/core';
import { hrTimeAt, hrTimeNow, performanceNow } from '../../src/series/time';
import { mulberry32 } from '../support/random';

describe('the store clock', () => {
  test('hrTimeAt(reading) is core hrTime(reading), nanosecond for nanosecond', () => {
    const next = mulberry32(26);
    const readings = [0, 0.0005, 999.9999995, 1000, 1234.5678901, performance.now()];
    for (let i = 0; i < 2000; i++) readings.push(next() * 1e9, next() * 1000, Math.floor(next() * 1e7) / 1e3);
    for (const reading of readings) expect([reading, hrTimeAt(reading)]).toEqual([reading, hrTime(reading)]);
  });

  test('writes into a scratch pair when given one, and returns it', () => {
    const scratch: [number, number] = [7, 7];
    expect(hrTimeAt(4321.123, scratch)).toBe(scratch);
    expect(scratch).toEqual(hrTime(4321.123));
  });

  test('now is between two core readings', () => {
    const nanos = ([s, n]: readonly number[]) => BigInt(s) * 1_000_000_000n + BigInt(n);
    const before = nanos(hrTime());
    const now = nanos(hrTimeNow());
    const reading = performanceNow();
    const after = nanos(hrTime());
    expect(now >= before && now <= after).toBe(true);
    expect(nanos(hrTimeAt(reading)) >= now && nanos(hrTimeAt(reading)) <= after).toBe(true);
  });
});
