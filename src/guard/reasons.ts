/**
 * Why a measurement was refused or a label value replaced: the `reason` label values of
 * `business_metrics_dropped_total` and `business_metrics_label_overflow_total` (docs/safety.md lists them, and a
 * test holds the doc to these lists), and where a label value came from, for messages.
 *
 * Owns: those vocabularies. Must not touch: counting or reporting (reporter.ts).
 */

/** Every reason a measurement is not recorded (the `reason` label of `business_metrics_dropped_total`). */
export const DROP_REASONS = [
  'not_a_number',
  'not_finite',
  'negative',
  'too_large',
  'invalid_time',
  'future_time',
  'invalid_argument',
  'internal_error',
  // Money (docs/money.md): a currency code is never rewritten, so a bad one drops the measurement.
  'invalid_currency',
  'unknown_currency',
  'currency_not_allowed',
  'not_integer',
  // Counted at collection, once per collection, for a currency in use without a usable exchange rate.
  'no_exchange_rate',
  'invalid_exchange_rate',
  // An event from an anonymous client (a browser's engagement batch) outside the app's allow-list.
  'not_allowed',
] as const;

/** Why a measurement was not recorded. */
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Every reason a label value is replaced (the `reason` label of `business_metrics_label_overflow_total`): by
 * `other` (cap, not_allowed, invalid_type) or by `unknown` (missing).
 */
export const RELABEL_REASONS = ['cap', 'not_allowed', 'invalid_type', 'missing'] as const;

/** Why a label value was replaced. */
export type RelabelReason = (typeof RELABEL_REASONS)[number];

/** Where a label value came from, for messages: `recordFunnelStep` / `metadata.deviceType`. */
export interface LabelOrigin {
  readonly method: string;
  readonly argument: string;
}
