/**
 * The money side of a BusinessMetrics: its currency settings and vocabulary, the optional reporting currency,
 * the values of the two money gauges, and how a refused code or amount is reported.
 *
 * Owns: turning the `money` option into those parts, and the rules a money amount must pass beyond the common
 * ones (an integer when the currency is explicit). Must not touch: the series tables and instruments of revenue
 * and refunds (the recording API owns those), exporters.
 */
import { BUSINESS_METRICS, prometheusFamilyName } from '../catalog/metrics';
import type { GuardReporter } from '../guard/reporter';
import { resolveCurrencySettings, type CurrencySettings, type MoneyOptions } from './currencies';
import { CurrencyVocabulary, currencyProblem, currencyRule } from './currency-vocabulary';
import {
  checkReportingOptions,
  observeMoneyGauges,
  type ExchangeRates,
  type MoneyGaugeSink,
  type ReportingCurrencyOptions,
} from './exchange-rates';

const EXCHANGE_RATE_FAMILY = prometheusFamilyName(BUSINESS_METRICS.exchangeRate);

/** The `money` option of initBusinessMetrics and BusinessMetrics. */
export interface MoneyConfig extends MoneyOptions {
  /** Report net revenue in one currency too, at exchange rates the app gives (docs/money.md). Without it
   * nothing is converted. */
  reporting?: ReportingCurrencyOptions;
}

export class Money {
  readonly settings: CurrencySettings;
  readonly currencies: CurrencyVocabulary;
  private readonly reporting: { readonly currency: string; readonly rates: ExchangeRates } | undefined;

  /** @throws TypeError / RangeError naming the option, for a malformed `money` configuration. */
  constructor(config: MoneyConfig = {}) {
    if (typeof config !== 'object' || config === null) throw new TypeError('money must be an object');
    this.settings = resolveCurrencySettings(config);
    this.currencies = new CurrencyVocabulary(this.settings);
    this.reporting = checkReportingOptions(config.reporting, this.settings);
  }

  /**
   * Reports the currency id `id` (negative: see CurrencyVocabulary.resolve) as a dropped measurement of
   * `family`. Throws a TypeError in strict mode.
   */
  dropCurrency(reporter: GuardReporter, method: string, family: string, id: number, raw: unknown): void {
    reporter.drop(
      method,
      'metadata.currency',
      family,
      currencyProblem(id),
      currencyRule(id, this.settings),
      raw,
    );
  }

  /**
   * The money gauges' values at one collection (minor units per unit and exchange rates, for the currencies in
   * use); a currency without a usable rate is counted and warned through `reporter`. The instruments are
   * metrics/instruments.ts's.
   */
  observeGauges(sink: Pick<MoneyGaugeSink, 'minorUnits' | 'exchangeRate'>, reporter: GuardReporter): void {
    observeMoneyGauges(this.currencies, this.reporting, {
      minorUnits: sink.minorUnits,
      exchangeRate: sink.exchangeRate,
      rateProblem: (currency, problem) =>
        reporter.collectionProblem(
          `exchange rate of ${currency} into ${this.reporting!.currency}`,
          EXCHANGE_RATE_FAMILY,
          problem,
          problem === 'no_exchange_rate'
            ? 'is not given by money.reporting.rates'
            : 'must be a positive finite number (money.reporting.rates)',
        ),
    });
  }
}
