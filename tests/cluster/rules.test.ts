/**
 * src/cluster/rules.ts: each gauge rule of the table, applied as the aggregate applies it (the first source's value
 * starts the merge, every other joins it), and the names an app may configure.
 */
import { GAUGE_RULE_NAMES, GAUGE_RULES, type GaugeRule, type MergedGauge } from '../../src/cluster/rules';
import { validateClusterOptions } from '../../src/cluster/options';

/** Sources as (value, when the primary saw it change), merged in this order. */
function merge(rule: GaugeRule, sources: Array<[number, number]>): MergedGauge {
  const [first, ...rest] = sources;
  const merged = { value: first[0], changedAt: first[1] };
  for (const [value, changedAt] of rest) GAUGE_RULES[rule](merged, value, changedAt);
  return merged;
}

describe('gauge rules', () => {
  const sources: Array<[number, number]> = [
    [5, 100],
    [9, 300],
    [2, 200],
  ];

  it('sum adds every source, max and min keep the extreme, whatever the order', () => {
    expect(merge('sum', sources).value).toBe(16);
    expect(merge('max', sources).value).toBe(9);
    expect(merge('min', sources).value).toBe(2);
    expect(merge('max', [...sources].reverse()).value).toBe(9);
    expect(merge('min', [...sources].reverse()).value).toBe(2);
  });

  it('latest takes the most recently changed source, the larger on a tie, in any order', () => {
    expect(merge('latest', sources)).toEqual({ value: 9, changedAt: 300 });
    expect(merge('latest', [...sources].reverse())).toEqual({ value: 9, changedAt: 300 });
    expect(
      merge('latest', [
        [3, 50],
        [7, 50],
        [4, 50],
      ]).value,
    ).toBe(7);
  });

  it('names every rule of the table, and the options check uses those names', () => {
    expect([...GAUGE_RULE_NAMES].sort()).toEqual(['latest', 'max', 'min', 'sum']);
    expect(() => validateClusterOptions({ gauges: { queue_depth: 'avg' as GaugeRule } })).toThrow(
      new TypeError("cluster.gauges.queue_depth must be one of 'sum', 'max', 'min', 'latest' (got avg)"),
    );
    expect(() => validateClusterOptions({ gauges: { queue_depth: 'max' } })).not.toThrow();
  });
});
