/**
 * Label vocabularies: for every label key the package records, which values it may take.
 *
 * Owns: the default policy per label (a closed allow-list where the domain is known, an open vocabulary with a
 * cap on distinct values otherwise). Must not touch: instruments, SDK, I/O. The guard enforces these policies;
 * the tables in docs/safety.md and the rule checks read them from here.
 */

/** A closed vocabulary: anything outside `values` is recorded as `other`. */
export interface AllowListPolicy {
  readonly kind: 'allow';
  readonly values: readonly string[];
}

/** An open vocabulary: the first `maxValues` distinct values are kept, later ones become `other`. */
export interface CappedPolicy {
  readonly kind: 'capped';
  readonly maxValues: number;
  /** Values that are always accepted and do not count against the cap (e.g. the seed's funnel steps). */
  readonly known?: readonly string[];
}

export type LabelPolicy = AllowListPolicy | CappedPolicy;

/** Label value recorded in place of a value the vocabulary does not accept. */
export const OTHER_LABEL_VALUE = 'other';
/** Label value recorded when a label is missing or empty after normalisation. */
export const UNKNOWN_LABEL_VALUE = 'unknown';

/**
 * The seed's checkout funnel, in order, plus its error step and a declined payment (the payment provider said no:
 * not a fault of the app, and told apart from `checkout_error` so the error-cost rules can split the causes).
 */
export const CHECKOUT_STEPS = [
  'cart_view',
  'shipping_info',
  'payment_info',
  'order_review',
  'order_confirmed',
  'checkout_error',
  'payment_declined',
] as const;

/** Every label key used by the business instruments. */
export type BusinessLabelKey =
  | 'step'
  | 'source'
  | 'device_type'
  | 'experiment_variant'
  | 'conversion_type'
  | 'product_category'
  | 'payment_method'
  | 'region'
  | 'feature_name'
  | 'user_tier'
  | 'is_new_user'
  | 'entry_page'
  | 'window'
  | 'currency'
  | 'reason'
  | 'reporting_currency';

/** The bounded vocabulary of `reason` on business_refunds_cents_total. `customer_request` is the default. */
export const REFUND_REASONS = [
  'customer_request',
  'duplicate',
  'fraudulent',
  'chargeback',
  'cancelled',
  OTHER_LABEL_VALUE,
] as const;

/**
 * The currency labels: ISO 4217 codes from the platform's ICU (src/money/currencies.ts), each its own series,
 * never rewritten to `other` (a bad code drops the measurement). `money.currencies` restricts them, not a
 * label policy (docs/money.md).
 */
export type CurrencyLabelKey = 'currency' | 'reporting_currency';

/** Labels whose vocabulary is a LabelPolicy (every label but the currency labels). */
export type PolicyLabelKey = Exclude<BusinessLabelKey, CurrencyLabelKey>;

/**
 * Default vocabulary per label. Chosen so a normal shop never reaches a cap, and so every value the seed's own
 * code records is accepted (device_type `web` from its engagement tracker, `checkout_error`, `milestone_*`).
 */
export const DEFAULT_LABEL_POLICIES: Readonly<Record<PolicyLabelKey, LabelPolicy>> = {
  step: { kind: 'capped', maxValues: 100, known: CHECKOUT_STEPS },
  source: { kind: 'capped', maxValues: 50, known: ['direct', 'in_app'] },
  device_type: { kind: 'allow', values: ['desktop', 'mobile', 'tablet', 'web', 'bot', UNKNOWN_LABEL_VALUE] },
  experiment_variant: { kind: 'capped', maxValues: 20, known: ['control'] },
  conversion_type: { kind: 'capped', maxValues: 20, known: ['purchase'] },
  product_category: { kind: 'capped', maxValues: 100 },
  payment_method: { kind: 'capped', maxValues: 20 },
  region: { kind: 'capped', maxValues: 50 },
  feature_name: { kind: 'capped', maxValues: 200 },
  user_tier: { kind: 'allow', values: ['free', 'pro', 'enterprise', UNKNOWN_LABEL_VALUE] },
  is_new_user: { kind: 'allow', values: ['true', 'false'] },
  entry_page: { kind: 'capped', maxValues: 100 },
  window: { kind: 'allow', values: ['daily', 'weekly', 'monthly'] },
  reason: { kind: 'allow', values: REFUND_REASONS },
};
