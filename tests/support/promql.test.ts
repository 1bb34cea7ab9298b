/**
 * tests/support/promql.ts on examples and on every shipped alert: the parts the same-answers comparison reads.
 */
import { allRules, ruleFiles } from '../backend/backend-files';
import { boolComparisons, leafExpressions } from './promql';

describe('leafExpressions', () => {
  it('finds the operands through set operators, parentheses and aggregations that contain operators', () => {
    expect(
      leafExpressions(`business:conversion_rate:ratio_rate1h < 0.02
          and on () business:cart_views:increase1h >= 100`),
    ).toEqual(['business:conversion_rate:ratio_rate1h', 'business:cart_views:increase1h']);
    expect(
      leafExpressions(`sum by (metric, reason) (
            increase(business_metrics_dropped_total[15m]) > 0
            or (business_metrics_dropped_total unless business_metrics_dropped_total offset 15m)
          ) > 0`),
    ).toEqual([
      'increase(business_metrics_dropped_total[15m])',
      'business_metrics_dropped_total',
      'business_metrics_dropped_total offset 15m',
    ]);
    expect(leafExpressions('(a / b) < 0.7 and max by (t) (c{x="a<b"} offset 7d) >= 100')).toEqual([
      'a',
      'b',
      'max by (t) (c{x="a<b"} offset 7d)',
    ]);
    expect(leafExpressions('x or -y')).toEqual(['x', 'y']);
    expect(leafExpressions('histogram_quantile(0.5, sum by (le) (rate(h_bucket[1h])))')).toEqual([
      'histogram_quantile(0.5, sum by (le) (rate(h_bucket[1h])))',
    ]);
  });

  it('gives every shipped alert at least one part', () => {
    for (const rule of ruleFiles()
      .flatMap(allRules)
      .filter((r) => r.alert)) {
      expect({ alert: rule.alert, parts: leafExpressions(rule.expr).length > 0 }).toEqual({
        alert: rule.alert,
        parts: true,
      });
    }
  });
});

describe('boolComparisons', () => {
  it('turns every comparison into a bool comparison, at any depth, leaving matchers and existing bools alone', () => {
    expect(boolComparisons('a < 0.02 and on () b >= 100')).toBe('a < bool 0.02 and on () b >= bool 100');
    expect(boolComparisons('sum (increase(x{a!="b"}[5m]) > 0 or y) > 0')).toBe(
      'sum (increase(x{a!="b"}[5m]) > bool 0 or y) > bool 0',
    );
    expect(boolComparisons('up == bool 0')).toBe('up == bool 0');
  });
});
