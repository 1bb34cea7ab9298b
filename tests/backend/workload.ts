/**
 * The deterministic business workload the backend end-to-end tests serve through the package's Prometheus
 * exporter, and the figures it implies. One `recordWorkloadTick` is one unit of traffic; every counter grows by
 * the same amounts each tick, so ratios and quantiles are exact whatever the tick rate and scrape timing.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { BusinessMetricsHandle, BusinessMetricsRecorder, InitOptions } from '../../src';
import { httpServerMetrics } from '../../src/metrics/http-server-metrics';

/** Funnel step counts per tick: 100 cart views and 3 confirmed orders is the seed's healthy 3% conversion. */
export const FUNNEL_PER_TICK = [
  ['cart_view', 100],
  ['shipping_info', 40],
  ['payment_info', 20],
  ['order_review', 10],
  ['order_confirmed', 3],
  ['checkout_error', 1],
  ['payment_declined', 1],
] as const;

/** The three orders of a tick: cents, category, payment method, region. */
export const ORDERS_PER_TICK = [
  [2599, 'books', 'card', 'eu_west'],
  [600, 'books', 'card', 'eu_west'],
  [12000, 'games', 'paypal', 'us_east'],
] as const;

/** Feature uses per tick: new users use search 2x and the onboarding tour 6x; returning pro users export 5x. */
export const FEATURES_PER_TICK = [
  ['search', 'free', true, 2],
  ['onboarding_tour', 'free', true, 6],
  ['dashboard_export', 'pro', false, 5],
] as const;

/** Seconds from session start to each purchase (all in the 60-120 s bucket). */
export const SECONDS_TO_CONVERSION = 90;
/** Session lengths per tick: pro sessions last 100 s (60-120 bucket), free ones 20 s (10-30 bucket). */
export const SESSIONS_PER_TICK = [
  [100, 'pro', '/dashboard'],
  [20, 'free', '/landing'],
] as const;
export const ACTIVE_USERS = {
  daily: { free: 120, pro: 30 },
  weekly: { free: 700, pro: 90 },
  monthly: { free: 2500, pro: 300 },
} as const;

/** What the workload implies, independent of how many ticks ran. */
export const EXPECTED = {
  conversionRate: 0.03,
  cartAbandonment: 0.97,
  /** Revenue by region per tick, in cents. */
  revenuePerTick: { eu_west: 2599 + 600, us_east: 12000 },
  /** Median order value per category, in cents: books' orders fall in (500,1000] and (2500,5000], so the p50 is
   * the upper bound of the lower bucket; games' single order sits in (10000,25000], p50 at its middle. */
  orderValueP50: { books: 1000, games: 17500 },
  orderValueMean: { books: (2599 + 600) / 2, games: 12000 },
  /** Share of new-user feature usage by feature. */
  newUserShare: { search: 0.25, onboarding_tour: 0.75 },
  /** p95 of sessions: 60 + 60 * 0.95 (pro) and 10 + 20 * 0.95 (free). */
  sessionP95: { pro: 117, free: 29 },
  /** Time to conversion, all in (60,120]: p50 = 90, p95 = 117. */
  timeToConversion: { p50: 90, p95: 117 },
} as const;

/** Record one tick of traffic. `now` is the recorder's clock, so durations come out exact. */
export function recordWorkloadTick(metrics: BusinessMetricsRecorder, now: number = Date.now()): void {
  const context = { source: 'google_ads', deviceType: 'mobile', experimentVariant: 'B' };
  for (const [step, count] of FUNNEL_PER_TICK) {
    for (let i = 0; i < count; i++) metrics.recordFunnelStep(step, context);
  }
  for (const [cents, productCategory, paymentMethod, region] of ORDERS_PER_TICK) {
    metrics.recordConversion('purchase', {
      source: 'google_ads',
      deviceType: 'mobile',
      sessionStartTime: new Date(now - SECONDS_TO_CONVERSION * 1000),
    });
    metrics.recordRevenue(cents, { productCategory, paymentMethod, region });
  }
  for (const [feature, userTier, isNewUser, count] of FEATURES_PER_TICK) {
    for (let i = 0; i < count; i++) metrics.recordFeatureUsage(feature, { userTier, isNewUser });
  }
  for (const [seconds, userTier, entryPage] of SESSIONS_PER_TICK) {
    metrics.recordSessionEnd(new Date(now - seconds * 1000), { userTier, entryPage });
  }
  for (const [window, tiers] of Object.entries(ACTIVE_USERS)) {
    metrics.updateActiveUsers(window as keyof typeof ACTIVE_USERS, new Map(Object.entries(tiers)));
  }
}

/** Inputs the package refuses or rewrites, so its self-metrics have series for the health panels and alerts. */
export function recordBadInput(metrics: BusinessMetricsRecorder): void {
  metrics.recordRevenue(-5, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
  // A device type outside the allow-list becomes "other". A conversion, so the funnel figures stay exact.
  metrics.recordConversion('purchase', {
    source: 'google_ads',
    deviceType: 'smart_fridge',
    sessionStartTime: new Date(Date.now() - SECONDS_TO_CONVERSION * 1000),
  });
}

/**
 * Options for `ruleExtras`: a series cap the extra feature names pass, and USD as the reporting currency with a
 * rate for EUR.
 */
export const RULE_EXTRAS_OPTIONS = {
  limits: { maxSeriesPerMetric: 8 },
  money: { reporting: { currency: 'USD', rates: { EUR: 1.25 } } },
} satisfies Pick<InitOptions, 'limits' | 'money'>;

/** business_feature_usage_total has 3 series from a tick; these 6 more go past RULE_EXTRAS_OPTIONS' cap of 8. */
const EXTRA_FEATURES = ['f_0', 'f_1', 'f_2', 'f_3', 'f_4', 'f_5'];

/** HTTP requests per tick: method, route, status, seconds, count (checkout fast and failing, a slow product page). */
export const HTTP_PER_TICK = [
  ['POST', '/checkout', 200, 0.1, 4],
  ['POST', '/checkout', 500, 0.5, 1],
  ['GET', '/products/:id', 200, 2, 2],
] as const;

/** A funnel step outside the seed's checkout (an engagement milestone): the funnel panel's "other steps" series. */
export const MILESTONE_STEP = 'milestone_first_purchase';

/**
 * What the comparisons between backends (tests/push, tests/fleet) record each tick beyond `recordWorkloadTick`, so
 * that every shipped rule, alert and dashboard query has data: EUR sales and refunds in USD and EUR (the refund,
 * net-revenue and, with RULE_EXTRAS_OPTIONS' rates, reporting-currency rules), feature names past the series cap
 * (the series overflow alert), HTTP requests (the experience and checkout-score rules) and a milestone step (the
 * funnel's other steps). Every counter grows by the same amounts each tick, as in the base workload. The handle's
 * HTTP recorder is made once: call the result each tick. With FlakyExporter, the export-failure alert has data too.
 */
export function ruleExtras(handle: BusinessMetricsHandle): () => void {
  const http = httpServerMetrics({ telemetry: handle });
  const { metrics } = handle;
  return () => {
    for (const feature of EXTRA_FEATURES)
      metrics.recordFeatureUsage(feature, { userTier: 'free', isNewUser: false });
    metrics.recordRevenue(800, {
      productCategory: 'books',
      paymentMethod: 'card',
      region: 'eu_west',
      currency: 'EUR',
    });
    metrics.recordRefund(500, {
      currency: 'USD',
      paymentMethod: 'card',
      region: 'eu_west',
      reason: 'customer_request',
    });
    metrics.recordRefund(200, {
      currency: 'EUR',
      paymentMethod: 'card',
      region: 'eu_west',
      reason: 'chargeback',
    });
    for (const [method, route, status, seconds, count] of HTTP_PER_TICK) {
      for (let i = 0; i < count; i++) http.record(method, route, status, false, seconds);
    }
    metrics.recordFunnelStep(MILESTONE_STEP, { source: 'google_ads', deviceType: 'mobile' });
  };
}

/**
 * An exporter of the app's own that fails its first export, then succeeds: made to fail before any traffic
 * (failOnceBeforeTraffic), business_metrics_export_failures_total{exporter="FlakyExporter"} goes from nothing to 1
 * at once, so every backend's first sample of it is 1 and its increase is 0 everywhere.
 */
export class FlakyExporter implements PushMetricExporter {
  exports = 0;
  export(_metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    done(
      ++this.exports === 1
        ? { code: ExportResultCode.FAILED, error: new Error('failing on purpose') }
        : { code: ExportResultCode.SUCCESS },
    );
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
  forceFlush = () => Promise.resolve();
  shutdown = () => Promise.resolve();
}

/**
 * Has `flaky` (one of the handle's exporters) fail now, before any traffic: a periodic export may be the one that
 * fails first, otherwise an explicit flush is, and that flush must reject naming the exporter.
 */
export async function failOnceBeforeTraffic(
  handle: BusinessMetricsHandle,
  flaky: FlakyExporter,
): Promise<void> {
  while (flaky.exports === 0) {
    await handle.forceFlush({ timeoutMillis: 5000 }).then(
      () => {
        if (flaky.exports === 1) throw new Error('forceFlush resolved although the FlakyExporter failed');
      },
      (error: Error) => {
        if (!error.message.includes('the FlakyExporter exporter could not export: failing on purpose'))
          throw error;
      },
    );
  }
}
