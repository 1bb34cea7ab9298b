/**
 * Writes insight rule groups as a Prometheus rule file: YAML with the rules' comments, block scalars for PromQL
 * and descriptions, single-quoted strings elsewhere.
 *
 * Owns: the text of the generated rule file. Must not touch: what the rules say (rules.ts), I/O.
 * A YAML library is not a dependency of the package; the rule file's shape is small and fixed, so it is written
 * here, and the tests parse the output with a real YAML parser and promtool.
 */
import type { InsightRule, InsightRuleGroup, InsightRuleOptions } from './rules';
import { buildInsightRules, resolveInsightRuleOptions, DEFAULT_INSIGHT_RULE_OPTIONS } from './rules';

function quoted(text: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text) && !/^(true|false|null|yes|no|on|off)$/i.test(text)) return text;
  if (/[\n\r]/.test(text))
    throw new Error(`a single-line YAML value has a line break: ${JSON.stringify(text)}`);
  return `'${text.replace(/'/g, "''")}'`;
}

function block(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  const lines = text.replace(/\s+$/, '').split('\n');
  return `|\n${lines.map((line) => (line ? pad + line : '')).join('\n')}`;
}

function comment(text: string, spaces: number, width = 110): string[] {
  const pad = ' '.repeat(spaces);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && pad.length + 2 + line.length + 1 + word.length > width) {
      lines.push(`${pad}# ${line}`);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(`${pad}# ${line}`);
  return lines;
}

function map(
  key: string,
  values: Readonly<Record<string, string>>,
  spaces: number,
  blockKeys: string[] = [],
) {
  const pad = ' '.repeat(spaces);
  const lines = [`${pad}${key}:`];
  for (const [name, value] of Object.entries(values)) {
    lines.push(`${pad}  ${name}: ${blockKeys.includes(name) ? block(value, spaces + 4) : quoted(value)}`);
  }
  return lines;
}

function rule(r: InsightRule): string[] {
  const lines: string[] = [];
  if (r.comment) lines.push(...comment(r.comment, 6));
  lines.push(r.record ? `      - record: ${r.record}` : `      - alert: ${r.alert}`);
  lines.push(`        expr: ${block(r.expr, 10)}`);
  if (r.for) lines.push(`        for: ${r.for}`);
  if (r.labels) lines.push(...map('labels', r.labels, 8));
  if (r.annotations) lines.push(...map('annotations', r.annotations, 8, ['description']));
  return lines;
}

/** The header comment: where the file comes from and which options made it. */
function header(options: InsightRuleOptions): string[] {
  const resolved = resolveInsightRuleOptions(options);
  const changed = Object.entries(resolved)
    .filter(
      ([key, value]) =>
        JSON.stringify(value) !==
        JSON.stringify(DEFAULT_INSIGHT_RULE_OPTIONS[key as keyof InsightRuleOptions]),
    )
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('..') : String(value)}`);
  return [
    '# Insight rules: estimated revenue lost to errors, revenue at risk against the same time last week, Apdex',
    '# and a 0-100 experience score, with their alerts (docs/insights.md explains each figure and its limits).',
    '#',
    '# GENERATED from the metric catalog by src/insights/rules.ts: do not edit by hand. Regenerate with other',
    '# options (Apdex threshold, checkout routes, windows, alert thresholds) with',
    '#   npx otel-business-metrics insight-rules --help',
    `# Options: ${changed.length ? changed.join(', ') : 'the defaults'}.`,
    '#',
    '# Needs business-recording.yml loaded too (the per-currency revenue rule), and 7 days of history for the',
    '# revenue baseline. Unit tests: insights.test.yml (`promtool test rules`).',
  ];
}

/** The rule file text for the given options (the shipped `insights.yml` is `insightRulesYaml()`). */
export function insightRulesYaml(options: InsightRuleOptions = {}): string {
  return ruleGroupsYaml(buildInsightRules(options), header(options));
}

/** A Prometheus rule file for `groups`, after `headerLines` of comment. */
export function ruleGroupsYaml(
  groups: readonly InsightRuleGroup[],
  headerLines: readonly string[] = [],
): string {
  const lines = [...headerLines, 'groups:'];
  for (const group of groups) {
    lines.push(`  - name: ${group.name}`, '    rules:');
    for (const r of group.rules) lines.push(...rule(r));
  }
  return `${lines.join('\n')}\n`;
}
