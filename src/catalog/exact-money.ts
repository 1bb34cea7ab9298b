/**
 * THE exact money queries: revenue, refunds, net revenue and order count per currency over a window, between
 * real samples (Prometheus >= 3.16's `anchored` range modifier: no extrapolation, integers in, integers out).
 *
 * Owns: the PromQL text of those figures and the names of the recording rules that record them. The rule file
 * `otel-collector/prometheus/rules/business-money.yml`, the Grafana dashboard and the `reconcile` command all
 * derive from this table (a test holds the rule file to it). Must not touch: the SDK, I/O.
 *
 * Why `anchored`: `increase(x[1h])` extrapolates to the window's edges and gives fractional cents; `anchored`
 * takes the last sample at or before the window's start (within the lookback delta) and the last sample in it,
 * so a window's figure is a difference of two real counter values. With Prometheus's
 * `created-timestamp-zero-ingestion`, a series born inside the window starts from a real zero, so its first
 * amount counts too (docs/money.md#exact-to-the-cent).
 */
import { PROMETHEUS_FAMILIES } from './metrics';

/** A money figure per currency. `orders` counts recorded sales (the order-value histogram's count). */
export type ExactMoneyFigure = 'revenue' | 'refunds' | 'net' | 'orders';

/** Every figure, in the order reports list them. */
export const EXACT_MONEY_FIGURES: readonly ExactMoneyFigure[] = ['revenue', 'refunds', 'net', 'orders'];

/** The counter each measured figure comes from (net is revenue minus refunds). */
const SOURCE_SERIES: Readonly<Record<Exclude<ExactMoneyFigure, 'net'>, string>> = {
  revenue: PROMETHEUS_FAMILIES.revenue,
  refunds: PROMETHEUS_FAMILIES.refunds,
  orders: `${PROMETHEUS_FAMILIES.orderValue}_count`,
};

/** The windows the shipped recording rules cover, as PromQL durations. */
export const EXACT_MONEY_WINDOWS = ['1h', '1d'] as const;
export type ExactMoneyWindow = (typeof EXACT_MONEY_WINDOWS)[number];

const RULE_METRIC: Readonly<Record<ExactMoneyFigure, string>> = {
  revenue: 'business_revenue_cents',
  refunds: 'business_refunds_cents',
  net: 'business_net_revenue_cents',
  orders: 'business_orders',
};

/**
 * The recording rule that records `figure` per currency over the `window` ending at each evaluation, e.g.
 * `currency:business_revenue_cents:increase1h_anchored`. It is a rolling window (Prometheus evaluates a rule
 * group at instants of its own); a fixed window (an hour, a UTC day) is {@link exactMoneyQuery} evaluated at the
 * window's end.
 */
export function exactMoneyRule(figure: ExactMoneyFigure, window: ExactMoneyWindow): string {
  return `currency:${RULE_METRIC[figure]}:increase${window}_anchored`;
}

/** `sum by (currency) (increase(<series>[<range>] anchored))`. */
function increaseByCurrency(series: string, range: string): string {
  return `sum by (currency) (increase(${series}[${range}] anchored))`;
}

/**
 * Net = revenue - refunds per currency. A currency with sales and no refunds nets its sales (the `or ... * 0`);
 * one with refunds and no sales in the window nets minus its refunds.
 */
function netOf(revenue: string, refunds: string): string {
  return `(${revenue} - (${refunds} or ${revenue} * 0)) or -${refunds}`;
}

/**
 * PromQL for `figure` per currency (one series per `currency` label) over the `range` that ends at the evaluation
 * time: evaluate it at 11:00 with `1h` for the hour 10:00-11:00, at 00:00 UTC with `1d` for the previous UTC day,
 * or in a range query with `range` equal to the step. `range` is a PromQL duration (`1h`, `1d`, `30s`) or a
 * Grafana variable such as `$__range`. Needs Prometheus >= 3.16 (3.7-3.15: `--enable-feature=promql-extended-range-selectors`).
 */
export function exactMoneyQuery(figure: ExactMoneyFigure, range: string): string {
  if (figure === 'net') {
    return netOf(
      increaseByCurrency(SOURCE_SERIES.revenue, range),
      increaseByCurrency(SOURCE_SERIES.refunds, range),
    );
  }
  return increaseByCurrency(SOURCE_SERIES[figure], range);
}

/** One recording rule of `business-money.yml`. */
export interface ExactMoneyRule {
  readonly record: string;
  readonly expr: string;
}

/**
 * The rules `business-money.yml` must contain, per window: the measured figures from the counters, and net from
 * the recorded revenue and refunds of the same evaluation.
 */
export function exactMoneyRules(window: ExactMoneyWindow): ExactMoneyRule[] {
  const rules: ExactMoneyRule[] = (['revenue', 'refunds', 'orders'] as const).map((figure) => ({
    record: exactMoneyRule(figure, window),
    expr: exactMoneyQuery(figure, window),
  }));
  rules.splice(2, 0, {
    record: exactMoneyRule('net', window),
    expr: netOf(exactMoneyRule('revenue', window), exactMoneyRule('refunds', window)),
  });
  return rules;
}
