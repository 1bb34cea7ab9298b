/**
 * business-money.yml is what src/catalog/exact-money.ts says it is: the one source the dashboard and the
 * `reconcile` command read. Every rule of the file is the catalog's, and every catalog rule is in the file, in
 * a group per window. (Its values are unit-tested by business-money.test.yml on Prometheus 3's promtool, and end to
 * end by tests/money/exact.e2e.test.ts.)
 */
import {
  EXACT_MONEY_FIGURES,
  EXACT_MONEY_WINDOWS,
  exactMoneyQuery,
  exactMoneyRule,
  exactMoneyRules,
} from '../../src/catalog/exact-money';
import { MONEY_FILE, readYaml, references, type RuleFile } from './backend-files';

const squash = (expr: string) => expr.replace(/\s+/g, ' ').trim();

describe('business-money.yml', () => {
  const file = readYaml<RuleFile>(MONEY_FILE);

  it('holds exactly the catalog rules, one group per window', () => {
    expect(file.groups.map((group) => group.rules.map((rule) => rule.record))).toEqual(
      EXACT_MONEY_WINDOWS.map((window) => exactMoneyRules(window).map((rule) => rule.record)),
    );
    for (const [index, window] of EXACT_MONEY_WINDOWS.entries()) {
      const rules = file.groups[index].rules.map((rule) => ({
        record: rule.record,
        expr: squash(rule.expr),
      }));
      expect(rules).toEqual(exactMoneyRules(window));
    }
  });

  it('reads every figure from a counter between real samples (anchored), per currency only', () => {
    for (const figure of EXACT_MONEY_FIGURES) {
      const query = exactMoneyQuery(figure, '1h');
      expect(query).toMatch(/\[1h\] anchored\)/);
      expect(query).not.toMatch(/\brate\(|\[1h\]\)/);
      expect([...references(query).labels]).toEqual(['currency']);
      expect(exactMoneyRule(figure, '1d')).toMatch(/^currency:[a-z_]+:increase1d_anchored$/);
    }
  });
});
