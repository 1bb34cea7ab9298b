/**
 * src/catalog/exact-money.ts, THE exact money queries: each figure's PromQL is `increase(...[range] anchored)` of
 * its counter summed by currency (the text is pinned: the rule file, the dashboard and `reconcile` all read it),
 * net is revenue minus refunds for every currency that has either (checked by evaluating the net rule with
 * promtool: a currency with sales only nets its sales, one with refunds only nets minus them), the rule names
 * follow Prometheus's `level:metric:operations` convention, and the rules of a window come in their file's order.
 * That the rule file holds exactly these rules: tests/backend/money-rules.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as money from '../../src/catalog/exact-money';
import { promtool } from '../support/promtool';

const itWithPromtool = promtool ? it : it.skip;
const anchored = (series: string, range: string) =>
  `sum by (currency) (increase(${series}[${range}] anchored))`;

describe('exact money queries', () => {
  it('lists the figures and windows in report order', () => {
    expect(money.EXACT_MONEY_FIGURES).toEqual(['revenue', 'refunds', 'net', 'orders']);
    expect(money.EXACT_MONEY_WINDOWS).toEqual(['1h', '1d']);
  });

  it('reads each measured figure from its counter between real samples, per currency', () => {
    expect(money.exactMoneyQuery('revenue', '1h')).toBe(anchored('business_revenue_cents_total', '1h'));
    expect(money.exactMoneyQuery('refunds', '30s')).toBe(anchored('business_refunds_cents_total', '30s'));
    expect(money.exactMoneyQuery('orders', '1d')).toBe(anchored('business_order_value_cents_count', '1d'));
    // A Grafana range variable passes through as it is.
    expect(money.exactMoneyQuery('revenue', '$__range')).toBe(
      anchored('business_revenue_cents_total', '$__range'),
    );
  });

  it('nets revenue minus refunds, keeping currencies that have only one of the two', () => {
    const revenue = anchored('business_revenue_cents_total', '1h');
    const refunds = anchored('business_refunds_cents_total', '1h');
    expect(money.exactMoneyQuery('net', '1h')).toBe(
      `(${revenue} - (${refunds} or ${revenue} * 0)) or -${refunds}`,
    );
  });

  it('names the recording rules level:metric:operation, per figure and window', () => {
    expect(
      money.EXACT_MONEY_WINDOWS.flatMap((window) =>
        money.EXACT_MONEY_FIGURES.map((figure) => money.exactMoneyRule(figure, window)),
      ),
    ).toEqual([
      'currency:business_revenue_cents:increase1h_anchored',
      'currency:business_refunds_cents:increase1h_anchored',
      'currency:business_net_revenue_cents:increase1h_anchored',
      'currency:business_orders:increase1h_anchored',
      'currency:business_revenue_cents:increase1d_anchored',
      'currency:business_refunds_cents:increase1d_anchored',
      'currency:business_net_revenue_cents:increase1d_anchored',
      'currency:business_orders:increase1d_anchored',
    ]);
  });

  it("gives a window's rules in order, net computed from the same evaluation's revenue and refunds", () => {
    for (const window of money.EXACT_MONEY_WINDOWS) {
      const rules = money.exactMoneyRules(window);
      expect(rules.map((rule) => rule.record)).toEqual(
        money.EXACT_MONEY_FIGURES.map((figure) => money.exactMoneyRule(figure, window)),
      );
      for (const figure of ['revenue', 'refunds', 'orders'] as const) {
        expect(rules.find((rule) => rule.record === money.exactMoneyRule(figure, window))!.expr).toBe(
          money.exactMoneyQuery(figure, window),
        );
      }
      const revenue = money.exactMoneyRule('revenue', window);
      const refunds = money.exactMoneyRule('refunds', window);
      expect(rules[2].expr).toBe(`(${revenue} - (${refunds} or ${revenue} * 0)) or -${refunds}`);
    }
  });

  itWithPromtool('nets exactly, evaluated by promtool: both figures, sales only, refunds only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obm-exact-money-'));
    try {
      const net = money.exactMoneyRules('1h')[2].expr;
      const series = (figure: 'revenue' | 'refunds', currency: string, cents: number) => ({
        series: `${money.exactMoneyRule(figure, '1h')}{currency="${currency}"}`,
        values: `${cents} ${cents}`,
      });
      const test = {
        rule_files: [],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              series('revenue', 'USD', 1999),
              series('refunds', 'USD', 500),
              series('revenue', 'EUR', 1000),
              series('refunds', 'JPY', 300),
            ],
            promql_expr_test: [
              {
                expr: net,
                eval_time: '1m',
                exp_samples: [
                  { labels: '{currency="USD"}', value: 1499 },
                  { labels: '{currency="EUR"}', value: 1000 },
                  { labels: '{currency="JPY"}', value: -300 },
                ],
              },
            ],
          },
        ],
      };
      const file = join(dir, 'net.test.yml');
      writeFileSync(file, JSON.stringify(test)); // JSON is YAML
      expect(execFileSync(promtool!, ['test', 'rules', file], { encoding: 'utf8', timeout: 30_000 })).toMatch(
        /SUCCESS/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
