/**
 * The rule files against the catalog: every series a rule reads exists in the metric catalog (or is a recording
 * rule), every label it groups or filters by exists on that series, the names the dashboard expects are
 * defined, and every alert carries the routing labels Alertmanager needs.
 */
import { join } from 'node:path';
import { RECORDING_RULES } from '../../src/dashboards/grafana';
import { INSIGHT_ALERTS, INSIGHT_RULES } from '../../src/insights';
import {
  ALERTS_FILE,
  BACKEND,
  INSIGHTS_FILE,
  RECORDING_FILE,
  allRules,
  readYaml,
  catalogSeries,
  recordingRuleSeries,
  expectOnlyKnownReferences,
  references,
  ruleFiles,
} from './backend-files';

const TEAMS = ['product', 'business', 'growth'];
// Series the pipeline alerts legitimately read that the package's catalog does not define: Prometheus's own `up`,
// the resource's target_info (every OTLP path and the pull endpoint write it) and the Collector's own counter.
const PIPELINE_SERIES = new Map([
  ['up', new Set(['job', 'instance'])],
  ['target_info', new Set(['job', 'instance'])],
  ['otelcol_exporter_send_failed_metric_points_total', new Set(['job', 'instance', 'exporter'])],
]);

describe('business rule files', () => {
  const catalog = catalogSeries();
  const recorded = recordingRuleSeries();
  const known = new Map([...catalog, ...recorded, ...PIPELINE_SERIES]);

  it('are the files prometheus.yml loads', () => {
    const loaded = readYaml<{ rule_files: string[] }>(
      join(BACKEND, 'prometheus', 'prometheus.yml'),
    ).rule_files;
    expect(ruleFiles().sort()).toEqual(loaded.map((file) => join(BACKEND, 'prometheus', file)).sort());
    expect(loaded.map((file) => join(BACKEND, 'prometheus', file))).toEqual(
      expect.arrayContaining([ALERTS_FILE, RECORDING_FILE, INSIGHTS_FILE]),
    );
  });

  it.each(
    ruleFiles().flatMap((file) => allRules(file).map((rule) => [rule.alert ?? rule.record, rule] as const)),
  )('%s reads only catalog series, recording rules and their labels', (_name, rule) => {
    expectOnlyKnownReferences(rule.expr, known);
  });

  it('define every recording rule the dashboard and alerts name, following level:metric:operations', () => {
    const defined = allRules(RECORDING_FILE).map((rule) => rule.record);
    expect(defined.sort()).toEqual(Object.values(RECORDING_RULES).sort());
    for (const name of defined) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
  });

  it('define the insight rules the dashboard names, and only those, in insights.yml', () => {
    const insights = allRules(INSIGHTS_FILE);
    const defined = insights.filter((rule) => rule.record).map((rule) => rule.record);
    expect(defined.sort()).toEqual(Object.values(INSIGHT_RULES).sort());
    for (const name of defined) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    expect(insights.filter((rule) => rule.alert).map((rule) => rule.alert)).toEqual([...INSIGHT_ALERTS]);
  });

  it('give every alert a team Alertmanager routes, a severity, a summary and a description', () => {
    const alerts = ruleFiles()
      .flatMap(allRules)
      .filter((rule) => rule.alert);
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'ConversionRateDrop',
        'RevenueBelowBaseline',
        'HighCartAbandonment',
        'NewUserEngagementDrop',
        'NoCartTraffic',
        'NoRevenue',
        'BusinessMetricsTargetDown',
        'BusinessMetricsDropped',
        'BusinessMetricsLabelOverflow',
        'BusinessMetricsSeriesOverflow',
        'BusinessMetricsExportFailures',
        'RevenueAtRisk',
        'CheckoutExperiencePoor',
        'ServiceExperiencePoor',
      ]),
    );
    for (const rule of alerts) {
      expect(TEAMS).toContain(rule.labels?.team);
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
    }
  });

  it('fix the seed: net revenue of each currency against itself a week earlier, conversion text matching its threshold', () => {
    const byName = new Map(allRules(ALERTS_FILE).map((rule) => [rule.alert, rule]));
    const revenue = byName.get('RevenueBelowBaseline')!;
    // No amount of money in the expression: a number shared by every currency (500 euro, 500 yen) means nothing.
    // Each currency's net revenue is a ratio to its own last week; the only fixed numbers are that ratio and an
    // order count.
    expect(revenue.expr).toMatch(/currency:business_net_revenue:week_over_week_ratio30m < 0\.7\b/);
    expect(revenue.expr).toMatch(/currency:business_orders:increase30m_offset7d >= 30\b/);
    const recorded = new Map(allRules(RECORDING_FILE).map((rule) => [rule.record, rule.expr]));
    expect(recorded.get('currency:business_net_revenue_cents:increase30m_offset7d')).toMatch(/offset 7d/);
    expect(revenue.expr).not.toMatch(/\/ 100\b|\b500\b/);
    expect(revenue.annotations?.description).not.toMatch(/\$\{\{/);
    const conversion = byName.get('ConversionRateDrop')!;
    expect(conversion.expr).toMatch(/< 0\.02\b/);
    expect(conversion.annotations?.summary).toMatch(/2%/);
    // The seed's > 0.85 abandonment threshold fires permanently at 3% conversion; it must be gone.
    expect(byName.get('HighCartAbandonment')!.expr).not.toMatch(/0\.85/);
  });

  it('have no for: window shorter than the rate window of a 5m-rate alert (no flapping on a single scrape gap)', () => {
    const seconds = (duration: string): number => {
      const match = /^(\d+)([smhd])$/.exec(duration);
      if (!match) throw new Error(`unexpected duration ${duration}`);
      return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
    };
    const revenue = allRules(ALERTS_FILE).find((rule) => rule.alert === 'RevenueBelowBaseline')!;
    expect(seconds(revenue.for!)).toBeGreaterThanOrEqual(seconds('5m'));
    for (const name of ['NoCartTraffic', 'NoRevenue']) {
      const rule = allRules(ALERTS_FILE).find((candidate) => candidate.alert === name)!;
      const window = /\[(\d+[smhd])\]/.exec(rule.expr)![1];
      expect(seconds(rule.for!)).toBeGreaterThanOrEqual(seconds(window));
    }
  });
});

describe('the PromQL reference extractor the checks above rely on', () => {
  it('separates metrics, labels, functions and keywords', () => {
    const { metrics, labels } = references(
      'sum by (feature_name) (rate(business_feature_usage_total{is_new_user="true"}[24h] offset 7d))' +
        ' / ignoring (feature_name) group_left sum(x:y:z) > 1e-3 and on () absent(up{job=~"a|b"})',
    );
    expect([...metrics].sort()).toEqual(['business_feature_usage_total', 'up', 'x:y:z']);
    expect([...labels].sort()).toEqual(['feature_name', 'is_new_user', 'job']);
  });

  it('knows the labels label_replace creates, and only those', () => {
    const { labels, introduced } = references(
      'sum by (cause) (label_replace(rate(x{step=~"a|b"}[5m]), "cause", "$1", "step", "(.+)"))',
    );
    expect([...introduced]).toEqual(['cause']);
    expect([...labels].sort()).toEqual(['cause', 'step']);
    expect([...references('sum by (step) (x)').introduced]).toEqual([]);
  });

  it('catches a renamed family', () => {
    const catalog = catalogSeries();
    expect(catalog.has('business_funnel_step_total')).toBe(true);
    expect(catalog.has('business_funnel_steps_total')).toBe(false);
  });
});
