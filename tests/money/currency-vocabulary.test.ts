/**
 * src/money/currency-vocabulary.ts: the `currency` label's ids. A call without a currency gets the default, each
 * valid code (any casing) its own id in order of first use; a bad code is never rewritten to the default or to
 * "other" but refused with the reason and rule it broke; the spellings it caches stay bounded under hostile
 * casing. (The codes and exponents themselves come from ICU: tests/money/currencies.test.ts.)
 */
import { resolveCurrencySettings } from '../../src/money/currencies';
import {
  CURRENCY_NOT_ALLOWED,
  CurrencyVocabulary,
  INVALID_CURRENCY,
  UNKNOWN_CURRENCY,
  currencyProblem,
  currencyRule,
} from '../../src/money/currency-vocabulary';

describe('the currency vocabulary', () => {
  it('gives calls without a currency the default, and each valid code its own id', () => {
    const vocabulary = new CurrencyVocabulary(resolveCurrencySettings({ defaultCurrency: 'EUR' }));
    expect(vocabulary.values[vocabulary.resolve(undefined)]).toBe('EUR');
    const jpy = vocabulary.resolve('JPY');
    expect(vocabulary.values[jpy]).toBe('JPY');
    expect(vocabulary.resolve('jpy')).toBe(jpy);
    expect(vocabulary.resolve('KWD')).not.toBe(jpy);
    expect(vocabulary.values).toEqual(['other', 'EUR', 'JPY', 'KWD']);
    expect(vocabulary.info(vocabulary.resolve('KWD')).exponent).toBe(3);
  });

  it('never maps a bad code to the default or to "other": it says why', () => {
    const vocabulary = new CurrencyVocabulary(resolveCurrencySettings({ currencies: ['USD', 'EUR'] }));
    expect(vocabulary.resolve('XYZ')).toBe(UNKNOWN_CURRENCY);
    expect(vocabulary.resolve('JPY')).toBe(CURRENCY_NOT_ALLOWED);
    for (const bad of ['', 'US', 'dollars', 840, null, { code: 'USD' }]) {
      expect(vocabulary.resolve(bad)).toBe(INVALID_CURRENCY);
    }
    expect(currencyProblem(UNKNOWN_CURRENCY)).toBe('unknown_currency');
    expect(currencyProblem(CURRENCY_NOT_ALLOWED)).toBe('currency_not_allowed');
    expect(currencyProblem(INVALID_CURRENCY)).toBe('invalid_currency');
    // Not even taken as the default: its id is given at the first call without a currency.
    expect(vocabulary.values).toEqual(['other']);
    expect(vocabulary.values[vocabulary.resolve(undefined)]).toBe('USD');
  });

  it('resolves three-character strings that are not admitted capital-letter codes exactly as before the code table', () => {
    const vocabulary = new CurrencyVocabulary(resolveCurrencySettings({ currencies: ['USD', 'EUR'] }));
    const usd = vocabulary.resolve('USD');
    // Neighbours of an admitted code in the 26^3 table, codes outside A-Z, and AAA (the table's unused slot 0).
    expect(vocabulary.resolve('USE')).toBe(UNKNOWN_CURRENCY);
    expect(vocabulary.resolve('EUR')).not.toBe(usd);
    expect(vocabulary.resolve('AAA')).toBe(UNKNOWN_CURRENCY);
    for (const bad of ['U$D', 'US1', '@@@', '[[[', '\u0000US', 'ÜSD', 'U\u0000D']) {
      expect(vocabulary.resolve(bad)).toBe(INVALID_CURRENCY);
    }
    expect(vocabulary.resolve('usd')).toBe(usd);
    expect(vocabulary.values).toEqual(['other', 'USD', 'EUR']);
  });

  it('keeps a bounded cache of spellings, so hostile casing cannot grow memory', () => {
    const vocabulary = new CurrencyVocabulary(resolveCurrencySettings({ currencies: ['USD'] }));
    const spellings: string[] = [];
    for (const a of 'uU') for (const b of 'sS') for (const c of 'dD') spellings.push(a + b + c);
    for (let round = 0; round < 3; round++)
      for (const spelling of spellings) expect(vocabulary.values[vocabulary.resolve(spelling)]).toBe('USD');
    const cache = (vocabulary as unknown as { idsByRaw: Map<string, number> }).idsByRaw;
    expect(cache.size).toBeLessThanOrEqual(4);
  });
});

describe('currencyRule', () => {
  it('names the allowed codes for a code not allowed, and the ISO rule for any other refusal', () => {
    const settings = resolveCurrencySettings({ currencies: ['USD', 'EUR'] });
    expect(currencyRule(CURRENCY_NOT_ALLOWED, settings)).toBe('must be one of USD, EUR (money.currencies)');
    for (const id of [INVALID_CURRENCY, UNKNOWN_CURRENCY]) {
      expect(currencyRule(id, settings)).toBe(
        'must be an ISO 4217 currency code (three letters, e.g. USD, EUR, JPY)',
      );
    }
  });
});
