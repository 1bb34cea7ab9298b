/**
 * The currency data comes from the platform's ICU: these tests pin what the package relies on (JPY 0, KWD 3,
 * the list's size) and the documented differences between ICU (CLDR) and ISO 4217, so a Node/ICU update that
 * changes any of them fails here and docs/money.md gets updated with it.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';
import {
  ISO_CURRENCY_CODES,
  icuMinorUnitExponent,
  isCurrencyShaped,
  isIsoCurrency,
  minorToUnits,
  resolveCurrencySettings,
  type MoneyOptions,
} from '../../src/money/currencies';
import { pointsOf, TestReader } from '../support/collect';

// ICU (CLDR "digits") gives 0 decimals where ISO 4217's minor unit is 2 (or 3 for IQD). Listed in docs/money.md.
const ICU_FEWER_DIGITS_THAN_ISO: Record<string, number> = {
  AFN: 2,
  ALL: 2,
  COP: 2,
  HUF: 2,
  IDR: 2,
  IQD: 3,
  IRR: 2,
  KPW: 2,
  LAK: 2,
  LBP: 2,
  MGA: 2,
  MMK: 2,
  PKR: 2,
  SLL: 2,
  SOS: 2,
  SYP: 2,
  YER: 2,
};

describe('ISO 4217 data from Intl', () => {
  it('knows the codes in use, upper case and sorted, with the exponents of the issue examples', () => {
    expect(ISO_CURRENCY_CODES.length).toBeGreaterThanOrEqual(150);
    expect([...ISO_CURRENCY_CODES].sort()).toEqual(ISO_CURRENCY_CODES);
    for (const code of ISO_CURRENCY_CODES) expect(code).toMatch(/^[A-Z]{3}$/);
    expect(icuMinorUnitExponent('USD')).toBe(2);
    expect(icuMinorUnitExponent('EUR')).toBe(2);
    expect(icuMinorUnitExponent('JPY')).toBe(0);
    expect(icuMinorUnitExponent('KRW')).toBe(0);
    expect(icuMinorUnitExponent('KWD')).toBe(3);
    expect(icuMinorUnitExponent('BHD')).toBe(3);
    expect(minorToUnits(1999, 'USD')).toBe(19.99);
    expect(minorToUnits(1999, 'jpy')).toBe(1999);
    expect(minorToUnits(1999, 'KWD')).toBe(1.999);
  });

  it('gives 0 decimals for the 17 codes docs/money.md lists as differing from ISO 4217, and differs nowhere else', () => {
    for (const code of Object.keys(ICU_FEWER_DIGITS_THAN_ISO)) {
      expect({ code, icu: icuMinorUnitExponent(code) }).toEqual({ code, icu: 0 });
    }
    // ISO 4217's minor units (the list of 2026), for every code ICU knows: 2 unless listed here; none for the
    // special drawing rights ICU also lists. A code ICU reads differently that is not in the documented list fails.
    const isoZero = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ');
    const isoThree = 'BHD IQD JOD KWD LYD OMR TND'.split(' ');
    const isoNone = 'XDR XSU'.split(' ');
    const differing = ISO_CURRENCY_CODES.filter((code) => !isoNone.includes(code))
      .map((code) => [code, isoZero.includes(code) ? 0 : isoThree.includes(code) ? 3 : 2] as const)
      .filter(([code, iso]) => icuMinorUnitExponent(code) !== iso);
    expect(Object.fromEntries(differing)).toEqual(ICU_FEWER_DIGITS_THAN_ISO);
    // Every other ICU exponent is 0, 2 or 3, as in ISO 4217 for codes in use.
    const exponents = new Set(ISO_CURRENCY_CODES.map((code) => icuMinorUnitExponent(code)));
    expect([...exponents].sort()).toEqual([0, 2, 3]);
  });

  it('treats a well-formed code ICU does not list as unknown, although Intl would format it', () => {
    expect(() => new Intl.NumberFormat('en', { style: 'currency', currency: 'XYZ' })).not.toThrow();
    expect(isIsoCurrency('XYZ')).toBe(false);
    expect(icuMinorUnitExponent('XYZ')).toBeUndefined();
    expect(() => minorToUnits(1, 'XYZ')).toThrow(RangeError);
  });

  it('refuses a code that is no string with the RangeError it documents, naming what it got', () => {
    for (const bad of [undefined, null, 840, { toString: () => 'USD' }]) {
      expect(() => minorToUnits(1, bad as never)).toThrow(
        new RangeError(`a ${bad === null ? 'null' : typeof bad} is not an ISO 4217 currency code`),
      );
    }
  });

  it('checks the shape of a code without allocating', () => {
    for (const good of ['USD', 'usd', 'Jpy']) expect(isCurrencyShaped(good)).toBe(true);
    for (const bad of ['US', 'USDD', 'U$D', '12 ', '', 'ÜSD', 840, null, undefined, {}, ['USD']]) {
      expect(isCurrencyShaped(bad)).toBe(false);
    }
  });
});

describe('money settings', () => {
  it('default to USD and every code', () => {
    const settings = resolveCurrencySettings();
    expect(settings.defaultCurrency).toEqual({ code: 'USD', exponent: 2, minorUnitsPerUnit: 100 });
    expect(settings.allowed).toBeUndefined();
    expect(settings.info('KWD')).toEqual({ code: 'KWD', exponent: 3, minorUnitsPerUnit: 1000 });
  });

  it("take the app's exponent for a code where its amounts use the ISO minor unit", () => {
    const settings = resolveCurrencySettings({ minorUnitExponents: { cop: 0, afn: 2 } });
    expect(settings.info('COP').minorUnitsPerUnit).toBe(1);
    expect(settings.info('AFN').minorUnitsPerUnit).toBe(100);
    expect(resolveCurrencySettings().info('COP').minorUnitsPerUnit).toBe(100);
    expect(resolveCurrencySettings().info('AFN').minorUnitsPerUnit).toBe(1);
  });

  it('refuse malformed configuration at start-up, naming the option', () => {
    expect(() => resolveCurrencySettings({ defaultCurrency: 'EURO' })).toThrow(/money.defaultCurrency/);
    expect(() => resolveCurrencySettings({ defaultCurrency: 'XYZ' })).toThrow(/not an ISO 4217/);
    expect(() => resolveCurrencySettings({ currencies: [] })).toThrow(/non-empty/);
    expect(() => resolveCurrencySettings({ currencies: ['EUR', 'JPN'] })).toThrow(/money.currencies\[1\]/);
    expect(() => resolveCurrencySettings({ currencies: ['EUR'] })).toThrow(
      /defaultCurrency USD must be one of/,
    );
    expect(() => resolveCurrencySettings({ minorUnitExponents: { USD: 7 } })).toThrow(/0 to 4/);
  });
});

describe('minorToUnits agrees with business_currency_minor_units', () => {
  /** The gauge's minor units per unit, per currency, from a real BusinessMetrics with these money options. */
  async function gauge(money: MoneyOptions, codes: readonly string[]): Promise<Record<string, number>> {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new BusinessMetrics(provider.getMeter('money'), { money });
    for (const currency of codes) {
      metrics.recordRevenue(100, { productCategory: 'books', paymentMethod: 'card', region: 'eu', currency });
    }
    const points = pointsOf(await reader.resourceMetrics(), 'business_currency_minor_units');
    await provider.shutdown();
    return Object.fromEntries(
      points.map((point) => [String(point.attributes.currency), point.value as number]),
    );
  }

  // ISK: Stripe and Adyen send two decimals where ISO 4217 and ICU have none; IDR: Adyen sends none.
  it.each([
    ['the defaults', {}],
    ['overrides (money.minorUnitExponents)', { minorUnitExponents: { ISK: 2, IDR: 0, COP: 0 } }],
  ])('with %s, the conversion is the gauge', async (_, money: MoneyOptions) => {
    const codes = ['USD', 'JPY', 'KWD', 'COP', 'HUF', 'IDR', 'ISK'];
    const perUnit = await gauge(money, codes);
    for (const code of codes) {
      expect({ code, units: minorToUnits(123_456, code, money) }).toEqual({
        code,
        units: 123_456 / perUnit[code],
      });
    }
  });

  // What payment APIs send (docs/money.md "Where the exponents come from"): Stripe charges COP, HUF and IDR in
  // hundredths; Adyen COP and HUF too (IDR in units: override). ICU's display digits for them are 0.
  it('defaults COP, HUF and IDR to the two decimals of ISO 4217 that payment APIs send', async () => {
    // Only the currencies recorded: the default (USD) has no series before its first use.
    expect(await gauge({}, ['COP', 'HUF', 'IDR'])).toEqual({ COP: 100, HUF: 100, IDR: 100 });
    expect(minorToUnits(150_000, 'COP')).toBe(1500);
    expect(resolveCurrencySettings({}).info('HUF').exponent).toBe(2);
  });

  it('runs the docs example, and refuses a malformed override as initBusinessMetrics does', () => {
    const results: number[] = [];
    const log = (value: number) => results.push(value);
    const console = { log };
    // --- docs example: minorToUnits ---
    const money = { minorUnitExponents: { IDR: 0 } }; // the same object you pass to initBusinessMetrics
    console.log(minorToUnits(150_000, 'COP', money)); // 1500 (COP: 2 by default)
    console.log(minorToUnits(150_000, 'IDR', money)); // 150000 (IDR: 0, as configured)
    // --- end ---
    expect(results).toEqual([1500, 150_000]);
    expect(() => minorToUnits(1, 'IDR', { minorUnitExponents: { IDR: 7 } })).toThrow(
      new RangeError('money.minorUnitExponents.IDR must be an integer from 0 to 4'),
    );
  });
});
