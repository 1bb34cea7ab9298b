/**
 * Turns the package's own Prometheus exposition into the dashboard's JSON: current totals plus a bounded history
 * ring of snapshots for the time series.
 *
 * Owns: sampling, the ring (fixed size), and the arithmetic the charts show (deltas over a trailing window,
 * histogram quantiles, drop-off). Must not touch: metrics recording or HTTP; it reads exposition text only.
 * Metric family names come from the catalog, never restated here.
 */
import {
  BUSINESS_METRICS,
  CHECKOUT_STEPS,
  PROMETHEUS_FAMILIES,
  RUNTIME_PROMETHEUS_FAMILIES,
  minorToUnits,
} from '../../../src';
import { HTTP_SERVER_REQUEST_DURATION } from '../../../src/integrations/express';
import {
  DEFAULT_INSIGHT_RULE_OPTIONS,
  FAILED_CHECKOUT_STEPS,
  apdex,
  experienceScore,
} from '../../../src/insights';
import { parseExposition, sumBy, sumOf, type Sample } from './exposition';
import { SESSION_OUTCOME_STEPS } from './sessions';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const REVENUE = PROMETHEUS_FAMILIES.revenue;
const REFUNDS = PROMETHEUS_FAMILIES.refunds;
const REVENUE_PER_MINUTE = PROMETHEUS_FAMILIES.revenuePerMinute;
const ORDER_VALUE = PROMETHEUS_FAMILIES.orderValue;
const FEATURE_USAGE = PROMETHEUS_FAMILIES.featureUsage;
const ACTIVE_USERS = PROMETHEUS_FAMILIES.activeUsers;
const SESSION_DURATION = PROMETHEUS_FAMILIES.sessionDuration;
const TIME_TO_CONVERSION_BUCKET = `${PROMETHEUS_FAMILIES.timeToConversion}_bucket`;
const EVENT_LOOP_DELAY_P99 = RUNTIME_PROMETHEUS_FAMILIES.eventLoopDelayP99;
const HEAP_USED = RUNTIME_PROMETHEUS_FAMILIES.heapUsed;
/** Exemplars kept for the time-to-conversion chart (the package keeps one per bucket; the dashboard remembers more). */
const MAX_EXEMPLARS = 500;
const ORDER_VALUE_BUCKETS: readonly number[] = BUSINESS_METRICS.orderValue.buckets;
/** The insight rules' Apdex threshold T and the checkout routes: the dashboard computes what the rules record. */
const APDEX_T = DEFAULT_INSIGHT_RULE_OPTIONS.apdexThresholdSeconds;
const APDEX_4T = Number((4 * APDEX_T).toPrecision(12));
const CHECKOUT_ROUTE = new RegExp(`^(?:${DEFAULT_INSIGHT_RULE_OPTIONS.checkoutRoutes})$`);
/** Funnel steps in order, without the failure steps (shown separately). */
const FUNNEL_STEPS = CHECKOUT_STEPS.filter(
  (step) => step !== 'checkout_error' && step !== 'payment_declined',
);
// Exporters differ on unit suffixes (`_seconds` or none); the dashboard accepts either spelling.
const HTTP_FAMILY_PREFIX = HTTP_SERVER_REQUEST_DURATION.replace(/\./g, '_');

interface Snapshot {
  readonly t: number;
  readonly funnel: Readonly<Record<string, number>>;
  /**
   * Ended sessions that viewed a cart, and those of them that ordered (SESSION_OUTCOME_STEPS), by experiment
   * variant: the conversion charts' counts. Both grow in one call per session, so any window's ratio is <= 1.
   */
  readonly sessionsWithCartByVariant: ReadonlyMap<string, number>;
  readonly sessionsWithOrderByVariant: ReadonlyMap<string, number>;
  /** Units of each series' currency, by "region CURRENCY". */
  readonly revenuePerMinute: ReadonlyMap<string, number>;
  readonly activeUsers: ReadonlyMap<string, number>;
  /** Cumulative HTTP duration buckets summed over all series, by upper bound. */
  readonly httpBuckets: ReadonlyMap<number, number>;
  readonly httpCount: number;
  readonly httpServerErrors: number;
  /** Cumulative time-to-conversion buckets summed over all series, by upper bound (seconds). */
  readonly conversionBuckets: ReadonlyMap<number, number>;
  /** Node runtime metrics (present when the app turned `runtimeMetrics` on). */
  readonly eventLoopDelayP99Ms: number | null;
  readonly heapUsedMb: number | null;
  /** Cumulative HTTP duration buckets of the checkout routes, by upper bound; their 5xx. */
  readonly checkoutBuckets: ReadonlyMap<number, number>;
  readonly checkoutServerErrors: number;
  /** Gross revenue (minor units) and orders, cumulative, by currency. */
  readonly revenueByCurrency: ReadonlyMap<string, number>;
  readonly ordersByCurrency: ReadonlyMap<string, number>;
  /** Whether a trouble switch was on when the snapshot was taken (healthy snapshots make the baseline). */
  readonly troubled: boolean;
}

/** The insights of the Prometheus rules (docs/insights.md), computed over the dashboard's trailing window. */
export interface InsightFigures {
  /** 0-100: 100 × Apdex × (1 − 5xx share)^10, of the checkout routes and of every route. */
  readonly checkoutScore: number | null;
  readonly serviceScore: number | null;
  /** Estimated revenue lost to errors per minute, by currency, in currency units. */
  readonly errorCostPerMinute: Readonly<Record<string, number>>;
  /** Revenue at risk per minute, by currency, in currency units (against this shop's healthy revenue per cart view). */
  readonly revenueAtRiskPerMinute: Readonly<Record<string, number>>;
}

/** One traced conversion: an exemplar of the time-to-conversion histogram. */
export interface ConversionExemplar {
  /** Unix seconds when it was recorded. */
  readonly t: number;
  readonly seconds: number;
  readonly traceId: string;
  readonly spanId: string;
}

export interface DashboardData {
  readonly generatedAt: number;
  readonly sampleIntervalMs: number;
  readonly totals: {
    readonly orders: number;
    /** Gross revenue, refunds and net per currency, in units of that currency (never added across currencies). */
    readonly money: readonly {
      readonly currency: string;
      readonly revenue: number;
      readonly refunds: number;
      readonly net: number;
    }[];
    readonly cartViews: number;
    readonly checkoutErrors: number;
    /** Ended sessions that viewed a cart and ordered, of those that viewed a cart (never above 100). */
    readonly conversionRatePct: number | null;
    readonly activeUsersDaily: number;
    readonly sessionsEnded: number;
    readonly httpP95Ms: number | null;
    readonly httpErrorRatePct: number | null;
    readonly insights: InsightFigures;
  };
  readonly funnel: readonly {
    readonly step: string;
    readonly count: number;
    readonly dropOffPct: number | null;
  }[];
  readonly orderValue: { readonly bucketsCents: readonly number[]; readonly counts: readonly number[] };
  readonly features: readonly { readonly name: string; readonly count: number }[];
  readonly timeline: {
    /** Unix seconds. */
    readonly t: readonly number[];
    /** Cart-to-order conversion of the sessions that ended in the trailing window (never above 100). */
    readonly conversionRatePct: readonly (number | null)[];
    /** The same ratio per experiment variant: a broken variant shows as its line falling to zero. */
    readonly conversionRatePctByVariant: Readonly<Record<string, readonly (number | null)[]>>;
    /** The app's rolling minute by "region CURRENCY", in units of the currency. */
    readonly revenuePerMinute: Readonly<Record<string, readonly (number | null)[]>>;
    readonly activeUsers: Readonly<Record<string, readonly (number | null)[]>>;
    readonly httpP95Ms: readonly (number | null)[];
    readonly httpErrorRatePct: readonly (number | null)[];
    /** Median and p95 time from session start to conversion, over the trailing window. */
    readonly timeToConversionP50S: readonly (number | null)[];
    readonly timeToConversionP95S: readonly (number | null)[];
    readonly eventLoopDelayP99Ms: readonly (number | null)[];
    readonly heapUsedMb: readonly (number | null)[];
    readonly checkoutScore: readonly (number | null)[];
    readonly serviceScore: readonly (number | null)[];
    /** By "lost CURRENCY" and "at risk CURRENCY", in currency units per minute. */
    readonly lostRevenuePerMinute: Readonly<Record<string, readonly (number | null)[]>>;
  };
  /** Traced conversions inside the timeline (exemplars from the OpenMetrics exposition), oldest first. */
  readonly conversionExemplars: readonly ConversionExemplar[];
}

export interface DashboardHistoryOptions {
  /** The current exposition, e.g. `() => telemetry.metrics.getMetrics('openmetrics')` (OpenMetrics carries the
   * exemplars the time-to-conversion chart shows; 0.0.4 text works without them). */
  readonly read: () => Promise<string>;
  /** Sampling period. Default 5000 ms. */
  readonly sampleIntervalMs?: number;
  /** Snapshots kept. Default 360 (30 minutes at 5 s). */
  readonly size?: number;
  /** Window for rates (conversion, latency), in milliseconds. Default 60000. */
  readonly windowMs?: number;
  /** Whether a trouble switch is on now (the shop's settings): healthy snapshots make revenue at risk's baseline. */
  readonly troubleActive?: () => boolean;
}

export class DashboardHistory {
  private readonly ring: Snapshot[] = [];
  private readonly exemplars = new Map<string, ConversionExemplar>();
  private readonly read: () => Promise<string>;
  readonly sampleIntervalMs: number;
  private readonly size: number;
  private readonly windowMs: number;
  private readonly troubleActive: () => boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: DashboardHistoryOptions) {
    this.read = options.read;
    this.sampleIntervalMs = options.sampleIntervalMs ?? 5000;
    this.size = Math.max(2, options.size ?? 360);
    this.windowMs = options.windowMs ?? 60_000;
    this.troubleActive = options.troubleActive ?? (() => false);
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get length(): number {
    return this.ring.length;
  }

  /** Take a snapshot now and append it to the ring (dropping the oldest beyond `size`). */
  async sample(): Promise<void> {
    const samples = parseExposition(await this.read());
    this.remember(samples);
    const snapshot = toSnapshot(samples, Date.now(), this.troubleActive());
    this.ring.push(snapshot);
    if (this.ring.length > this.size) this.ring.splice(0, this.ring.length - this.size);
  }

  /** Current totals from a fresh read, and the timelines from the ring. */
  async data(): Promise<DashboardData> {
    const samples = parseExposition(await this.read());
    this.remember(samples);
    const now = toSnapshot(samples, Date.now(), this.troubleActive());
    const history = [...this.ring, now];
    const baseline = revenuePerCartView(history);
    const since = (history[0]?.t ?? now.t) / 1000 - this.sampleIntervalMs / 1000;

    const funnel = FUNNEL_STEPS.map((step, i) => {
      const count = now.funnel[step] ?? 0;
      const previous = i > 0 ? (now.funnel[FUNNEL_STEPS[i - 1] ?? ''] ?? 0) : 0;
      return {
        step,
        count,
        dropOffPct: i > 0 && previous > 0 ? round(100 * (1 - count / previous), 1) : null,
      };
    });
    const orderValueCumulative = [...ORDER_VALUE_BUCKETS.map(String), '+Inf'].map((le) =>
      sumOf(samples, `${ORDER_VALUE}_bucket`, { le }),
    );
    const orderValueCounts = orderValueCumulative.map(
      (c, i) => c - (i > 0 ? (orderValueCumulative[i - 1] ?? 0) : 0),
    );
    const features = [...sumBy(samples, FEATURE_USAGE, 'feature_name')]
      .map(([name, count]) => ({ name, count }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
      .slice(0, 12);
    const cartViews = now.funnel.cart_view ?? 0;
    const orders = now.funnel.order_confirmed ?? 0;
    const sessionsWithCart = total(now.sessionsWithCartByVariant);
    const sessionsWithOrder = total(now.sessionsWithOrderByVariant);
    const latestWindow = this.windowed(history, history.length - 1, baseline);

    const regions = new Set<string>();
    const tiers = new Set<string>();
    const variants = new Set<string>();
    for (const s of history) {
      for (const variant of s.sessionsWithCartByVariant.keys()) variants.add(variant);
      for (const region of s.revenuePerMinute.keys()) regions.add(region);
      for (const tier of s.activeUsers.keys()) tiers.add(tier);
    }
    const byKey = (keys: Set<string>, pick: (s: Snapshot) => ReadonlyMap<string, number>) =>
      Object.fromEntries([...keys].sort().map((key) => [key, history.map((s) => pick(s).get(key) ?? null)]));
    const windows = history.map((_, i) => this.windowed(history, i, baseline));
    const lostKeys = new Set<string>();
    for (const w of windows) {
      for (const currency of Object.keys(w.insights.errorCostPerMinute)) lostKeys.add(`lost ${currency}`);
      for (const currency of Object.keys(w.insights.revenueAtRiskPerMinute))
        lostKeys.add(`at risk ${currency}`);
    }

    return {
      generatedAt: now.t,
      sampleIntervalMs: this.sampleIntervalMs,
      totals: {
        orders,
        money: moneyTotals(samples),
        cartViews,
        checkoutErrors: now.funnel.checkout_error ?? 0,
        conversionRatePct: percent(sessionsWithOrder, sessionsWithCart),
        activeUsersDaily: [...now.activeUsers.values()].reduce((a, b) => a + b, 0),
        sessionsEnded: sumOf(samples, `${SESSION_DURATION}_count`),
        httpP95Ms: latestWindow.httpP95Ms,
        httpErrorRatePct: latestWindow.httpErrorRatePct,
        insights: latestWindow.insights,
      },
      funnel,
      orderValue: { bucketsCents: ORDER_VALUE_BUCKETS, counts: orderValueCounts },
      features,
      timeline: {
        t: history.map((s) => Math.round(s.t / 1000)),
        conversionRatePct: windows.map((w) => w.conversionRatePct),
        conversionRatePctByVariant: Object.fromEntries(
          [...variants].sort().map((v) => [v, windows.map((w) => w.conversionByVariant.get(v) ?? null)]),
        ),
        revenuePerMinute: byKey(regions, (s) => s.revenuePerMinute),
        activeUsers: byKey(tiers, (s) => s.activeUsers),
        httpP95Ms: windows.map((w) => w.httpP95Ms),
        httpErrorRatePct: windows.map((w) => w.httpErrorRatePct),
        timeToConversionP50S: windows.map((w) => w.timeToConversionP50S),
        timeToConversionP95S: windows.map((w) => w.timeToConversionP95S),
        eventLoopDelayP99Ms: history.map((s) => s.eventLoopDelayP99Ms),
        heapUsedMb: history.map((s) => s.heapUsedMb),
        checkoutScore: windows.map((w) => roundOrNull(w.insights.checkoutScore, 1)),
        serviceScore: windows.map((w) => roundOrNull(w.insights.serviceScore, 1)),
        lostRevenuePerMinute: Object.fromEntries(
          [...lostKeys].sort().map((key) => {
            const [kind, currency] = key.startsWith('lost ')
              ? ['lost', key.slice(5)]
              : ['risk', key.slice(8)];
            const pick = (w: (typeof windows)[number]) =>
              (kind === 'lost' ? w.insights.errorCostPerMinute : w.insights.revenueAtRiskPerMinute)[currency];
            return [key, windows.map((w) => roundOrNull(pick(w) ?? null, 2))];
          }),
        ),
      },
      conversionExemplars: [...this.exemplars.values()]
        .filter((exemplar) => exemplar.t >= since)
        .sort((a, b) => a.t - b.t),
    };
  }

  /** Keeps every exemplar seen on the time-to-conversion buckets (the package replaces them; we remember). */
  private remember(samples: readonly Sample[]): void {
    for (const sample of samples) {
      const exemplar = sample.exemplar;
      if (sample.name !== TIME_TO_CONVERSION_BUCKET || exemplar === undefined) continue;
      const traceId = exemplar.labels.trace_id;
      const spanId = exemplar.labels.span_id;
      if (!traceId || !spanId || exemplar.timestamp === undefined) continue;
      this.exemplars.set(`${traceId}/${spanId}`, {
        t: exemplar.timestamp,
        seconds: exemplar.value,
        traceId,
        spanId,
      });
    }
    if (this.exemplars.size > MAX_EXEMPLARS) {
      const oldest = [...this.exemplars.entries()].sort((a, b) => a[1].t - b[1].t);
      for (const [key] of oldest.slice(0, this.exemplars.size - MAX_EXEMPLARS)) this.exemplars.delete(key);
    }
  }

  /** Rates over the trailing window ending at history[i] (from the oldest snapshot inside the window). */
  private windowed(
    history: readonly Snapshot[],
    i: number,
    baseline: ReadonlyMap<string, number>,
  ): {
    conversionRatePct: number | null;
    conversionByVariant: Map<string, number | null>;
    httpP95Ms: number | null;
    httpErrorRatePct: number | null;
    timeToConversionP50S: number | null;
    timeToConversionP95S: number | null;
    insights: InsightFigures;
  } {
    const end = history[i];
    if (!end)
      return {
        insights: NO_INSIGHTS,
        conversionRatePct: null,
        conversionByVariant: new Map(),
        httpP95Ms: null,
        httpErrorRatePct: null,
        timeToConversionP50S: null,
        timeToConversionP95S: null,
      };
    let j = i;
    while (j > 0 && end.t - (history[j - 1]?.t ?? 0) <= this.windowMs) j--;
    const start = j < i ? history[j] : undefined;
    const delta = (pick: (s: Snapshot) => number) => pick(end) - (start ? pick(start) : 0);
    const sessionsWithCart = delta((s) => total(s.sessionsWithCartByVariant));
    const sessionsWithOrder = delta((s) => total(s.sessionsWithOrderByVariant));
    const requests = delta((s) => s.httpCount);
    const errors = delta((s) => s.httpServerErrors);
    const buckets = new Map<number, number>();
    for (const [le, count] of end.httpBuckets) buckets.set(le, count - (start?.httpBuckets.get(le) ?? 0));
    const p95 = quantile(0.95, buckets);
    const conversionBuckets = new Map<number, number>();
    for (const [le, count] of end.conversionBuckets) {
      conversionBuckets.set(le, count - (start?.conversionBuckets.get(le) ?? 0));
    }
    const conversionP50 = quantile(0.5, conversionBuckets);
    const conversionP95 = quantile(0.95, conversionBuckets);
    const conversionByVariant = new Map<string, number | null>();
    for (const [variant, withCart] of end.sessionsWithCartByVariant) {
      const windowWithCart = withCart - (start?.sessionsWithCartByVariant.get(variant) ?? 0);
      const windowWithOrder =
        (end.sessionsWithOrderByVariant.get(variant) ?? 0) -
        (start?.sessionsWithOrderByVariant.get(variant) ?? 0);
      conversionByVariant.set(variant, percent(windowWithOrder, windowWithCart));
    }
    return {
      insights: insightsOf(start, end, baseline),
      conversionRatePct: percent(sessionsWithOrder, sessionsWithCart),
      conversionByVariant,
      httpP95Ms: p95 === null ? null : round(p95 * 1000, 1),
      httpErrorRatePct: requests > 0 ? round((100 * errors) / requests, 2) : null,
      timeToConversionP50S: conversionP50 === null ? null : round(conversionP50, 1),
      timeToConversionP95S: conversionP95 === null ? null : round(conversionP95, 1),
    };
  }
}

function toSnapshot(samples: readonly Sample[], t: number, troubled = false): Snapshot {
  const funnel: Record<string, number> = {};
  for (const step of CHECKOUT_STEPS) funnel[step] = sumOf(samples, FUNNEL, { step });
  const httpBucketName = [`${HTTP_FAMILY_PREFIX}_seconds_bucket`, `${HTTP_FAMILY_PREFIX}_bucket`].find(
    (name) => samples.some((s) => s.name === name),
  );
  const httpBuckets = new Map<number, number>();
  const checkoutBuckets = new Map<number, number>();
  let httpServerErrors = 0;
  let httpCount = 0;
  let checkoutServerErrors = 0;
  for (const sample of samples) {
    if (sample.name !== httpBucketName) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    const serverError = Number(sample.labels.http_response_status_code ?? 0) >= 500;
    httpBuckets.set(le, (httpBuckets.get(le) ?? 0) + sample.value);
    if (le === Infinity) {
      httpCount += sample.value;
      if (serverError) httpServerErrors += sample.value;
    }
    if (CHECKOUT_ROUTE.test(sample.labels.http_route ?? '')) {
      checkoutBuckets.set(le, (checkoutBuckets.get(le) ?? 0) + sample.value);
      if (le === Infinity && serverError) checkoutServerErrors += sample.value;
    }
  }
  const conversionBuckets = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name !== TIME_TO_CONVERSION_BUCKET) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    conversionBuckets.set(le, (conversionBuckets.get(le) ?? 0) + sample.value);
  }
  const delay = samples.find((s) => s.name === EVENT_LOOP_DELAY_P99);
  const heap = samples.filter((s) => s.name === HEAP_USED);
  return {
    t,
    funnel,
    conversionBuckets,
    eventLoopDelayP99Ms: delay ? round(delay.value * 1000, 2) : null,
    heapUsedMb: heap.length > 0 ? round(heap.reduce((a, s) => a + s.value, 0) / 2 ** 20, 1) : null,
    sessionsWithCartByVariant: sumBy(samples, FUNNEL, 'experiment_variant', {
      step: SESSION_OUTCOME_STEPS.withCart,
    }),
    sessionsWithOrderByVariant: sumBy(samples, FUNNEL, 'experiment_variant', {
      step: SESSION_OUTCOME_STEPS.withOrder,
    }),
    revenuePerMinute: inUnitsBy(samples, REVENUE_PER_MINUTE, 'region'),
    activeUsers: sumBy(samples, ACTIVE_USERS, 'user_tier', { window: 'daily' }),
    httpBuckets,
    httpCount,
    httpServerErrors,
    checkoutBuckets,
    checkoutServerErrors,
    revenueByCurrency: sumBy(samples, REVENUE, 'currency'),
    ordersByCurrency: sumBy(samples, `${ORDER_VALUE}_count`, 'currency'),
    troubled,
  };
}

const NO_INSIGHTS: InsightFigures = {
  checkoutScore: null,
  serviceScore: null,
  errorCostPerMinute: {},
  revenueAtRiskPerMinute: {},
};

/**
 * Minor units of revenue per cart view, by currency, over the intervals between two healthy snapshots (no trouble
 * switch on at either end): what the shop earns from a cart view when nothing is wrong. The Prometheus rules
 * expect the same time last week instead, which a demo that started minutes ago does not have.
 */
function revenuePerCartView(history: readonly Snapshot[]): Map<string, number> {
  let cartViews = 0;
  const revenue = new Map<string, number>();
  for (let i = 1; i < history.length; i++) {
    const [a, b] = [history[i - 1]!, history[i]!];
    if (a.troubled || b.troubled) continue;
    cartViews += (b.funnel.cart_view ?? 0) - (a.funnel.cart_view ?? 0);
    for (const [currency, total] of b.revenueByCurrency) {
      revenue.set(currency, (revenue.get(currency) ?? 0) + total - (a.revenueByCurrency.get(currency) ?? 0));
    }
  }
  const perCartView = new Map<string, number>();
  if (cartViews > 0) for (const [currency, total] of revenue) perCartView.set(currency, total / cartViews);
  return perCartView;
}

/** The insight figures between two snapshots (the rules' formulas; src/insights has the score's). */
function insightsOf(
  start: Snapshot | undefined,
  end: Snapshot,
  baseline: ReadonlyMap<string, number>,
): InsightFigures {
  const minutes = start ? (end.t - start.t) / 60_000 : 0;
  if (!(minutes > 0)) return NO_INSIGHTS;
  const delta = (pick: (s: Snapshot) => number) => pick(end) - pick(start!);
  const bucket = (buckets: ReadonlyMap<number, number>, le: number) => buckets.get(le) ?? 0;
  const score = (buckets: (s: Snapshot) => ReadonlyMap<number, number>, errors: (s: Snapshot) => number) => {
    const total = delta((s) => bucket(buckets(s), Infinity));
    const a = apdex(
      delta((s) => bucket(buckets(s), APDEX_T)),
      delta((s) => bucket(buckets(s), APDEX_4T)),
      total,
    );
    return experienceScore(a, total > 0 ? delta(errors) / total : null);
  };
  // Failed attempts: the larger of the app's failure steps and the checkout 5xx, never both (as the rules count).
  const failures = Math.max(
    delta((s) => FAILED_CHECKOUT_STEPS.reduce((sum, step) => sum + (s.funnel[step] ?? 0), 0)),
    delta((s) => s.checkoutServerErrors),
  );
  const allOrders = [...end.ordersByCurrency.values()].reduce((a, b) => a + b, 0);
  const errorCostPerMinute: Record<string, number> = {};
  const revenueAtRiskPerMinute: Record<string, number> = {};
  for (const [currency, revenue] of end.revenueByCurrency) {
    if (!/^[A-Z]{3}$/.test(currency)) continue;
    // Mean order value × share of orders = revenue per order of any currency, since the shop started.
    if (allOrders > 0)
      errorCostPerMinute[currency] = minorToUnits((failures * revenue) / allOrders / minutes, currency);
    const perCartView = baseline.get(currency);
    if (perCartView !== undefined) {
      const expected = delta((s) => s.funnel.cart_view ?? 0) * perCartView;
      const actual = revenue - (start!.revenueByCurrency.get(currency) ?? 0);
      revenueAtRiskPerMinute[currency] = minorToUnits(Math.max(0, expected - actual) / minutes, currency);
    }
  }
  return {
    checkoutScore: score(
      (s) => s.checkoutBuckets,
      (s) => s.checkoutServerErrors,
    ),
    serviceScore: score(
      (s) => s.httpBuckets,
      (s) => s.httpServerErrors,
    ),
    errorCostPerMinute,
    revenueAtRiskPerMinute,
  };
}

function roundOrNull(value: number | null, digits: number): number | null {
  return value === null || !Number.isFinite(value) ? null : round(value, digits);
}

function total(values: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const value of values.values()) sum += value;
  return sum;
}

/** 100 * part / whole to two decimals; null without a whole. */
function percent(part: number, whole: number): number | null {
  return whole > 0 ? round((100 * part) / whole, 2) : null;
}

/** Sums of a money family by `label` and currency, keyed "value CURRENCY", in units of the currency. */
function inUnitsBy(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const sample of samples) {
    const currency = sample.labels.currency;
    if (sample.name !== name || !currency) continue;
    const key = `${sample.labels[label] ?? ''} ${currency}`;
    groups.set(key, (groups.get(key) ?? 0) + minorToUnits(sample.value, currency));
  }
  return groups;
}

function moneyTotals(samples: readonly Sample[]): DashboardData['totals']['money'] {
  const gross = sumBy(samples, REVENUE, 'currency');
  const refunds = sumBy(samples, REFUNDS, 'currency');
  return [...new Set([...gross.keys(), ...refunds.keys()])]
    .filter((currency) => /^[A-Z]{3}$/.test(currency))
    .sort()
    .map((currency) => {
      const g = gross.get(currency) ?? 0;
      const r = refunds.get(currency) ?? 0;
      return {
        currency,
        revenue: minorToUnits(g, currency),
        refunds: minorToUnits(r, currency),
        net: minorToUnits(g - r, currency),
      };
    });
}

/** Prometheus-style histogram_quantile over cumulative buckets (linear interpolation inside a bucket). */
export function quantile(q: number, cumulative: ReadonlyMap<number, number>): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return previousBound;
      const inBucket = count - previousCount;
      return inBucket > 0
        ? previousBound + ((bound - previousBound) * (rank - previousCount)) / inBucket
        : bound;
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
