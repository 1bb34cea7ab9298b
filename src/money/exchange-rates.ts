/**
 * The optional reporting currency: exchange rates the app gives, exported as a gauge that Prometheus recording
 * rules multiply net revenue by (otel-collector/prometheus/rules/business-recording.yml).
 *
 * Owns: reading the app's rates (a function, a Map or an object it refreshes) at collection time, validating
 * them, and the two money gauges' observations (`business_currency_minor_units`, `business_exchange_rate`).
 * Must not touch: recording (nothing here runs per measurement), label vocabularies other than reading the
 * currencies in use.
 *
 * Why a rate gauge and a recording rule rather than a second, converted revenue family:
 * - the hot path pays nothing (a converted family would cost a second counter update, or a call into the
 *   app's rate function, on every sale);
 * - rates are stored in Prometheus next to the revenue they convert, so a converted figure can be audited and
 *   recomputed, and a wrong rate fixed without re-recording anything;
 * - the app's integers stay the only money the package records: nothing is rounded at record time, and no
 *   converted float accumulates in a counter forever;
 * - without rates there is no gauge and the rules record nothing: nothing pretends to convert.
 * The cost: a rule converts a window's revenue at the rate of the evaluation instant (for a 5-minute rate,
 * the rate of those minutes), which is what a live dashboard and an alert need; booking each sale at its own
 * rate is accounting's job, not a metric's.
 */
import type { CurrencySettings } from './currencies';
import type { CurrencyVocabulary } from './currency-vocabulary';

/**
 * Exchange rates into the reporting currency: units of the reporting currency for ONE UNIT (not minor unit)
 * of `currency`. With USD as the reporting currency, `EUR: 1.08` means 1 EUR = 1.08 USD, `JPY: 0.0067`
 * means 1 JPY = 0.0067 USD. A function is called, and a Map or object read, at every collection (scrape or
 * export), so a table the app refreshes is seen at the next one. `undefined` means "no rate for this
 * currency": it is not converted, and the reporting-currency total is withheld while it lacks one.
 */
export type ExchangeRates =
  ((currency: string) => number | undefined) | ReadonlyMap<string, number> | Readonly<Record<string, number>>;

/** An optional reporting currency: `money.reporting` of initBusinessMetrics / BusinessMetrics. */
export interface ReportingCurrencyOptions {
  /** ISO 4217 code of the currency totals are reported in, e.g. `USD`. */
  currency: string;
  rates: ExchangeRates;
}

/** Why a currency has no rate at one collection (the `reason` of `business_metrics_dropped_total`). */
export type ExchangeRateProblem = 'no_exchange_rate' | 'invalid_exchange_rate';

/** What the money gauges report, per collection. */
export interface MoneyGaugeSink {
  minorUnits(value: number, attributes: { currency: string }): void;
  exchangeRate(value: number, attributes: { currency: string; reporting_currency: string }): void;
  /** A currency in use has no usable rate at this collection. Must not throw. */
  rateProblem(currency: string, problem: ExchangeRateProblem, got: unknown): void;
}

/** Validates `money.reporting`; throws a TypeError naming the option. */
export function checkReportingOptions(
  reporting: ReportingCurrencyOptions | undefined,
  settings: CurrencySettings,
): { readonly currency: string; readonly rates: ExchangeRates } | undefined {
  if (reporting === undefined) return undefined;
  if (typeof reporting !== 'object' || reporting === null) {
    throw new TypeError('money.reporting must be { currency, rates }');
  }
  const rates = reporting.rates;
  if (typeof rates !== 'function' && (typeof rates !== 'object' || rates === null)) {
    throw new TypeError('money.reporting.rates must be a function, a Map or an object of code -> rate');
  }
  const code = typeof reporting.currency === 'string' ? reporting.currency.toUpperCase() : reporting.currency;
  // Reuses the settings' validation of codes (shape, ISO membership).
  try {
    settings.info(code as string);
  } catch {
    throw new TypeError(
      `money.reporting.currency must be an ISO 4217 code (got ${JSON.stringify(reporting.currency)})`,
    );
  }
  return { currency: code as string, rates };
}

/** The rate of `currency` from the app's source, or the problem. Never throws. */
export function readRate(rates: ExchangeRates, currency: string): number | ExchangeRateProblem {
  let value: unknown;
  try {
    if (typeof rates === 'function') value = rates(currency);
    else if (rates instanceof Map) value = rates.get(currency);
    else
      value = Object.prototype.hasOwnProperty.call(rates, currency)
        ? (rates as Record<string, unknown>)[currency]
        : undefined;
  } catch {
    return 'invalid_exchange_rate';
  }
  if (value === undefined || value === null) return 'no_exchange_rate';
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 'invalid_exchange_rate';
}

/**
 * Observes both money gauges for every currency recorded so far: the minor units per unit always, the
 * exchange rate only with a reporting currency (1 for the reporting currency itself, so the rules' join
 * covers it).
 */
export function observeMoneyGauges(
  currencies: CurrencyVocabulary,
  reporting: { readonly currency: string; readonly rates: ExchangeRates } | undefined,
  sink: MoneyGaugeSink,
): void {
  for (let id = 1; id < currencies.values.length; id++) {
    const info = currencies.info(id);
    sink.minorUnits(info.minorUnitsPerUnit, { currency: info.code });
    if (reporting === undefined) continue;
    const attributes = { currency: info.code, reporting_currency: reporting.currency };
    if (info.code === reporting.currency) {
      sink.exchangeRate(1, attributes);
      continue;
    }
    const rate = readRate(reporting.rates, info.code);
    if (typeof rate === 'number') sink.exchangeRate(rate, attributes);
    else sink.rateProblem(info.code, rate, rate === 'no_exchange_rate' ? undefined : 'an unusable rate');
  }
}
