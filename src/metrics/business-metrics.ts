/**
 * BusinessMetrics: the seed's methods, turning one business event into instrument updates.
 *
 * Owns: the mapping from method arguments to catalog instruments and labels, value rules, and the two ways of
 * recording: into the package's local series store (when initBusinessMetrics owns the MeterProvider) or into the
 * synchronous instruments of any OTel Meter (for apps that own their MeterProvider). Must not touch: exporters,
 * the MeterProvider's lifecycle, process state.
 *
 * Hot path rule: a record method never throws (unless `strict`), allocates nothing once its series exists, and
 * never formats a string. Everything unusual goes through the GuardReporter.
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import {
  BUSINESS_METRICS,
  SELF_METRICS,
  prometheusFamilyName,
  type MetricDefinition,
} from '../catalog/metrics';
import { DEFAULT_LABEL_POLICIES, type BusinessLabelKey, type LabelPolicy } from '../catalog/labels';
import { describe, GuardReporter, type DropReason, type LabelOrigin } from '../guard/reporter';
import { LabelVocabulary } from '../guard/vocabulary';
import {
  LocalCounterCell,
  LocalGaugeCell,
  LocalHistogramCell,
  MeterCounterCell,
  MeterHistogramCell,
  type CounterCell,
  type HistogramCell,
} from '../series/cells';
import type { LocalSeriesStore } from '../series/local-store';
import { SeriesTable } from '../series/series-table';
import { RevenueWindow } from './revenue-window';

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

/** The recording API shared by `BusinessMetrics` instances and the `businessMetrics` singleton. */
export interface BusinessMetricsRecorder {
  /** Count one step of a funnel (`business_funnel_step_total`). */
  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void;
  /** Count a conversion and observe the time since `sessionStartTime` (`business_conversions_total`,
   * `business_time_to_conversion_seconds`). An invalid start time drops only the duration. */
  recordConversion(type: string, metadata: ConversionMetadata): void;
  /** Add revenue in cents (`business_revenue_cents_total`), observe the order value (`business_order_value_cents`)
   * and feed the rolling minute (`business_revenue_per_minute_cents`). */
  recordRevenue(amountCents: number, metadata: RevenueMetadata): void;
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
  /** The current Prometheus text exposition of everything the package exports. */
  getMetrics(): Promise<string>;
}

/** Limits that bound what bad or hostile input can cost. Defaults are chosen so a normal shop never hits them. */
export interface BusinessMetricsLimits {
  /** Lifetime cap on series per metric; beyond it, measurements go to the all-`other` series. Default 2000. */
  maxSeriesPerMetric?: number;
  /** Longest label value kept (UTF-16 code units). Default 64. */
  maxLabelLength?: number;
  /** Vocabulary per label key, replacing the default (see DEFAULT_LABEL_POLICIES). */
  labels?: Partial<Record<BusinessLabelKey, LabelPolicy>>;
  /** Largest single revenue amount accepted, in cents. Default 10,000,000,000 (100 million in currency units). */
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
  /** Clock in epoch milliseconds (durations, the revenue minute). For tests. Default Date.now. */
  now?: () => number;
  /** Source of `getMetrics()`; initBusinessMetrics provides it. */
  exposition?: () => Promise<string>;
}

/** Resolved defaults of every limit (documented in the README's Safety section). */
export const DEFAULT_LIMITS: Readonly<Required<Omit<BusinessMetricsLimits, 'labels'>>> = Object.freeze({
  maxSeriesPerMetric: 2000,
  maxLabelLength: 64,
  maxAmountCents: 10_000_000_000,
  maxDurationSeconds: 30 * 24 * 3600,
  maxActiveUsers: 10_000_000_000,
});

/** How far in the future a session start may lie before it counts as a clock error (client clock skew). */
const FUTURE_TOLERANCE_MS = 1000;

const LOCAL_STORE: unique symbol = Symbol('otel-business-metrics.localStore');

/** @internal Options initBusinessMetrics passes to record into its own local series store. */
export interface InternalBusinessMetricsOptions extends BusinessMetricsOptions {
  [LOCAL_STORE]?: LocalSeriesStore;
}

/** @internal */
export function withLocalStore(
  options: BusinessMetricsOptions,
  store: LocalSeriesStore,
): InternalBusinessMetricsOptions {
  return { ...options, [LOCAL_STORE]: store };
}

interface Instrument<Cell> {
  readonly table: SeriesTable<Cell>;
  readonly labels: readonly LabelVocabulary[];
  readonly family: string;
}

/**
 * Records the seed's business events into OpenTelemetry instruments created from the catalog.
 *
 * Usually obtained through `initBusinessMetrics()` (or the `businessMetrics` singleton). Construct it yourself
 * when your app already owns a MeterProvider (e.g. through `@opentelemetry/sdk-node`):
 *
 * ```ts
 * const metrics = new BusinessMetrics(meterProvider.getMeter('shop'));
 * ```
 * Histograms carry bucket advice, so their buckets are right even without `businessMetricViews()`.
 */
export class BusinessMetrics implements BusinessMetricsRecorder {
  private readonly reporter: GuardReporter;
  private readonly now: () => number;
  private readonly limits: Required<Omit<BusinessMetricsLimits, 'labels'>>;
  private readonly exposition: (() => Promise<string>) | undefined;
  private readonly funnel: Instrument<CounterCell>;
  private readonly conversions: Instrument<CounterCell>;
  private readonly timeToConversion: Instrument<HistogramCell>;
  private readonly revenue: Instrument<CounterCell>;
  private readonly orderValue: Instrument<HistogramCell>;
  private readonly featureUsage: Instrument<CounterCell>;
  private readonly sessionDuration: Instrument<HistogramCell>;
  private readonly activeUsers: Instrument<LocalGaugeCell>;
  /** Rolling minute per region, indexed by the revenue instrument's region id. */
  private readonly revenueWindows: RevenueWindow[] = [];

  constructor(meter: Meter, options: BusinessMetricsOptions = {}) {
    const store = (options as InternalBusinessMetricsOptions)[LOCAL_STORE];
    this.reporter = new GuardReporter(options.strict === true, options.now);
    this.now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options.limits ?? {}) };
    validateLimits(this.limits);
    this.exposition = options.exposition;
    const policies: Record<BusinessLabelKey, LabelPolicy> = {
      ...DEFAULT_LABEL_POLICIES,
      ...definedOnly(options.limits?.labels ?? {}),
    };

    const vocabularies = (
      definition: MetricDefinition<BusinessLabelKey>,
      method: string,
      argumentNames: string[],
    ) =>
      definition.labels.map(
        (label, i) =>
          new LabelVocabulary(
            prometheusFamilyName(definition),
            label,
            policies[label],
            this.limits,
            this.reporter,
            { method, argument: argumentNames[i] } satisfies LabelOrigin,
          ),
      );
    const instrument = <Cell>(
      definition: MetricDefinition<BusinessLabelKey>,
      method: string,
      argumentNames: string[],
      createCell: (attributes: Attributes) => Cell,
    ): Instrument<Cell> => {
      const labels = vocabularies(definition, method, argumentNames);
      const family = prometheusFamilyName(definition);
      const table = new SeriesTable(
        family,
        definition.labels,
        labels,
        this.limits.maxSeriesPerMetric,
        createCell,
        this.reporter,
      );
      return { table, labels, family };
    };
    const counter = (
      definition: MetricDefinition<BusinessLabelKey>,
      method: string,
      argumentNames: string[],
    ) => {
      if (store) {
        const created = instrument(
          definition,
          method,
          argumentNames,
          (attributes) => new LocalCounterCell(attributes),
        );
        store.addCounter(definition, created.table as SeriesTable<LocalCounterCell>);
        return created as Instrument<CounterCell>;
      }
      const sdkCounter = meter.createCounter(definition.name, {
        description: definition.description,
        unit: definition.unit,
      });
      return instrument<CounterCell>(
        definition,
        method,
        argumentNames,
        (attributes) => new MeterCounterCell(attributes, sdkCounter),
      );
    };
    const histogram = (
      definition: MetricDefinition<BusinessLabelKey>,
      method: string,
      argumentNames: string[],
    ) => {
      const boundaries = [...(definition.buckets ?? [])];
      if (store) {
        const created = instrument(
          definition,
          method,
          argumentNames,
          (attributes) => new LocalHistogramCell(attributes, boundaries),
        );
        store.addHistogram(definition, created.table as SeriesTable<LocalHistogramCell>);
        return created as Instrument<HistogramCell>;
      }
      const sdkHistogram = meter.createHistogram(definition.name, {
        description: definition.description,
        unit: definition.unit,
        advice: { explicitBucketBoundaries: boundaries },
      });
      return instrument<HistogramCell>(
        definition,
        method,
        argumentNames,
        (attributes) => new MeterHistogramCell(attributes, sdkHistogram),
      );
    };

    const m = BUSINESS_METRICS;
    this.funnel = counter(m.funnelStep, 'recordFunnelStep', [
      'step',
      'metadata.source',
      'metadata.deviceType',
      'metadata.experimentVariant',
    ]);
    this.conversions = counter(m.conversions, 'recordConversion', [
      'type',
      'metadata.source',
      'metadata.deviceType',
    ]);
    this.timeToConversion = histogram(m.timeToConversion, 'recordConversion', ['type']);
    this.revenue = counter(m.revenue, 'recordRevenue', [
      'metadata.productCategory',
      'metadata.paymentMethod',
      'metadata.region',
    ]);
    this.orderValue = histogram(m.orderValue, 'recordRevenue', ['metadata.productCategory']);
    this.featureUsage = counter(m.featureUsage, 'recordFeatureUsage', [
      'featureName',
      'metadata.userTier',
      'metadata.isNewUser',
    ]);
    this.sessionDuration = histogram(m.sessionDuration, 'recordSessionEnd', [
      'metadata.userTier',
      'metadata.entryPage',
    ]);
    this.activeUsers = instrument(
      m.activeUsers,
      'updateActiveUsers',
      ['window', 'counts key'],
      (attributes) => new LocalGaugeCell(attributes),
    );

    this.registerGauges(meter);
    // Self-metrics are observable counters over the reporter's own tallies: a refused or relabelled measurement
    // costs an increment, not an SDK add with attribute hashing (which doubled the cost of hostile traffic).
    for (const kind of ['dropped', 'labelOverflow', 'seriesOverflow'] as const) {
      meter
        .createObservableCounter(SELF_METRICS[kind].name, selfMetricOptions(SELF_METRICS[kind]))
        .addCallback((result) =>
          this.reporter.forEachCount(kind, (attributes, count) => result.observe(count, attributes)),
        );
    }
  }

  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void {
    const { table, labels, family } = this.funnel;
    try {
      if (!this.isMetadata(metadata, 'recordFunnelStep', family)) return;
      table
        .at4(
          labels[0].resolve(step),
          labels[1].resolve(metadata.source),
          labels[2].resolve(metadata.deviceType),
          labels[3].resolve(metadata.experimentVariant || 'control'),
        )
        .add(1);
    } catch (error) {
      this.reporter.internalError('recordFunnelStep', family, error);
    }
  }

  recordConversion(type: string, metadata: ConversionMetadata): void {
    const { table, labels, family } = this.conversions;
    try {
      if (!this.isMetadata(metadata, 'recordConversion', family)) return;
      const timing = this.timeToConversion;
      // Checked first so strict mode throws before anything is recorded; in normal mode an unusable start time
      // drops only the duration, never the conversion.
      const seconds = this.secondsSince(
        metadata.sessionStartTime,
        'recordConversion',
        'metadata.sessionStartTime',
        timing.family,
      );
      table
        .at3(
          labels[0].resolve(type),
          labels[1].resolve(metadata.source),
          labels[2].resolve(metadata.deviceType),
        )
        .add(1);
      if (seconds !== undefined) timing.table.at1(timing.labels[0].resolve(type)).record(seconds);
    } catch (error) {
      this.reporter.internalError('recordConversion', family, error);
    }
  }

  recordRevenue(amountCents: number, metadata: RevenueMetadata): void {
    const { table, labels, family } = this.revenue;
    try {
      if (!this.isMetadata(metadata, 'recordRevenue', family)) return;
      const reason = this.checkAmount(amountCents, this.limits.maxAmountCents);
      if (reason !== undefined) {
        this.reporter.drop(
          'recordRevenue',
          'amountCents',
          family,
          reason,
          amountRule(this.limits.maxAmountCents),
          amountCents,
        );
        return;
      }
      const regionId = labels[2].resolve(metadata.region);
      table
        .at3(labels[0].resolve(metadata.productCategory), labels[1].resolve(metadata.paymentMethod), regionId)
        .add(amountCents);
      const orders = this.orderValue;
      orders.table.at1(orders.labels[0].resolve(metadata.productCategory)).record(amountCents);
      let window = this.revenueWindows[regionId];
      if (window === undefined) {
        window = new RevenueWindow(Object.freeze({ region: labels[2].values[regionId] }));
        this.revenueWindows[regionId] = window;
      }
      window.add(amountCents, this.now());
    } catch (error) {
      this.reporter.internalError('recordRevenue', family, error);
    }
  }

  recordFeatureUsage(featureName: string, metadata: FeatureUsageMetadata): void {
    const { table, labels, family } = this.featureUsage;
    try {
      if (!this.isMetadata(metadata, 'recordFeatureUsage', family)) return;
      const isNewUser = metadata.isNewUser;
      table
        .at3(
          labels[0].resolve(featureName),
          labels[1].resolve(metadata.userTier),
          labels[2].resolve(isNewUser === true ? 'true' : isNewUser === false ? 'false' : isNewUser),
        )
        .add(1);
    } catch (error) {
      this.reporter.internalError('recordFeatureUsage', family, error);
    }
  }

  recordSessionEnd(sessionStartTime: Date | number, metadata: SessionMetadata): void {
    const { table, labels, family } = this.sessionDuration;
    try {
      if (!this.isMetadata(metadata, 'recordSessionEnd', family)) return;
      const seconds = this.secondsSince(sessionStartTime, 'recordSessionEnd', 'sessionStartTime', family);
      if (seconds === undefined) return;
      table.at2(labels[0].resolve(metadata.userTier), labels[1].resolve(metadata.entryPage)).record(seconds);
    } catch (error) {
      this.reporter.internalError('recordSessionEnd', family, error);
    }
  }

  updateActiveUsers(
    window: ActiveUsersWindow,
    counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  ): void {
    const { table, labels, family } = this.activeUsers;
    try {
      if (typeof counts !== 'object' || counts === null) {
        this.reporter.drop(
          'updateActiveUsers',
          'counts',
          family,
          'invalid_argument',
          'must be a Map or an object',
          counts,
        );
        return;
      }
      const windowId = labels[0].resolve(window);
      const entries = counts instanceof Map ? counts.entries() : Object.entries(counts);
      for (const [tier, count] of entries as Iterable<[unknown, unknown]>) {
        const reason = this.checkAmount(count, this.limits.maxActiveUsers);
        if (reason !== undefined) {
          this.reporter.drop(
            'updateActiveUsers',
            `counts value for ${describe(tier)}`,
            family,
            reason,
            amountRule(this.limits.maxActiveUsers),
            count,
          );
          continue;
        }
        table.at2(windowId, labels[1].resolve(tier)).value = count as number;
      }
    } catch (error) {
      this.reporter.internalError('updateActiveUsers', family, error);
    }
  }

  getMetrics(): Promise<string> {
    if (this.exposition) return this.exposition();
    return Promise.reject(
      new Error(
        'getMetrics() needs initBusinessMetrics(): this BusinessMetrics records into a MeterProvider it does not own; ' +
          "read the exposition from that provider's own Prometheus reader",
      ),
    );
  }

  private registerGauges(meter: Meter): void {
    const perMinute = BUSINESS_METRICS.revenuePerMinute;
    meter
      .createObservableGauge(perMinute.name, { description: perMinute.description, unit: perMinute.unit })
      .addCallback((result: ObservableResult) => {
        const now = this.now();
        for (const window of this.revenueWindows)
          if (window) result.observe(window.total(now), window.attributes);
      });
    const active = BUSINESS_METRICS.activeUsers;
    meter
      .createObservableGauge(active.name, { description: active.description, unit: active.unit })
      .addCallback((result: ObservableResult) => {
        for (const cell of this.activeUsers.table.cells) result.observe(cell.value, cell.attributes);
      });
  }

  private isMetadata(metadata: unknown, method: string, family: string): boolean {
    if (typeof metadata === 'object' && metadata !== null) return true;
    this.reporter.drop(method, 'metadata', family, 'invalid_argument', 'must be an object', metadata);
    return false;
  }

  private checkAmount(value: unknown, max: number): DropReason | undefined {
    if (typeof value !== 'number') return 'not_a_number';
    if (value >= 0 && value <= max) return undefined; // also false for NaN
    if (Number.isNaN(value) || !Number.isFinite(value)) return 'not_finite';
    return value < 0 ? 'negative' : 'too_large';
  }

  /** Seconds from `start` to now, or undefined after reporting why it cannot be used. */
  private secondsSince(start: unknown, method: string, argument: string, family: string): number | undefined {
    const startMillis = start instanceof Date ? start.getTime() : typeof start === 'number' ? start : NaN;
    const rule = 'must be a valid Date (or epoch milliseconds) not in the future';
    if (!Number.isFinite(startMillis)) {
      this.reporter.drop(method, argument, family, 'invalid_time', rule, start);
      return undefined;
    }
    const elapsedMillis = this.now() - startMillis;
    if (elapsedMillis < -FUTURE_TOLERANCE_MS) {
      this.reporter.drop(method, argument, family, 'future_time', rule, start);
      return undefined;
    }
    const seconds = Math.max(0, elapsedMillis) / 1000;
    if (seconds > this.limits.maxDurationSeconds) {
      this.reporter.drop(
        method,
        argument,
        family,
        'too_large',
        `must be at most ${this.limits.maxDurationSeconds} s ago (limits.maxDurationSeconds)`,
        start,
      );
      return undefined;
    }
    return seconds;
  }
}

function validateLimits(limits: Required<Omit<BusinessMetricsLimits, 'labels'>>): void {
  for (const [name, value] of Object.entries(limits)) {
    if (name === 'labels') continue;
    if (typeof value !== 'number' || !(value >= 1) || !Number.isFinite(value)) {
      throw new RangeError(`limits.${name} must be a finite number >= 1 (got ${String(value)})`);
    }
  }
}

function amountRule(max: number): string {
  return `must be a finite number between 0 and ${max}`;
}

function selfMetricOptions(definition: MetricDefinition) {
  return { description: definition.description, unit: definition.unit };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
