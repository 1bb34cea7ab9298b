/**
 * A deterministic business workload and the values it implies, shared by the exporter tests so every path
 * (Prometheus pull, OTLP push, both at once) is checked against the same expectations.
 */
import type { BusinessMetricsRecorder } from '../../src';

export const FUNNEL: Array<
  [step: string, source: string, device: string, variant: string | undefined, times: number]
> = [
  ['cart_view', 'google_ads', 'mobile', 'B', 100],
  ['shipping_info', 'google_ads', 'mobile', 'B', 40],
  ['payment_info', 'google_ads', 'mobile', 'B', 20],
  ['order_review', 'google_ads', 'mobile', 'B', 10],
  ['order_confirmed', 'google_ads', 'mobile', 'B', 3],
  ['checkout_error', 'direct', 'desktop', undefined, 2],
];
/** Seconds between session start and each purchase. */
export const CONVERSION_SECONDS = [45, 90, 4000];
export const REVENUE: Array<[cents: number, category: string, payment: string, region: string]> = [
  [2599, 'books', 'card', 'eu_west'],
  [12000, 'games', 'paypal', 'us_east'],
  [600, 'books', 'card', 'eu_west'],
];
/** A partial refund and a chargeback, in the default currency (USD). */
export const REFUNDS: Array<[cents: number, payment: string, region: string, reason: string]> = [
  [600, 'card', 'eu_west', 'customer_request'],
  [12000, 'paypal', 'us_east', 'chargeback'],
];
export const FEATURES: Array<[feature: string, tier: string, isNew: boolean, times: number]> = [
  ['dashboard_export', 'pro', false, 5],
  ['search', 'free', true, 2],
];
export const SESSIONS: Array<[seconds: number, tier: string, entryPage: string]> = [
  [100, 'pro', '/home'],
  [20, 'free', '/landing'],
];
export const ACTIVE_DAILY = new Map([
  ['free', 120],
  ['pro', 30],
]);

export function runWorkload(metrics: BusinessMetricsRecorder, now = Date.now()): void {
  for (const [step, source, deviceType, experimentVariant, times] of FUNNEL) {
    for (let i = 0; i < times; i++) metrics.recordFunnelStep(step, { source, deviceType, experimentVariant });
  }
  for (const seconds of CONVERSION_SECONDS) {
    metrics.recordConversion('purchase', {
      source: 'google_ads',
      deviceType: 'mobile',
      sessionStartTime: new Date(now - seconds * 1000),
    });
  }
  for (const [cents, productCategory, paymentMethod, region] of REVENUE) {
    metrics.recordRevenue(cents, { productCategory, paymentMethod, region });
  }
  for (const [cents, paymentMethod, region, reason] of REFUNDS) {
    metrics.recordRefund(cents, { paymentMethod, region, reason });
  }
  for (const [feature, userTier, isNewUser, times] of FEATURES) {
    for (let i = 0; i < times; i++) metrics.recordFeatureUsage(feature, { userTier, isNewUser });
  }
  for (const [seconds, userTier, entryPage] of SESSIONS) {
    metrics.recordSessionEnd(new Date(now - seconds * 1000), { userTier, entryPage });
  }
  metrics.updateActiveUsers('daily', ACTIVE_DAILY);
}

/** Revenue per (category, payment, region). */
export function expectedRevenue(): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [cents, category, payment, region] of REVENUE) {
    const key = `${category}|${payment}|${region}`;
    totals.set(key, (totals.get(key) ?? 0) + cents);
  }
  return totals;
}

/** Cumulative bucket counts (Prometheus `le` semantics) of `values` for `bounds`, ending with +Inf. */
export function cumulativeBuckets(values: number[], bounds: readonly number[]): number[] {
  return [...bounds, Infinity].map((bound) => values.filter((value) => value <= bound).length);
}
