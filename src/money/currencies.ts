/**
 * ISO 4217 currency codes and their minor-unit exponents, read from the platform's ICU data (Node's full-ICU
 * `Intl`), never from a table written here.
 *
 * Owns: which codes are valid, each code's exponent (10^exponent minor units make one unit), the app's
 * per-currency exponent overrides, and the parsing of a caller's code. Must not touch: labels, instruments,
 * the SDK.
 *
 * Source of truth: `Intl.supportedValuesOf('currency')` (ICU's list of ISO 4217 codes in use: 162 codes on
 * Node 20.20 / ICU 78) and, per code, `Intl.NumberFormat('en', { style: 'currency', currency })
 * .resolvedOptions().maximumFractionDigits`, which is CLDR's `currencyData/fractions` digits: USD 2, JPY 0,
 * KWD 3. CLDR's digits are the decimals people write, and for 17 codes they are fewer than ISO 4217's minor
 * unit (ICU 0, ISO 2: AFN ALL COP HUF IDR IRR KPW LAK LBP MGA MMK PKR SLL SOS SYP YER; ICU 0, ISO 3: IQD).
 * docs/money.md lists the differences, and tests/money/currencies.test.ts pins them, so an ICU update that
 * changes one shows up as a failing test.
 *
 * The one exception to "ICU decides": COP, HUF and IDR default to ISO 4217's 2, because that is what payment
 * APIs send (PAYMENT_API_EXPONENTS below), and an amount read with the wrong exponent is off by a factor of 100.
 * Any code's exponent can be set with `money.minorUnitExponents` (Adyen sends IDR with 0, Stripe and Adyen ISK
 * with 2); the gauge `business_currency_minor_units` and `minorToUnits` both use the result.
 *
 * The exponent only decides how minor units are turned into currency units (dashboards, the exchange-rate
 * conversion); recorded amounts are always the integers the app passed.
 *
 * Intl accepts any well-formed code (`XYZ` formats with 2 decimals), so validity is membership in
 * `supportedValuesOf`, not "Intl did not throw".
 * Must not import: `src/metrics/`, `src/series/`, `@opentelemetry/*`.
 */

/** Every ISO 4217 code the platform's ICU knows, upper case, sorted. Read once. */
export const ISO_CURRENCY_CODES: readonly string[] = Object.freeze(readSupportedCurrencies());

const ISO_CODES: ReadonlySet<string> = new Set(ISO_CURRENCY_CODES);

/**
 * Exponents asked for so far. Each is read from ICU the first time its code is used, not all 162 at load: a
 * NumberFormat per code cost 10-30 ms and ICU's currency data at every start of every app, most of which record
 * in one or two currencies.
 */
const exponentByCode = new Map<string, number>();

function readSupportedCurrencies(): string[] {
  const supportedValuesOf = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  if (typeof supportedValuesOf !== 'function') {
    // Node 18+ has it; a small-ICU build without currency data would leave every code unknown, which is a
    // configuration error to surface at start-up, not at the first sale.
    throw new Error(
      'otel-business-metrics: Intl.supportedValuesOf is unavailable; currencies need Node >= 18 with full ICU',
    );
  }
  return supportedValuesOf('currency')
    .map((code) => code.toUpperCase())
    .sort();
}

function icuExponent(code: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
    .maximumFractionDigits as number;
}

/** Why a caller's currency code cannot be used (the `reason` of `business_metrics_dropped_total`). */
export type CurrencyProblem =
  /** Not a string of three ASCII letters. */
  | 'invalid_currency'
  /** Three letters, but not an ISO 4217 code the platform knows. */
  | 'unknown_currency'
  /** A valid code outside the currencies the app allows (`money.currencies`). */
  | 'currency_not_allowed';

/** Is `code` three ASCII letters (either case)? The shape check before any lookup. */
export function isCurrencyShaped(code: unknown): code is string {
  if (typeof code !== 'string' || code.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = code.charCodeAt(i) | 0x20; // fold to lower case
    if (c < 97 || c > 122) return false;
  }
  return true;
}

/** Is `code` (upper case) an ISO 4217 code the platform knows? */
export function isIsoCurrency(code: string): boolean {
  return ISO_CODES.has(code);
}

/** ICU's minor-unit exponent of an ISO code (2 for USD, 0 for JPY, 3 for KWD), or undefined if unknown. */
export function icuMinorUnitExponent(code: string): number | undefined {
  if (!ISO_CODES.has(code)) return undefined;
  let exponent = exponentByCode.get(code);
  if (exponent === undefined) {
    exponent = icuExponent(code);
    exponentByCode.set(code, exponent);
  }
  return exponent;
}

/**
 * Where the package's default exponent is not ICU's: codes whose ICU (CLDR display) digits are 0 but whose
 * amounts payment APIs send in hundredths, as ISO 4217's minor unit says. Checked against the providers' own
 * tables (docs/money.md, November 2026): COP and HUF in hundredths at Stripe and Adyen; IDR in hundredths at
 * Stripe and Airwallex (Adyen: units). Reading such an amount with ICU's 0 would report 100 times the money.
 */
const PAYMENT_API_EXPONENTS: ReadonlyMap<string, number> = new Map([
  ['COP', 2],
  ['HUF', 2],
  ['IDR', 2],
]);

/** The package's default exponent of an ISO code (ICU's, or what payment APIs send), or undefined if unknown. */
export function defaultMinorUnitExponent(code: string): number | undefined {
  if (!ISO_CODES.has(code)) return undefined;
  return PAYMENT_API_EXPONENTS.get(code) ?? icuMinorUnitExponent(code);
}

/** What the package knows about one currency it records. */
export interface CurrencyInfo {
  /** Upper-case ISO 4217 code. */
  readonly code: string;
  /** Decimal places of one unit: 10^exponent minor units make one unit. */
  readonly exponent: number;
  /** 10^exponent: minor units per unit (100 for USD, 1 for JPY, 1000 for KWD). */
  readonly minorUnitsPerUnit: number;
}

/** The currency settings an app gives (`money` option of initBusinessMetrics / BusinessMetrics). */
export interface MoneyOptions {
  /** Currency of every revenue call without `currency` (all seed calls). Default `USD`. */
  defaultCurrency?: string;
  /** The currencies the app sells in: any other valid code is dropped and counted (`currency_not_allowed`).
   * Default: every ISO 4217 code the platform knows (each gets its own series, within the series cap). */
  currencies?: readonly string[];
  /** Minor-unit exponents that replace the defaults, per code, when your payment provider sends amounts with
   * another one: e.g. `{ IDR: 0 }` for Adyen's rupiah, `{ ISK: 2 }` for Stripe's and Adyen's krona (docs/money.md). */
  minorUnitExponents?: Readonly<Record<string, number>>;
}

/** Resolved, validated money settings. */
export interface CurrencySettings {
  /** The default currency's code (upper case), checked at start-up. */
  readonly defaultCode: string;
  /** The default currency with its exponent, read from ICU when first asked for (see {@link info}). */
  readonly defaultCurrency: CurrencyInfo;
  /** Allowed codes (upper case), or undefined for every ISO code. */
  readonly allowed: ReadonlySet<string> | undefined;
  /**
   * A valid code's exponent, read once per code. The first read of any exponent loads ICU's number-formatting
   * data (~6.5 MiB of resident memory, ~10 ms on these machines), so nothing calls it at start-up or on the
   * recording path: only the collection of the money gauges, `minorToUnits` and the validation of
   * `money.reporting.currency` do.
   */
  info(code: string): CurrencyInfo;
}

/**
 * Validates the app's money options. Throws a TypeError/RangeError naming the option: a typo in a currency
 * list is a configuration error to see at start-up, not a stream of drops.
 */
export function resolveCurrencySettings(options: MoneyOptions = {}): CurrencySettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('money must be an object');
  const checkCode = (value: unknown, where: string): string => {
    if (!isCurrencyShaped(value)) {
      throw new TypeError(`${where} must be a three-letter ISO 4217 code (got ${JSON.stringify(value)})`);
    }
    const code = value.toUpperCase();
    if (!isIsoCurrency(code)) {
      throw new RangeError(`${where}: ${code} is not an ISO 4217 currency code this platform knows`);
    }
    return code;
  };
  const overrides = exponentOverrides(options.minorUnitExponents, checkCode);
  let allowed: Set<string> | undefined;
  if (options.currencies !== undefined) {
    if (!Array.isArray(options.currencies) || options.currencies.length === 0) {
      throw new TypeError('money.currencies must be a non-empty array of ISO 4217 codes');
    }
    allowed = new Set(options.currencies.map((code, i) => checkCode(code, `money.currencies[${i}]`)));
  }
  const defaultCode = checkCode(options.defaultCurrency ?? 'USD', 'money.defaultCurrency');
  if (allowed && !allowed.has(defaultCode)) {
    throw new RangeError(`money.defaultCurrency ${defaultCode} must be one of money.currencies`);
  }
  const cache = new Map<string, CurrencyInfo>();
  const info = (code: string): CurrencyInfo => {
    let known = cache.get(code);
    if (known === undefined) {
      const exponent = overrides.get(code) ?? defaultMinorUnitExponent(code);
      if (exponent === undefined) throw new RangeError(`${code} is not an ISO 4217 currency code`);
      known = Object.freeze({ code, exponent, minorUnitsPerUnit: 10 ** exponent });
      cache.set(code, known);
    }
    return known;
  };
  return {
    defaultCode,
    get defaultCurrency() {
      return info(defaultCode);
    },
    allowed,
    info,
  };
}

/**
 * Minor units -> units of the currency, e.g. `minorToUnits(1999, 'USD')` 19.99, `minorToUnits(1999, 'JPY')` 1999,
 * `minorToUnits(1999, 'KWD')` 1.999, with the exponent `business_currency_minor_units` reports: pass the same
 * `money` options you gave initBusinessMetrics when they set `minorUnitExponents`.
 *
 * @throws RangeError for an unknown code or a malformed `money.minorUnitExponents`.
 */
export function minorToUnits(
  amountMinor: number,
  code: string,
  money?: Pick<MoneyOptions, 'minorUnitExponents'>,
): number {
  // Typed a string, but called from JavaScript too: anything else gets the documented error, not a TypeError.
  if (typeof code !== 'string') {
    throw new RangeError(`a ${code === null ? 'null' : typeof code} is not an ISO 4217 currency code`);
  }
  const upper = code.toUpperCase();
  let exponent = defaultMinorUnitExponent(upper);
  if (exponent === undefined) throw new RangeError(`${code} is not an ISO 4217 currency code`);
  if (money?.minorUnitExponents !== undefined) {
    exponent = exponentOverrides(money.minorUnitExponents, (key) => key.toUpperCase()).get(upper) ?? exponent;
  }
  return amountMinor / 10 ** exponent;
}

/** `money.minorUnitExponents` checked: code (as `checkCode` returns it) -> an integer exponent from 0 to 4. */
function exponentOverrides(
  given: unknown,
  checkCode: (key: string, where: string) => string,
): Map<string, number> {
  const overrides = new Map<string, number>();
  if (given === undefined) return overrides;
  if (typeof given !== 'object' || given === null) {
    throw new TypeError('money.minorUnitExponents must be an object of code -> exponent');
  }
  for (const [key, exponent] of Object.entries(given)) {
    const code = checkCode(key, `money.minorUnitExponents key ${JSON.stringify(key)}`);
    if (!Number.isInteger(exponent) || exponent < 0 || exponent > 4) {
      throw new RangeError(`money.minorUnitExponents.${code} must be an integer from 0 to 4`);
    }
    overrides.set(code, exponent);
  }
  return overrides;
}
