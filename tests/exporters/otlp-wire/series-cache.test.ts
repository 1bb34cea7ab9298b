/**
 * src/exporters/otlp-wire/series-cache.ts directly: one memo array per metric's list of series, the same array at
 * every collection while the list is the same object (so what an encoder derived once is found again by index),
 * a fresh one for another list, and nothing kept alive for a list that is gone (a WeakMap: checked by identity
 * only here; the encoders' reuse is held byte for byte by protobuf.test.ts and json.test.ts). SeriesBytes: each
 * series' bytes copied into shared slabs, found again by index, across slab boundaries and for values larger
 * than a slab.
 */
import { SeriesBytes, SeriesBytesMemo, SeriesMemo } from '../../../src/exporters/otlp-wire/series-cache';
import type { SeriesIdentity } from '../../../src/series/collection';

const identity = (series: object[]): SeriesIdentity => ({
  series: series as never,
  births: new Float64Array(series.length),
  indices: new Int32Array(series.length),
  perSeriesStart: true,
});

it('gives the same memo array for the same list of series, another for another list', () => {
  const memo = new SeriesMemo<string>();
  const list = [{}, {}];
  const first = memo.of(identity(list));
  first[1] = 'encoded attributes of series 1';
  // A later collection: new column arrays, the same list of series.
  const again = memo.of(identity(list));
  expect(again).toBe(first);
  expect(again[1]).toBe('encoded attributes of series 1');
  expect(again[0]).toBeUndefined();
  const other = memo.of(identity([{}, {}]));
  expect(other).not.toBe(first);
  expect(other).toEqual([]);
});

it('keeps memos of two encoders apart', () => {
  const list = [{}];
  const json = new SeriesMemo<string>();
  const protobuf = new SeriesMemo<Uint8Array>();
  json.of(identity(list))[0] = 'json';
  expect(protobuf.of(identity(list))).toEqual([]);
});

describe('SeriesBytes', () => {
  it("keeps a copy of each series' bytes, found again by index, across many slabs", () => {
    const bytes = new SeriesBytes();
    const value = (i: number): Uint8Array =>
      Uint8Array.from({ length: 1 + (i % 300) }, (_, b) => (i * 31 + b) & 0xff);
    // 3,000 values of 1-300 bytes: about 450 KB, several 64 KiB slabs.
    const order = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3000);
    for (const i of order) {
      const source = value(i);
      const kept = bytes.set(i, source);
      source.fill(0); // a copy: the caller's buffer may be reused
      expect(kept).toEqual(value(i));
    }
    for (let i = 0; i < 3000; i++) expect(bytes.get(i)).toEqual(value(i));
    expect(bytes.get(3000)).toBeUndefined();
    expect(bytes.longest).toBe(300);
    // Several slabs, not one buffer per series.
    const slabs = new Set(order.map((i) => bytes.get(i)!.buffer));
    expect(slabs.size).toBeGreaterThan(5);
    expect(slabs.size).toBeLessThan(20);
  });

  it('keeps a value larger than a slab whole', () => {
    const bytes = new SeriesBytes();
    bytes.set(0, Uint8Array.of(1, 2, 3));
    const large = new Uint8Array(100_000).fill(7);
    bytes.set(1, large);
    expect(bytes.get(1)).toEqual(large);
    expect(bytes.get(0)).toEqual(Uint8Array.of(1, 2, 3));
    expect(bytes.longest).toBe(100_000);
  });

  it('is one per list of series', () => {
    const memo = new SeriesBytesMemo();
    const list = [{}];
    memo.of(identity(list)).set(0, Uint8Array.of(9));
    expect(memo.of(identity(list)).get(0)).toEqual(Uint8Array.of(9));
    expect(memo.of(identity([{}])).get(0)).toBeUndefined();
  });
});
