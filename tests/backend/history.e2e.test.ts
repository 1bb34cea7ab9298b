/**
 * End to end over nine days of history: the package's own exposition (one real scrape of the workload) is
 * replayed as growing counters at many timestamps, backfilled with `promtool tsdb create-blocks-from
 * openmetrics`, and served by a real Prometheus that loads the shipped rule files. The [1h], [24h], [7d] and
 * `offset 7d` rules then meet realistic data, and the alerts are shown to fire during each incident of the
 * timeline and to be silent (resolved) on either side of it:
 *
 *   T-9d .. T        healthy: 3% conversion, ~912.00 revenue per minute, steady new-user usage
 *   T-16h .. T       new-user feature usage at 20% of last week           -> NewUserEngagementDrop
 *   T-7h .. T-5h     conversion at 1%                                     -> ConversionRateDrop, HighCartAbandonment
 *   T-4h .. T-3h     revenue at half (of the same hour a week earlier)    -> RevenueBelowBaseline, RevenueAtRisk
 *   T-10m .. T       the package starts dropping measurements             -> BusinessMetricsDropped
 *   T-90m .. T       no cart traffic, so no orders or revenue              -> NoCartTraffic, NoRevenue; the ratio
 *                                                                            alerts stay silent on the NaN ratio
 *
 * Alerts are evaluated the way Prometheus does at a past instant: the rule's expression (recording rules
 * inlined, since recording rules are not backfilled) must hold at every evaluation step of its `for:` window.
 * At "now" (just after T) the live rule engine agrees: ALERTS shows the no-traffic alerts pending/firing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../support/binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { RECORDING_RULES } from '../../src/dashboards/grafana';
import {
  ALERTS_FILE,
  INSIGHTS_FILE,
  RECORDING_FILE,
  allRules,
  inlineRecordingRules,
  type Rule,
} from './backend-files';
import { historyOpenMetrics, scrapeOneTick, scrapedSeries, timeGrid, type ScrapedSeries } from './history';
import { EXPECTED } from './workload';
import { waitUntil } from '../support/wait';

const promtool = requireBinary('promtool', 'apt-get install prometheus');
const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const describeWithPrometheus = promtool && prometheusBinary ? describe : describe.skip;

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
/** Six workload ticks a minute: 600 cart views, 18 orders and 911.94 revenue per minute when healthy. */
const TICKS_PER_SECOND = 6 / MINUTE;
// T: the last sample, on a whole minute just before the test starts Prometheus.
const T = Math.floor(Date.now() / 1000 / MINUTE) * MINUTE - MINUTE;
const between = (t: number, from: number, to: number) => t > T + from && t <= T + to;

const HEALTHY_CONVERSION = EXPECTED.conversionRate;
function conversionAt(t: number): number {
  return between(t, -7 * HOUR, -5 * HOUR) ? 0.01 : HEALTHY_CONVERSION;
}
function schedule(series: ScrapedSeries, t: number): number {
  const traffic = between(t, -90 * MINUTE, 0) ? 0 : 1;
  const orders = (traffic * conversionAt(t)) / HEALTHY_CONVERSION;
  const family = series.name.replace(/_(bucket|sum|count|total)$/, '').replace(/_(bucket|sum|count)$/, '');
  switch (family) {
    case 'business_funnel_step':
      return series.labels.step === 'order_confirmed' ? orders : traffic;
    case 'business_conversions':
    case 'business_time_to_conversion_seconds':
      return orders;
    case 'business_revenue_cents':
    case 'business_order_value_cents':
      return orders * (between(t, -4 * HOUR, -3 * HOUR) ? 0.5 : 1);
    case 'business_feature_usage':
      return series.labels.is_new_user === 'true' && between(t, -16 * HOUR, 0) ? 0.2 : 1;
    case 'business_metrics_dropped':
    case 'business_metrics_label_overflow':
      return between(t, -10 * MINUTE, 0) ? 1 : 0;
    default:
      return 1;
  }
}

const rules = [...allRules(RECORDING_FILE), ...allRules(ALERTS_FILE), ...allRules(INSIGHTS_FILE)];
const alert = (name: string): Rule => rules.find((rule) => rule.alert === name)!;

function seconds(duration: string | undefined): number {
  if (!duration) return 0;
  const match = /^(\d+)([smhd])$/.exec(duration)!;
  return Number(match[1]) * { s: 1, m: MINUTE, h: HOUR, d: DAY }[match[2] as 's' | 'm' | 'h' | 'd'];
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describeWithPrometheus(
  'history: nine days backfilled from the package exposition, alerts fire and resolve',
  () => {
    let prometheus: PrometheusServer;
    let workDir = '';

    const instant = async (expr: string, time: number): Promise<Sample[]> => {
      const body = await prometheus.api<{ status: string; error?: string; data: { result: Sample[] } }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`,
      );
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data.result;
    };

    /** Alert state at `time`: the value if it would be firing (condition held through its whole `for:`). */
    const firingValue = async (name: string, time: number): Promise<number | undefined> => {
      const rule = alert(name);
      const expr = inlineRecordingRules(rule.expr);
      const now = await instant(expr, time);
      if (now.length === 0) return undefined;
      const hold = seconds(rule.for);
      if (hold > 0) {
        const body = await prometheus.api<{ data: { result: Array<{ values: unknown[] }> } }>(
          `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${time - hold}&end=${time}&step=60`,
        );
        const steps = hold / 60 + 1;
        if (!body.data.result.some((series) => series.values.length === steps)) return undefined;
      }
      return Number(now[0].value[1]);
    };

    beforeAll(async () => {
      const exposition = await scrapeOneTick();

      const scrape = scrapedSeries(exposition);
      // Minutes where [5m] windows are read: the last 13 hours, and the same hours a week earlier (the 5-minute
      // revenue baseline of insights.yml); ten minutes elsewhere.
      const weekAgo = timeGrid(T - 7 * DAY - 13 * HOUR, T - 7 * DAY, T - 7 * DAY - 13 * HOUR, MINUTE, MINUTE);
      const times = [
        ...new Set([...timeGrid(T - 9 * DAY, T, T - 13 * HOUR, 10 * MINUTE, MINUTE), ...weekAgo]),
      ].sort((a, b) => a - b);
      workDir = mkdtempSync(join(tmpdir(), 'obm-history-'));
      const input = join(workDir, 'history.om');
      writeFileSync(input, historyOpenMetrics(scrape, times, TICKS_PER_SECOND, schedule));
      const dataDir = join(workDir, 'data');
      execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', input, dataDir], {
        stdio: 'pipe',
      });
      prometheus = await startPrometheus(prometheusBinary!, {
        dataDir,
        config: [
          'global:',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${RECORDING_FILE}`,
          `  - ${ALERTS_FILE}`,
        ].join('\n'),
      });
    }, 180_000);

    afterAll(async () => {
      await prometheus?.stop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it('holds the exact series the package exposes, nine days back', async () => {
      const series = await instant('count({__name__=~"business_.+"})', T - 12 * HOUR);
      expect(Number(series[0].value[1])).toBeGreaterThan(30);
      const oldest = await instant('business_funnel_step_total{step="cart_view"}', T - 9 * DAY + 10 * MINUTE);
      expect(oldest.map((sample) => sample.metric.otel_scope_name)).toEqual(['otel-business-metrics']);
    });

    it("answers the seed's queries with the healthy figures at T-9h", async () => {
      const at = T - 9 * HOUR;
      const conversion = await instant(
        'sum(rate(business_funnel_step_total{step="order_confirmed"}[1h])) / sum(rate(business_funnel_step_total{step="cart_view"}[1h])) * 100',
        at,
      );
      expect(Number(conversion[0].value[1])).toBeCloseTo(3, 6);
      const revenue = await instant('sum by (region) (rate(business_revenue_cents_total[5m])) * 60', at);
      const perRegion = Object.fromEntries(
        revenue.map((sample) => [sample.metric.region, Number(sample.value[1])]),
      );
      expect(perRegion.eu_west).toBeCloseTo(EXPECTED.revenuePerTick.eu_west * 6, 3);
      expect(perRegion.us_east).toBeCloseTo(EXPECTED.revenuePerTick.us_east * 6, 3);
      const adoption = await instant(
        'sum by (feature_name) (rate(business_feature_usage_total{is_new_user="true"}[24h])) / ignoring (feature_name) group_left sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) * 100',
        at,
      );
      expect(
        Object.fromEntries(adoption.map((sample) => [sample.metric.feature_name, Number(sample.value[1])])),
      ).toEqual({
        search: expect.closeTo(25, 6),
        onboarding_tour: expect.closeTo(75, 6),
      });
    });

    const ALERTS = [
      'ConversionRateDrop',
      'HighCartAbandonment',
      'RevenueBelowBaseline',
      'RevenueAtRisk',
      'NewUserEngagementDrop',
      'NoCartTraffic',
      'NoRevenue',
      'BusinessMetricsDropped',
    ];

    it('keeps every business alert silent on the healthy day before the incidents (T-9h)', async () => {
      for (const name of ALERTS)
        expect({ name, value: await firingValue(name, T - 9 * HOUR) }).toEqual({ name });
    });

    it('fires ConversionRateDrop and HighCartAbandonment in the 1% hour, and resolves them after', async () => {
      const conversion = await firingValue('ConversionRateDrop', T - 5 * HOUR);
      expect(conversion).toBeCloseTo(0.01, 6);
      // Abandonment 99% against a 7-day average just above 97%.
      const abandonment = await firingValue('HighCartAbandonment', T - 5 * HOUR);
      expect(abandonment).toBeGreaterThan(0.019);
      expect(abandonment).toBeLessThan(0.02);
      // 15 minutes into the incident the 1h ratio is already low, but ConversionRateDrop's for: 15m has not passed.
      expect(await firingValue('ConversionRateDrop', T - 7 * HOUR + 15 * MINUTE)).toBeUndefined();
      expect(await firingValue('ConversionRateDrop', T - 3 * HOUR - 30 * MINUTE)).toBeUndefined();
      expect(await firingValue('HighCartAbandonment', T - 3 * HOUR - 30 * MINUTE)).toBeUndefined();
      // The revenue dip came with full traffic: it is not a conversion problem.
      expect(await firingValue('ConversionRateDrop', T - 3 * HOUR - 5 * MINUTE)).toBeUndefined();
    });

    it('fires RevenueBelowBaseline at half revenue against the same time last week, and resolves it', async () => {
      // Net revenue of the last 30 minutes against the same 30 minutes a week earlier, per currency: half.
      expect(await firingValue('RevenueBelowBaseline', T - 3 * HOUR - 5 * MINUTE)).toBeCloseTo(0.5, 6);
      // The dashboard's week-over-week panel draws the same figure, and 100% on the healthy day before.
      const weekOverWeek = inlineRecordingRules(RECORDING_RULES.netRevenueWeekOverWeek);
      const at = async (time: number) => (await instant(weekOverWeek, time)).map((s) => Number(s.value[1]));
      expect(await at(T - 3 * HOUR - 5 * MINUTE)).toEqual([expect.closeTo(0.5, 6)]);
      expect(await at(T - 9 * HOUR)).toEqual([expect.closeTo(1, 6)]);
      expect(await firingValue('NoRevenue', T - 3 * HOUR - 5 * MINUTE)).toBeUndefined();
      // Not yet 15 minutes below 70%, then recovered a week-over-week 100% once the window is past the dip.
      expect(await firingValue('RevenueBelowBaseline', T - 4 * HOUR + 15 * MINUTE)).toBeUndefined();
      expect(await firingValue('RevenueBelowBaseline', T - 2 * HOUR - 30 * MINUTE)).toBeUndefined();
    });

    it('fires RevenueAtRisk (insights.yml) at half revenue with full traffic, and resolves it', async () => {
      // Gross revenue at half, cart views as last week (traffic scale 1): half of the expected revenue at risk.
      expect(await firingValue('RevenueAtRisk', T - 3 * HOUR - 5 * MINUTE)).toBeCloseTo(0.5, 6);
      expect(await firingValue('RevenueAtRisk', T - 4 * HOUR + 10 * MINUTE)).toBeUndefined();
      expect(await firingValue('RevenueAtRisk', T - 2 * HOUR - 30 * MINUTE)).toBeUndefined();
      // With the traffic gone too, the scale stops at its floor (0.5): still all of that at risk.
      expect(await firingValue('RevenueAtRisk', T)).toBeCloseTo(1, 6);
    });

    it('fires NewUserEngagementDrop week over week (offset 7d) and not before the drop shows', async () => {
      // 16h at 20% and 8h at 100% in the last 24h, against a normal day a week earlier.
      expect(await firingValue('NewUserEngagementDrop', T)).toBeCloseTo((16 * 0.2 + 8) / 24, 2);
      expect(await firingValue('NewUserEngagementDrop', T - 9 * HOUR)).toBeUndefined();
    });

    it('fires NoCartTraffic and NoRevenue when traffic stops, while the NaN ratio keeps the ratio alerts silent', async () => {
      expect(await firingValue('NoCartTraffic', T)).toBe(0);
      expect(await firingValue('NoRevenue', T)).toBe(0);
      const ratio = await instant(inlineRecordingRules('business:conversion_rate:ratio_rate1h'), T);
      expect(Number.isNaN(Number(ratio[0].value[1]))).toBe(true);
      expect(await firingValue('ConversionRateDrop', T)).toBeUndefined();
      expect(await firingValue('HighCartAbandonment', T)).toBeUndefined();
      // Before the traffic stopped long enough, no-traffic was silent.
      expect(await firingValue('NoCartTraffic', T - 70 * MINUTE)).toBeUndefined();
    });

    it('fires BusinessMetricsDropped once the package drops measurements', async () => {
      expect(await firingValue('BusinessMetricsDropped', T)).toBeGreaterThan(0);
    });

    it('the live rule engine, evaluating the shipped rules over this history now, agrees and stays healthy', async () => {
      let alerts: Record<string, string> = {};
      const expected = ['NoCartTraffic', 'NoRevenue', 'NewUserEngagementDrop', 'BusinessMetricsDropped'];
      await waitUntil(
        'the live rule engine to raise the four alerts',
        async () => {
          const result = await instant('ALERTS', Date.now() / 1000);
          alerts = Object.fromEntries(
            result.map((sample) => [sample.metric.alertname, sample.metric.alertstate]),
          );
          const missing = expected.filter((a) => !alerts[a]);
          return missing.length === 0 || `missing ${missing.join(', ')}`;
        },
        { timeoutMillis: 15_000, intervalMillis: 500 },
      );
      expect(alerts).toMatchObject({
        NoCartTraffic: 'pending',
        NoRevenue: 'pending',
        NewUserEngagementDrop: 'pending',
        BusinessMetricsDropped: 'firing',
      });
      expect(alerts.ConversionRateDrop).toBeUndefined();
      expect(alerts.HighCartAbandonment).toBeUndefined();

      const body = await prometheus.api<{
        data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> };
      }>('/api/v1/rules');
      for (const rule of body.data.groups.flatMap((group) => group.rules)) {
        expect({ rule: rule.name, health: rule.health }).toEqual({ rule: rule.name, health: 'ok' });
      }
      // The 7-day baseline recorded live from the backfilled week: mostly 3%, two hours at 1%.
      const baseline = await instant('business:conversion_rate:ratio_rate7d', Date.now() / 1000);
      expect(Number(baseline[0].value[1])).toBeGreaterThan(0.029);
      expect(Number(baseline[0].value[1])).toBeLessThan(0.03);
    });
  },
);
