/**
 * The money side of a BusinessMetrics: its currency settings and vocabulary, the optional reporting currency,
 * the two money gauges, and how a refused code or amount is reported.
 *
 * Owns: turning the `money` option into those parts, and the rules a money amount must pass beyond the common
 * ones (an integer when the currency is explicit). Must not touch: the series tables and instruments of revenue
 * and refunds (the recording API owns those), exporters.
 */
import type { Meter } from '@opentelemetry/api';
import { BUSINESS_METRICS } from '../catalog/metrics';
import { prometheusFamilyName } from '../catalog/metrics';
import type { GuardReporter } from '../guard/reporter';
import { resolveCurrencySettings, type CurrencySettings, type MoneyOptions } from './currencies';
import { CurrencyVocabulary, currencyProblem, currencyRule } from './currency-vocabulary';
import {
  checkReportingOptions,
  observeMoneyGauges,
  type ExchangeRates,
  type ReportingCurrencyOptions,
} from './exchange-rates';

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

  /** Minor units per unit and exchange rates, observed at every collection for the currencies in use. */
  registerGauges(meter: Meter, reporter: GuardReporter): void {
    const minorUnits = BUSINESS_METRICS.currencyMinorUnits;
    const rate = BUSINESS_METRICS.exchangeRate;
    const rateFamily = prometheusFamilyName(rate);
    const minorGauge = meter.createObservableGauge(minorUnits.name, {
      description: minorUnits.description,
      unit: minorUnits.unit,
    });
    const rateGauge = meter.createObservableGauge(rate.name, {
      description: rate.description,
      unit: rate.unit,
    });
    meter.addBatchObservableCallback(
      (result) => {
        observeMoneyGauges(this.currencies, this.reporting, {
          minorUnits: (value, attributes) => result.observe(minorGauge, value, attributes),
          exchangeRate: (value, attributes) => result.observe(rateGauge, value, attributes),
          rateProblem: (currency, problem) =>
            reporter.collectionProblem(
              `exchange rate of ${currency} into ${this.reporting!.currency}`,
              rateFamily,
              problem,
              problem === 'no_exchange_rate'
                ? 'is not given by money.reporting.rates'
                : 'must be a positive finite number (money.reporting.rates)',
            ),
        });
      },
      [minorGauge, rateGauge],
    );
  }
}
