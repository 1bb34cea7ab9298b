/**
 * recordRevenue with a currency and recordRefund, through the package's own exposition: the JPY/KWD examples
 * and refund flow of docs/money.md and the README run here verbatim; bad codes and amounts are dropped with
 * their own reasons (and throw in strict mode); the vocabulary can be restricted; the money gauges follow the
 * currencies in use.
 */
import { businessMetrics, initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';

type Samples = ReturnType<typeof parseExposition>['samples'];

function values(samples: Samples, name: string, key: (labels: Record<string, string>) => string) {
  const result: Record<string, number> = {};
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const k = key(sample.labels);
    result[k] = (result[k] ?? 0) + sample.value;
  }
  return result;
}

describe('money recording', () => {
  let telemetry: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await telemetry?.shutdown({ timeoutMillis: 1000 });
    telemetry = undefined;
  });
  const start = (options: Parameters<typeof initBusinessMetrics>[0] & object = {}) => {
    telemetry = initBusinessMetrics({ exporters: ['none'], env: {}, ...options });
    return telemetry;
  };
  const scrape = async () => parseExposition(await telemetry!.metrics.getMetrics()).samples;

  it('records the docs examples: USD by default, JPY in yen, KWD in fils, and the refund flow', async () => {
    start();
    // --- docs example: currencies ---
    // 19.99 USD: the seed's call, unchanged. No currency means the default currency (USD unless configured).
    businessMetrics.recordRevenue(1999, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'us_east',
    });

    // 1,999 JPY: the yen has no minor unit, so the amount is in yen.
    businessMetrics.recordRevenue(1999, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'apac',
      currency: 'JPY',
    });

    // 12.750 KWD: the dinar has 1000 fils, so the amount is in fils.
    businessMetrics.recordRevenue(12750, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'mena',
      currency: 'KWD',
    });
    // --- end ---
    // --- docs example: refunds ---
    // A partial refund of 5.00 of a 19.99 USD order, on request.
    businessMetrics.recordRefund(500, {
      currency: 'USD',
      paymentMethod: 'card',
      region: 'us_east',
      reason: 'customer_request',
    });

    // A chargeback of a whole 1,999 JPY order.
    businessMetrics.recordRefund(1999, {
      currency: 'JPY',
      paymentMethod: 'card',
      region: 'apac',
      reason: 'chargeback',
    });
    // --- end ---
    const samples = await scrape();
    const byCurrency = (name: string) => values(samples, name, (l) => l.currency);
    expect(byCurrency('business_revenue_cents_total')).toEqual({ USD: 1999, JPY: 1999, KWD: 12750 });
    expect(byCurrency('business_order_value_cents_sum')).toEqual({ USD: 1999, JPY: 1999, KWD: 12750 });
    expect(byCurrency('business_revenue_per_minute_cents')).toEqual({ USD: 1999, JPY: 1999, KWD: 12750 });
    expect(values(samples, 'business_refunds_cents_total', (l) => `${l.currency}/${l.reason}`)).toEqual({
      'USD/customer_request': 500,
      'JPY/chargeback': 1999,
    });
    expect(byCurrency('business_currency_minor_units')).toEqual({ USD: 100, JPY: 1, KWD: 1000 });
    expect(byCurrency('business_exchange_rate')).toEqual({});
    // The seed's labels are all still there, with currency beside them.
    const revenue = samples.find(
      (s) => s.name === 'business_revenue_cents_total' && s.labels.currency === 'KWD',
    );
    expect(revenue?.labels).toMatchObject({
      product_category: 'books',
      payment_method: 'card',
      region: 'mena',
    });
  });

  it('drops unknown, malformed and not-allowed codes and fractional amounts, each with its own reason', async () => {
    start({ money: { currencies: ['USD', 'EUR'] } });
    const m = telemetry!.metrics;
    const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
    m.recordRevenue(100, { ...meta, currency: 'XYZ' });
    m.recordRevenue(100, { ...meta, currency: 'euro' });
    m.recordRevenue(100, { ...meta, currency: 978 as unknown as string });
    m.recordRevenue(100, { ...meta, currency: 'JPY' });
    m.recordRevenue(12.5, { ...meta, currency: 'EUR' });
    m.recordRefund(100, { currency: 'GBP', paymentMethod: 'card', region: 'eu_west' });
    m.recordRefund(Number.NaN, { currency: 'EUR', paymentMethod: 'card', region: 'eu_west' });
    // Dropped for its currency: its reason (outside the vocabulary) is never looked at, so not counted either.
    m.recordRefund(100, { currency: 'XYZ', paymentMethod: 'card', region: 'eu_west', reason: 'fraud' });
    m.recordRevenue(250, { ...meta, currency: 'eur' });
    const samples = await scrape();
    expect(values(samples, 'business_metrics_dropped_total', (l) => `${l.metric}/${l.reason}`)).toEqual({
      'business_revenue_cents_total/unknown_currency': 1,
      'business_revenue_cents_total/invalid_currency': 2,
      'business_revenue_cents_total/currency_not_allowed': 1,
      'business_revenue_cents_total/not_integer': 1,
      'business_refunds_cents_total/currency_not_allowed': 1,
      'business_refunds_cents_total/not_finite': 1,
      'business_refunds_cents_total/unknown_currency': 1,
    });
    expect(values(samples, 'business_metrics_label_overflow_total', (l) => `${l.metric}/${l.label}`)).toEqual(
      {},
    );
    // Only the valid EUR sale: nothing went to USD (the default), to "other", or in as 0.
    expect(values(samples, 'business_revenue_cents_total', (l) => l.currency)).toEqual({ EUR: 250 });
    expect(values(samples, 'business_refunds_cents_total', (l) => l.currency)).toEqual({});
  });

  it('leaves no currency behind for an amount it drops: no business_currency_minor_units series of its own', async () => {
    start();
    const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
    telemetry!.metrics.recordRevenue(12.5, { ...meta, currency: 'EUR' }); // not_integer
    telemetry!.metrics.recordRevenue(-1, { ...meta, currency: 'GBP' }); // negative
    telemetry!.metrics.recordRevenue(1999, { ...meta, currency: 'JPY' });
    const samples = await scrape();
    expect(values(samples, 'business_metrics_dropped_total', (l) => `${l.metric}/${l.reason}`)).toEqual({
      'business_revenue_cents_total/not_integer': 1,
      'business_revenue_cents_total/negative': 1,
    });
    expect(values(samples, 'business_currency_minor_units', (l) => l.currency)).toEqual({ JPY: 1 });
  });

  // One cap in minor units serves every currency, so it must fit the currency whose minor unit is smallest: a car
  // in rupiah, sent in hundredths as Stripe does (IDR's default exponent is 2), is 1.5e10 of them (about 9,000 USD);
  // the old cap of 1e10 (100 million rupiah, about 6,000 USD) dropped it as too_large.
  it('records large rupiah orders in hundredths under the default cap, and still refuses a timestamp', async () => {
    start({ money: { currencies: ['IDR', 'USD'] } });
    const meta = { productCategory: 'cars', paymentMethod: 'card', region: 'apac', currency: 'IDR' };
    telemetry!.metrics.recordRevenue(150_000_000 * 100, meta); // a car, ~9,000 USD
    telemetry!.metrics.recordRevenue(9_900_000_000 * 100, meta); // a fleet of them, ~600,000 USD
    telemetry!.metrics.recordRefund(150_000_000 * 100, { ...meta, reason: 'cancelled' });
    // Not an amount: epoch milliseconds passed by mistake.
    telemetry!.metrics.recordRevenue(Date.UTC(2026, 11, 4), { ...meta, currency: 'USD' });
    const samples = await scrape();
    expect(values(samples, 'business_revenue_cents_total', (l) => l.currency)).toEqual({
      IDR: 1_005_000_000_000,
    });
    expect(values(samples, 'business_refunds_cents_total', (l) => l.currency)).toEqual({
      IDR: 15_000_000_000,
    });
    expect(values(samples, 'business_metrics_dropped_total', (l) => `${l.metric}/${l.reason}`)).toEqual({
      'business_revenue_cents_total/too_large': 1,
    });
  });

  it('takes a larger cap from limits.maxAmountCents, and names it when an amount is above it', async () => {
    start({ strict: true, limits: { maxAmountCents: 10 ** 14 } });
    const meta = { productCategory: 'land', paymentMethod: 'transfer', region: 'apac', currency: 'IDR' };
    telemetry!.metrics.recordRevenue(500_000_000_000 * 100, meta); // 500 billion rupiah, ~30 million USD
    expect(() => telemetry!.metrics.recordRevenue(10 ** 14 + 1, meta)).toThrow(
      new TypeError(
        'businessMetrics.recordRevenue: amountCents must be a finite number between 0 and 100000000000000 ' +
          '(limits.maxAmountCents) (got 100000000000001)',
      ),
    );
    expect(values(await scrape(), 'business_revenue_cents_total', (l) => l.currency)).toEqual({
      IDR: 50_000_000_000_000,
    });
  });

  it('throws a TypeError naming the rule in strict mode, and records nothing', async () => {
    start({ strict: true });
    const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
    expect(() => telemetry!.metrics.recordRevenue(100, { ...meta, currency: 'XYZ' })).toThrow(
      /recordRevenue: metadata.currency must be an ISO 4217 currency code.*XYZ/,
    );
    expect(() =>
      telemetry!.metrics.recordRefund(100, {
        currency: 'USD',
        paymentMethod: 'card',
        region: 'eu',
        reason: 'because',
      }),
    ).toThrow(/recordRefund: metadata.reason must be one of/);
    expect(values(await scrape(), 'business_revenue_cents_total', (l) => l.currency)).toEqual({});
  });

  it('uses the configured default currency for seed calls and refunds without a currency', async () => {
    start({ money: { defaultCurrency: 'EUR' } });
    telemetry!.metrics.recordRevenue(1000, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
    telemetry!.metrics.recordRefund(300, { paymentMethod: 'card', region: 'eu' });
    const samples = await scrape();
    expect(values(samples, 'business_revenue_cents_total', (l) => l.currency)).toEqual({ EUR: 1000 });
    expect(values(samples, 'business_refunds_cents_total', (l) => `${l.currency}/${l.reason}`)).toEqual({
      'EUR/customer_request': 300,
    });
  });

  it('runs the docs example of a reporting currency', async () => {
    // --- docs example: reporting currency ---
    const rates = new Map([
      ['EUR', 1.08],
      ['JPY', 0.0067],
      ['KWD', 3.25],
    ]); // units of USD per unit; refresh it as you like
    const handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { port: 0 },
      money: { reporting: { currency: 'USD', rates } },
    });
    // --- end ---
    telemetry = handle;
    await handle.ready;
    const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu', currency: 'EUR' };
    handle.metrics.recordRevenue(1000, meta);
    expect(values(await scrape(), 'business_exchange_rate', (l) => l.currency)).toEqual({ EUR: 1.08 });
    // The reporting currency's own rate (1) from its first sale on, so the join of the rules covers it.
    handle.metrics.recordRevenue(500, { ...meta, currency: 'USD' });
    expect(values(await scrape(), 'business_exchange_rate', (l) => l.currency)).toEqual({
      USD: 1,
      EUR: 1.08,
    });
  });

  it("exports the app's exchange rates, refreshed, and counts a missing one", async () => {
    const rates = new Map([['EUR', 1.25]]);
    start({ money: { reporting: { currency: 'USD', rates } } });
    const meta = { productCategory: 'books', paymentMethod: 'card', region: 'eu' };
    telemetry!.metrics.recordRevenue(1000, { ...meta, currency: 'EUR' });
    telemetry!.metrics.recordRevenue(1000, { ...meta, currency: 'JPY' });
    telemetry!.metrics.recordRevenue(1000, meta);
    let samples = await scrape();
    // The default currency (a call without one) has its series from its first use, rate 1 as the reporting
    // currency itself.
    expect(
      values(samples, 'business_exchange_rate', (l) => `${l.currency}->${l.reporting_currency}`),
    ).toEqual({
      'USD->USD': 1,
      'EUR->USD': 1.25,
    });
    // Counted once per collection; the self-metric may show a collection's count at the next one.
    const missing = values(
      await scrape(),
      'business_metrics_dropped_total',
      (l) => `${l.metric}/${l.reason}`,
    );
    expect(Object.keys(missing)).toEqual(['business_exchange_rate/no_exchange_rate']);
    expect(missing['business_exchange_rate/no_exchange_rate']).toBeGreaterThanOrEqual(1);
    rates.set('JPY', 0.0078125);
    samples = await scrape();
    expect(values(samples, 'business_exchange_rate', (l) => l.currency)).toEqual({
      USD: 1,
      EUR: 1.25,
      JPY: 0.0078125,
    });
  });

  it('gives every valid code its own series within the lifetime series cap', async () => {
    start({ limits: { maxSeriesPerMetric: 5 } });
    for (const currency of ['USD', 'EUR', 'JPY', 'KWD', 'GBP', 'CHF', 'SEK']) {
      telemetry!.metrics.recordRevenue(100, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu',
        currency,
      });
    }
    const samples = await scrape();
    const series = values(samples, 'business_revenue_cents_total', (l) => l.currency);
    expect(Object.keys(series).sort()).toEqual(['EUR', 'GBP', 'JPY', 'KWD', 'USD', 'other']);
    expect(series.other).toBe(200);
    expect(values(samples, 'business_metrics_series_overflow_total', (l) => l.metric)).toMatchObject({
      business_revenue_cents_total: 2,
    });
  });
});
