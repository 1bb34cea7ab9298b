/**
 * LabelVocabulary: allow-lists, caps, known values, the bounded raw-value cache, policy validation, and that
 * every replaced value is counted, on every measurement.
 */
import { DEFAULT_LABEL_POLICIES, OTHER_LABEL_VALUE, UNKNOWN_LABEL_VALUE, type LabelPolicy } from '../../src';
import { LabelVocabulary } from '../../src/guard/vocabulary';
import * as normalizeModule from '../../src/guard/normalize';
import { createGuardHarness, type GuardHarness } from '../support/guard-harness';
import { retainedBytes } from '../support/heap';

const METRIC = 'business_funnel_step_total';
const ORIGIN = { method: 'recordFunnelStep', argument: 'metadata.source' };

function vocabulary(harness: GuardHarness, policy: LabelPolicy, label = 'source', maxLabelLength = 64) {
  return new LabelVocabulary(METRIC, label, policy, { maxLabelLength }, harness.reporter, ORIGIN);
}

describe('LabelVocabulary', () => {
  let harness: GuardHarness;
  beforeEach(() => {
    harness = createGuardHarness();
  });
  afterEach(() => harness.close());

  const valueOf = (v: LabelVocabulary, raw: unknown) => v.values[v.resolve(raw)];

  it('admits values of a capped label up to the cap, then records "other" and counts every replacement', async () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 3, known: ['direct'] });
    expect(['a', 'b', 'c'].map((raw) => valueOf(v, raw))).toEqual(['a', 'b', 'c']);
    expect(valueOf(v, 'direct')).toBe('direct'); // known values do not count against the cap
    expect(valueOf(v, 'd')).toBe(OTHER_LABEL_VALUE);
    expect(valueOf(v, 'd')).toBe(OTHER_LABEL_VALUE);
    expect(valueOf(v, 'e')).toBe(OTHER_LABEL_VALUE);
    expect(valueOf(v, 'a')).toBe('a'); // admitted values stay admitted
    expect(v.admittedCount).toBe(3);
    expect(await harness.count('labelOverflow', { metric: METRIC, label: 'source', reason: 'cap' })).toBe(3);
  });

  it('maps values outside an allow-list to "other", counted as not_allowed', async () => {
    const v = vocabulary(harness, DEFAULT_LABEL_POLICIES.device_type, 'device_type');
    for (const value of ['desktop', 'mobile', 'tablet', 'web', 'bot']) expect(valueOf(v, value)).toBe(value);
    expect(valueOf(v, 'Mobile')).toBe(OTHER_LABEL_VALUE);
    expect(valueOf(v, 'smart-fridge')).toBe(OTHER_LABEL_VALUE);
    expect(
      await harness.count('labelOverflow', { metric: METRIC, label: 'device_type', reason: 'not_allowed' }),
    ).toBe(2);
  });

  it('records missing values as "unknown" and values of the wrong type as "other", each counted', async () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 10 });
    expect(valueOf(v, undefined)).toBe(UNKNOWN_LABEL_VALUE);
    expect(valueOf(v, null)).toBe(UNKNOWN_LABEL_VALUE);
    expect(valueOf(v, '  ')).toBe(UNKNOWN_LABEL_VALUE);
    expect(valueOf(v, () => 'x')).toBe(OTHER_LABEL_VALUE);
    expect(valueOf(v, Symbol('x'))).toBe(OTHER_LABEL_VALUE);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(valueOf(v, circular)).toBe(OTHER_LABEL_VALUE);
    expect(await harness.count('labelOverflow', { metric: METRIC, label: 'source', reason: 'missing' })).toBe(
      3,
    );
    expect(
      await harness.count('labelOverflow', { metric: METRIC, label: 'source', reason: 'invalid_type' }),
    ).toBe(3);
  });

  it('gives raw variants of one value the same id, and they do not use up the cap', () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 1 });
    const id = v.resolve('google');
    expect(v.resolve(' google ')).toBe(id);
    expect(v.resolve('goo\u0000gle')).toBe(id);
    expect(v.resolve('google\n')).toBe(id);
    expect(v.admittedCount).toBe(1);
    expect(valueOf(v, 'bing')).toBe(OTHER_LABEL_VALUE);
  });

  it('normalises policy values like caller values: an over-long or padded allow-listed value still matches', () => {
    const long = 'x'.repeat(100);
    const v = vocabulary(harness, { kind: 'allow', values: [long, ' padded '] }, 'user_tier', 10);
    expect(valueOf(v, long)).toBe('x'.repeat(10));
    expect(valueOf(v, 'padded')).toBe('padded');
  });

  it('counts a replaced value every time it is seen (replaced raw values are never cached)', async () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 0 });
    for (let i = 0; i < 1000; i++) v.resolve('hostile');
    expect(await harness.count('labelOverflow', { metric: METRIC, label: 'source', reason: 'cap' })).toBe(
      1000,
    );
  });

  it('keeps its raw-value cache bounded however many variants of admitted values arrive', () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 5 });
    for (let i = 0; i < 100_000; i++)
      v.resolve(`${' '.repeat(i % 50)}v${i % 5}${' '.repeat(Math.floor(i / 50))}`);
    const cache = (v as unknown as { idsByRaw: Map<string, number> }).idsByRaw;
    expect(cache.size).toBeLessThanOrEqual(4 * (v.values.length + 5) + 64);
    expect(v.values).toEqual([OTHER_LABEL_VALUE, UNKNOWN_LABEL_VALUE, 'v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('keeps nothing of huge raw values: neither in the values it admits nor in its raw-value cache', () => {
    const v = vocabulary(harness, { kind: 'capped', maxValues: 20, known: ['direct'] });
    const ids = new Set<number>();
    // 20 values cut from 1 MB strings, and 40 distinct 1 MB spellings of a known value (trailing spaces): kept as
    // they came, 60 MB for the life of the process, however few label values they stand for.
    const retained = retainedBytes(() => {
      for (let i = 0; i < 20; i++) v.resolve(`value_${i}_`.padEnd(1_000_000, 'z'));
      for (let i = 0; i < 40; i++) ids.add(v.resolve(`direct${' '.repeat(1_000_000 + i)}`));
    });
    expect(retained).toBeLessThan(5_000_000);
    expect(v.values).toHaveLength(2 + 1 + 20);
    expect([...ids].map((id) => v.values[id])).toEqual(['direct']);
  });

  it('refuses malformed policies at construction instead of leaving a label unbounded', () => {
    const bad: unknown[] = [
      { kind: 'capped', maxValues: NaN },
      { kind: 'capped', maxValues: Infinity },
      { kind: 'capped', maxValues: -1 },
      { kind: 'capped', maxValues: 1.5 },
      { kind: 'capped', maxValues: '10' },
      { kind: 'capped' },
      { kind: 'capped', maxValues: 5, known: 'direct' },
      { kind: 'capped', maxValues: 5, known: [42] },
      { kind: 'allow', values: ['ok', ''] },
      { kind: 'allow', values: [{}] },
      { kind: 'allow' },
      { kind: 'open', maxValues: 5 },
      { maxValues: 5 },
      null,
      'capped',
    ];
    for (const policy of bad) {
      expect(() => vocabulary(harness, policy as LabelPolicy)).toThrow(/limits\.labels\.source/);
    }
  });

  it('accepts every default policy, and every value the seed itself records', () => {
    const seedValues: Partial<Record<keyof typeof DEFAULT_LABEL_POLICIES, string[]>> = {
      step: [
        'cart_view',
        'shipping_info',
        'payment_info',
        'order_review',
        'order_confirmed',
        'checkout_error',
        'payment_declined',
        'milestone_10',
      ],
      device_type: ['desktop', 'mobile', 'tablet', 'web'],
      user_tier: ['free', 'pro', 'enterprise'],
      is_new_user: ['true', 'false'],
      window: ['daily', 'weekly', 'monthly'],
      experiment_variant: ['control'],
      conversion_type: ['purchase'],
    };
    for (const [label, policy] of Object.entries(DEFAULT_LABEL_POLICIES)) {
      const v = vocabulary(harness, policy, label);
      for (const value of seedValues[label as keyof typeof seedValues] ?? [])
        expect(valueOf(v, value)).toBe(value);
    }
  });

  it('resolves a seen string with one Map lookup: no normalisation, no report, the same id', () => {
    // Checked by what runs, not by a timing (the funnel row of the benchmarks measures the speed against a Map).
    const v = vocabulary(harness, DEFAULT_LABEL_POLICIES.source);
    const raw = ['google', 'bing', 'direct', 'newsletter'];
    const ids = raw.map((value) => v.resolve(value));
    const normalize = jest.spyOn(normalizeModule, 'normalizeLabelValue');
    const relabel = jest.spyOn(harness.reporter, 'relabel');
    try {
      const again = Array.from({ length: 4_000 }, (_, i) => v.resolve(raw[i & 3]));
      expect(again).toEqual(Array.from({ length: 4_000 }, (_, i) => ids[i & 3]));
      expect(normalize).not.toHaveBeenCalled();
      expect(relabel).not.toHaveBeenCalled();
      // The spy does see the slow path: a value not seen before is normalised once.
      v.resolve('duckduckgo');
      expect(normalize).toHaveBeenCalledTimes(1);
    } finally {
      normalize.mockRestore();
      relabel.mockRestore();
    }
  });
});
