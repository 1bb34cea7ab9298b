/**
 * Money end to end, live: a mixed USD/EUR/JPY/KWD workload with partial refunds and chargebacks is recorded
 * once into the package's own Prometheus endpoint; a real Prometheus (Debian package) scrapes it and evaluates
 * the shipped rule files. Per-currency gross, refunds and net are exact (instant queries over the counters),
 * the reporting-currency figure is exact for the given rates (the rules' join over the counters), the recording
 * rules evaluate consistently with it, and bad currency codes are dropped and counted, never recorded.
 * (The seed's queries over a USD-only workload are tests/backend/prometheus-live.e2e.test.ts, unchanged.)
 *
 * Amounts are chosen so every figure is exact in binary floating point, whatever order Prometheus sums in.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { requireBinary } from '../support/binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { waitUntil } from '../support/wait';
import { rulesConfig } from '../backend/backend-files';

const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const describeWithPrometheus = prometheusBinary ? describe : describe.skip;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Units of USD per unit of each currency (exact binary fractions). */
const RATES = { EUR: 1.25, JPY: 0.0078125, KWD: 3.25 };

/** One run of the workload; the test records it twice. */
const EXPECTED = {
  gross: { USD: 3000, EUR: 6500, JPY: 5000, KWD: 12750 },
  refunds: { USD: 1500, EUR: 1000, JPY: 3000, KWD: 2750 },
  net: { USD: 1500, EUR: 5500, JPY: 2000, KWD: 10000 },
  netUnits: { USD: 15, EUR: 55, JPY: 2000, KWD: 10 },
  minorUnits: { USD: 100, EUR: 100, JPY: 1, KWD: 1000 },
  // 15 * 1 + 55 * 1.25 + 2000 * 0.0078125 + 10 * 3.25
  reportingTotal: 131.875,
};

/** One run of the workload: sales, partial refunds and chargebacks in four currencies, and refused input. */
function recordWorkload(telemetry: BusinessMetricsHandle): void {
  const m = telemetry.metrics;
  const sale = (amount: number, currency: string | undefined, region: string) =>
    m.recordRevenue(amount, { productCategory: 'books', paymentMethod: 'card', region, currency });
  // --- the workload: sales, partial refunds and chargebacks in four currencies
  sale(2000, undefined, 'us_east'); // seed-style call: the default currency, USD
  sale(1000, 'USD', 'us_east');
  sale(2500, 'EUR', 'eu_west');
  sale(4000, 'eur', 'eu_west');
  sale(2000, 'JPY', 'apac');
  sale(3000, 'JPY', 'apac');
  sale(12750, 'KWD', 'mena');
  m.recordRefund(500, {
    currency: 'USD',
    paymentMethod: 'card',
    region: 'us_east',
    reason: 'customer_request',
  });
  m.recordRefund(1000, { paymentMethod: 'card', region: 'us_east', reason: 'chargeback' });
  m.recordRefund(1000, { currency: 'EUR', paymentMethod: 'card', region: 'eu_west' }); // partial, default reason
  m.recordRefund(3000, { currency: 'JPY', paymentMethod: 'card', region: 'apac', reason: 'chargeback' });
  m.recordRefund(2750, {
    currency: 'KWD',
    paymentMethod: 'card',
    region: 'mena',
    reason: 'customer_request',
  });
  // --- refused: never recorded, each counted with its own reason
  sale(999, 'XYZ', 'us_east');
  sale(999, 'dollars', 'us_east');
  sale(19.99, 'USD', 'us_east');
  m.recordRefund(999, { currency: 'ABC', paymentMethod: 'card', region: 'us_east' });
  m.recordRefund(-5, { currency: 'USD', paymentMethod: 'card', region: 'us_east' });
}

function twice(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, 2 * value]));
}

describeWithPrometheus(
  'live: money through the package exporter, a real Prometheus and the shipped rules',
  () => {
    let telemetry: BusinessMetricsHandle;
    let prometheus: PrometheusServer;
    let at = 0;

    const query = async (expr: string): Promise<Sample[]> => {
      const body = await prometheus.api<{ status: string; error?: string; data: { result: Sample[] } }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}${at ? `&time=${at}` : ''}`,
      );
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data.result;
    };
    const byCurrency = async (expr: string): Promise<Record<string, number>> =>
      Object.fromEntries((await query(expr)).map((s) => [s.metric.currency ?? '', Number(s.value[1])]));
    const sameFigures = (a: Record<string, number>, b: Record<string, number>) =>
      JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

    beforeAll(async () => {
      telemetry = initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus: { host: '127.0.0.1', port: 0 },
        serviceName: 'shop',
        env: {},
        money: { reporting: { currency: 'USD', rates: new Map(Object.entries(RATES)) } },
      });
      await telemetry.ready;
      // The workload runs twice: before the first scrape (so every series exists) and once scrapes are running
      // (so the rules' rates see it increase). Every total below is twice one run.
      recordWorkload(telemetry);
      prometheus = await startPrometheus(prometheusBinary!, {
        config: rulesConfig([{ job: 'business-app', target: telemetry.prometheus!.url }]),
      });
      // Events, each failing loudly if it does not come: a first scrape (it holds the first run), then a scrape
      // holding both runs, then every rule group evaluated after that scrape.
      await waitUntil('Prometheus scraped the app', async () =>
        (await query('up')).some((sample) => sample.value[1] === '1'),
      );
      recordWorkload(telemetry);
      let scraped = 0;
      await waitUntil('a scrape holds both runs of the workload', async () => {
        const gross = await byCurrency('sum by (currency) (business_revenue_cents_total)');
        scraped = Date.now() / 1000;
        return sameFigures(gross, twice(EXPECTED.gross));
      });
      await waitUntil('every rule group evaluated after that scrape', async () => {
        const body = await prometheus.api<{ data: { groups: Array<{ lastEvaluation: string }> } }>(
          '/api/v1/rules',
        );
        return body.data.groups.every((group) => Date.parse(group.lastEvaluation) / 1000 > scraped);
      });
      at = Date.now() / 1000;
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await telemetry?.shutdown({ timeoutMillis: 2000 });
    });

    it('holds gross, refunds and net per currency exactly, in minor units and in currency units', async () => {
      expect(await byCurrency('sum by (currency) (business_revenue_cents_total)')).toEqual(
        twice(EXPECTED.gross),
      );
      expect(await byCurrency('sum by (currency) (business_refunds_cents_total)')).toEqual(
        twice(EXPECTED.refunds),
      );
      const net =
        'sum by (currency) (business_revenue_cents_total) - sum by (currency) (business_refunds_cents_total)';
      expect(await byCurrency(net)).toEqual(twice(EXPECTED.net));
      expect(await byCurrency('max by (currency) (business_currency_minor_units)')).toEqual(
        EXPECTED.minorUnits,
      );
      expect(
        await byCurrency(
          `(${net}) / on (currency) group_left max by (currency) (business_currency_minor_units)`,
        ),
      ).toEqual(twice(EXPECTED.netUnits));
      // Chargebacks apart: the reason label is bounded and carries the default for a refund without one.
      const byReason = await query('sum by (currency, reason) (business_refunds_cents_total)');
      expect(
        Object.fromEntries(
          byReason.map((s) => [`${s.metric.currency}/${s.metric.reason}`, Number(s.value[1])]),
        ),
      ).toEqual(
        twice({
          'USD/customer_request': 500,
          'USD/chargeback': 1000,
          'EUR/customer_request': 1000,
          'JPY/chargeback': 3000,
          'KWD/customer_request': 2750,
        }),
      );
      // Order values carry the currency: JPY orders are yen, not cents.
      expect(await byCurrency('sum by (currency) (business_order_value_cents_sum)')).toEqual(
        twice(EXPECTED.gross),
      );
    });

    it('converts to the reporting currency exactly at the given rates, through the exported rate gauge', async () => {
      expect(
        await byCurrency('max by (currency) (business_exchange_rate{reporting_currency="USD"})'),
      ).toEqual({ USD: 1, ...RATES });
      const converted = await query(
        'sum((sum by (currency) (business_revenue_cents_total) - sum by (currency) (business_refunds_cents_total))' +
          ' / on (currency) group_left max by (currency) (business_currency_minor_units)' +
          ' * on (currency) group_left max by (currency) (business_exchange_rate))',
      );
      expect(Number(converted[0].value[1])).toBe(2 * EXPECTED.reportingTotal);
    });

    it('evaluates the shipped net-revenue rules consistently, per currency and in total', async () => {
      const units = await byCurrency('currency:business_net_revenue_units:rate5m_per_minute');
      expect(Object.keys(units).sort()).toEqual(['EUR', 'JPY', 'KWD', 'USD']);
      const reported = await byCurrency(
        'currency_reporting_currency:business_net_revenue_reporting_units:rate5m_per_minute',
      );
      const minute = await byCurrency('currency:business_net_revenue_cents:rate5m_per_minute');
      // Rates over seconds of data are extrapolated, so the rules' absolute values depend on timing; their
      // ratios do not: net per currency is in the workload's proportion, and conversion multiplies by the rate.
      for (const code of ['EUR', 'JPY', 'KWD'] as const) {
        expect(minute[code] / minute.USD).toBeCloseTo(EXPECTED.net[code] / EXPECTED.net.USD, 9);
        expect(reported[code] / units[code]).toBeCloseTo(RATES[code], 12);
      }
      expect(reported.USD).toBeCloseTo(units.USD, 12);
      const [total] = await query(
        'reporting_currency:business_net_revenue_reporting_units:rate5m_per_minute',
      );
      expect(total.metric.reporting_currency).toBe('USD');
      const sum = Object.values(reported).reduce((a, b) => a + b, 0);
      expect(Number(total.value[1]) / sum).toBeCloseTo(1, 12);
      const rules = await prometheus.api<{
        data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> };
      }>('/api/v1/rules');
      const unhealthy = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
      expect(unhealthy.map((r) => r.name)).toEqual([]);
    });

    it('drops bad currency codes and amounts, each counted with its own reason, and records none of them', async () => {
      const dropped = await query('business_metrics_dropped_total');
      const counts = Object.fromEntries(
        dropped.map((s) => [`${s.metric.metric}/${s.metric.reason}`, Number(s.value[1])]),
      );
      expect(counts).toEqual(
        twice({
          'business_revenue_cents_total/unknown_currency': 1,
          'business_revenue_cents_total/invalid_currency': 1,
          'business_revenue_cents_total/not_integer': 1,
          'business_refunds_cents_total/unknown_currency': 1,
          'business_refunds_cents_total/negative': 1,
        }),
      );
      const currencies = await query('count by (currency) (business_revenue_cents_total)');
      expect(currencies.map((s) => s.metric.currency).sort()).toEqual(['EUR', 'JPY', 'KWD', 'USD']);
    });
  },
);
