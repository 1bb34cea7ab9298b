/**
 * The provisioned Grafana business dashboard, built from the metric catalog and the recording rule names.
 *
 * Owns: the dashboard's panels and PromQL, the names of the recording rules it (and the alerts) read, and the
 * extraction of alert thresholds from a parsed rule file, so the dashboard shows the thresholds the alerts
 * really use. Must not touch: I/O, YAML parsing, the SDK. `scripts/generate-dashboard.mjs` reads the rule file
 * and writes `otel-collector/grafana/dashboards/business.json`; a test regenerates and compares it.
 * Must not import: `node:*`, `yaml`, `@opentelemetry/*`.
 */
import {
  BUSINESS_METRICS,
  CHECKOUT_STEPS,
  DEFAULT_LABEL_POLICIES,
  EXACT_MONEY_FIGURES,
  PROMETHEUS_FAMILIES,
  PROMETHEUS_SELF_FAMILIES,
  exactMoneyQuery,
} from '../catalog';
import {
  DEFAULT_INSIGHT_RULE_OPTIONS,
  FAILED_CHECKOUT_STEPS,
  INSIGHT_RULES,
  insightExpressions,
} from '../insights/rules';

/** The `window` label's values (daily, weekly, monthly), one dashboard query each. */
const ACTIVE_USER_WINDOW_VALUES: readonly string[] =
  DEFAULT_LABEL_POLICIES.window.kind === 'allow' ? DEFAULT_LABEL_POLICIES.window.values : [];

/**
 * Recording rules defined in `otel-collector/prometheus/rules/business-recording.yml` that the dashboard and the
 * alerts read. Names follow `level:metric:operations`; a test checks each is defined in the rule file.
 */
export const RECORDING_RULES = {
  funnelStepRate5m: 'step:business_funnel_step:rate5m',
  funnelStepRate1h: 'step:business_funnel_step:rate1h',
  cartViewsIncrease1h: 'business:cart_views:increase1h',
  conversionRate1h: 'business:conversion_rate:ratio_rate1h',
  conversionRate7d: 'business:conversion_rate:ratio_rate7d',
  cartAbandonment1h: 'business:cart_abandonment:ratio_rate1h',
  cartAbandonment7d: 'business:cart_abandonment:ratio_rate7d',
  revenuePerMinute: 'business:business_revenue_cents:rate5m_per_minute',
  revenuePerMinuteByRegion: 'region:business_revenue_cents:rate5m_per_minute',
  revenuePerMinuteByCurrency: 'currency:business_revenue_cents:rate5m_per_minute',
  refundsPerMinuteByCurrencyReason: 'currency_reason:business_refunds_cents:rate5m_per_minute',
  refundsPerMinuteByCurrency: 'currency:business_refunds_cents:rate5m_per_minute',
  netRevenuePerMinuteByCurrency: 'currency:business_net_revenue_cents:rate5m_per_minute',
  netRevenueUnitsPerMinuteByCurrency: 'currency:business_net_revenue_units:rate5m_per_minute',
  minorUnitsPerUnit: 'currency:business_currency_minor_units:last_over_time8d',
  netRevenueReportingByCurrency:
    'currency_reporting_currency:business_net_revenue_reporting_units:rate5m_per_minute',
  netRevenueReporting: 'reporting_currency:business_net_revenue_reporting_units:rate5m_per_minute',
  netRevenueIncrease30m: 'currency:business_net_revenue_cents:increase30m',
  netRevenueIncrease30mLastWeek: 'currency:business_net_revenue_cents:increase30m_offset7d',
  ordersIncrease30mLastWeek: 'currency:business_orders:increase30m_offset7d',
  netRevenueWeekOverWeek: 'currency:business_net_revenue:week_over_week_ratio30m',
  orderValueP50: 'product_category:business_order_value_cents:p50_rate1h',
  orderValueP95: 'product_category:business_order_value_cents:p95_rate1h',
  orderValueMean: 'product_category:business_order_value_cents:mean_rate1h',
  featureUsageRate1h: 'feature_name_is_new_user:business_feature_usage:rate1h',
  featureNewUserShare24h: 'feature_name:business_feature_usage:new_user_ratio_rate24h',
  sessionDurationP95: 'user_tier:business_session_duration_seconds:p95_rate1h',
  timeToConversionP50: 'conversion_type:business_time_to_conversion_seconds:p50_rate1h',
  timeToConversionP95: 'conversion_type:business_time_to_conversion_seconds:p95_rate1h',
} as const;

/** The alert thresholds the dashboard draws, as read from `business-alerts.yml`. */
export interface AlertThresholds {
  /** ConversionRateDrop fires below this conversion ratio (0..1). */
  readonly conversionRateFloor: number;
  /** HighCartAbandonment fires when 1h abandonment exceeds its 7-day average by more than this (0..1). */
  readonly cartAbandonmentMargin: number;
  /** RevenueBelowBaseline fires when a currency's net revenue falls below this share (0..1) of its own net
   * revenue in the same 30 minutes a week earlier. */
  readonly revenueWeekOverWeekFloor: number;
}

/** The shape of a Prometheus rule file after YAML parsing, reduced to what threshold extraction reads. */
export interface RuleFileLike {
  readonly groups: ReadonlyArray<{
    readonly rules: ReadonlyArray<{
      readonly alert?: string;
      readonly record?: string;
      readonly expr: string;
    }>;
  }>;
}

/**
 * Minor units per currency unit, per currency, as the package exports them (100 for USD, 1 for JPY, 1000 for
 * KWD): money panels divide by this, never by a fixed 100. The recording rule keeps each currency's value for 8
 * days: the gauge itself exists only from an instance's first amount in a currency, so after a restart a currency
 * not sold since would drop out of every money panel.
 */
const MINOR_UNITS_PER_UNIT = RECORDING_RULES.minorUnitsPerUnit;

/** `expr` (minor units, with a `currency` label) in units of its currency. */
function inCurrencyUnits(expr: string): string {
  // `group_left ()` spelt out: a tool that inlines the recording rule (its expression starts with `(`) must not
  // turn it into group_left's label list.
  return `${expr} / on (currency) group_left () ${MINOR_UNITS_PER_UNIT}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function thresholdOf(rules: RuleFileLike, alert: string, leftHandSide: string, operator: '<' | '>'): number {
  const rule = rules.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`alert ${alert} is not defined in the rule file`);
  const expr = rule.expr.replace(/\s+/g, ' ');
  const lhs = leftHandSide.split(/\s+/).map(escapeRegExp).join('\\s*');
  const match = new RegExp(`${lhs}\\s*${escapeRegExp(operator)}\\s*([0-9]*\\.?[0-9]+(?:e[-+]?[0-9]+)?)`).exec(
    expr,
  );
  if (!match) {
    // The dashboard would silently draw a stale threshold: refuse instead.
    throw new Error(
      `alert ${alert}: expected "${leftHandSide} ${operator} <number>" in its expression: ${expr}`,
    );
  }
  return Number(match[1]);
}

/**
 * Read the thresholds of ConversionRateDrop, HighCartAbandonment and RevenueBelowBaseline from a parsed
 * `business-alerts.yml`. Throws when an expression no longer has the expected shape.
 */
export function alertThresholdsFromRules(rules: RuleFileLike): AlertThresholds {
  return {
    conversionRateFloor: thresholdOf(rules, 'ConversionRateDrop', RECORDING_RULES.conversionRate1h, '<'),
    cartAbandonmentMargin: thresholdOf(
      rules,
      'HighCartAbandonment',
      `${RECORDING_RULES.cartAbandonment1h} - ${RECORDING_RULES.cartAbandonment7d}`,
      '>',
    ),
    revenueWeekOverWeekFloor: thresholdOf(
      rules,
      'RevenueBelowBaseline',
      RECORDING_RULES.netRevenueWeekOverWeek,
      '<',
    ),
  };
}

/** One PromQL query of a panel. */
export interface GrafanaTarget {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly format?: 'time_series' | 'heatmap' | 'table';
  readonly instant?: boolean;
  readonly range?: boolean;
  readonly datasource: { readonly type: 'prometheus'; readonly uid: string };
}

/** A panel of the generated dashboard (the subset of Grafana's panel model this generator uses). */
export interface GrafanaPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly GrafanaTarget[];
  readonly fieldConfig?: unknown;
  readonly options?: unknown;
  readonly collapsed?: boolean;
  readonly panels?: readonly GrafanaPanel[];
  /** Grafana's relative time override, e.g. `now/d`: "today so far" in the dashboard's time zone. */
  readonly timeFrom?: string;
}

/** The generated dashboard document (Grafana JSON model). */
export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly timezone: string;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: { readonly list: readonly unknown[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly panels: readonly GrafanaPanel[];
}

/** Options for {@link buildBusinessDashboard}. */
export interface BusinessDashboardOptions {
  /** Thresholds to draw; read them with {@link alertThresholdsFromRules}. */
  readonly thresholds: AlertThresholds;
  /** Uid of the Prometheus datasource (see grafana/provisioning/datasources). Default `prometheus`. */
  readonly datasourceUid?: string;
}

const family = { ...PROMETHEUS_FAMILIES, ...PROMETHEUS_SELF_FAMILIES };

/** A time series drawn red below an alert's floor, with the floor as a dashed line. */
function belowFloorIsRed(unit: string, floor: number) {
  return {
    defaults: {
      unit,
      decimals: 2,
      min: 0,
      custom: { lineWidth: 2, thresholdsStyle: { mode: 'dashed' } },
      thresholds: {
        mode: 'absolute',
        steps: [
          { color: 'red', value: null },
          { color: 'green', value: floor },
        ],
      },
    },
    overrides: [],
  };
}

function labels<K extends keyof typeof BUSINESS_METRICS>(key: K): (typeof BUSINESS_METRICS)[K]['labels'] {
  return BUSINESS_METRICS[key].labels;
}

/** Build the business dashboard. Deterministic: the same catalog and thresholds give byte-identical JSON. */
export function buildBusinessDashboard(options: BusinessDashboardOptions): GrafanaDashboard {
  const { thresholds } = options;
  const datasource = { type: 'prometheus' as const, uid: options.datasourceUid ?? 'prometheus' };
  let nextId = 1;
  let y = 0;
  const panels: GrafanaPanel[] = [];

  const row = (title: string): void => {
    panels.push({
      id: nextId++,
      type: 'row',
      title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
    });
    y += 1;
  };
  // Lays panels out left to right in one row of the given height.
  const line = (
    height: number,
    specs: Array<Omit<GrafanaPanel, 'id' | 'gridPos' | 'datasource'> & { w: number }>,
  ) => {
    let x = 0;
    for (const { w, targets, ...spec } of specs) {
      panels.push({
        id: nextId++,
        ...spec,
        datasource,
        targets: targets?.map((target) => ({ ...target, datasource })),
        gridPos: { x, y, w, h: height },
      });
      x += w;
    }
    y += height;
  };
  const target = (refId: string, expr: string, legendFormat: string, extra: Partial<GrafanaTarget> = {}) =>
    ({ refId, expr, legendFormat, ...extra, datasource }) as GrafanaTarget;
  const timeseries = (unit: string, extra: Record<string, unknown> = {}) => ({
    defaults: { unit, custom: { lineWidth: 2, fillOpacity: 10, ...extra } },
    overrides: [],
  });

  const [stepKey] = labels('funnelStep');
  const knownSteps = CHECKOUT_STEPS.join('|');

  row('Funnel and conversion');
  line(9, [
    {
      w: 8,
      type: 'bargauge',
      title: 'Checkout funnel by step (per minute, last hour)',
      description: `${family.funnelStep} per ${stepKey}, in checkout order, from ${RECORDING_RULES.funnelStepRate1h}.`,
      targets: [
        ...CHECKOUT_STEPS.map((step, index) =>
          target(
            String.fromCharCode(65 + index),
            `${RECORDING_RULES.funnelStepRate1h}{${stepKey}="${step}"} * 60`,
            step,
          ),
        ),
        target(
          String.fromCharCode(65 + CHECKOUT_STEPS.length),
          `sum(${RECORDING_RULES.funnelStepRate1h}{${stepKey}!~"${knownSteps}"}) * 60`,
          'other steps',
        ),
      ],
      fieldConfig: { defaults: { unit: 'short', decimals: 1, min: 0 }, overrides: [] },
      options: {
        orientation: 'horizontal',
        displayMode: 'gradient',
        reduceOptions: { calcs: ['lastNotNull'] },
      },
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Conversion rate (order_confirmed / cart_view)',
      description:
        `Last hour and 7-day average. The dashed line is ConversionRateDrop's floor ` +
        `(${thresholds.conversionRateFloor * 100}%, read from business-alerts.yml); a healthy shop converts ~3%.`,
      targets: [
        target('A', RECORDING_RULES.conversionRate1h, 'conversion (1h)'),
        target('B', RECORDING_RULES.conversionRate7d, '7-day average'),
      ],
      fieldConfig: belowFloorIsRed('percentunit', thresholds.conversionRateFloor),
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Cart abandonment vs its alert threshold',
      description:
        `1 - conversion over the last hour (~97% is healthy at 3% conversion). HighCartAbandonment fires when it ` +
        `exceeds its 7-day average by more than ${thresholds.cartAbandonmentMargin * 100} point(s): that moving ` +
        `threshold is drawn as its own series (values read from business-alerts.yml).`,
      targets: [
        target('A', RECORDING_RULES.cartAbandonment1h, 'abandonment (1h)'),
        target(
          'B',
          `${RECORDING_RULES.cartAbandonment7d} + ${thresholds.cartAbandonmentMargin}`,
          'HighCartAbandonment threshold',
        ),
      ],
      fieldConfig: timeseries('percentunit'),
    },
  ]);
  const [conversionTypeKey, conversionSourceKey] = labels('conversions');
  line(8, [
    {
      w: 8,
      type: 'timeseries',
      title: 'Conversions per minute by type and source (5m rate)',
      targets: [
        target(
          'A',
          `sum by (${conversionTypeKey}, ${conversionSourceKey}) (rate(${family.conversions}[5m])) * 60`,
          `{{${conversionTypeKey}}} {{${conversionSourceKey}}}`,
        ),
      ],
      fieldConfig: timeseries('short'),
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Funnel steps per minute (5m rate)',
      targets: [target('A', `${RECORDING_RULES.funnelStepRate5m} * 60`, `{{${stepKey}}}`)],
      fieldConfig: timeseries('short'),
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Time from session start to conversion (p50, p95)',
      targets: [
        target('A', RECORDING_RULES.timeToConversionP50, 'p50 {{conversion_type}}'),
        target('B', RECORDING_RULES.timeToConversionP95, 'p95 {{conversion_type}}'),
      ],
      fieldConfig: timeseries('s'),
    },
  ]);

  const [regionKey] = labels('revenuePerMinute');
  const [categoryKey] = labels('orderValue');
  const [, , , reasonKey] = labels('refunds');
  // Money panels show each currency in its own units (legend `{{currency}}`), so their Grafana unit is a plain
  // number: a fixed currency unit would be wrong for every currency but one.
  row('Revenue (per currency, in currency units)');
  // Today so far (the dashboard's time zone is UTC): the exact queries of src/catalog/exact-money.ts over
  // Grafana's `$__range`, which `timeFrom: now/d` makes the time since 00:00 UTC. Minor units, integers: the
  // figures a ledger of today's orders gives (docs/money.md#exact-to-the-cent).
  line(6, [
    {
      w: 24,
      type: 'table',
      title: 'Today (UTC) per currency, exact: sales, refunds, net and orders (minor units)',
      description:
        'Between real samples (Prometheus >= 3.16 `anchored`, with created-timestamp-zero-ingestion), so a ' +
        "currency's figure equals the sum of today's ledger in minor units (cents, yen, fils), except amounts " +
        'recorded in the last scrape or export interval before midnight, which count on the day they were ' +
        'first scraped or pushed. Rolling last hour and day: the `*:increase1h_anchored` and ' +
        '`*:increase1d_anchored` rules of business-money.yml.',
      timeFrom: 'now/d',
      targets: EXACT_MONEY_FIGURES.map((figure, i) =>
        target(String.fromCharCode(65 + i), exactMoneyQuery(figure, '$__range'), figure, {
          format: 'table',
          instant: true,
          range: false,
        }),
      ),
      fieldConfig: { defaults: { unit: 'none', decimals: 0 }, overrides: [] },
      options: { showHeader: true },
    },
  ]);
  line(9, [
    {
      w: 12,
      type: 'timeseries',
      title: 'Net revenue per minute by currency (sales minus refunds)',
      description:
        `From ${RECORDING_RULES.netRevenueUnitsPerMinuteByCurrency}; with exchange rates also the total in the ` +
        `reporting currency (${RECORDING_RULES.netRevenueReporting}). Currencies are never added together ` +
        'without a rate.',
      targets: [
        target('A', RECORDING_RULES.netRevenueUnitsPerMinuteByCurrency, 'net {{currency}}'),
        target('B', RECORDING_RULES.netRevenueReporting, 'total in {{reporting_currency}}'),
      ],
      fieldConfig: timeseries('short'),
    },
    {
      w: 12,
      type: 'timeseries',
      title: 'Net revenue against the same 30 minutes last week, by currency',
      description:
        `${RECORDING_RULES.netRevenueWeekOverWeek}: each currency against itself, never against a fixed amount. ` +
        `The dashed line is RevenueBelowBaseline's floor (${thresholds.revenueWeekOverWeekFloor * 100}%); a ` +
        `currency with fewer than 30 orders in that half hour last week is not judged.`,
      targets: [target('A', RECORDING_RULES.netRevenueWeekOverWeek, '{{currency}}')],
      fieldConfig: belowFloorIsRed('percentunit', thresholds.revenueWeekOverWeekFloor),
    },
  ]);
  line(9, [
    {
      w: 24,
      type: 'timeseries',
      title: 'Gross revenue, refunds and net per minute, by currency',
      description:
        `Gross (${RECORDING_RULES.revenuePerMinuteByCurrency}), refunds and chargebacks ` +
        `(${RECORDING_RULES.refundsPerMinuteByCurrency}) and net, each divided by the currency's minor units ` +
        `(${PROMETHEUS_FAMILIES.currencyMinorUnits}).`,
      targets: [
        target('A', inCurrencyUnits(RECORDING_RULES.revenuePerMinuteByCurrency), 'gross {{currency}}'),
        target('B', inCurrencyUnits(RECORDING_RULES.refundsPerMinuteByCurrency), 'refunds {{currency}}'),
        target('C', RECORDING_RULES.netRevenueUnitsPerMinuteByCurrency, 'net {{currency}}'),
      ],
      fieldConfig: timeseries('short'),
    },
  ]);
  line(9, [
    {
      w: 8,
      type: 'timeseries',
      title: 'Refunds per minute by reason (chargebacks apart)',
      description: `${family.refunds} by currency and ${reasonKey}, in currency units.`,
      targets: [
        target(
          'A',
          inCurrencyUnits(RECORDING_RULES.refundsPerMinuteByCurrencyReason),
          `{{${reasonKey}}} {{currency}}`,
        ),
      ],
      fieldConfig: timeseries('short'),
    },
    {
      w: 8,
      type: 'stat',
      title: 'Revenue in the last rolling minute, by region and currency',
      description: `${family.revenuePerMinute}, the app's own rolling one-minute window (gross).`,
      targets: [
        target(
          'A',
          inCurrencyUnits(`sum by (${regionKey}, currency) (${family.revenuePerMinute})`),
          `{{${regionKey}}} {{currency}}`,
        ),
      ],
      fieldConfig: { defaults: { unit: 'short', decimals: 2 }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' },
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Exchange rates into the reporting currency (only when the app gives them)',
      description:
        `${family.exchangeRate}: units of reporting_currency per unit of currency, as the app gives them. ` +
        'Empty without a reporting currency: then nothing is converted.',
      targets: [
        target(
          'A',
          `max by (currency, reporting_currency) (${family.exchangeRate})`,
          '{{currency}} in {{reporting_currency}}',
        ),
      ],
      fieldConfig: timeseries('short'),
    },
  ]);
  line(9, [
    {
      w: 12,
      type: 'timeseries',
      title: 'Order value by product category and currency (median, p95, mean; last hour)',
      targets: [
        target('A', inCurrencyUnits(RECORDING_RULES.orderValueP50), `median {{${categoryKey}}} {{currency}}`),
        target('B', inCurrencyUnits(RECORDING_RULES.orderValueP95), `p95 {{${categoryKey}}} {{currency}}`),
        target('C', inCurrencyUnits(RECORDING_RULES.orderValueMean), `mean {{${categoryKey}}} {{currency}}`),
      ],
      fieldConfig: timeseries('short'),
    },
    {
      w: 12,
      type: 'bargauge',
      title: 'Order value distribution (orders per bucket, last hour)',
      description:
        `Buckets of ${family.orderValue}, per currency (upper bounds in minor units of that currency: ` +
        `${BUSINESS_METRICS.orderValue.buckets.join(', ')}; 10000 is 100.00 USD but 10000 JPY).`,
      targets: [
        target(
          'A',
          `sum by (currency, le) (increase(${family.orderValue}_bucket[1h]))`,
          '{{currency}} {{le}}',
          {
            format: 'heatmap',
            instant: true,
            range: false,
          },
        ),
      ],
      fieldConfig: { defaults: { unit: 'short', decimals: 0, min: 0 }, overrides: [] },
      options: { orientation: 'horizontal', displayMode: 'basic', reduceOptions: { calcs: ['lastNotNull'] } },
    },
  ]);

  const [featureKey, tierKey, newUserKey] = labels('featureUsage');
  const [windowKey] = labels('activeUsers');
  row('Engagement');
  line(9, [
    {
      w: 8,
      type: 'timeseries',
      title: 'Feature usage per minute: new vs returning users',
      targets: [
        target(
          'A',
          `sum by (${newUserKey}) (${RECORDING_RULES.featureUsageRate1h}) * 60`,
          `${newUserKey}={{${newUserKey}}}`,
        ),
      ],
      fieldConfig: timeseries('short', { stacking: { mode: 'normal' } }),
    },
    {
      w: 8,
      type: 'bargauge',
      title: 'Share of new-user feature usage by feature (24h)',
      description:
        "The seed's feature adoption query, corrected (it divided by an unmatched sum and returned nothing).",
      targets: [target('A', RECORDING_RULES.featureNewUserShare24h, `{{${featureKey}}}`)],
      fieldConfig: { defaults: { unit: 'percentunit', decimals: 1, min: 0, max: 1 }, overrides: [] },
      options: {
        orientation: 'horizontal',
        displayMode: 'gradient',
        reduceOptions: { calcs: ['lastNotNull'] },
      },
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Session duration p95 by user tier (last hour)',
      targets: [target('A', RECORDING_RULES.sessionDurationP95, `{{${tierKey}}}`)],
      fieldConfig: timeseries('s'),
    },
  ]);
  line(8, [
    {
      w: 12,
      type: 'timeseries',
      title: 'Active users by window and tier (distinct: daily, weekly, monthly)',
      description:
        'Distinct users per UTC day, last 7 and last 30 UTC days (HyperLogLog, about 1% error). `max` across ' +
        'instances: with the Redis store every instance reports the same fleet-wide count, so a sum would ' +
        'multiply it. Daily restarts at 0 at UTC midnight.',
      // One query per window (daily, weekly, monthly from the catalog's `window` vocabulary).
      targets: ACTIVE_USER_WINDOW_VALUES.map((window, i) =>
        target(
          String.fromCharCode(65 + i),
          `max by (${tierKey}) (${family.activeUsers}{${windowKey}="${window}"})`,
          `${window} {{${tierKey}}}`,
        ),
      ),
      fieldConfig: timeseries('short'),
    },
    {
      w: 12,
      type: 'timeseries',
      title: 'Feature usage per minute by feature (last hour)',
      targets: [
        target(
          'A',
          `sum by (${featureKey}) (${RECORDING_RULES.featureUsageRate1h}) * 60`,
          `{{${featureKey}}}`,
        ),
      ],
      fieldConfig: timeseries('short'),
    },
  ]);

  insightPanels({ row, line, target, timeseries });

  row('Instrumentation health');
  line(8, [
    {
      w: 12,
      type: 'timeseries',
      title: 'Measurements dropped, relabelled or folded (last hour)',
      description:
        'The package refusing or rewriting data: the business figures above undercount or lose detail.',
      targets: [
        target(
          'A',
          `sum by (metric, reason) (increase(${family.dropped}[1h]))`,
          'dropped {{metric}} ({{reason}})',
        ),
        target(
          'B',
          `sum by (metric, label) (increase(${family.labelOverflow}[1h]))`,
          'relabelled {{metric}}.{{label}}',
        ),
        target('C', `sum by (metric) (increase(${family.seriesOverflow}[1h]))`, 'series cap {{metric}}'),
      ],
      fieldConfig: timeseries('short'),
    },
    {
      w: 12,
      type: 'timeseries',
      title: 'Failed exports (last hour)',
      targets: [target('A', `sum by (exporter) (increase(${family.exportFailures}[1h]))`, '{{exporter}}')],
      fieldConfig: timeseries('short'),
    },
  ]);

  return {
    uid: 'otel-business-metrics',
    title: 'Business metrics',
    description:
      'Generated by otel-business-metrics from its metric catalog and recording rules (npm run generate:dashboard). ' +
      'Edit src/dashboards/grafana.ts, not this JSON.',
    tags: ['business', 'otel-business-metrics'],
    schemaVersion: 39,
    version: 1,
    editable: false,
    // UTC: the money windows ("today", business-money.yml's days) are UTC days.
    timezone: 'utc',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    panels,
  };
}

/** Every PromQL query of a dashboard, with the panel it belongs to (for tests and tooling). */
export function dashboardQueries(
  dashboard: GrafanaDashboard,
): Array<{ panel: string; refId: string; expr: string }> {
  const queries: Array<{ panel: string; refId: string; expr: string }> = [];
  const visit = (panel: GrafanaPanel): void => {
    for (const target of panel.targets ?? [])
      queries.push({ panel: panel.title, refId: target.refId, expr: target.expr });
    panel.panels?.forEach(visit);
  };
  dashboard.panels.forEach(visit);
  return queries;
}

// ---- Insights (issue 27): error cost, revenue at risk, experience score ------------------------------------------

/** What a dashboard section needs from the builder: its row, line and target helpers. */
interface SectionBuilder {
  row(title: string): void;
  line(
    height: number,
    specs: Array<Omit<GrafanaPanel, 'id' | 'gridPos' | 'datasource'> & { w: number }>,
  ): void;
  target(refId: string, expr: string, legendFormat: string, extra?: Partial<GrafanaTarget>): GrafanaTarget;
  timeseries(unit: string, extra?: Record<string, unknown>): unknown;
}

/**
 * The insight panels (docs/insights.md), reading the rules of insights.yml (src/insights, default options: the
 * shipped file). Money in currency units per currency, like the revenue panels; "today" is `$__range` under
 * `timeFrom: now/d`, as the exact-money table does.
 */
function insightPanels({ row, line, target, timeseries }: SectionBuilder): void {
  const r = INSIGHT_RULES;
  const x = insightExpressions();
  const o = DEFAULT_INSIGHT_RULE_OPTIONS;
  const instant = { format: 'time_series', instant: true, range: false } as const;
  const money = (unit = 'short') => ({ defaults: { unit, decimals: 2, min: 0 }, overrides: [] });
  const scoreFloor = {
    defaults: {
      unit: 'none',
      min: 0,
      max: 100,
      decimals: 1,
      custom: { lineWidth: 2, thresholdsStyle: { mode: 'dashed' } },
      thresholds: {
        mode: 'absolute',
        steps: [
          { color: 'red', value: null },
          { color: 'green', value: o.experienceScoreFloor },
        ],
      },
    },
    overrides: [],
  };

  /** A stat of money per currency: today so far (`$__range` under `timeFrom: now/d`) and the last hour's rule. */
  const todayAndLastHour = (title: string, description: string, today: string, lastHour: string) => ({
    w: 8,
    type: 'stat',
    title,
    description,
    timeFrom: 'now/d',
    targets: [
      target('A', inCurrencyUnits(today), 'today {{currency}}', instant),
      target('B', inCurrencyUnits(lastHour), 'last hour {{currency}}', instant),
    ],
    fieldConfig: money(),
    options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', textMode: 'value_and_name' },
  });

  row('Insights: what errors cost, revenue at risk, experience score');
  line(8, [
    todayAndLastHour(
      'Estimated revenue lost to errors (today, last hour), by currency',
      `Failed checkout attempts (${FAILED_CHECKOUT_STEPS.join(', ')} steps, or the checkout routes' 5xx if more) ` +
        'times the mean order value of each currency over 24 hours, shared out by the currency mix of orders. An ' +
        'estimate: retries over-count, unrecorded failures under-count (docs/insights.md).',
      x.errorCostOver('$__range'),
      r.errorCostSum,
    ),
    {
      w: 8,
      type: 'timeseries',
      title: 'Estimated revenue lost to errors per minute, by currency',
      description: `${r.errorCost}, in units of each currency.`,
      targets: [target('A', inCurrencyUnits(r.errorCost), 'lost {{currency}}')],
      fieldConfig: timeseries('short'),
    },
    {
      w: 8,
      type: 'timeseries',
      title: 'Failed checkout attempts per minute, by cause',
      description:
        `${r.checkoutFailuresByCause}: the app's own steps and the checkout routes' 5xx ` +
        `(http_route=~"${o.checkoutRoutes}"); the total counts the larger, never both.`,
      targets: [
        target('A', r.checkoutFailuresByCause, '{{cause}}'),
        target('B', r.checkoutFailures, 'counted as failed attempts'),
      ],
      fieldConfig: timeseries('short'),
    },
  ]);
  line(8, [
    todayAndLastHour(
      'Revenue at risk (today, last hour), by currency',
      `Gross revenue short of the same time ${o.baselineOffset} earlier scaled by today's cart views ` +
        `(clamped to ${o.trafficScaleBand.join('..')}), floored at zero: the shortfall of the window's total.`,
      x.revenueAtRiskOver('$__range'),
      r.revenueAtRiskSum,
    ),
    {
      w: 16,
      type: 'timeseries',
      title: 'Revenue per minute against last week, and revenue at risk, by currency',
      description:
        `Expected (${r.expectedRevenue}), actual gross and at risk (${r.revenueAtRisk}), in units of each ` +
        `currency. RevenueAtRisk fires above ${o.revenueAtRiskShare * 100}% of expected for ${o.revenueAtRiskFor}.`,
      targets: [
        target('A', inCurrencyUnits(r.expectedRevenue), 'expected {{currency}}'),
        target('B', inCurrencyUnits(x.actualPerMinute), 'actual {{currency}}'),
        target('C', inCurrencyUnits(r.revenueAtRisk), 'at risk {{currency}}'),
      ],
      fieldConfig: timeseries('short'),
    },
  ]);
  line(8, [
    {
      w: 8,
      type: 'timeseries',
      title: 'Experience score (0-100): checkout path and each service',
      description:
        `100 × Apdex (T = ${o.apdexThresholdSeconds} s) × (1 − 5xx share)^10. The dashed line is the alerts' ` +
        `floor (${o.experienceScoreFloor}).`,
      targets: [target('A', r.checkoutScore, 'checkout'), target('B', r.scoreByService, '{{job}}')],
      fieldConfig: scoreFloor,
    },
    {
      w: 8,
      type: 'timeseries',
      title: `Apdex by route (T = ${o.apdexThresholdSeconds} s)`,
      targets: [target('A', r.apdexByRoute, '{{job}} {{http_route}}')],
      fieldConfig: { defaults: { unit: 'none', min: 0, max: 1, decimals: 2 }, overrides: [] },
    },
    {
      w: 8,
      type: 'timeseries',
      title: '5xx share by route',
      targets: [target('A', r.errorRateByRoute, '{{job}} {{http_route}}')],
      fieldConfig: { defaults: { unit: 'percentunit', min: 0, decimals: 1 }, overrides: [] },
    },
  ]);
}
