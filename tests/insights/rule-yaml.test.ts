/**
 * src/insights/rule-yaml.ts: the text of the generated rule file. The shipped insights.yml is exactly its output
 * with the default options; a real YAML parser reads back the groups and rules that were built, PromQL unchanged;
 * and the writer's own rules hold on any rule: YAML's reserved words and quotes in values come back as the
 * strings they were, a line break in a single-line value is refused rather than written broken, multi-line PromQL
 * and descriptions are block scalars, rule comments wrap within 110 columns, and the header says which options
 * made the file.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildInsightRules } from '../../src/insights';
import { insightRulesYaml, ruleGroupsYaml } from '../../src/insights/rule-yaml';
import { INSIGHTS_FILE } from '../backend/backend-files';

describe('insights.yml', () => {
  it('is the generator output with the default options (regenerate with npm run generate:rules)', () => {
    expect(readFileSync(INSIGHTS_FILE, 'utf8')).toBe(insightRulesYaml());
  });

  it('parses as YAML into the groups and rules the generator built, PromQL unchanged', () => {
    const parsed = parse(insightRulesYaml()) as { groups: Array<{ name: string; rules: object[] }> };
    const built = buildInsightRules();
    expect(parsed.groups.map((group) => group.name)).toEqual(built.map((group) => group.name));
    const strip = ({ comment: _comment, ...rule }: { comment?: string }) => rule;
    expect(parsed.groups.map((group) => group.rules)).toEqual(
      built.map((group) =>
        group.rules.map((rule) => {
          const { expr, annotations, ...rest } = strip(rule) as {
            expr: string;
            annotations?: Record<string, string>;
          };
          // Block scalars end with a newline.
          const description = annotations?.description;
          return {
            ...rest,
            expr: `${expr}\n`,
            ...(annotations
              ? {
                  annotations: {
                    ...annotations,
                    ...(description ? { description: `${description}\n` } : {}),
                  },
                }
              : {}),
          };
        }),
      ),
    );
  });

  it('says in its header that it was made with the defaults, or which options changed', () => {
    expect(insightRulesYaml()).toContain('\n# Options: the defaults.\n');
    expect(insightRulesYaml({ revenueAtRiskShare: 0.25 })).toContain(
      '\n# Options: revenueAtRiskShare=0.25.\n',
    );
  });
});

describe('ruleGroupsYaml', () => {
  const alert = {
    alert: 'Odd',
    expr: 'sum(rate(x_total[5m]))\n  > 1',
    for: '10m',
    labels: { severity: 'yes', team: 'on', owner: "shop's team", route: '/checkout(/.*)?', plain: 'page' },
    annotations: { summary: 'null: true', description: 'First line.\nSecond line: with a colon.' },
  };

  it('writes values that read back as the same strings, reserved words and quotes included', () => {
    const text = ruleGroupsYaml([{ name: 'odd', rules: [alert] }], ['# a header']);
    expect(text.startsWith('# a header\ngroups:\n')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(parse(text)).toEqual({
      groups: [
        {
          name: 'odd',
          rules: [
            {
              ...alert,
              expr: `${alert.expr}\n`,
              annotations: { ...alert.annotations, description: `${alert.annotations.description}\n` },
            },
          ],
        },
      ],
    });
    // Bare where YAML cannot misread it, quoted where it would (yes and on would be booleans in YAML 1.1).
    expect(text).toContain('          plain: page\n');
    expect(text).toContain("          severity: 'yes'\n");
    expect(text).toContain("          owner: 'shop''s team'\n");
  });

  it('refuses a line break in a single-line value rather than write a broken file', () => {
    const broken = { ...alert, labels: { severity: 'page\nteam: x' } };
    expect(() => ruleGroupsYaml([{ name: 'odd', rules: [broken] }])).toThrow(
      'a single-line YAML value has a line break: "page\\nteam: x"',
    );
  });

  it('writes a rule comment as comment lines within 110 columns, words whole', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const text = ruleGroupsYaml([
      { name: 'g', rules: [{ comment: words.join(' '), record: 'r', expr: '1' }] },
    ]);
    const comments = text.split('\n').filter((line) => line.startsWith('      # '));
    expect(comments.length).toBeGreaterThan(2);
    expect(comments.filter((line) => line.length > 110)).toEqual([]);
    expect(comments.map((line) => line.slice('      # '.length)).join(' ')).toBe(words.join(' '));
    expect(parse(text)).toEqual({ groups: [{ name: 'g', rules: [{ record: 'r', expr: '1\n' }] }] });
  });
});
