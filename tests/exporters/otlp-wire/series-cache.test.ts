/**
 * src/exporters/otlp-wire/series-cache.ts directly: one memo array per metric's list of series, the same array at
 * every collection while the list is the same object (so what an encoder derived once is found again by index),
 * a fresh one for another list, and nothing kept alive for a list that is gone (a WeakMap: checked by identity
 * only here; the encoders' reuse is held byte for byte by protobuf.test.ts and json.test.ts).
 */
import { SeriesMemo } from '../../../src/exporters/otlp-wire/series-cache';
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
