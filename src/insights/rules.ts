/**
 * The insight recording rules and alerts (error cost, revenue at risk, Apdex and the experience score), built
 * from the metric catalog and a few options, so every series name and label they read is the catalog's.
 *
 * Owns: the PromQL of the insights, their rule names, the alert thresholds and their defaults, option checks.
 * Must not touch: I/O, YAML (rule-yaml.ts writes the file), the SDK. `otel-collector/prometheus/rules/
 * insights.yml` is this module's output with the default options; a test regenerates and compares it.
 */
import { BUSINESS_METRICS, HTTP_METRICS, PROMETHEUS_FAMILIES } from '../catalog/metrics';
import { CHECKOUT_STEPS } from '../catalog/labels';
import { prometheusFamilyName, prometheusLabelName } from '../catalog/prometheus-naming';
import {
  DEFAULT_APDEX_THRESHOLD_SECONDS,
  EXPERIENCE_ERROR_WEIGHT,
  HTTP_DURATION_BUCKETS,
  checkApdexThreshold,
  quadruple,
} from './score';

/** Options of the insight rules. Every field has a documented default (docs/insights.md). */
export interface InsightRuleOptions {
  /** Apdex threshold T in seconds (default 0.25). T and 4T must be boundaries of `durationBuckets`. */
  readonly apdexThresholdSeconds?: number;
  /** Boundaries of the HTTP server duration histogram (default: the catalog's, the semantic conventions'). */
  readonly durationBuckets?: readonly number[];
  /** RE2 regex (anchored, as PromQL anchors it) of the `http_route` values of the checkout path. */
  readonly checkoutRoutes?: string;
  /** Window of the per-minute figures, Apdex and error rates (default `5m`). */
  readonly rateWindow?: string;
  /** Window of the accumulated figures and of the traffic comparison (default `1h`). */
  readonly sumWindow?: string;
  /** Trailing window of the mean order value and the currency mix (default `24h`). */
  readonly orderValueWindow?: string;
  /** How far back the expected revenue looks (default `7d`: the same time last week). */
  readonly baselineOffset?: string;
  /** Today's cart views over the baseline's are clamped to this band to scale the baseline (default 0.5..2). */
  readonly trafficScaleBand?: readonly [number, number];
  /** Fewest cart views in the baseline's `sumWindow` for traffic scaling to be used at all (default 100). */
  readonly trafficScaleMinCartViews?: number;
  /** RevenueAtRisk fires when revenue at risk exceeds this share of the expected revenue (default 0.3). */
  readonly revenueAtRiskShare?: number;
  /** ... for this long (default `15m`). */
  readonly revenueAtRiskFor?: string;
  /** ... for a currency whose baseline window held at least this many orders (default 20). */
  readonly revenueAtRiskMinOrders?: number;
  /** The experience alerts fire below this score (default 70, the bottom of Apdex's "fair" band). */
  readonly experienceScoreFloor?: number;
  /** ... for this long (default `10m`). */
  readonly experienceFor?: string;
  /** ... when the window held at least this many requests (default 100 for checkout, per service too). */
  readonly experienceMinRequests?: number;
}

/** The options with every default filled in. */
export type ResolvedInsightRuleOptions = Required<InsightRuleOptions>;

/** The default options: the ones the shipped `insights.yml` is generated with. */
export const DEFAULT_INSIGHT_RULE_OPTIONS: ResolvedInsightRuleOptions = Object.freeze({
  apdexThresholdSeconds: DEFAULT_APDEX_THRESHOLD_SECONDS,
  durationBuckets: HTTP_DURATION_BUCKETS,
  checkoutRoutes: '/checkout(/.*)?',
  rateWindow: '5m',
  sumWindow: '1h',
  orderValueWindow: '24h',
  baselineOffset: '7d',
  trafficScaleBand: [0.5, 2] as const,
  trafficScaleMinCartViews: 100,
  revenueAtRiskShare: 0.3,
  revenueAtRiskFor: '15m',
  revenueAtRiskMinOrders: 20,
  experienceScoreFloor: 70,
  experienceFor: '10m',
  experienceMinRequests: 100,
});

/** The funnel steps that are failed checkout attempts the app recorded itself. */
export const FAILED_CHECKOUT_STEPS = [
  'checkout_error',
  'payment_declined',
] as const satisfies readonly (typeof CHECKOUT_STEPS)[number][];

/** One recording rule or alert, with the comment the rule file shows above it. */
export interface InsightRule {
  readonly comment?: string;
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A rule group, as Prometheus loads it. */
export interface InsightRuleGroup {
  readonly name: string;
  readonly rules: readonly InsightRule[];
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function checkDuration(name: string, value: string, zero: 'zero allowed' | 'above zero'): void {
  if (!DURATION.test(value)) {
    throw new RangeError(`${name} must be a Prometheus duration such as 30s, 5m or 7d, got "${value}"`);
  }
  // Prometheus refuses a range or offset of 0 ("duration must be greater than 0") when it loads the file.
  if (zero === 'above zero' && !/[1-9]/.test(value)) {
    throw new RangeError(`${name} must be longer than 0, got "${value}"`);
  }
}

function checkNumber(name: string, value: number, min: number, max = Infinity): void {
  if (!(Number.isFinite(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
}

/** Fill in the defaults and check every option; throws a RangeError naming the first bad one. */
export function resolveInsightRuleOptions(options: InsightRuleOptions = {}): ResolvedInsightRuleOptions {
  const resolved: ResolvedInsightRuleOptions = { ...DEFAULT_INSIGHT_RULE_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_INSIGHT_RULE_OPTIONS)) throw new RangeError(`unknown insight rule option "${key}"`);
    (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  checkApdexThreshold(resolved.apdexThresholdSeconds, resolved.durationBuckets);
  for (const key of ['rateWindow', 'sumWindow', 'orderValueWindow', 'baselineOffset'] as const) {
    checkDuration(key, resolved[key], 'above zero');
  }
  // A `for:` of 0 fires at the first evaluation: valid.
  for (const key of ['revenueAtRiskFor', 'experienceFor'] as const) {
    checkDuration(key, resolved[key], 'zero allowed');
  }
  if (typeof resolved.checkoutRoutes !== 'string' || resolved.checkoutRoutes === '') {
    throw new RangeError('checkoutRoutes must be a non-empty regular expression');
  }
  if (/["\\\n]/.test(resolved.checkoutRoutes)) {
    // Kept out so the regex can be pasted into a PromQL string as is (RE2 needs no backslash for these routes).
    throw new RangeError('checkoutRoutes must not contain quotes, backslashes or newlines');
  }
  const [low, high] = resolved.trafficScaleBand;
  checkNumber('trafficScaleBand[0]', low, 0);
  checkNumber('trafficScaleBand[1]', high, low);
  checkNumber('trafficScaleMinCartViews', resolved.trafficScaleMinCartViews, 0);
  checkNumber('revenueAtRiskShare', resolved.revenueAtRiskShare, 0, 1);
  checkNumber('revenueAtRiskMinOrders', resolved.revenueAtRiskMinOrders, 0);
  checkNumber('experienceScoreFloor', resolved.experienceScoreFloor, 0, 100);
  checkNumber('experienceMinRequests', resolved.experienceMinRequests, 0);
  return resolved;
}

// ---- names ------------------------------------------------------------------------------------------------------

/** The names of the insight recording rules for the given windows (the defaults give `...:rate5m...`). */
export function insightRuleNames(options: InsightRuleOptions = {}) {
  const {
    rateWindow: w,
    sumWindow: s,
    orderValueWindow: o,
    baselineOffset: b,
  } = {
    ...DEFAULT_INSIGHT_RULE_OPTIONS,
    ...options,
  };
  return {
    checkoutFailuresByCause: `cause:business_checkout_failures:rate${w}_per_minute`,
    checkoutFailures: `business:checkout_failures:rate${w}_per_minute`,
    checkoutFailuresByCauseSum: `cause:business_checkout_failures:increase${s}`,
    checkoutFailuresSum: `business:checkout_failures:increase${s}`,
    orderValueMean: `currency:business_order_value_cents:mean_rate${o}`,
    orderShare: `currency:business_orders:share_rate${o}`,
    errorCost: `currency:business_error_cost_cents:rate${w}_per_minute`,
    errorCostSum: `currency:business_error_cost_cents:increase${s}`,
    cartViewsRatio: `business:cart_views:ratio_increase${s}_offset${b}`,
    trafficScale: `business:revenue_baseline:traffic_scale${s}`,
    expectedRevenue: `currency:business_expected_revenue_cents:rate${w}_per_minute`,
    revenueAtRisk: `currency:business_revenue_at_risk_cents:rate${w}_per_minute`,
    revenueAtRiskShare: `currency:business_revenue_at_risk:ratio_rate${w}`,
    expectedRevenueSum: `currency:business_expected_revenue_cents:increase${s}`,
    revenueAtRiskSum: `currency:business_revenue_at_risk_cents:increase${s}`,
    apdexByRoute: `job_http_route:http_server_apdex:ratio_rate${w}`,
    errorRateByRoute: `job_http_route:http_server_errors:ratio_rate${w}`,
    apdexByService: `job:http_server_apdex:ratio_rate${w}`,
    errorRateByService: `job:http_server_errors:ratio_rate${w}`,
    scoreByService: `job:experience_score:rate${w}`,
    checkoutApdex: `business:checkout_apdex:ratio_rate${w}`,
    checkoutErrorRate: `business:checkout_errors:ratio_rate${w}`,
    checkoutScore: `business:checkout_experience_score:rate${w}`,
  } as const;
}

/** The recording rule names the shipped `insights.yml` defines (default options). */
export const INSIGHT_RULES = insightRuleNames();

/** The alerts of the insight rules. */
export const INSIGHT_ALERTS = ['RevenueAtRisk', 'CheckoutExperiencePoor', 'ServiceExperiencePoor'] as const;

/**
 * The shared money rule of business-recording.yml this module reads (gross revenue per currency per minute over
 * 5m). With another rate window the same figure is computed inline, since that rule exists only for 5m.
 */
const SHARED_REVENUE_PER_MINUTE_5M = 'currency:business_revenue_cents:rate5m_per_minute';

// ---- PromQL building blocks ---------------------------------------------------------------------------------------

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const REVENUE = PROMETHEUS_FAMILIES.revenue;
const ORDER_VALUE = PROMETHEUS_FAMILIES.orderValue;
const HTTP_DURATION = prometheusFamilyName(HTTP_METRICS.serverRequestDuration);
const [STEP] = BUSINESS_METRICS.funnelStep.labels;
const [, ROUTE, STATUS] = HTTP_METRICS.serverRequestDuration.labels.map(prometheusLabelName);
const CURRENCY = 'currency';
/** On the push path `job` is the service.name; on the pull path the scrape job, which names the service. */
const SERVICE = 'job';

/**
 * An `le` matcher for one bucket boundary that holds on every path: Prometheus 2 stores the exposition's `1`
 * as is, Prometheus 3 normalises whole numbers to `1.0` on ingestion (measured with 3.16 scraping our exporter).
 */
export function bucketMatcher(bound: number): string {
  const text = String(bound);
  const spellings = Number.isInteger(bound) ? [text, `${text}.0`] : [text];
  return `le=~"${spellings.map((spelling) => spelling.replace(/\./g, '\\\\.')).join('|')}"`;
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
}

/** The PromQL expressions of the insights, for rules and for ad-hoc windows (a dashboard's `$__range`). */
export function insightExpressions(options: InsightRuleOptions = {}) {
  const o = resolveInsightRuleOptions(options);
  const names = insightRuleNames(o);
  const checkout = `${ROUTE}=~"${o.checkoutRoutes}"`;
  const serverError = `${STATUS}=~"5.."`;
  const failedSteps = `${STEP}=~"${FAILED_CHECKOUT_STEPS.join('|')}"`;
  const [low, high] = o.trafficScaleBand;

  /** Failed checkout attempts over `range`, as `fn` (rate or increase) gives them, by cause. */
  const failuresByCause = (fn: 'rate' | 'increase', range: string, factor: string) =>
    [
      `sum by (cause) (`,
      `  label_replace(${fn}(${FUNNEL}{${failedSteps}}[${range}]), "cause", "$1", "${STEP}", "(.+)")`,
      `)${factor}`,
      `or`,
      `sum by (cause) (`,
      `  label_replace(${fn}(${HTTP_DURATION}_count{${checkout}, ${serverError}}[${range}]), "cause", "http_5xx", "", "")`,
      `)${factor}`,
    ].join('\n');
  /**
   * All failed attempts: the larger of what the app recorded (its failure steps) and the checkout routes' 5xx.
   * Never their sum: an app that records the step and answers 5xx for the same attempt would count it twice.
   */
  const failuresTotal = (byCause: string) =>
    [
      `max(`,
      `  sum(${byCause}{cause!="http_5xx"})`,
      `  or`,
      `  ${byCause}{cause="http_5xx"}`,
      `)`,
      `or on () vector(0)`,
    ].join('\n');
  /** The same, inline, over an arbitrary range (the dashboard's "today"). */
  const failuresOver = (range: string) =>
    [
      `max(`,
      `  sum(increase(${FUNNEL}{${failedSteps}}[${range}]))`,
      `  or`,
      `  label_replace(sum(increase(${HTTP_DURATION}_count{${checkout}, ${serverError}}[${range}])), "cause", "http_5xx", "", "")`,
      `)`,
      `or on () vector(0)`,
    ].join('\n');
  /** Value of a failed attempt in each currency: that currency's mean order value times its share of orders. */
  const valuePerAttempt = `(${names.orderValueMean} * ${names.orderShare})`;
  const costOf = (failures: string) =>
    `(\n${indent(failures, 2)}\n)\n* on () group_right ()\n${valuePerAttempt}`;

  /** Cart views now over the baseline's, within the band, or 1 when the baseline had too few cart views. */
  const cartViewsRatio = (range: string) =>
    [
      `sum(increase(${FUNNEL}{${STEP}="cart_view"}[${range}]))`,
      `/`,
      `(sum(increase(${FUNNEL}{${STEP}="cart_view"}[${range}] offset ${o.baselineOffset})) >= ${o.trafficScaleMinCartViews})`,
    ].join('\n');
  const scaleOf = (ratio: string) => `clamp(${ratio}, ${low}, ${high})\nor on () vector(1)`;
  const expectedOver = (range: string, scale: string) =>
    [
      `sum by (${CURRENCY}) (increase(${REVENUE}[${range}] offset ${o.baselineOffset}))`,
      `* on () group_left ()`,
      `${scale}`,
    ].join('\n');
  /** Expected minus actual, floored at zero; a currency with no sales series at all has lost all of it. */
  const shortfall = (expected: string, actual: string) =>
    `clamp_min(\n${indent(`${expected}\n- on (${CURRENCY})\n(${actual} or ${expected} * 0)`, 2)},\n  0\n)`;
  const actualPerMinute =
    o.rateWindow === '5m'
      ? SHARED_REVENUE_PER_MINUTE_5M
      : `sum by (${CURRENCY}) (rate(${REVENUE}[${o.rateWindow}])) * 60`;

  /** Apdex: (requests within T + requests within 4T) / 2 / all requests. */
  const apdexBy = (by: string, filter: string) => {
    const sel = (extra: string) => [filter, extra].filter(Boolean).join(', ');
    const grouping = by ? `sum by (${by})` : 'sum';
    return [
      `(`,
      `  ${grouping} (rate(${HTTP_DURATION}_bucket{${sel(bucketMatcher(o.apdexThresholdSeconds))}}[${o.rateWindow}]))`,
      `  +`,
      `  ${grouping} (rate(${HTTP_DURATION}_bucket{${sel(bucketMatcher(quadruple(o.apdexThresholdSeconds)))}}[${o.rateWindow}]))`,
      `)`,
      `/ 2`,
      `/ ${grouping} (rate(${HTTP_DURATION}_count${filter ? `{${filter}}` : ''}[${o.rateWindow}]))`,
    ].join('\n');
  };
  /** Share of requests answered 5xx; 0 (not absent) for a group that had requests but no 5xx series. */
  const errorRateBy = (by: string, filter: string) => {
    const grouping = by ? `sum by (${by})` : 'sum';
    const all = `${grouping} (rate(${HTTP_DURATION}_count${filter ? `{${filter}}` : ''}[${o.rateWindow}]))`;
    const errors = `${grouping} (rate(${HTTP_DURATION}_count{${[filter, serverError].filter(Boolean).join(', ')}}[${o.rateWindow}]))`;
    return `(\n  ${errors}\n  or\n  ${all} * 0\n)\n/ ${all}`;
  };
  const score = (apdexName: string, errorName: string) =>
    `100 * ${apdexName} * (1 - ${errorName}) ^ ${EXPERIENCE_ERROR_WEIGHT}`;

  return {
    options: o,
    names,
    failuresByCause,
    failuresTotal,
    failuresOver,
    costOf,
    valuePerAttempt,
    cartViewsRatio,
    scaleOf,
    expectedOver,
    shortfall,
    actualPerMinute,
    apdexBy,
    errorRateBy,
    score,
    checkout,
    /** Estimated revenue lost to errors over `range` per currency, in minor units (for `$__range`). */
    errorCostOver: (range: string) => costOf(failuresOver(range)),
    /** Revenue at risk accumulated over `range` per currency, in minor units (for `$__range`). */
    revenueAtRiskOver: (range: string) =>
      shortfall(
        `(\n${indent(expectedOver(range, `(${scaleOf(`(\n${indent(cartViewsRatio(range), 2)}\n)`)})`), 2)}\n)`,
        `sum by (${CURRENCY}) (increase(${REVENUE}[${range}]))`,
      ),
  };
}

// ---- the rule groups ----------------------------------------------------------------------------------------------

/** The insight recording rules and alerts, as Prometheus rule groups. Throws a RangeError on a bad option. */
export function buildInsightRules(options: InsightRuleOptions = {}): InsightRuleGroup[] {
  const x = insightExpressions(options);
  const { names: n, options: o } = x;
  const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;
  const T = o.apdexThresholdSeconds;
  const [low, high] = o.trafficScaleBand;

  const errorCost: InsightRule[] = [
    {
      comment:
        `Failed checkout attempts per minute, by cause: the funnel steps the app records for them ` +
        `(${FAILED_CHECKOUT_STEPS.join(', ')}) and 5xx answers on the checkout routes (http_route=~"${o.checkoutRoutes}").`,
      record: n.checkoutFailuresByCause,
      expr: x.failuresByCause('rate', o.rateWindow, ' * 60'),
    },
    {
      comment:
        'All failed attempts: the larger of the app-recorded steps and the checkout 5xx, never their sum (an app ' +
        'that records the step and answers 5xx for one attempt would count it twice). 0 when there were none.',
      record: n.checkoutFailures,
      expr: x.failuresTotal(n.checkoutFailuresByCause),
    },
    { record: n.checkoutFailuresByCauseSum, expr: x.failuresByCause('increase', o.sumWindow, '') },
    { record: n.checkoutFailuresSum, expr: x.failuresTotal(n.checkoutFailuresByCauseSum) },
    {
      comment:
        `Mean order value per currency over the trailing ${o.orderValueWindow}, in minor units: long enough to ` +
        'survive an outage of an hour with no orders at all, which is when the estimate matters most.',
      record: n.orderValueMean,
      expr: [
        `sum by (${CURRENCY}) (rate(${ORDER_VALUE}_sum[${o.orderValueWindow}]))`,
        `/`,
        `sum by (${CURRENCY}) (rate(${ORDER_VALUE}_count[${o.orderValueWindow}]))`,
      ].join('\n'),
    },
    {
      comment:
        'Share of orders per currency over the same window. Failed attempts carry no currency (the funnel and the ' +
        'HTTP metrics have no currency label), so they are shared out in proportion to completed orders.',
      record: n.orderShare,
      expr: [
        `sum by (${CURRENCY}) (rate(${ORDER_VALUE}_count[${o.orderValueWindow}]))`,
        `/ ignoring (${CURRENCY}) group_left`,
        `sum(rate(${ORDER_VALUE}_count[${o.orderValueWindow}]))`,
      ].join('\n'),
    },
    {
      comment:
        'Estimated revenue lost to errors, per currency, in minor units: failed attempts times the mean order ' +
        'value times the currency share (docs/insights.md says what it over- and under-counts).',
      record: n.errorCost,
      expr: x.costOf(n.checkoutFailures),
    },
    { record: n.errorCostSum, expr: x.costOf(n.checkoutFailuresSum) },
  ];

  const revenueAtRisk: InsightRule[] = [
    {
      comment:
        `Cart views over the last ${o.sumWindow} against the same ${o.sumWindow} ${o.baselineOffset} earlier; only ` +
        `when that window had at least ${o.trafficScaleMinCartViews} cart views. Cart views come before checkout, ` +
        'so a checkout incident does not move them.',
      record: n.cartViewsRatio,
      expr: x.cartViewsRatio(o.sumWindow),
    },
    {
      comment:
        `How much to scale the baseline by today's traffic: the ratio clamped to ${low}..${high} (a bigger ` +
        'difference is more likely the incident itself, or a flood, than demand), or 1 without a usable ratio.',
      record: n.trafficScale,
      expr: x.scaleOf(n.cartViewsRatio),
    },
    {
      comment: `Expected revenue per minute per currency: the same time ${o.baselineOffset} earlier, scaled by traffic.`,
      record: n.expectedRevenue,
      expr: [
        `sum by (${CURRENCY}) (rate(${REVENUE}[${o.rateWindow}] offset ${o.baselineOffset})) * 60`,
        `* on () group_left ()`,
        n.trafficScale,
      ].join('\n'),
    },
    {
      comment:
        'Revenue at risk per minute: expected minus actual gross revenue, floored at zero. ' +
        (o.rateWindow === '5m'
          ? `Actual is ${SHARED_REVENUE_PER_MINUTE_5M} (business-recording.yml).`
          : 'Actual is computed over the same window.'),
      record: n.revenueAtRisk,
      expr: x.shortfall(n.expectedRevenue, x.actualPerMinute),
    },
    {
      comment: 'Revenue at risk as a share of the expected revenue (0..1), what RevenueAtRisk compares.',
      record: n.revenueAtRiskShare,
      expr: `${n.revenueAtRisk}\n/ on (${CURRENCY})\n${n.expectedRevenue}`,
    },
    {
      comment:
        `Accumulated over the last ${o.sumWindow}: the shortfall of the window's total, not a sum of per-minute ` +
        'shortfalls (those floor every noisy dip at zero and add up to a loss in a perfectly healthy hour).',
      record: n.expectedRevenueSum,
      expr: x.expectedOver(o.sumWindow, n.trafficScale),
    },
    {
      record: n.revenueAtRiskSum,
      expr: x.shortfall(n.expectedRevenueSum, `sum by (${CURRENCY}) (increase(${REVENUE}[${o.sumWindow}]))`),
    },
  ];

  const routeLabels = `${SERVICE}, ${ROUTE}`;
  const experience: InsightRule[] = [
    {
      comment:
        `Apdex per service and route from ${HTTP_DURATION}: T = ${T} s, 4T = ${quadruple(T)} s, both bucket ` +
        'boundaries (Prometheus 3 stores whole-number boundaries as "1.0", hence the le=~ matcher).',
      record: n.apdexByRoute,
      expr: x.apdexBy(routeLabels, ''),
    },
    {
      comment: 'Share of requests answered 5xx, per service and route.',
      record: n.errorRateByRoute,
      expr: x.errorRateBy(routeLabels, ''),
    },
    { record: n.apdexByService, expr: x.apdexBy(SERVICE, '') },
    { record: n.errorRateByService, expr: x.errorRateBy(SERVICE, '') },
    {
      comment:
        `Experience score 0-100 per service: 100 × Apdex × (1 − 5xx share)^${EXPERIENCE_ERROR_WEIGHT}. ` +
        'Rises with Apdex, falls with the error rate; 100 only when every request is fast and none failed.',
      record: n.scoreByService,
      expr: x.score(n.apdexByService, n.errorRateByService),
    },
    {
      comment: `The checkout path (http_route=~"${o.checkoutRoutes}", all services together).`,
      record: n.checkoutApdex,
      expr: x.apdexBy('', x.checkout),
    },
    { record: n.checkoutErrorRate, expr: x.errorRateBy('', x.checkout) },
    { record: n.checkoutScore, expr: x.score(n.checkoutApdex, n.checkoutErrorRate) },
  ];

  const scoreBand = `below ${o.experienceScoreFloor} ("poor" on Apdex's scale when nothing fails)`;
  const alerts: InsightRule[] = [
    {
      comment:
        `Revenue at risk above ${pct(o.revenueAtRiskShare)} of the expected revenue for ${o.revenueAtRiskFor}, ` +
        `per currency. A currency whose baseline window held fewer than ${o.revenueAtRiskMinOrders} orders is ` +
        'not judged: with a handful of orders in a window, one missing order is a large share. Routed like the ' +
        'other revenue alerts (team business); NoRevenue and BusinessMetricsTargetDown inhibit it.',
      alert: 'RevenueAtRisk',
      expr: [
        `${n.revenueAtRiskShare} > ${o.revenueAtRiskShare}`,
        `and on (${CURRENCY})`,
        `sum by (${CURRENCY}) (increase(${ORDER_VALUE}_count[${o.rateWindow}] offset ${o.baselineOffset})) >= ${o.revenueAtRiskMinOrders}`,
      ].join('\n'),
      for: o.revenueAtRiskFor,
      labels: { severity: 'warning', team: 'business' },
      annotations: {
        summary: `{{ $labels.currency }} revenue is {{ $value | humanizePercentage }} below the same time ${o.baselineOffset} earlier`,
        description: [
          `{{ $value | humanizePercentage }} of the expected {{ $labels.currency }} revenue (the same time ${o.baselineOffset}`,
          `earlier, scaled by today's cart views) is not arriving. See ${n.revenueAtRisk} for the amount`,
          `per minute and ${n.revenueAtRiskSum} for the shortfall so far; check checkout errors and latency.`,
        ].join('\n'),
      },
    },
    {
      comment: `The checkout path's experience score ${scoreBand} for ${o.experienceFor}.`,
      alert: 'CheckoutExperiencePoor',
      expr: [
        `${n.checkoutScore} < ${o.experienceScoreFloor}`,
        `and on ()`,
        `sum(increase(${HTTP_DURATION}_count{${x.checkout}}[${o.rateWindow}])) >= ${o.experienceMinRequests}`,
      ].join('\n'),
      for: o.experienceFor,
      labels: { severity: 'warning', team: 'product' },
      annotations: {
        summary:
          'Checkout experience score is {{ $value | printf "%.0f" }} (alert below ' +
          `${o.experienceScoreFloor})`,
        description: [
          `The checkout routes' score (100 × Apdex at T = ${T} s × (1 − 5xx share)^${EXPERIENCE_ERROR_WEIGHT}) is`,
          `{{ $value | printf "%.1f" }}. See ${n.checkoutApdex} (slow answers) and ${n.checkoutErrorRate}`,
          '(failed answers) for which one moved.',
        ].join('\n'),
      },
    },
    {
      comment: `A service's experience score ${scoreBand} for ${o.experienceFor}.`,
      alert: 'ServiceExperiencePoor',
      expr: [
        `${n.scoreByService} < ${o.experienceScoreFloor}`,
        `and on (${SERVICE})`,
        `sum by (${SERVICE}) (increase(${HTTP_DURATION}_count[${o.rateWindow}])) >= ${o.experienceMinRequests}`,
      ].join('\n'),
      for: o.experienceFor,
      labels: { severity: 'warning', team: 'product' },
      annotations: {
        summary:
          'Experience score of {{ $labels.job }} is {{ $value | printf "%.0f" }} (alert below ' +
          `${o.experienceScoreFloor})`,
        description: [
          `The score of {{ $labels.job }} (100 × Apdex at T = ${T} s × (1 − 5xx share)^${EXPERIENCE_ERROR_WEIGHT}) is`,
          `{{ $value | printf "%.1f" }}. ${n.apdexByRoute} and ${n.errorRateByRoute} show which routes.`,
        ].join('\n'),
      },
    },
  ];

  return [
    { name: 'business_insights_error_cost', rules: errorCost },
    { name: 'business_insights_revenue_at_risk', rules: revenueAtRisk },
    { name: 'business_insights_experience', rules: experience },
    { name: 'business_insights_alerts', rules: alerts },
  ];
}
