/**
 * src/series/raw-tuple-cache.ts: raw label values -> cell in front of a series table. Checked against the path it
 * replaces (each vocabulary's resolve, then the table's lookup) on real LabelVocabulary, SeriesTable and
 * GuardReporter: the same cell for every tuple, and everything the guard reports still reported on every call.
 */
import type { LabelPolicy } from '../../src/catalog/labels';
import { LabelVocabulary } from '../../src/guard/vocabulary';
import { MAX_CACHED_TUPLES, RawTupleCache } from '../../src/series/raw-tuple-cache';
import { SeriesTable } from '../../src/series/series-table';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';
import { numberedTable, OPEN_POLICY as OPEN, type NumberedCell } from '../support/series-tables';

type TestCell = NumberedCell;

function setUp(
  guard: GuardHarness,
  arity: 3 | 4,
  options: { maxSeries?: number; policies?: LabelPolicy[] } = {},
): { table: SeriesTable<TestCell>; cache: RawTupleCache<TestCell>; vocabularies: LabelVocabulary[] } {
  const created = numberedTable(guard, ['a', 'b', 'c', 'd'].slice(0, arity), {
    ...options,
    maxLabelLength: 20,
  });
  return { ...created, cache: new RawTupleCache(created.table) };
}

/** The cache's lookup for either arity. */
function viaCache(cache: RawTupleCache<TestCell>, raw: readonly unknown[]): TestCell {
  return raw.length === 3 ? cache.at3(raw[0], raw[1], raw[2]) : cache.at4(raw[0], raw[1], raw[2], raw[3]);
}

/** The path the cache stands in front of: resolve each value, then the table's lookup. */
function viaTable(
  table: SeriesTable<TestCell>,
  vocabularies: LabelVocabulary[],
  raw: readonly unknown[],
): TestCell {
  const ids = raw.map((value, i) => vocabularies[i].resolve(value));
  return ids.length === 3 ? table.at3(ids[0], ids[1], ids[2]) : table.at4(ids[0], ids[1], ids[2], ids[3]);
}

describe('RawTupleCache', () => {
  let guard: GuardHarness;
  beforeEach(() => {
    guard = createGuardHarness();
  });
  afterEach(() => guard.close());

  test.each([3, 4] as const)(
    'arity %i: the cell the table gives, for 2,000 random tuples of wide and narrow labels, cached once each',
    (arity) => {
      const { table, cache, vocabularies } = setUp(guard, arity);
      let state = 11;
      const random = (n: number) => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return Math.floor((state / 2 ** 32) * n);
      };
      // Label a has 20 values (its node becomes a Map past 8), b 6, c 3, d 2: at most 720 tuples. Each call
      // builds its strings anew, so the cache compares strings that are equal but not the same object.
      const tuple = () =>
        [`a${random(20)}`, `b${random(6)}`, `c${random(3)}`, `d${random(2)}`].slice(0, arity);
      const distinct = new Set<string>();
      for (let n = 0; n < 2_000; n++) {
        const raw = tuple();
        distinct.add(raw.join('|'));
        const cell = viaCache(cache, raw);
        expect(cell).toBe(viaTable(table, vocabularies, raw));
        expect(cell.attributes).toEqual(
          Object.fromEntries(raw.map((value, i) => [table.labelKeys[i], value])),
        );
        expect(viaCache(cache, raw)).toBe(cell);
      }
      expect(cache.size).toBe(distinct.size);
      expect(table.size).toBe(distinct.size);
    },
  );

  test('a value its vocabulary replaces is never cached: reported on every call, as without the cache', async () => {
    const { cache, vocabularies } = setUp(guard, 4, {
      policies: [OPEN, { kind: 'allow', values: ['web', 'app'] }, OPEN, OPEN],
    });
    const calls: unknown[][] = [
      ['x', 'tv', 'c', 'd'], // not allowed
      ['x', undefined, 'c', 'd'], // missing
      ['x', 'web', 42, 'd'], // a number: kept as '42', but not a string the cache could compare
      ['x', 'web', 'c', { d: 1 }], // invalid type
    ];
    for (let round = 0; round < 3; round++) for (const raw of calls) viaCache(cache, raw);
    expect(cache.size).toBe(0);
    expect(
      await guard.count('labelOverflow', { metric: 'test_metric', label: 'b', reason: 'not_allowed' }),
    ).toBe(3);
    expect(await guard.count('labelOverflow', { metric: 'test_metric', label: 'b', reason: 'missing' })).toBe(
      3,
    );
    expect(
      await guard.count('labelOverflow', { metric: 'test_metric', label: 'd', reason: 'invalid_type' }),
    ).toBe(3);
    expect(viaCache(cache, ['x', 'tv', 'c', 'd']).attributes).toEqual({ a: 'x', b: 'other', c: 'c', d: 'd' });
    expect(viaCache(cache, ['x', 'web', 42, 'd']).attributes).toEqual({ a: 'x', b: 'web', c: '42', d: 'd' });
    // A spelling the vocabulary maps as it is (trimmed, nothing reported) is cached beside the canonical one.
    const canonical = viaCache(cache, ['x', 'web', 'c', 'd']);
    expect(viaCache(cache, ['x', ' web ', 'c', 'd'])).toBe(canonical);
    expect(vocabularies[1].cachedId(' web ')).toBe(vocabularies[1].cachedId('web'));
    expect(cache.size).toBe(2);
  });

  test('a tuple the cap sends to the overflow series is never cached: counted on every call', async () => {
    const { table, cache } = setUp(guard, 3, { maxSeries: 2 });
    const kept = [viaCache(cache, ['1', '1', '1']), viaCache(cache, ['1', '1', '2'])];
    const overflow = viaCache(cache, ['2', '2', '2']);
    expect(overflow.attributes).toEqual({ a: 'other', b: 'other', c: 'other' });
    for (let i = 0; i < 4; i++) expect(viaCache(cache, ['2', '2', '2'])).toBe(overflow);
    expect(await guard.count('seriesOverflow', { metric: 'test_metric' })).toBe(5);
    expect(viaCache(cache, ['1', '1', '2'])).toBe(kept[1]);
    // Labels that really are all "other" are the overflow series' own tuple: cached like any other.
    expect(viaCache(cache, ['other', 'other', 'other'])).toBe(overflow);
    expect(await guard.count('seriesOverflow', { metric: 'test_metric' })).toBe(5);
    expect(cache.size).toBe(3);
    expect(table.size).toBe(3);
  });

  test(`past ${MAX_CACHED_TUPLES} tuples the cache is dropped and the table serves every call`, () => {
    const { table, cache, vocabularies } = setUp(guard, 3);
    const raw = (i: number) => [`a${i % 64}`, `b${Math.floor(i / 64)}`, 'c'];
    for (let i = 0; i < MAX_CACHED_TUPLES; i++) viaCache(cache, raw(i));
    expect(cache.size).toBe(MAX_CACHED_TUPLES);
    const next = viaCache(cache, raw(MAX_CACHED_TUPLES));
    expect(cache.size).toBe(0);
    expect(next).toBe(viaTable(table, vocabularies, raw(MAX_CACHED_TUPLES)));
    for (let i = 0; i <= MAX_CACHED_TUPLES + 10; i++) {
      expect(viaCache(cache, raw(i))).toBe(viaTable(table, vocabularies, raw(i)));
    }
    expect(table.size).toBe(MAX_CACHED_TUPLES + 11);
    expect(cache.size).toBe(0);
  });

  test('serves tables of 3 or 4 labels only', () => {
    const vocabulary = new LabelVocabulary('m', 'a', OPEN, { maxLabelLength: 20 }, guard.reporter, {
      method: 'test',
      argument: 'a',
    });
    const table = (arity: number) =>
      new SeriesTable<TestCell>(
        'm',
        ['a', 'b', 'c', 'd'].slice(0, arity),
        Array.from({ length: arity }, () => vocabulary),
        10,
        () => ({ serial: 0, attributes: {} }),
        guard.reporter,
      );
    expect(() => new RawTupleCache(table(2))).toThrow(RangeError);
    expect(() => new RawTupleCache(table(3))).not.toThrow();
    expect(() => new RawTupleCache(table(4))).not.toThrow();
  });
});
