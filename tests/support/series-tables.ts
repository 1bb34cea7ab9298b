/**
 * A SeriesTable on real LabelVocabulary objects and a test's GuardReporter, whose cells number themselves in
 * creation order: what tests of the series table and of the caches in front of it build on.
 */
import type { LabelPolicy } from '../../src/catalog/labels';
import { LabelVocabulary } from '../../src/guard/vocabulary';
import { SeriesTable } from '../../src/series/series-table';
import type { GuardHarness } from './guard-harness';

/** Open enough never to relabel in a test that does not mean to. */
export const OPEN_POLICY: LabelPolicy = { kind: 'capped', maxValues: 10_000 };

export interface NumberedCell {
  /** 0 for the table's first series, 1 for the next, ... */
  readonly serial: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export function numberedTable(
  guard: GuardHarness,
  labelKeys: readonly string[],
  options: { maxSeries?: number; policies?: readonly LabelPolicy[]; maxLabelLength?: number } = {},
): { table: SeriesTable<NumberedCell>; vocabularies: LabelVocabulary[] } {
  const vocabularies = labelKeys.map(
    (label, i) =>
      new LabelVocabulary(
        'test_metric',
        label,
        options.policies?.[i] ?? OPEN_POLICY,
        { maxLabelLength: options.maxLabelLength ?? 100 },
        guard.reporter,
        { method: 'test', argument: label },
      ),
  );
  let serial = 0;
  const table = new SeriesTable<NumberedCell>(
    'test_metric',
    labelKeys,
    vocabularies,
    options.maxSeries ?? 100_000,
    (attributes) => ({ serial: serial++, attributes }),
    guard.reporter,
  );
  return { table, vocabularies };
}
