/**
 * src/dashboards/grafana.ts, the dashboard generator: the committed Grafana dashboard is exactly what it makes from
 * the catalog and the alert rules, it reads the thresholds from the rules (and refuses to guess), and every panel
 * query names only series and labels that exist (catalog families or recording rules). Their values against a real
 * Prometheus are checked in tests/backend/prometheus-live.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import {
  alertThresholdsFromRules,
  buildBusinessDashboard,
  dashboardQueries,
  RECORDING_RULES,
  type GrafanaDashboard,
  type RuleFileLike,
} from '../../src/dashboards/grafana';
import {
  BUSINESS_METRIC_LIST,
  EXACT_MONEY_FIGURES,
  exactMoneyQuery,
  prometheusFamilyName,
} from '../../src/catalog';
import {
  ALERTS_FILE,
  DASHBOARD_FILE,
  catalogSeries,
  readYaml,
  recordingRuleSeries,
  expectOnlyKnownReferences,
} from '../backend/backend-files';

const rules = readYaml<RuleFileLike>(ALERTS_FILE);
const committed = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as GrafanaDashboard;

describe('Grafana business dashboard', () => {
  it('is the committed business.json (regenerate with npm run generate:dashboard)', () => {
    const generated = buildBusinessDashboard({ thresholds: alertThresholdsFromRules(rules) });
    expect(committed).toEqual(JSON.parse(JSON.stringify(generated)));
  });

  it('reads the alert thresholds from business-alerts.yml', () => {
    expect(alertThresholdsFromRules(rules)).toEqual({
      conversionRateFloor: 0.02,
      cartAbandonmentMargin: 0.01,
      revenueWeekOverWeekFloor: 0.7,
    });
  });

  it('refuses to guess a threshold when an alert expression changed shape', () => {
    const changed = {
      groups: [
        { rules: [{ alert: 'ConversionRateDrop', expr: 'sum(rate(business_funnel_step_total[1h])) < 2' }] },
      ],
    };
    expect(() => alertThresholdsFromRules(changed)).toThrow(/ConversionRateDrop/);
    expect(() => alertThresholdsFromRules({ groups: [] })).toThrow(/not defined/);
  });

  it('draws the conversion and cart-abandonment thresholds the alerts use', () => {
    const thresholds = alertThresholdsFromRules(rules);
    const panel = (title: RegExp) => committed.panels.find((candidate) => title.test(candidate.title))!;
    const conversion = panel(/^Conversion rate/) as unknown as {
      fieldConfig: { defaults: { thresholds: { steps: Array<{ value: number | null }> } } };
    };
    expect(conversion.fieldConfig.defaults.thresholds.steps.map((step) => step.value)).toEqual([
      null,
      thresholds.conversionRateFloor,
    ]);
    const abandonment = panel(/^Cart abandonment/);
    expect(abandonment.targets!.map((target) => target.expr)).toContain(
      `business:cart_abandonment:ratio_rate7d + ${thresholds.cartAbandonmentMargin}`,
    );
  });

  it('has the panels the issue lists, with money in currency units', () => {
    const titles = committed.panels.map((panel) => panel.title).join('\n');
    for (const expected of [
      /funnel by step/i,
      /Conversion rate/,
      /Net revenue per minute by currency/,
      /refunds and net per minute, by currency/,
      /Refunds per minute by reason/,
      /Order value by product category/,
      /Order value distribution/,
      /new vs returning/,
      /Session duration p95 by user tier/,
      /Active users by window and tier/,
      /Cart abandonment/,
    ]) {
      expect(titles).toMatch(expected);
    }
    // Today's exact figures per currency, in minor units: the catalog's exact queries over Grafana's range, which
    // `now/d` makes 00:00 UTC until now (the dashboard is in UTC).
    const exact = committed.panels.find((panel) => /^Today \(UTC\) per currency, exact/.test(panel.title))!;
    expect(committed.timezone).toBe('utc');
    expect(exact.timeFrom).toBe('now/d');
    expect(exact.targets!.map((target) => target.expr)).toEqual(
      EXACT_MONEY_FIGURES.map((figure) => exactMoneyQuery(figure, '$__range')),
    );
    expect(exact.targets!.every((target) => target.instant && target.format === 'table')).toBe(true);
    // Each currency against itself a week earlier, with RevenueBelowBaseline's floor.
    const weekOverWeek = committed.panels.find((panel) => /same 30 minutes last week/.test(panel.title))!;
    expect(weekOverWeek.targets!.map((target) => target.expr)).toEqual([
      RECORDING_RULES.netRevenueWeekOverWeek,
    ]);
    // Money is shown per currency, divided by that currency's minor units (100, 1, 1000...), never by a fixed
    // 100 and never added across currencies.
    const money = committed.panels.filter(
      (panel) =>
        /revenue|refunds|order value by/i.test(panel.title) && panel !== exact && panel !== weekOverWeek,
    );
    expect(money.length).toBeGreaterThanOrEqual(4);
    for (const panel of money) {
      for (const target of panel.targets ?? []) {
        expect(target.expr).not.toMatch(/\/ 100\b/);
        expect(target.expr).toMatch(/business_currency_minor_units|_units:|reporting/);
        expect(target.legendFormat).toMatch(/\{\{(reporting_)?currency\}\}/);
      }
    }
  });

  it('shows every business metric family of the catalog somewhere', () => {
    const everything = dashboardQueries(committed)
      .map((query) => query.expr)
      .join('\n');
    const recording = [...recordingRuleSeries().keys()].filter((name) => everything.includes(name));
    const covered = everything + '\n' + recording.join('\n');
    for (const def of BUSINESS_METRIC_LIST) {
      const familyName = prometheusFamilyName(def);
      // A family counts as shown when a panel queries it directly or through a recording rule named after it.
      const shown = covered.includes(familyName) || recording.some((name) => name.includes(`:${def.name}:`));
      expect({ familyName, shown }).toEqual({ familyName, shown: true });
    }
  });

  const known = new Map([...catalogSeries(), ...recordingRuleSeries()]);
  it.each(
    dashboardQueries(committed).map((query) => [`${query.panel} / ${query.refId}`, query.expr] as const),
  )('%s queries only existing series and labels', (_where, expr) => {
    expectOnlyKnownReferences(expr, known);
  });
});
