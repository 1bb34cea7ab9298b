/**
 * Synthetic history for the end-to-end tests: days of per-minute samples of a real-looking HTTP latency
 * histogram and the seed's funnel counters, written as OpenMetrics for `promtool tsdb create-blocks-from
 * openmetrics`.
 *
 * The data is built so that the PromQL of docs/correlation.md returns the designed values exactly:
 * - `histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))` equals the
 *   designed p99 latency of each 5-minute interval (bucket counts are placed so linear interpolation inside
 *   the bucket lands on the designed value);
 * - `sum(rate(funnel{step="order_confirmed"}[5m])) / sum(rate(funnel{step="cart_view"}[5m]))` equals the designed
 *   conversion ratio of each interval.
 * Within an interval every minute adds the same increments, so any extrapolation rate() applies cancels in
 * both ratios. The test can therefore compute the expected statistics itself, independently of Prometheus.
 */
import { CHECKOUT_STEPS, PROMETHEUS_FAMILIES } from '../../src/catalog';
import { RUNTIME_PROMETHEUS_FAMILIES } from '../../src/runtime/node-runtime';
import { designedPair, type Design, DEFAULT_DESIGN } from './synthetic';

export const STEP_SECONDS = 300;
const MINUTE = 60;

/** The OpenTelemetry semantic-convention HTTP server duration histogram, as an SDK exports it to Prometheus. */
export const LATENCY_HISTOGRAM = 'http_server_request_duration_seconds';
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Requests per 5-minute interval; the p99 rank is 0.99 × this. */
const REQUESTS_PER_INTERVAL = 1000;

export const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
export const ACTIVE_USERS = PROMETHEUS_FAMILIES.activeUsers;
export const REVENUE_PER_MINUTE = PROMETHEUS_FAMILIES.revenuePerMinute;
const CART_VIEW = CHECKOUT_STEPS[0];
const ORDER_CONFIRMED = CHECKOUT_STEPS[4];
/** Cart views per 5-minute interval, by device type (two series per step, so sum() is required). */
const CART_VIEWS = { desktop: 400, mobile: 200 } as const;

/**
 * Revenue per currency, designed from the conversion: orders per minute are the cart views per minute times the
 * conversion; a share of them is paid in each currency at a fixed mean order value (minor units). EUR and JPY,
 * whose magnitudes differ: a EUR order is 5,000 cents, a JPY order 8,000 yen.
 */
export const REVENUE = PROMETHEUS_FAMILIES.revenue;
export const MINOR_UNITS = PROMETHEUS_FAMILIES.currencyMinorUnits;
export const CURRENCY_ORDERS = {
  EUR: { share: 0.7, minorPerOrder: 5000, minorUnits: 100 },
  JPY: { share: 0.3, minorPerOrder: 8000, minorUnits: 1 },
} as const;
/** Revenue per minute per currency, in currency units: the expression of docs/correlation.md's effect-size example. */
export const REVENUE_PER_MINUTE_BY_CURRENCY_QUERY = `sum by (currency) (rate(${REVENUE}[5m])) * 60 / on (currency) group_left max by (currency) (${MINOR_UNITS})`;
/** Designed revenue change per minute, per +100 ms of latency, in units of each currency. */
export function designedRevenueEffect(design: Design = DEFAULT_DESIGN): Record<'EUR' | 'JPY', number> {
  const cartViewsPerMinute = (CART_VIEWS.desktop + CART_VIEWS.mobile) / (STEP_SECONDS / MINUTE);
  const effect = (currency: keyof typeof CURRENCY_ORDERS) => {
    const c = CURRENCY_ORDERS[currency];
    return (cartViewsPerMinute * c.share * c.minorPerOrder * design.slopePerSecond * 0.1) / c.minorUnits;
  };
  return { EUR: effect('EUR'), JPY: effect('JPY') };
}

/** The Node runtime's event-loop delay p99 gauge (`runtimeMetrics: true`). */
export const EVENT_LOOP_DELAY = RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99;
/** Designed: the event loop's delay is a quarter of the request latency (so r with conversion is the same). */
export const EVENT_LOOP_DELAY_SHARE = 0.25;

/** The expressions of docs/correlation.md, the ones under test. */
export const P99_LATENCY_QUERY = `histogram_quantile(0.99, sum by (le) (rate(${LATENCY_HISTOGRAM}_bucket[5m])))`;
export const CONVERSION_QUERY = `sum(rate(${FUNNEL}{step="${ORDER_CONFIRMED}"}[5m])) / sum(rate(${FUNNEL}{step="${CART_VIEW}"}[5m]))`;
/** The seed's conversion rate as written, with a 1h window (and as a ratio, without its `* 100`). */
export const SEED_HOURLY_CONVERSION_QUERY = `sum(rate(${FUNNEL}{step="${ORDER_CONFIRMED}"}[1h])) / sum(rate(${FUNNEL}{step="${CART_VIEW}"}[1h]))`;
/** Returns one series per device_type: the multi-series error case. */
export const PER_DEVICE_CART_VIEWS_QUERY = `rate(${FUNNEL}{step="${CART_VIEW}"}[5m])`;
/** A gauge that never changes: the constant-series error case. */
export const CONSTANT_QUERY = `sum(${ACTIVE_USERS})`;
/** A gauge with a handful of samples: the too-few-points error case. */
export const SPARSE_QUERY = `sum(${REVENUE_PER_MINUTE})`;

export interface History {
  /** OpenMetrics text, ending in `# EOF`. */
  openMetrics: string;
  /** Designed p99 latency (seconds) of intervals 0..N-1; interval i ends at `firstEnd + i·step`. */
  latency: number[];
  /** Designed conversion ratio of the same intervals. */
  conversion: number[];
  /** End (seconds since the epoch, multiple of the step) of interval 0. */
  firstEnd: number;
  /** End of the last interval. */
  lastEnd: number;
}

function bucketCounts(p99: number): number[] {
  // Cumulative counts per bucket for one interval, such that histogram_quantile(0.99) interpolates to p99:
  // 10 requests sit in the bucket (lo, hi] containing p99, and (990 - 10·f) below it, with f = (p99-lo)/(hi-lo).
  const index = LATENCY_BUCKETS.findIndex((bound) => p99 <= bound);
  if (index <= 0) throw new Error(`designed p99 ${p99} must lie above the first bucket and below 10 s`);
  const lo = LATENCY_BUCKETS[index - 1];
  const hi = LATENCY_BUCKETS[index];
  const fraction = (p99 - lo) / (hi - lo);
  const below = (REQUESTS_PER_INTERVAL * 99) / 100 - 10 * fraction;
  return LATENCY_BUCKETS.map((_, i) => (i < index ? below : below + 10)).concat(REQUESTS_PER_INTERVAL);
}

/** Build `design.points` 5-minute intervals of history ending at or before `endSeconds`. */
export function buildHistory(endSeconds: number, design: Design = DEFAULT_DESIGN): History {
  const { latency, conversion } = designedPair(design);
  const lastEnd = Math.floor(endSeconds / STEP_SECONDS) * STEP_SECONDS;
  const firstEnd = lastEnd - (design.points - 1) * STEP_SECONDS;
  const perMinute = STEP_SECONDS / MINUTE;
  // One timestamp per minute from the start of interval 0 to the end of the last interval.
  const times: number[] = [];
  for (let t = firstEnd - STEP_SECONDS; t <= lastEnd; t += MINUTE) times.push(t);
  const intervalOf = (t: number) => Math.ceil((t - firstEnd) / STEP_SECONDS); // minute t belongs to interval i

  const lines: string[] = [];
  const series = (name: string, labels: string, value: (t: number, i: number) => number) => {
    for (const t of times) lines.push(`${name}${labels} ${value(t, intervalOf(t))} ${t}`);
  };

  // Latency histogram: cumulative counters, each minute adding a fifth of the interval's bucket counts.
  const perInterval = latency.map(bucketCounts);
  const cumulative = (bucket: number) => {
    const totals = new Map<number, number>();
    let running = 1e5; // as for a server that has been up for a while (the same base in every bucket)
    for (const t of times) {
      const i = intervalOf(t);
      if (i >= 0) running += perInterval[i][bucket] / perMinute;
      totals.set(t, running);
    }
    return totals;
  };
  lines.push(`# TYPE ${LATENCY_HISTOGRAM} histogram`, `# UNIT ${LATENCY_HISTOGRAM} seconds`);
  const bounds = [...LATENCY_BUCKETS.map(String), '+Inf'];
  bounds.forEach((bound, b) => {
    const totals = cumulative(b);
    series(`${LATENCY_HISTOGRAM}_bucket`, `{le="${bound}"}`, (t) => totals.get(t) as number);
  });
  const counts = cumulative(bounds.length - 1);
  series(`${LATENCY_HISTOGRAM}_count`, '', (t) => counts.get(t) as number);
  series(`${LATENCY_HISTOGRAM}_sum`, '', (t) => (counts.get(t) as number) * 0.08);

  // Funnel counters: cart views and confirmed orders per device type; conversion ratio as designed.
  const funnelFamily = FUNNEL.replace(/_total$/, '');
  lines.push(`# TYPE ${funnelFamily} counter`);
  for (const [step, ratio] of [
    [CART_VIEW, () => 1],
    [ORDER_CONFIRMED, (i: number) => conversion[i]],
  ] as const) {
    for (const [device, views] of Object.entries(CART_VIEWS)) {
      let running = 1e5; // counters that started long ago: rate() never extrapolates towards zero
      const totals = new Map<number, number>();
      for (const t of times) {
        const i = intervalOf(t);
        if (i >= 0) running += (views * ratio(i)) / perMinute;
        totals.set(t, running);
      }
      series(
        `${FUNNEL}`,
        `{step="${step}",source="google_ads",device_type="${device}",experiment_variant="control"}`,
        (t) => totals.get(t) as number,
      );
    }
  }

  // Revenue per currency: each minute of interval i adds its designed share of the interval's orders' value.
  const revenueFamily = REVENUE.replace(/_total$/, '');
  lines.push(`# TYPE ${revenueFamily} counter`);
  const ordersPerInterval = (i: number) => (CART_VIEWS.desktop + CART_VIEWS.mobile) * conversion[i];
  for (const [currency, c] of Object.entries(CURRENCY_ORDERS)) {
    let running = 1e7;
    const totals = new Map<number, number>();
    for (const t of times) {
      const i = intervalOf(t);
      if (i >= 0) running += (ordersPerInterval(i) * c.share * c.minorPerOrder) / perMinute;
      totals.set(t, running);
    }
    series(
      REVENUE,
      `{product_category="gear",payment_method="card",region="eu",currency="${currency}"}`,
      (t) => totals.get(t) as number,
    );
  }
  lines.push(`# TYPE ${MINOR_UNITS} gauge`);
  for (const [currency, c] of Object.entries(CURRENCY_ORDERS)) {
    series(MINOR_UNITS, `{currency="${currency}"}`, () => c.minorUnits);
  }

  // Event-loop delay p99, one gauge series: every minute of interval i holds its designed value.
  lines.push(`# TYPE ${EVENT_LOOP_DELAY} gauge`, `# UNIT ${EVENT_LOOP_DELAY} seconds`);
  series(EVENT_LOOP_DELAY, '', (_t, i) => latency[Math.max(0, i)] * EVENT_LOOP_DELAY_SHARE);

  // A constant gauge and a sparse gauge for the error cases.
  lines.push(`# TYPE ${ACTIVE_USERS} gauge`);
  series(ACTIVE_USERS, '{window="daily",user_tier="pro"}', () => 12);
  lines.push(`# TYPE ${REVENUE_PER_MINUTE} gauge`);
  for (let k = 4; k >= 1; k--) {
    lines.push(`${REVENUE_PER_MINUTE}{region="eu"} ${5000 + 100 * k} ${lastEnd - 3600 * k}`);
  }
  lines.push('# EOF');
  return { openMetrics: `${lines.join('\n')}\n`, latency, conversion, firstEnd, lastEnd };
}
