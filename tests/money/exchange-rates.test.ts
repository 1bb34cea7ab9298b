/**
 * Exchange rates are read from the app at collection time and exported as a gauge; nothing converts without
 * them, and an unusable rate is reported, never exported.
 */
import { resolveCurrencySettings } from '../../src/money/currencies';
import { CurrencyVocabulary } from '../../src/money/currency-vocabulary';
import {
  checkReportingOptions,
  observeMoneyGauges,
  readRate,
  type ExchangeRates,
} from '../../src/money/exchange-rates';

function observe(rates: ExchangeRates | undefined, codes: Array<string | undefined>) {
  const settings = resolveCurrencySettings();
  const vocabulary = new CurrencyVocabulary(settings);
  for (const code of codes) vocabulary.resolve(code);
  const seen = {
    minorUnits: {} as Record<string, number>,
    rates: {} as Record<string, number>,
    problems: [] as string[],
  };
  observeMoneyGauges(
    vocabulary,
    rates === undefined ? undefined : checkReportingOptions({ currency: 'usd', rates }, settings),
    {
      minorUnits: (value, { currency }) => (seen.minorUnits[currency] = value),
      exchangeRate: (value, { currency, reporting_currency }) => {
        expect(reporting_currency).toBe('USD');
        seen.rates[currency] = value;
      },
      rateProblem: (currency, problem) => seen.problems.push(`${currency}:${problem}`),
    },
  );
  return seen;
}

describe('money gauges', () => {
  it('export minor units per unit for every currency in use, and no rate without a reporting currency', () => {
    const seen = observe(undefined, ['EUR', 'JPY', 'KWD']);
    expect(seen.minorUnits).toEqual({ EUR: 100, JPY: 1, KWD: 1000 });
    expect(seen.rates).toEqual({});
    expect(seen.problems).toEqual([]);
  });

  it('report the default currency from its first use (a call without a currency), like any other code', () => {
    expect(observe(undefined, []).minorUnits).toEqual({});
    expect(observe(undefined, ['EUR', undefined]).minorUnits).toEqual({ EUR: 100, USD: 100 });
    expect(observe({ EUR: 1.25 }, [undefined, 'EUR']).rates).toEqual({ USD: 1, EUR: 1.25 });
  });

  it("export the app's rates (1 for the reporting currency), from a function, a Map or an object", () => {
    const table = { EUR: 1.25, JPY: 0.0078125, KWD: 3.25 };
    const expected = { USD: 1, ...table };
    const codes = ['USD', 'EUR', 'JPY', 'KWD'];
    expect(observe(table, codes).rates).toEqual(expected);
    expect(observe(new Map(Object.entries(table)), codes).rates).toEqual(expected);
    expect(observe((code) => table[code as keyof typeof table], codes).rates).toEqual(expected);
  });

  it('see a refreshed table at the next collection', () => {
    const rates = new Map([['EUR', 1.25]]);
    expect(observe(rates, ['EUR']).rates.EUR).toBe(1.25);
    rates.set('EUR', 1.5);
    expect(observe(rates, ['EUR']).rates.EUR).toBe(1.5);
  });

  it('report a missing or unusable rate instead of exporting it', () => {
    const seen = observe(
      (code) => {
        if (code === 'JPY') throw new Error('rate service down');
        return ({ EUR: Number.NaN, GBP: -1, CHF: 0.9 } as Record<string, number>)[code];
      },
      ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'KWD'],
    );
    expect(seen.rates).toEqual({ USD: 1, CHF: 0.9 });
    expect(seen.problems.sort()).toEqual([
      'EUR:invalid_exchange_rate',
      'GBP:invalid_exchange_rate',
      'JPY:invalid_exchange_rate',
      'KWD:no_exchange_rate',
    ]);
    expect(readRate({}, 'constructor')).toBe('no_exchange_rate');
  });

  it('refuse a malformed reporting option at start-up', () => {
    const settings = resolveCurrencySettings();
    expect(() => checkReportingOptions({ currency: 'DOLLAR', rates: {} }, settings)).toThrow(
      /money.reporting.currency/,
    );
    expect(() => checkReportingOptions({ currency: 'USD', rates: 5 as never }, settings)).toThrow(
      /money.reporting.rates/,
    );
  });
});
