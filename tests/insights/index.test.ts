/**
 * src/insights/index.ts is the entry point `otel-business-metrics/insights` and only re-exports: its exact
 * runtime export list, each name the very object of the module that owns it.
 * That the root entry re-exports none of it is tests/index.test.ts's.
 */
import * as insights from '../../src/insights';
import * as ruleYaml from '../../src/insights/rule-yaml';
import * as rules from '../../src/insights/rules';
import * as score from '../../src/insights/score';
import { exportOrigins } from '../support/entry-points';

describe('src/insights/index.ts', () => {
  it('exports exactly the rules, the rule file and the score, each the very object of its module', () => {
    expect(exportOrigins(insights, { ruleYaml, rules, score })).toEqual({
      DEFAULT_APDEX_THRESHOLD_SECONDS: 'score',
      DEFAULT_INSIGHT_RULE_OPTIONS: 'rules',
      EXPERIENCE_ERROR_WEIGHT: 'score',
      FAILED_CHECKOUT_STEPS: 'rules',
      HTTP_DURATION_BUCKETS: 'score',
      INSIGHT_ALERTS: 'rules',
      INSIGHT_RULES: 'rules',
      apdex: 'score',
      apdexThresholdsSupported: 'score',
      buildInsightRules: 'rules',
      checkApdexThreshold: 'score',
      experienceScore: 'score',
      insightExpressions: 'rules',
      insightRuleNames: 'rules',
      insightRulesYaml: 'ruleYaml',
      resolveInsightRuleOptions: 'rules',
    });
  });
});
