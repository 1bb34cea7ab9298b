/**
 * src/series/series-table.ts: the hash table of one metric's series, keyed by label-id tuples. Checked directly
 * (real LabelVocabulary and GuardReporter, self-metrics read through a real SDK reader) and through
 * initBusinessMetrics while vocabularies grow and the table rehashes.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { LabelVocabulary } from '../../src/guard/vocabulary';
import { SeriesTable } from '../../src/series/series-table';
import { parseExposition } from '../support/exposition';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';
import { numberedTable, type NumberedCell } from '../support/series-tables';

type TestCell = NumberedCell;

function table(
  guard: GuardHarness,
  labelKeys: readonly string[],
  maxSeries = 100_000,
): { table: SeriesTable<TestCell>; vocabularies: LabelVocabulary[] } {
  return numberedTable(guard, labelKeys, { maxSeries });
}

/** The table's lookup for a tuple of any arity, as the recording code calls it. */
function at(seriesTable: SeriesTable<TestCell>, ids: readonly number[]): TestCell {
  switch (ids.length) {
    case 1:
      return seriesTable.at1(ids[0]);
    case 2:
      return seriesTable.at2(ids[0], ids[1]);
    case 3:
      return seriesTable.at3(ids[0], ids[1], ids[2]);
    default:
      return seriesTable.at4(ids[0], ids[1], ids[2], ids[3]);
  }
}

describe('SeriesTable', () => {
  let guard: GuardHarness;
  beforeEach(() => {
    guard = createGuardHarness();
  });
  afterEach(() => guard.close());

  test.each([1, 2, 3, 4])(
    'arity %i: one cell per tuple, label order matters, attributes are the canonical values',
    (arity) => {
      const keys = ['a', 'b', 'c', 'd'].slice(0, arity);
      const { table: seriesTable, vocabularies } = table(guard, keys);
      const x = vocabularies.map((vocabulary) => vocabulary.resolve('x'));
      const y = vocabularies.map((vocabulary) => vocabulary.resolve('y'));
      const first = at(seriesTable, x);
      expect(at(seriesTable, x)).toBe(first);
      expect(first.attributes).toEqual(Object.fromEntries(keys.map((key) => [key, 'x'])));
      expect(Object.isFrozen(first.attributes)).toBe(true);
      const second = at(seriesTable, y);
      expect(second).not.toBe(first);
      if (arity > 1) {
        // Every vocabulary gives "x" and "y" the same ids, so (x, y, ..) and (y, x, ..) differ only by position.
        const mixed = at(
          seriesTable,
          keys.map((_, i) => (i === 0 ? x[i] : y[i])),
        );
        const swapped = at(
          seriesTable,
          keys.map((_, i) => (i === 0 ? y[i] : x[i])),
        );
        expect(new Set([first, second, mixed, swapped]).size).toBe(4);
        expect(swapped.attributes).toEqual(
          Object.fromEntries(keys.map((key, i) => [key, i === 0 ? 'y' : 'x'])),
        );
      }
      const count = arity === 1 ? 2 : 4;
      expect(seriesTable.size).toBe(count);
      expect(seriesTable.find(x)).toBe(first);
      expect(seriesTable.cells.map((cell) => cell.serial)).toEqual([...Array(count).keys()]);
    },
  );

  test('every tuple keeps its cell through many rehashes (3,000 series from 16 slots)', () => {
    const { table: seriesTable, vocabularies } = table(guard, ['a', 'b', 'c']);
    const tuples: number[][] = [];
    const created: number[] = [];
    for (let i = 0; i < 3_000; i++) {
      const tuple = [`a${i % 50}`, `b${Math.floor(i / 50)}`, `c${i % 7}`].map((raw, k) =>
        vocabularies[k].resolve(raw),
      );
      tuples.push(tuple);
      created.push(at(seriesTable, tuple).serial);
    }
    const serials = [...Array(3_000).keys()];
    expect(created).toEqual(serials);
    expect(seriesTable.size).toBe(3_000);
    expect(tuples.map((tuple) => at(seriesTable, tuple).serial)).toEqual(serials);
    expect(tuples.map((tuple) => seriesTable.find(tuple)?.serial)).toEqual(serials);
    expect(seriesTable.find([vocabularies[0].resolve('a0'), vocabularies[1].resolve('b1'), 999])).toBe(
      undefined,
    );
  });

  test('past the cap every new tuple shares one all-"other" series, counted and warned about', async () => {
    const { table: seriesTable, vocabularies } = table(guard, ['a', 'b'], 3);
    const ids = (a: string, b: string) => [vocabularies[0].resolve(a), vocabularies[1].resolve(b)];
    const kept = [ids('1', '1'), ids('1', '2'), ids('2', '1')].map((tuple) => at(seriesTable, tuple));
    const overflow = at(seriesTable, ids('2', '2'));
    expect(overflow.attributes).toEqual({ a: 'other', b: 'other' });
    expect(at(seriesTable, ids('3', '3'))).toBe(overflow);
    // The overflow series is an ordinary entry: labels that really are all "other" land on it too.
    expect(at(seriesTable, ids('other', 'other'))).toBe(overflow);
    // Existing series keep working past the cap.
    expect(at(seriesTable, ids('1', '2'))).toBe(kept[1]);
    expect(seriesTable.size).toBe(4);
    expect(seriesTable.cells).toEqual([...kept, overflow]);
    expect(await guard.count('seriesOverflow', { metric: 'test_metric' })).toBe(2);
    expect(guard.warnings).toEqual([
      'test_metric reached its cap of 3 series; new label combinations are recorded with every label "other"',
    ]);
  });

  test('refuses arities it has no lookup for, and a vocabulary count that does not match the labels', () => {
    const { vocabularies } = table(guard, ['a', 'b', 'c', 'd']);
    const make = (keys: string[], vocabs: LabelVocabulary[]) =>
      new SeriesTable<TestCell>('m', keys, vocabs, 10, () => ({ serial: 0, attributes: {} }), guard.reporter);
    expect(() => make([], [])).toThrow(RangeError);
    expect(() => make(['a', 'b', 'c', 'd', 'e'], [...vocabularies, vocabularies[0]])).toThrow(RangeError);
    expect(() => make(['a', 'b'], vocabularies.slice(0, 1))).toThrow(RangeError);
    expect(() => make(['a', 'b'], vocabularies.slice(0, 2))).not.toThrow();
  });
});

describe('series table behind initBusinessMetrics', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 2000 });
    handle = undefined;
  });

  test('series stay exact while open vocabularies grow and the series table rehashes', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
      limits: {
        maxSeriesPerMetric: 5000,
        labels: { source: { kind: 'capped', maxValues: 400 }, step: { kind: 'capped', maxValues: 400 } },
      },
    });
    const expected = new Map<string, number>();
    let state = 7;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const record = (step: string, source: string, deviceType: string) => {
      handle!.metrics.recordFunnelStep(step, { source, deviceType });
      const key = `${step}|${source}|${deviceType}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    };
    const seen: Array<[string, string, string]> = [];
    for (let n = 0; n < 300; n++) {
      // A new step and a new source arrive (new ids, the table grows past its load factor), then old series are
      // revisited.
      const combo: [string, string, string] = [`step_${n}`, `source_${n}`, n % 2 ? 'mobile' : 'desktop'];
      seen.push(combo);
      record(...combo);
      record(`step_${Math.floor(random() * (n + 1))}`, `source_${n}`, 'tablet');
      for (let k = 0; k < 3; k++) record(...seen[Math.floor(random() * seen.length)]);
    }
    const actual = new Map<string, number>();
    // The strict parser also rejects a series written twice within its family.
    for (const sample of parseExposition(await handle.metrics.getMetrics()).find(
      'business_funnel_step_total',
    )) {
      const key = `${sample.labels.step}|${sample.labels.source}|${sample.labels.device_type}`;
      expect(actual.has(key)).toBe(false);
      actual.set(key, sample.value);
    }
    expect(actual).toEqual(expected);
  });
});
