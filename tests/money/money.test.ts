/**
 * src/money/money.ts directly: the `money` option is checked when the Money is made (a malformed value throws a
 * TypeError or RangeError naming the option), the default currency and exponent overrides resolve, a currency that
 * cannot be recorded is dropped with its rule (a TypeError in strict mode), and the money gauges report the minor
 * units of every currency in use and the exchange rates, counting a currency without a usable rate.
 */
import { GuardReporter } from '../../src/guard/reporter';
import { Money } from '../../src/money/money';

it.each([
  [null, TypeError, 'money must be an object'],
  [5, TypeError, 'money must be an object'],
  [
    { defaultCurrency: 'XXX1' },
    TypeError,
    'money.defaultCurrency must be a three-letter ISO 4217 code (got "XXX1")',
  ],
  [
    { currencies: ['EUR'], defaultCurrency: 'USD' },
    RangeError,
    'money.defaultCurrency USD must be one of money.currencies',
  ],
  [
    { minorUnitExponents: { IDR: 9 } },
    RangeError,
    'money.minorUnitExponents.IDR must be an integer from 0 to 4',
  ],
  [{ reporting: 5 }, TypeError, 'money.reporting must be { currency, rates }'],
  [
    { reporting: { currency: 'ZZZ', rates: new Map() } },
    TypeError,
    'money.reporting.currency must be an ISO 4217 code (got "ZZZ")',
  ],
])('refuses %j at construction, naming the option', (config, type, message) => {
  expect(() => new Money(config as never)).toThrow(type);
  expect(() => new Money(config as never)).toThrow(message);
});

it('resolves the default currency (USD unless given, any letter case) and exponent overrides', () => {
  expect(new Money().settings.defaultCurrency).toEqual({ code: 'USD', exponent: 2, minorUnitsPerUnit: 100 });
  expect(new Money({ defaultCurrency: 'eur' }).settings.defaultCurrency.code).toBe('EUR');
  const money = new Money({ minorUnitExponents: { IDR: 0 } });
  const idr = money.currencies.resolve('IDR');
  expect(money.currencies.info(idr)).toMatchObject({ code: 'IDR', exponent: 0 });
  expect(money.currencies.info(money.currencies.resolve('KWD'))).toMatchObject({ code: 'KWD', exponent: 3 });
});

it('drops a currency that cannot be recorded, with its rule; strict mode throws it', () => {
  const money = new Money({ currencies: ['EUR', 'USD'] });
  const drops: string[] = [];
  const reporter = new GuardReporter(false);
  const id = money.currencies.resolve('JPY');
  expect(id).toBeLessThan(0);
  money.dropCurrency(reporter, 'recordRevenue', 'business_revenue_cents_total', id, 'JPY');
  reporter.forEachCount('dropped', (attributes, count) =>
    drops.push(`${String(attributes.reason)}=${count}`),
  );
  expect(drops).toHaveLength(1);
  expect(drops[0]).toMatch(/=1$/);
  expect(() =>
    money.dropCurrency(new GuardReporter(true), 'recordRevenue', 'business_revenue_cents_total', id, 'JPY'),
  ).toThrow(/recordRevenue: metadata\.currency must be one of EUR, USD/);
});

it('reports the minor units of the currencies in use and the exchange rates, counting a missing rate', () => {
  const money = new Money({ reporting: { currency: 'USD', rates: new Map([['EUR', 1.08]]) } });
  for (const code of ['EUR', 'JPY', 'KWD']) money.currencies.resolve(code);
  const minorUnits: Record<string, number> = {};
  const rates: Record<string, number> = {};
  const reporter = new GuardReporter(false);
  money.observeGauges(
    {
      minorUnits: (value, { currency }) => (minorUnits[currency] = value),
      exchangeRate: (value, { currency, reporting_currency }) =>
        (rates[`${currency}->${reporting_currency}`] = value),
    },
    reporter,
  );
  expect(minorUnits).toEqual({ EUR: 100, JPY: 1, KWD: 1000 });
  expect(rates).toEqual({ 'EUR->USD': 1.08 });
  const problems: string[] = [];
  reporter.forEachCount('dropped', (attributes, count) =>
    problems.push(`${String(attributes.metric)}/${String(attributes.reason)}=${count}`),
  );
  expect(problems.sort()).toEqual(['business_exchange_rate/no_exchange_rate=2']);
});
