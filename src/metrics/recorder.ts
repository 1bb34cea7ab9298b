/**
 * The public recording API's types: what each seed method takes, the recorder interface the singleton and
 * `BusinessMetrics` share, and the options and limits a recorder accepts.
 *
 * Owns: argument and option shapes. Must not touch: instruments, the SDK, defaults (config/defaults.ts).
 */
import type { ActiveUserMetadata, ActiveUsersOptions } from '../active-users/tracker';
import type { LabelPolicy, PolicyLabelKey } from '../catalog/labels';
import type { MoneyConfig } from '../money/money';
import type { ExpositionFormat } from '../exporters/prometheus/serializer';

/** Labels of a funnel step, as in the seed. `experimentVariant` defaults to `control`. */
export interface FunnelStepMetadata {
  source: string;
  deviceType: string;
  experimentVariant?: string;
}

/** Labels of a conversion and the session start it is measured from (a Date, or epoch milliseconds). */
export interface ConversionMetadata {
  source: string;
  deviceType: string;
  sessionStartTime: Date | number;
}

/** Labels of a revenue event. */
export interface RevenueMetadata {
  productCategory: string;
  paymentMethod: string;
  region: string;
  /** ISO 4217 code of the amount (`EUR`, `jpy`, ...). Default: `money.defaultCurrency` (USD). An unknown or
   * malformed code drops the measurement (counted), never records it as the default. */
  currency?: string;
}

/** Labels of a refund or chargeback. */
export interface RefundMetadata {
  /** ISO 4217 code of the refunded amount: the sale's currency. Default: `money.defaultCurrency`. */
  currency?: string;
  paymentMethod: string;
  region: string;
  /** One of REFUND_REASONS (`customer_request`, `duplicate`, `fraudulent`, `chargeback`, `cancelled`,
   * `other`); other values are recorded as `other` and counted. Default `customer_request`. */
  reason?: string;
}

/** Labels of a feature interaction. */
export interface FeatureUsageMetadata {
  userTier: string;
  isNewUser: boolean;
}

/** Labels of an ended session. */
export interface SessionMetadata {
  userTier: string;
  entryPage: string;
}

/** The window an active-user count refers to. */
export type ActiveUsersWindow = 'daily' | 'weekly' | 'monthly';

export type { ActiveUserMetadata, ActiveUsersOptions } from '../active-users/tracker';

/** The recording API shared by `BusinessMetrics` instances and the `businessMetrics` singleton. */
export interface BusinessMetricsRecorder {
  /** Count one step of a funnel (`business_funnel_step_total`). */
  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void;
  /** Count a conversion and observe the time since `sessionStartTime` (`business_conversions_total`,
   * `business_time_to_conversion_seconds`). An invalid start time drops only the duration. */
  recordConversion(type: string, metadata: ConversionMetadata): void;
  /** Add revenue in minor units of `metadata.currency` (cents for USD, yen for JPY, fils for KWD) to
   * `business_revenue_cents_total`, observe the order value (`business_order_value_cents`) and feed the rolling
   * minute (`business_revenue_per_minute_cents`), each labelled with the currency. With an explicit currency
   * the amount must be an integer. */
  recordRevenue(amountCents: number, metadata: RevenueMetadata): void;
  /** Add a refund or chargeback, whole or partial, in minor units of `metadata.currency`
   * (`business_refunds_cents_total`). Net revenue is revenue minus refunds, per currency (recording rules). */
  recordRefund(amountMinor: number, metadata: RefundMetadata): void;
  /** Count a feature interaction (`business_feature_usage_total`). */
  recordFeatureUsage(featureName: string, metadata: FeatureUsageMetadata): void;
  /** Observe a session's duration from `sessionStartTime` to now (`business_session_duration_seconds`). */
  recordSessionEnd(sessionStartTime: Date | number, metadata: SessionMetadata): void;
  /** Set the active users per user tier for a window (`business_active_users`); tiers not in `counts` keep
   * their last value, as with the seed's gauge. Accepts a Map or a plain object. */
  updateActiveUsers(
    window: ActiveUsersWindow,
    counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  ): void;
  /**
   * Count `userId` as active today in `metadata.userTier`: distinct users per UTC day, week (7 days) and month
   * (30 days), exported as `business_active_users{window, user_tier}`. The id is hashed with a keyed hash inside
   * the call and never stored, logged or exported (docs/active-users.md).
   */
  trackActiveUser(userId: string, metadata: ActiveUserMetadata): void;
  /** The current exposition of everything the package exports: Prometheus text 0.0.4 (default), or
   * `'openmetrics'` (OpenMetrics 1.0, with the exemplars of series recorded inside sampled spans). Rejects once
   * its handle's shutdown() has finished (the `businessMetrics` singleton then resolves to ''). */
  getMetrics(format?: ExpositionFormat): Promise<string>;
}

/** Limits that bound what bad or hostile input can cost. Defaults are chosen so a normal shop never hits them;
 * `maxAmountCents` is one cap in minor units for every currency, so check it for currencies whose minor unit is
 * worth little (IDR, COP, UZS in hundredths: see its default below). */
export interface BusinessMetricsLimits {
  /** Lifetime cap on series per metric; beyond it, measurements go to the all-`other` series. Default 2000. */
  maxSeriesPerMetric?: number;
  /** Longest label value kept (UTF-16 code units). Default 64. */
  maxLabelLength?: number;
  /** Vocabulary per label key, replacing the default (see DEFAULT_LABEL_POLICIES). */
  labels?: Partial<Record<PolicyLabelKey, LabelPolicy>>;
  /** Largest single revenue or refund amount accepted, in minor units of its currency; above it the amount is
   * dropped and counted (`too_large`). Default 1,000,000,000,000, one cap for every currency: 10 billion USD in
   * cents, 1 trillion JPY, but about 600,000 USD of IDR in hundredths (its exponent is 2, 1 USD about 16,000 IDR),
   * the smallest minor unit at the default exponents; raise it for larger single amounts there, or after raising
   * an exponent (docs/money.md, "How large an amount"). At most `Number.MAX_SAFE_INTEGER`, the largest a number
   * holds to the unit. */
  maxAmountCents?: number;
  /** Longest session or time-to-conversion accepted, in seconds. Default 2,592,000 (30 days). */
  maxDurationSeconds?: number;
  /** Largest active-user count accepted. Default 10,000,000,000. */
  maxActiveUsers?: number;
}

export interface BusinessMetricsOptions {
  /** Throw a TypeError naming the method, argument and rule instead of dropping and counting. For tests and
   * development only. Default false. */
  strict?: boolean;
  limits?: BusinessMetricsLimits;
  /** Clock in epoch milliseconds (durations, the revenue minute). For tests. Default: `Date.now()` read at each
   * call, so fake timers (Jest, sinon) installed after construction are honoured. An injected clock's leap of days
   * is believed by the active-user sketches only after 5 minutes (docs/active-users.md#windows): the monotonic
   * clock that vouches for the default clock's says nothing about it. */
  now?: () => number;
  /** Currencies: default currency, allowed currencies, exponent overrides, an optional reporting currency with
   * exchange rates (docs/money.md). Throws at construction for a malformed value. */
  money?: MoneyConfig;
  /** Source of `getMetrics()`; initBusinessMetrics provides it. */
  exposition?: (format: ExpositionFormat) => Promise<string>;
  /** Distinct active users (`trackActiveUser`): precision, the id hash key, the Redis store. */
  activeUsers?: ActiveUsersOptions;
}
