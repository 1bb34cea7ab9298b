/**
 * "The same answers" between backends that received one workload by different paths (a Prometheus per push path in
 * tests/push/, Thanos against one Prometheus in tests/fleet/): which queries are compared, and what "the same" means
 * for each. The one comparison both use (sameAnswerCases, answer, expectSameAnswers):
 *   - every compared query has data on every backend that can have it (the exceptions are stated by the caller,
 *     each with its reason), and NaN is never a figure (0/0: counters that did not move), so two empty or two NaN
 *     answers never pass as "the same";
 *   - totals (the last cumulative value) exactly: nothing lost or doubled on the way;
 *   - ratios, shares and quantiles to 1e-6 relative: each backend samples at its own instants, but every counter of
 *     a workload grows in the same proportion at every sample, so these do not depend on when samples were taken;
 *   - absolute rates and increases (revenue per minute, cart views per hour) per cart view, to 1e-4: their
 *     extrapolation depends on when a backend's first and last samples fell in the window; divided by the same
 *     backend's cart-view rate over the same window (read the same way: recorded by the same rule group, or from
 *     the raw counter; per instance where the answer is per instance) it does not, up to the millisecond apart at
 *     which one export's counters can be stamped;
 *   - `le` bucket bounds as numbers: Prometheus 3 writes a scraped bound as "60.0", an OTLP-received one as "60";
 *   - alerts as verdicts (alertCases): the expression with every comparison a `bool` one, so a healthy series shows
 *     as 0 instead of vanishing, and each of its parts (the operands the verdict is computed from:
 *     tests/support/promql.ts), read as they can have data within a run of seconds: offsets (`offset 7d`,
 *     `offset 15m`) shortened to 2 s and `absent_over_time` read as `present_over_time`; the real offsets and the
 *     thresholds are promtool's to test on days of synthetic history (otel-collector/prometheus/rules/*.test.yml);
 *   - what reads only last week (LAST_WEEK_RULES, LAST_WEEK_ALERTS) is empty in a run of seconds: it is compared
 *     again with last week read as 2 s ago, where it has data.
 * Labels that say where a series came from (job, instance, scope, Thanos's replica and tenant labels) are left out,
 * unless the backends saw the same instances (tests/fleet keeps job and instance).
 */
import { boolComparisons, leafExpressions } from './promql';
import { allRules, inlineRecordingRules } from '../backend/backend-files';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Labels that name where a series came from, not what it counts. */
export const ORIGIN_LABELS = new Set([
  'job',
  'instance',
  'otel_scope_name',
  'otel_scope_version',
  'otel_scope_schema_url',
  // Thanos: Receive's tenant, and the replica labels Query dedups along (present only with dedup off).
  'tenant_id',
  'receive_replica',
  'rule_replica',
]);

export const SEED_QUERIES = [
  'sum(rate(business_funnel_step_total{step="order_confirmed"}[1h])) / sum(rate(business_funnel_step_total{step="cart_view"}[1h])) * 100',
  'sum by (region) (rate(business_revenue_cents_total[5m])) * 60',
  'histogram_quantile(0.5, sum by (product_category, le) (rate(business_order_value_cents_bucket[1h])))',
  'sum by (feature_name) (rate(business_feature_usage_total{is_new_user="true"}[24h])) / ignoring (feature_name) group_left sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) * 100',
  'histogram_quantile(0.95, sum by (user_tier, le) (rate(business_session_duration_seconds_bucket[1h])))',
];

export const TOTALS = [
  'sum(business_funnel_step_total{step="cart_view"})',
  'sum by (step) (business_funnel_step_total)',
  'sum by (region) (business_revenue_cents_total)',
  'sum by (product_category) (business_order_value_cents_count)',
  'sum by (product_category) (business_order_value_cents_sum)',
  'sum by (le) (business_session_duration_seconds_bucket)',
  'sum by (metric, reason) (business_metrics_dropped_total)',
  'sum by (window, user_tier) (business_active_users)',
];

/**
 * The cart-view rate over the same window, taken the same way as `query` takes its data: from the recorded series
 * of the same rule group (evaluated at the same instant) when the query reads recorded series, from the raw
 * counter otherwise. Undefined for a query over no window. `at`: for a recorded series whose group records no
 * cart-view rate of its window (`...:increase30m`), the raw rate must be taken at the instant the rule was
 * evaluated (the sample's timestamp), where it sees the same samples.
 */
export function cartViewRateFor(query: string): { expr: string; at?: string } | undefined {
  const cartViews = 'business_funnel_step_total{step="cart_view"}';
  // Anchored increases are differences of real samples, not extrapolated: divide by the same of cart views.
  const anchored = /\[(\d+[smhd])\]\s*anchored\b/.exec(query)?.[1];
  if (anchored) return { expr: `sum(increase(${cartViews}[${anchored}] anchored))` };
  const recordedAnchored = /:increase(\d+[smhd])_anchored$/.exec(query)?.[1];
  if (recordedAnchored)
    return { expr: `sum(increase(${cartViews}[${recordedAnchored}] anchored))`, at: query };
  const offsetWindow = /\[(\d+[smhd])\]\s*(offset\s+\d+[smhd])/.exec(query);
  if (offsetWindow) return { expr: `sum(rate(${cartViews}[${offsetWindow[1]}] ${offsetWindow[2]}))` };
  const recorded = /:(?:rate|increase)(\d+[smhd])/.exec(query)?.[1];
  if (recorded === '5m' || recorded === '1h')
    return { expr: `step:business_funnel_step:rate${recorded}{step="cart_view"}` };
  if (recorded && /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/.test(query))
    return { expr: `sum(rate(${cartViews}[${recorded}]))`, at: query };
  const window = /\[(\d+[smhd])\]/.exec(query)?.[1];
  return window ? { expr: `sum(rate(${cartViews}[${window}]))` } : undefined;
}

/** An alert's verdict or part as it can have data within a run of seconds (see the top comment). */
export function withinRun(expr: string): string {
  return expr
    .replace(/\boffset\s+\d+[smhdwy]/g, 'offset 2s')
    .replace(/\babsent_over_time\(/g, 'present_over_time(');
}

/** [name, expr] of every seed query, recorded series and recording rule expression. */
export function comparisonCases(recordingFiles: string[]): Array<[string, string]> {
  const recording = recordingFiles.flatMap(allRules).filter((rule) => rule.record);
  return [
    ...SEED_QUERIES.map((expr, i) => [`seed query ${i + 1}`, expr] as [string, string]),
    ...recording.map((rule) => [`recorded series ${rule.record}`, rule.record!] as [string, string]),
    ...recording.map((rule) => [`recording rule expression ${rule.record}`, rule.expr] as [string, string]),
  ];
}

/**
 * [name, expr] of every alert's verdict (where the alert compares anything; a set-operation alert such as
 * BusinessMetricsPushStopped is rightly empty when healthy, and its parts carry the data) and every part of it,
 * read within a run (see the top comment).
 */
export function alertCases(alertFiles: string[]): Array<[string, string]> {
  const alerts = alertFiles.flatMap(allRules).filter((rule) => rule.alert);
  return [
    ...alerts
      .filter((rule) => boolComparisons(rule.expr) !== rule.expr)
      .map(
        (rule) =>
          [`alert verdict ${rule.alert}`, withinRun(boolComparisons(rule.expr.trim()))] as [string, string],
      ),
    ...alerts.flatMap((rule) =>
      leafExpressions(rule.expr).map(
        (part) =>
          [`alert ${rule.alert} part ${withinRun(part).replace(/\s+/g, ' ')}`, withinRun(part)] as [
            string,
            string,
          ],
      ),
    ),
  ];
}

/**
 * Recording rules that read only last week (`offset 7d`): a run of seconds has no data for them. As shipped they are
 * compared on nine days of backfilled history in tests/fleet/thanos.e2e.test.ts and unit-tested with promtool
 * (otel-collector/prometheus/rules/*.test.yml).
 */
export const LAST_WEEK_RULES = [
  'currency:business_net_revenue_cents:increase30m_offset7d',
  'currency:business_orders:increase30m_offset7d',
  'currency:business_net_revenue:week_over_week_ratio30m',
  'business:cart_views:ratio_increase1h_offset7d',
  'currency:business_expected_revenue_cents:rate5m_per_minute',
  'currency:business_revenue_at_risk_cents:rate5m_per_minute',
  'currency:business_revenue_at_risk:ratio_rate5m',
  'currency:business_expected_revenue_cents:increase1h',
  'currency:business_revenue_at_risk_cents:increase1h',
];
/** Alerts whose verdict needs last week's data (through the rules above). */
export const LAST_WEEK_ALERTS = ['RevenueBelowBaseline', 'RevenueAtRisk'];

/**
 * Whether a case of sameAnswerCases reads only last week, so it has no data within a run: a rule above (its
 * recorded series or expression), the verdict of an alert above or an alert part that is one of the rules, or a
 * further case the caller names (`alsoNamed`: dashboard queries, say).
 */
export function readsOnlyLastWeek(name: string, expr: string, alsoNamed: readonly string[] = []): boolean {
  return (
    alsoNamed.includes(name) ||
    LAST_WEEK_RULES.some(
      (rule) => name === `recorded series ${rule}` || name === `recording rule expression ${rule}`,
    ) ||
    LAST_WEEK_ALERTS.some((alert) => name === `alert verdict ${alert}`) ||
    (name.startsWith('alert ') && LAST_WEEK_RULES.includes(expr.trim()))
  );
}

/**
 * Every case backends that received one workload are compared on: each seed query, recorded series and recording
 * rule expression of `ruleFiles` (comparisonCases), each alert's verdict and part (alertCases), and `extra` (the
 * dashboard's queries, say). Each case that reads only last week (readsOnlyLastWeek; `extraLastWeek` names such
 * `extra` cases) comes again with last week read as 2 s ago and the recorded series it reads inlined, so its
 * expression is compared on data too; only the recorded series themselves stay empty.
 */
export function sameAnswerCases(
  ruleFiles: string[],
  extra: Array<[string, string]> = [],
  extraLastWeek: readonly string[] = [],
): Array<[string, string]> {
  const direct = [...comparisonCases(ruleFiles), ...alertCases(ruleFiles), ...extra];
  return [
    ...direct,
    ...direct
      .filter(
        ([name, expr]) =>
          readsOnlyLastWeek(name, expr, extraLastWeek) && !name.startsWith('recorded series '),
      )
      .map(([name, expr]): [string, string] => [
        `${name}, last week read as 2 s ago`,
        withinRun(inlineRecordingRules(expr)),
      ]),
  ];
}

/** A series' labels as a key: origin labels left out, `le` as a number. */
function seriesKey(metric: Record<string, string>, originLabels: ReadonlySet<string>): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([name]) => !originLabels.has(name))
      .map(([name, value]) => [name, name === 'le' ? String(Number(value)) : value])
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** label set (origin labels left out, `le` as a number) -> value; a label set twice is an error. */
export function toVector(
  samples: readonly Sample[],
  where: string,
  originLabels: ReadonlySet<string> = ORIGIN_LABELS,
): Map<string, number> {
  const result = new Map<string, number>();
  for (const sample of samples) {
    const key = seriesKey(sample.metric, originLabels);
    if (result.has(key)) throw new Error(`${where}: two series with labels ${key}`);
    result.set(key, Number(sample.value[1]));
  }
  return result;
}

/** a and b within `tolerance` relative. NaN is never close to anything, NaN included: it is no figure. */
export function close(a: number, b: number, tolerance: number): boolean {
  return a === b || Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
}

export interface Answer {
  /** The query's result. */
  raw: Map<string, number>;
  /** The result divided by the same backend's cart-view rate over the same window (1 when there is no window). */
  perCartView: Map<string, number>;
}

/** A backend's instant query: at the comparison's evaluation time, or at `time` (epoch seconds) when given. */
export type InstantQuery = (expr: string, time?: number) => Promise<Sample[]>;

/**
 * Runs `expr` and its cart-view normalizer on one backend. `originLabels`: the labels left out of the answer; where
 * they do not include `instance` (backends fed by the same instances), an answer per instance is divided by each
 * instance's own cart-view rate: instances are sampled at their own instants, so the rates of one instance are in
 * the proportions of the workload, not in the proportion of one instance to the sum.
 */
export async function answer(
  query: InstantQuery,
  expr: string,
  where: string,
  originLabels: ReadonlySet<string> = ORIGIN_LABELS,
): Promise<Answer> {
  const samples = await query(expr);
  const raw = toVector(samples, where, originLabels);
  const normalizer = cartViewRateFor(expr);
  const perInstance =
    !originLabels.has('instance') &&
    samples.some((sample) => sample.metric.instance !== undefined) &&
    normalizer !== undefined &&
    normalizer.at === undefined &&
    normalizer.expr.startsWith('sum(');
  if (perInstance) {
    const byInstance = new Map(
      (await query(normalizer.expr.replace(/^sum\(/, 'sum by (instance) ('))).map((sample) => [
        sample.metric.instance,
        Number(sample.value[1]),
      ]),
    );
    const perCartView = new Map(
      samples.map((sample) => [
        seriesKey(sample.metric, originLabels),
        Number(sample.value[1]) / (byInstance.get(sample.metric.instance) ?? Number.NaN),
      ]),
    );
    return { raw, perCartView };
  }
  let cartViews = 1;
  if (normalizer?.at && raw.size > 0) {
    // The rule's last evaluation instant (its sample's timestamp); the data there no longer changes.
    const [stamp] = await query(`max(timestamp(${normalizer.at}))`);
    cartViews = Number((await query(normalizer.expr, Number(stamp?.value[1])))[0]?.value[1]);
  } else if (normalizer) {
    cartViews = Number((await query(normalizer.expr))[0]?.value[1]);
  }
  return { raw, perCartView: new Map([...raw].map(([key, value]) => [key, value / cartViews])) };
}

/**
 * What differs between `result` and `reference`: label sets, and values that match neither as they are (1e-6) nor
 * per cart view (1e-4). Empty when they are the same answer.
 */
export function differences(result: Answer, reference: Answer): string[] {
  const problems: string[] = [];
  const keys = (answer: Answer) => [...answer.raw.keys()].sort();
  if (JSON.stringify(keys(result)) !== JSON.stringify(keys(reference))) {
    problems.push(`label sets ${JSON.stringify(keys(result))} vs ${JSON.stringify(keys(reference))}`);
    return problems;
  }
  for (const [key, value] of result.raw) {
    const same = close(value, reference.raw.get(key)!, 1e-6);
    const samePerCartView = close(result.perCartView.get(key)!, reference.perCartView.get(key)!, 1e-4);
    if (!same && !samePerCartView) {
      problems.push(
        `${key}: ${value} vs ${reference.raw.get(key)} (per cart view ${result.perCartView.get(key)} vs ` +
          `${reference.perCartView.get(key)})`,
      );
    }
  }
  return problems;
}

/**
 * The one check of a case's answers on several backends (by name, in order): data on exactly the backends in
 * `withData` (the caller states why any other has none) and none elsewhere, no NaN in any answer, and every backend
 * with data giving the first one's answer (differences), or, where `labelSetsOnly` says so, its label sets.
 */
export function expectSameAnswers(
  expr: string,
  answers: ReadonlyMap<string, Answer>,
  withData: readonly string[],
  labelSetsOnly: (backend: string) => boolean = () => false,
): void {
  expect({
    expr,
    withData: [...answers].filter(([, result]) => result.raw.size > 0).map(([backend]) => backend),
  }).toEqual({ expr, withData: [...withData] });
  for (const backend of withData) {
    const nan = [...answers.get(backend)!.raw].filter(([, value]) => Number.isNaN(value)).map(([key]) => key);
    expect({ backend, expr, nan }).toEqual({ backend, expr, nan: [] });
  }
  if (withData.length === 0) return;
  const reference = answers.get(withData[0])!;
  for (const backend of withData.slice(1)) {
    const problems = differences(answers.get(backend)!, reference).filter(
      (problem) => !labelSetsOnly(backend) || problem.startsWith('label sets'),
    );
    expect({ backend, expr, problems }).toEqual({ backend, expr, problems: [] });
  }
}
