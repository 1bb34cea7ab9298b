/**
 * `otel-business-metrics/insights`: the seed's three actionable insights as Prometheus rules (estimated revenue lost
 * to errors, revenue at risk against the same time last week, Apdex and a 0-100 experience score), the rule file
 * generator behind `otel-business-metrics insight-rules`, and the score's formula for in-memory use.
 *
 * Owns: the exported surface of src/insights: the insight PromQL and rule names (`rules.ts`), the rule file's
 * text (`rule-yaml.ts`), Apdex and the score (`score.ts`). Must not touch: recording state, the SDK, I/O; the
 * root entry does not re-export it. The performance-impact insight (effect size per +100 ms) is the correlation
 * report's, in `otel-business-metrics/analysis`.
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/`, `src/cluster/`, `node:*`, `@opentelemetry/*`.
 */
export {
  DEFAULT_APDEX_THRESHOLD_SECONDS,
  EXPERIENCE_ERROR_WEIGHT,
  HTTP_DURATION_BUCKETS,
  apdex,
  apdexThresholdsSupported,
  checkApdexThreshold,
  experienceScore,
} from './score';
export {
  DEFAULT_INSIGHT_RULE_OPTIONS,
  FAILED_CHECKOUT_STEPS,
  INSIGHT_ALERTS,
  INSIGHT_RULES,
  buildInsightRules,
  insightExpressions,
  insightRuleNames,
  resolveInsightRuleOptions,
  type InsightRule,
  type InsightRuleGroup,
  type InsightRuleOptions,
  type ResolvedInsightRuleOptions,
} from './rules';
export { insightRulesYaml } from './rule-yaml';
