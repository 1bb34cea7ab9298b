/**
 * End to end, live: the package serves a deterministic workload through its own Prometheus exporter, a real
 * Prometheus (Debian package) scrapes it every second and evaluates otel-collector's rule files every second,
 * and through the HTTP API we run the seed's queries (the broken adoption query corrected), every recording
 * rule and every query of the generated dashboard, asserting the figures the workload implies and rule health.
 *
 * Rates depend on wall-clock timing (and with seconds of data in a [1h] window, Prometheus's rate divides by the
 * whole hour), so absolute rates are checked against the tick rate Prometheus itself reports over the same
 * window (cart views per second / 100); ratios and quantiles are exact whatever the timing.
 */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { dashboardQueries, RECORDING_RULES, type GrafanaDashboard } from '../../src/dashboards/grafana';
import { requireBinary } from '../support/binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';
import { INSIGHT_RULES } from '../../src/insights';
import {
  ALERTS_FILE,
  DASHBOARD_FILE,
  INSIGHTS_FILE,
  RECORDING_FILE,
  allRules,
  rulesConfig,
} from './backend-files';
import {
  ACTIVE_USERS,
  EXPECTED,
  FEATURES_PER_TICK,
  FUNNEL_PER_TICK,
  ORDERS_PER_TICK,
  recordBadInput,
  recordWorkloadTick,
} from './workload';

const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const describeWithPrometheus = prometheusBinary ? describe : describe.skip;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: Sample[] };
}

/** A port nothing listens on, so the OTLP exporter fails and the export-failure self-metric has data. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

/** Cents refunded per workload tick (in USD, the default currency). */
const REFUND_CENTS_PER_TICK = 600;

describeWithPrometheus('live: package exporter -> real Prometheus -> rules, seed queries, dashboard', () => {
  let telemetry: BusinessMetricsHandle;
  let prometheus: PrometheusServer;
  let ticker: NodeJS.Timeout | undefined;
  /** Workload ticks per second as Prometheus reports them over a window (cart-view rate / 100). */
  const ticksPerSecond = { '5m': 0, '1h': 0 };
  let ticksRecorded = 0;

  /** Every query is evaluated at this instant, so rates from different queries describe the same window. */
  let evaluationTime: number | undefined;
  const query = async (expr: string): Promise<Sample[]> => {
    const at = evaluationTime === undefined ? '' : `&time=${evaluationTime}`;
    const body = await prometheus.api<QueryResponse>(`/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  const byLabel = async (expr: string, label: string): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await query(expr)).map((sample) => [sample.metric[label] ?? '', Number(sample.value[1])]),
    );
  const scalar = async (expr: string): Promise<number> => {
    const result = await query(expr);
    expect({ expr, series: result.length }).toEqual({ expr, series: 1 });
    return Number(result[0].value[1]);
  };

  beforeAll(async () => {
    telemetry = initBusinessMetrics({
      exporters: ['prometheus', 'otlp'],
      prometheus: { host: '127.0.0.1', port: 0 },
      otlp: {
        url: `http://127.0.0.1:${await closedPort()}/v1/metrics`,
        exportIntervalMillis: 1000,
        exportTimeoutMillis: 500,
      },
      serviceName: 'shop',
      // Small enough that a burst of sources overflows business_conversions_total (series-overflow panel).
      limits: { maxSeriesPerMetric: 20 },
      // USD reported in USD: the exchange-rate panel and the reporting-currency rules have data.
      money: { reporting: { currency: 'USD', rates: {} } },
    });
    await telemetry.ready;
    prometheus = await startPrometheus(prometheusBinary!, {
      config: rulesConfig([{ job: 'business-app', target: telemetry.prometheus!.url }]),
    });
    const tick = () => {
      ticksRecorded++;
      recordWorkloadTick(telemetry.metrics);
      recordBadInput(telemetry.metrics);
      // A partial refund per tick, so the refund and net-revenue panels have data.
      telemetry.metrics.recordRefund(REFUND_CENTS_PER_TICK, {
        paymentMethod: 'card',
        region: 'us_east',
        reason: 'customer_request',
      });
      for (let i = 0; i < 25; i++) {
        telemetry.metrics.recordConversion('signup', {
          source: `campaign_${i}`,
          deviceType: 'desktop',
          sessionStartTime: new Date(Date.now() - 30_000),
        });
      }
    };
    tick();
    ticker = setInterval(tick, 200);
    // Events, each failing loudly (naming what did not come) within 40 s: enough
    // scrapes for every [5m]/[1h]/[24h]/[7d] window to hold several samples, and a failed export counted.
    await waitUntil(
      '8 scrapes of the workload and a counted export failure',
      async () => {
        const samples = await query('count_over_time(business_funnel_step_total{step="cart_view"}[1h])');
        const failures = await query('business_metrics_export_failures_total');
        return samples.length > 0 && Number(samples[0].value[1]) >= 8 && failures.length > 0;
      },
      { timeoutMillis: 40_000 },
    );
    // Stop the traffic; a scrape holds every tick recorded, then every rule group evaluates after that scrape;
    // then freeze the evaluation time.
    clearInterval(ticker);
    ticker = undefined;
    let scraped = 0;
    await waitUntil(
      'a scrape holds every tick recorded',
      async () => {
        const [total] = await query('sum(business_funnel_step_total{step="cart_view"})');
        scraped = Date.now() / 1000;
        return total !== undefined && Number(total.value[1]) === 100 * ticksRecorded;
      },
      { timeoutMillis: 40_000 },
    );
    await waitUntil(
      'every rule group evaluated after that scrape',
      async () => {
        const body = await prometheus.api<{ data: { groups: Array<{ lastEvaluation: string }> } }>(
          '/api/v1/rules',
        );
        return body.data.groups.every((group) => Date.parse(group.lastEvaluation) / 1000 > scraped);
      },
      { timeoutMillis: 40_000 },
    );
    evaluationTime = Date.now() / 1000;
    for (const window of ['5m', '1h'] as const) {
      ticksPerSecond[window] =
        (await scalar(`sum(rate(business_funnel_step_total{step="cart_view"}[${window}]))`)) / 100;
    }
  }, 90_000);

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await prometheus?.stop();
    await telemetry?.shutdown({ timeoutMillis: 2000 });
  });

  it('scrapes the target, and the last scrape holds exactly 100 cart views per tick recorded', async () => {
    expect(await scalar('up{job="business-app"}')).toBe(1);
    expect(ticksRecorded).toBeGreaterThan(20);
    expect(await scalar('sum(business_funnel_step_total{step="cart_view"})')).toBe(100 * ticksRecorded);
    expect(await scalar('sum(business_funnel_step_total{step="order_confirmed"})')).toBe(3 * ticksRecorded);
    expect(ticksPerSecond['5m']).toBeGreaterThan(0);
  });

  describe("the seed's example queries", () => {
    it('conversion rate over the last hour is 3%', async () => {
      const value = await scalar(
        'sum(rate(business_funnel_step_total{step="order_confirmed"}[1h])) / sum(rate(business_funnel_step_total{step="cart_view"}[1h])) * 100',
      );
      expect(value).toBeCloseTo(EXPECTED.conversionRate * 100, 9);
    });

    it('revenue per minute by region is the per-tick revenue at the measured tick rate', async () => {
      const perRegion = await byLabel(
        'sum by (region) (rate(business_revenue_cents_total[5m])) * 60',
        'region',
      );
      expect(Object.keys(perRegion).sort()).toEqual(Object.keys(EXPECTED.revenuePerTick).sort());
      for (const [region, cents] of Object.entries(EXPECTED.revenuePerTick)) {
        expect(perRegion[region] / (cents * ticksPerSecond['5m'] * 60)).toBeCloseTo(1, 6);
      }
    });

    it('median order value by category', async () => {
      const p50 = await byLabel(
        'histogram_quantile(0.5, sum by (product_category, le) (rate(business_order_value_cents_bucket[1h])))',
        'product_category',
      );
      expect(p50.books).toBeCloseTo(EXPECTED.orderValueP50.books, 6);
      expect(p50.games).toBeCloseTo(EXPECTED.orderValueP50.games, 6);
    });

    it('feature adoption for new users: the seed query returns nothing, the corrected one the shares', async () => {
      const seed = await query(
        'sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) by (feature_name) / sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) * 100',
      );
      expect(seed).toEqual([]);
      const corrected = await byLabel(
        'sum by (feature_name) (rate(business_feature_usage_total{is_new_user="true"}[24h])) / ignoring (feature_name) group_left sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) * 100',
        'feature_name',
      );
      expect(Object.keys(corrected).sort()).toEqual(Object.keys(EXPECTED.newUserShare).sort());
      for (const [feature, share] of Object.entries(EXPECTED.newUserShare)) {
        expect(corrected[feature]).toBeCloseTo(share * 100, 6);
      }
    });

    it('session duration p95 by tier', async () => {
      const p95 = await byLabel(
        'histogram_quantile(0.95, sum by (user_tier, le) (rate(business_session_duration_seconds_bucket[1h])))',
        'user_tier',
      );
      expect(p95.pro).toBeCloseTo(EXPECTED.sessionP95.pro, 6);
      expect(p95.free).toBeCloseTo(EXPECTED.sessionP95.free, 6);
    });
  });

  describe('recording rules, evaluated by Prometheus from the shipped rule files', () => {
    it('are all loaded and healthy', async () => {
      const body = await prometheus.api<{
        data: {
          groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }>;
        };
      }>('/api/v1/rules');
      const rules = body.data.groups.flatMap((group) => group.rules);
      const shipped = [...allRules(RECORDING_FILE), ...allRules(ALERTS_FILE), ...allRules(INSIGHTS_FILE)].map(
        (rule) => rule.record ?? rule.alert,
      );
      expect(rules.map((rule) => rule.name).sort()).toEqual(shipped.sort());
      for (const rule of rules) {
        expect({ rule: rule.name, health: rule.health, lastError: rule.lastError ?? '' }).toEqual({
          rule: rule.name,
          health: 'ok',
          lastError: '',
        });
      }
    });

    it('record the figures the workload implies', async () => {
      const r = RECORDING_RULES;
      expect(await scalar(r.conversionRate1h)).toBeCloseTo(EXPECTED.conversionRate, 9);
      expect(await scalar(r.conversionRate7d)).toBeCloseTo(EXPECTED.conversionRate, 9);
      expect(await scalar(r.cartAbandonment1h)).toBeCloseTo(EXPECTED.cartAbandonment, 9);
      expect(await scalar(r.cartAbandonment7d)).toBeCloseTo(EXPECTED.cartAbandonment, 9);
      expect(await scalar(r.cartViewsIncrease1h)).toBeGreaterThan(100);

      const stepRates = await byLabel(r.funnelStepRate5m, 'step');
      const stepRates1h = await byLabel(r.funnelStepRate1h, 'step');
      for (const [step, count] of FUNNEL_PER_TICK) {
        expect(stepRates[step] / stepRates.cart_view).toBeCloseTo(count / 100, 9);
        expect(stepRates1h[step] / stepRates1h.cart_view).toBeCloseTo(count / 100, 9);
      }

      const total = await scalar(r.revenuePerMinute);
      const byRegion = await byLabel(r.revenuePerMinuteByRegion, 'region');
      const perTick = EXPECTED.revenuePerTick;
      expect(byRegion.eu_west / byRegion.us_east).toBeCloseTo(perTick.eu_west / perTick.us_east, 9);
      expect(total).toBeCloseTo(byRegion.eu_west + byRegion.us_east, 6);

      const p50 = await byLabel(r.orderValueP50, 'product_category');
      const mean = await byLabel(r.orderValueMean, 'product_category');
      const p95 = await byLabel(r.orderValueP95, 'product_category');
      expect(p50).toEqual({ books: expect.closeTo(1000, 6), games: expect.closeTo(17500, 6) });
      expect(mean).toEqual({
        books: expect.closeTo(EXPECTED.orderValueMean.books, 6),
        games: expect.closeTo(12000, 6),
      });
      // books' 95th percentile sits in its upper order's (2500,5000] bucket: 2500 + 2500 * 0.9.
      expect(p95.books).toBeCloseTo(4750, 6);

      // Same rule group, same evaluation: the recorded cart-view rate is the tick rate these rules saw.
      const ruleTicksPerSecond = (await scalar(`${r.funnelStepRate1h}{step="cart_view"}`)) / 100;
      const usage = await query(r.featureUsageRate1h);
      const usageOf = (feature: string) => usage.find((sample) => sample.metric.feature_name === feature)!;
      for (const [feature, , isNew, count] of FEATURES_PER_TICK) {
        expect(usageOf(feature).metric.is_new_user).toBe(String(isNew));
        expect(Number(usageOf(feature).value[1]) / (count * ruleTicksPerSecond)).toBeCloseTo(1, 6);
      }
      const share = await byLabel(r.featureNewUserShare24h, 'feature_name');
      expect(share).toEqual({
        search: expect.closeTo(EXPECTED.newUserShare.search, 9),
        onboarding_tour: expect.closeTo(EXPECTED.newUserShare.onboarding_tour, 9),
      });

      const sessions = await byLabel(r.sessionDurationP95, 'user_tier');
      expect(sessions).toEqual({ pro: expect.closeTo(117, 6), free: expect.closeTo(29, 6) });
      const ttc50 = await byLabel(r.timeToConversionP50, 'conversion_type');
      const ttc95 = await byLabel(r.timeToConversionP95, 'conversion_type');
      expect(ttc50.purchase).toBeCloseTo(EXPECTED.timeToConversion.p50, 6);
      expect(ttc95.purchase).toBeCloseTo(EXPECTED.timeToConversion.p95, 6);
    });

    it('leave the healthy workload without a firing or pending business alert', async () => {
      const alerts = await query(
        'ALERTS{alertname=~"ConversionRateDrop|HighCartAbandonment|NoCartTraffic|NoRevenue"}',
      );
      expect(alerts).toEqual([]);
      // The self-metric alerts do see the bad input the workload records on purpose.
      const health = await byLabel('ALERTS{alertname=~"BusinessMetrics.*"}', 'alertname');
      expect(Object.keys(health)).toEqual(
        expect.arrayContaining([
          'BusinessMetricsDropped',
          'BusinessMetricsLabelOverflow',
          'BusinessMetricsSeriesOverflow',
        ]),
      );
    });
  });

  describe('insight rules, evaluated by Prometheus from insights.yml', () => {
    it('estimate the revenue lost to errors: failed attempts times the value of an order', async () => {
      // Per tick: one checkout_error and one payment_declined (no HTTP metrics here, so no 5xx), and three USD
      // orders worth 15,199 cents together. The tick rate moves with the machine's load, and each rule group is
      // evaluated at its own instant, so every figure is compared with another of the same group and evaluation
      // (exact), and the raw counters with each other at one instant of one scrape (exact).
      const raw = await byLabel(
        'sum by (step) (rate(business_funnel_step_total{step=~"cart_view|checkout_error|payment_declined"}[5m]))',
        'step',
      );
      expect(raw.checkout_error / raw.cart_view).toBeCloseTo(1 / 100, 9);
      expect(raw.payment_declined / raw.cart_view).toBeCloseTo(1 / 100, 9);

      const failures = await byLabel(INSIGHT_RULES.checkoutFailuresByCause, 'cause');
      expect(Object.keys(failures).sort()).toEqual(['checkout_error', 'payment_declined']);
      expect(failures.checkout_error).toBeGreaterThan(0);
      expect(failures.payment_declined / failures.checkout_error).toBeCloseTo(1, 9);
      const allFailures = await scalar(INSIGHT_RULES.checkoutFailures);
      expect(allFailures / (failures.checkout_error + failures.payment_declined)).toBeCloseTo(1, 9);
      const orderValue = ORDERS_PER_TICK.reduce((sum, [cents]) => sum + cents, 0);
      expect(await byLabel(INSIGHT_RULES.orderValueMean, 'currency')).toEqual({
        USD: expect.closeTo(orderValue / 3, 6),
      });
      // Every failed attempt costs the mean order value (USD holds every order, so its share is 1).
      const cost = await byLabel(INSIGHT_RULES.errorCost, 'currency');
      expect(Object.keys(cost)).toEqual(['USD']);
      expect(cost.USD / (allFailures * (orderValue / 3))).toBeCloseTo(1, 9);
    });

    it('have no baseline and no HTTP server metrics in this workload, so those figures are absent, not zero', async () => {
      // The week-back baseline is covered by promtool (insights-weekly.test.yml) and the demo shop's end-to-end
      // test; Apdex and the score by promtool and the shop's test, which serves real HTTP.
      expect(await query(INSIGHT_RULES.expectedRevenue)).toEqual([]);
      expect(await query(INSIGHT_RULES.revenueAtRisk)).toEqual([]);
      expect(await query(INSIGHT_RULES.scoreByService)).toEqual([]);
      expect(await scalar(INSIGHT_RULES.trafficScale)).toBe(1);
    });
  });

  describe('every query of the generated Grafana dashboard', () => {
    const i = INSIGHT_RULES;
    const NEEDS_HTTP_OR_LAST_WEEK = [
      ...[i.expectedRevenue, i.revenueAtRisk, i.revenueAtRiskSum, 'offset 7d'],
      ...[i.checkoutScore, i.scoreByService, i.apdexByRoute, i.errorRateByRoute],
    ];
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as GrafanaDashboard;
    const queries = dashboardQueries(dashboard);

    it.each(queries.map((entry) => [`${entry.panel} / ${entry.refId}`, entry.expr] as const))(
      '%s runs and returns data',
      async (_where, expr) => {
        if (/\banchored\b/.test(expr)) {
          // Today's exact money needs Prometheus >= 3.16 (run there by tests/money/exact.e2e.test.ts): this
          // 2.42 refuses it outright rather than answering something inexact.
          await expect(query(expr.replaceAll('$__range', '1h'))).rejects.toThrow(/anchored/);
          return;
        }
        if (expr.includes('offset7d') || expr.includes('week_over_week')) {
          // Against the same time last week: empty with seconds of history by design; history.e2e.test.ts
          // shows it over nine days.
          expect(await query(expr)).toEqual([]);
          return;
        }
        if (NEEDS_HTTP_OR_LAST_WEEK.some((name) => expr.includes(name))) {
          // Insights from the HTTP server metrics or against last week: this workload has neither, so they are
          // empty by design; tests/shop/insights.e2e.test.ts runs these panels against the demo shop with a
          // backfilled week, and insights*.test.yml checks their values.
          expect(await query(expr.replaceAll('$__range', '1h'))).toEqual([]);
          return;
        }
        if (expr.includes('{step!~')) {
          // "other steps": the workload records only the known checkout steps, so this is empty by design.
          expect(await query(expr)).toEqual([]);
          return;
        }
        // Grafana puts the panel's range in `$__range` ("today" panels); one hour stands in for it here.
        const result = await query(expr.replaceAll('$__range', '1h'));
        expect(result.length).toBeGreaterThan(0);
        for (const sample of result) expect(Number.isFinite(Number(sample.value[1]))).toBe(true);
      },
    );

    const panelQuery = (title: string, refId = 'A') =>
      queries.find((entry) => entry.panel === title && entry.refId === refId)!.expr;

    it('shows conversion, abandonment and its alert threshold, and revenue, in the units the workload implies', async () => {
      expect(await scalar(panelQuery('Conversion rate (order_confirmed / cart_view)'))).toBeCloseTo(0.03, 9);
      expect(await scalar(panelQuery('Cart abandonment vs its alert threshold'))).toBeCloseTo(0.97, 9);
      expect(await scalar(panelQuery('Cart abandonment vs its alert threshold', 'B'))).toBeCloseTo(0.98, 9);
      const net = await byLabel(
        panelQuery('Net revenue per minute by currency (sales minus refunds)'),
        'currency',
      );
      // The panel reads a recording rule; the cart-view rate recorded in the same evaluation gives its tick rate.
      const ruleTicksPerSecond =
        (await scalar(`${RECORDING_RULES.funnelStepRate5m}{step="cart_view"}`)) / 100;
      const grossPerTick = EXPECTED.revenuePerTick.us_east + EXPECTED.revenuePerTick.eu_west;
      expect(
        net.USD / (((grossPerTick - REFUND_CENTS_PER_TICK) / 100) * ruleTicksPerSecond * 60),
      ).toBeCloseTo(1, 6);
      const total = await byLabel(
        panelQuery('Net revenue per minute by currency (sales minus refunds)', 'B'),
        'reporting_currency',
      );
      expect(total.USD).toBeCloseTo(net.USD, 9);
      const rolling = await byLabel(
        panelQuery('Revenue in the last rolling minute, by region and currency'),
        'region',
      );
      // Same ticks land in both regions' rolling minute, so their ratio is the per-tick ratio, in currency units.
      expect(rolling.eu_west / rolling.us_east).toBeCloseTo(
        EXPECTED.revenuePerTick.eu_west / EXPECTED.revenuePerTick.us_east,
        2,
      );
      expect(rolling.us_east).toBeGreaterThanOrEqual(120);
      const median = await byLabel(
        panelQuery('Order value by product category and currency (median, p95, mean; last hour)'),
        'product_category',
      );
      expect(median).toEqual({ books: expect.closeTo(10, 9), games: expect.closeTo(175, 9) });
    });

    it('shows the funnel in checkout order at the measured rate, and active users as recorded', async () => {
      const funnel = queries.filter(
        (entry) => entry.panel === 'Checkout funnel by step (per minute, last hour)',
      );
      const ruleTicksPerSecond =
        (await scalar(`${RECORDING_RULES.funnelStepRate1h}{step="cart_view"}`)) / 100;
      for (const [step, count] of FUNNEL_PER_TICK) {
        const entry = funnel.find((candidate) => candidate.expr.includes(`"${step}"`))!;
        expect((await scalar(entry.expr)) / (count * ruleTicksPerSecond * 60)).toBeCloseTo(1, 6);
      }
      // One query per window (A daily, B weekly, C monthly), each by tier.
      const activePanel = 'Active users by window and tier (distinct: daily, weekly, monthly)';
      const shown: string[] = [];
      for (const [i, window] of Object.keys(ACTIVE_USERS).entries()) {
        for (const sample of await query(panelQuery(activePanel, String.fromCharCode(65 + i))))
          shown.push(`${window}/${sample.metric.user_tier}=${sample.value[1]}`);
      }
      const recorded = Object.entries(ACTIVE_USERS).flatMap(([window, tiers]) =>
        Object.entries(tiers).map(([tier, users]) => `${window}/${tier}=${users}`),
      );
      expect(shown.sort()).toEqual(recorded.sort());
      const newVsReturning = await byLabel(
        panelQuery('Feature usage per minute: new vs returning users'),
        'is_new_user',
      );
      expect(newVsReturning.true / newVsReturning.false).toBeCloseTo(8 / 5, 6);
    });

    it('shows the bad input in the instrumentation-health panels', async () => {
      const health = 'Measurements dropped, relabelled or folded (last hour)';
      const dropped = await query(panelQuery(health, 'A'));
      expect(dropped.map((sample) => sample.metric.reason)).toContain('negative');
      const relabelled = await query(panelQuery(health, 'B'));
      expect(relabelled.map((sample) => sample.metric.label)).toContain('device_type');
      const folded = await query(panelQuery(health, 'C'));
      expect(folded.map((sample) => sample.metric.metric)).toContain('business_conversions_total');
      const failures = await query(panelQuery('Failed exports (last hour)'));
      expect(failures.map((sample) => sample.metric.exporter)).toContain('otlp');
    });
  });
});
