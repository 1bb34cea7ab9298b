/**
 * src/insights/: names and PromQL of the insight rules come from the catalog, options are checked loudly, Apdex
 * refuses thresholds without bucket boundaries, and the experience score is monotone in both of its inputs. The
 * rule file's text is tests/insights/rule-yaml.test.ts's. What the rules compute is checked by promtool
 * (insights*.test.yml) and, live, by tests/shop/insights.e2e.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP_METRICS, PROMETHEUS_FAMILIES, prometheusFamilyName } from '../../src/catalog';
import {
  DEFAULT_APDEX_THRESHOLD_SECONDS,
  DEFAULT_INSIGHT_RULE_OPTIONS,
  INSIGHT_ALERTS,
  INSIGHT_RULES,
  apdex,
  apdexThresholdsSupported,
  buildInsightRules,
  checkApdexThreshold,
  experienceScore,
  insightRuleNames,
  insightRulesYaml,
  resolveInsightRuleOptions,
} from '../../src/insights';
import { bucketMatcher } from '../../src/insights/rules';

describe('the insight rules', () => {
  it('names only catalog families, through the catalog', () => {
    const text = insightRulesYaml();
    const families = text.match(/\b(business|http)_[a-z_]+(?=[{[])/g) ?? [];
    const known = new Set([
      ...Object.values(PROMETHEUS_FAMILIES),
      ...['_bucket', '_sum', '_count'].flatMap((suffix) => [
        `${PROMETHEUS_FAMILIES.orderValue}${suffix}`,
        `${prometheusFamilyName(HTTP_METRICS.serverRequestDuration)}${suffix}`,
      ]),
    ]);
    expect(families.length).toBeGreaterThan(10);
    for (const family of new Set(families))
      expect({ family, known: known.has(family) }).toEqual({ family, known: true });
  });

  it('names its rules after the windows they use', () => {
    expect(INSIGHT_RULES.errorCost).toBe('currency:business_error_cost_cents:rate5m_per_minute');
    expect(insightRuleNames({ rateWindow: '30s', sumWindow: '2m' })).toMatchObject({
      errorCost: 'currency:business_error_cost_cents:rate30s_per_minute',
      revenueAtRiskSum: 'currency:business_revenue_at_risk_cents:increase2m',
    });
    expect(INSIGHT_ALERTS).toEqual(['RevenueAtRisk', 'CheckoutExperiencePoor', 'ServiceExperiencePoor']);
  });

  it('reads the shared per-currency revenue rule at 5m and computes it inline for other windows', () => {
    const at = (rateWindow: string) =>
      buildInsightRules({ rateWindow })
        .flatMap((group) => group.rules)
        .find((rule) => rule.record === insightRuleNames({ rateWindow }).revenueAtRisk)!.expr;
    expect(at('5m')).toContain('currency:business_revenue_cents:rate5m_per_minute');
    expect(at('30s')).not.toContain('currency:business_revenue_cents:rate5m_per_minute');
    expect(at('30s')).toContain('sum by (currency) (rate(business_revenue_cents_total[30s])) * 60');
  });
});

describe('docs/insights.md', () => {
  it('runs the library example: a rule file with other thresholds, and a score by hand', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obm-insights-'));
    const cwd = process.cwd();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      process.chdir(dir);
      // --- docs example: insight rules ---
      // A rule file for a shop whose pages may take 2.5 s before a shopper is merely "tolerating".
      writeFileSync(
        'insights.yml',
        insightRulesYaml({ apdexThresholdSeconds: 2.5, revenueAtRiskShare: 0.25 }),
      );

      // The score the rules record, for numbers you have in hand: Apdex 0.9 with 1% of requests failing.
      console.log(experienceScore(0.9, 0.01)?.toFixed(1)); // 81.4
      // --- end ---
      expect(log).toHaveBeenCalledWith('81.4');
      const written = readFileSync(join(dir, 'insights.yml'), 'utf8');
      expect(written).toContain('apdexThresholdSeconds=2.5, revenueAtRiskShare=0.25');
      expect(written).toContain('currency:business_revenue_at_risk:ratio_rate5m > 0.25');
    } finally {
      process.chdir(cwd);
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('default to the documented values', () => {
    expect(resolveInsightRuleOptions()).toEqual(DEFAULT_INSIGHT_RULE_OPTIONS);
    expect(DEFAULT_INSIGHT_RULE_OPTIONS).toMatchObject({
      apdexThresholdSeconds: 0.25,
      checkoutRoutes: '/checkout(/.*)?',
      rateWindow: '5m',
      baselineOffset: '7d',
      revenueAtRiskShare: 0.3,
      experienceScoreFloor: 70,
    });
  });

  it.each([
    [{ rateWindow: '5 minutes' }, /rateWindow must be a Prometheus duration/],
    [{ rateWindow: '0s' }, /rateWindow must be longer than 0/],
    [{ baselineOffset: '0m0s' }, /baselineOffset must be longer than 0/],
    [{ baselineOffset: '' }, /baselineOffset/],
    [{ revenueAtRiskShare: 1.5 }, /revenueAtRiskShare must be a number from 0 to 1/],
    [{ experienceScoreFloor: -1 }, /experienceScoreFloor/],
    [{ trafficScaleBand: [2, 1] as const }, /trafficScaleBand\[1\]/],
    [{ checkoutRoutes: '/checkout"}' }, /checkoutRoutes must not contain quotes/],
    [{ checkoutRoutes: '' }, /checkoutRoutes must be a non-empty/],
    [{ apdexThresholdSeconds: 0.5 }, /needs bucket boundaries at T and 4T.*none at 2 s.*0\.025, 0\.25, 2\.5/],
    [{ apdexDefault: 1 } as object, /unknown insight rule option "apdexDefault"/],
  ])('refuse %j loudly', (options, message) => {
    expect(() => resolveInsightRuleOptions(options)).toThrow(message);
    expect(() => insightRulesYaml(options)).toThrow(RangeError);
  });

  it('put a changed option into the rules and the file header', () => {
    const text = insightRulesYaml({ apdexThresholdSeconds: 2.5, checkoutRoutes: '/(cart|checkout)(/.*)?' });
    expect(text).toContain('# Options: apdexThresholdSeconds=2.5, checkoutRoutes=/(cart|checkout)(/.*)?.');
    expect(text).toContain('le=~"2\\\\.5"');
    expect(text).toContain('le=~"10|10\\\\.0"');
    expect(text).toContain('http_route=~"/(cart|checkout)(/.*)?"');
    expect(text).not.toContain('le=~"0\\\\.25"');
  });
});

describe('Apdex', () => {
  it('supports only thresholds whose T and 4T are both bucket boundaries', () => {
    expect(apdexThresholdsSupported()).toEqual([0.025, 0.25, 2.5]);
    expect(apdexThresholdsSupported()).toContain(DEFAULT_APDEX_THRESHOLD_SECONDS);
    expect(apdexThresholdsSupported([0.1, 0.2, 0.5, 0.8, 2])).toEqual([0.2, 0.5]);
    expect(() => checkApdexThreshold(0.1)).toThrow(/none at 0\.4 s/);
    expect(() => checkApdexThreshold(0.3, [0.3, 1.2])).not.toThrow();
    expect(() => checkApdexThreshold(Number.NaN)).toThrow(/positive number/);
  });

  it('matches a boundary as Prometheus 2 and Prometheus 3 spell it', () => {
    expect(bucketMatcher(0.25)).toBe('le=~"0\\\\.25"');
    expect(bucketMatcher(1)).toBe('le=~"1|1\\\\.0"');
    expect(bucketMatcher(10)).toBe('le=~"10|10\\\\.0"');
  });

  it('is (satisfied + tolerating / 2) / total from cumulative counts', () => {
    expect(apdex(60, 90, 100)).toBe(0.75);
    expect(apdex(100, 100, 100)).toBe(1);
    expect(apdex(0, 0, 10)).toBe(0);
    expect(apdex(0, 0, 0)).toBeNull();
  });
});

describe('experience score', () => {
  it('is 100 × Apdex × (1 − error rate)^10, from 0 to 100', () => {
    expect(experienceScore(1, 0)).toBe(100);
    expect(experienceScore(0.5, 0)).toBe(50);
    expect(experienceScore(1, 0.01)).toBeCloseTo(90.44, 2);
    expect(experienceScore(1, 0.05)).toBeCloseTo(59.87, 2);
    expect(experienceScore(1, 1)).toBe(0);
    expect(experienceScore(null, 0)).toBeNull();
    expect(experienceScore(0.9, Number.NaN)).toBeNull();
    expect(experienceScore(1.2, -0.1)).toBe(100);
  });

  it('never rises when Apdex falls or the error rate rises (checked on a grid)', () => {
    const steps = Array.from({ length: 41 }, (_, i) => i / 40);
    for (const a of steps) {
      for (const e of steps) {
        const here = experienceScore(a, e)!;
        expect(here).toBeGreaterThanOrEqual(0);
        expect(here).toBeLessThanOrEqual(100);
        if (a < 1) expect(experienceScore(a + 1 / 40, e)!).toBeGreaterThanOrEqual(here);
        if (e < 1) expect(experienceScore(a, e + 1 / 40)!).toBeLessThanOrEqual(here);
        // Strictly inside the square: both inputs matter.
        if (a > 0 && a < 1 && e < 1) expect(experienceScore(a + 1 / 40, e)!).toBeGreaterThan(here);
        if (a > 0 && e < 1 - 1 / 40) expect(experienceScore(a, e + 1 / 40)!).toBeLessThan(here);
      }
    }
  });
});
