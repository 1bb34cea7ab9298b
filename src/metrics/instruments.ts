/**
 * The wiring of instruments from the catalog: for every catalog entry, its label vocabularies, its series table
 * and where its series are kept (the package's local store, or the synchronous instruments of an app's Meter),
 * plus the observable gauges and self-metrics registered on the Meter.
 *
 * Owns: which recording method and argument feed each label (BUSINESS_BINDINGS, kept beside the label keys), and
 * the construction of tables, vocabularies and SDK instruments. Must not touch: value rules and the recording
 * API (metrics/business-metrics.ts), exporters, collection.
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { DEFAULT_LABEL_POLICIES, type LabelPolicy, type PolicyLabelKey } from '../catalog/labels';
import {
  BUSINESS_METRICS,
  SELF_METRICS,
  type BusinessMetricKey,
  type MetricDefinition,
} from '../catalog/metrics';
import { prometheusFamilyName } from '../catalog/prometheus-naming';
import type { GuardReporter, LabelOrigin } from '../guard/reporter';
import { LabelVocabulary, type LabelIds, type VocabularyLimits } from '../guard/vocabulary';
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

/** Where the labels of one instrument come from: the recording method, and for each label key the name of the
 * argument that feeds it (as strict-mode messages and drop warnings name it). */
export interface InstrumentBinding<Label extends string = string> {
  readonly method: string;
  readonly arguments: { readonly [L in Label]: string };
}

type LabelsOf<K extends BusinessMetricKey> = (typeof BUSINESS_METRICS)[K]['labels'][number];

/**
 * Which method and argument feed every label of every business instrument. The type makes a label without an
 * argument (or an argument for a label the catalog does not have) a compile error.
 */
export const BUSINESS_BINDINGS = {
  funnelStep: {
    method: 'recordFunnelStep',
    arguments: {
      step: 'step',
      source: 'metadata.source',
      device_type: 'metadata.deviceType',
      experiment_variant: 'metadata.experimentVariant',
    },
  },
  conversions: {
    method: 'recordConversion',
    arguments: { conversion_type: 'type', source: 'metadata.source', device_type: 'metadata.deviceType' },
  },
  timeToConversion: { method: 'recordConversion', arguments: { conversion_type: 'type' } },
  revenue: {
    method: 'recordRevenue',
    arguments: {
      product_category: 'metadata.productCategory',
      payment_method: 'metadata.paymentMethod',
      region: 'metadata.region',
      currency: 'metadata.currency',
    },
  },
  orderValue: {
    method: 'recordRevenue',
    arguments: { product_category: 'metadata.productCategory', currency: 'metadata.currency' },
  },
  revenuePerMinute: {
    method: 'recordRevenue',
    arguments: { region: 'metadata.region', currency: 'metadata.currency' },
  },
  refunds: {
    method: 'recordRefund',
    arguments: {
      currency: 'metadata.currency',
      payment_method: 'metadata.paymentMethod',
      region: 'metadata.region',
      reason: 'metadata.reason',
    },
  },
  // Observed at collection from the currencies in use and the app's rates, not fed by a record call.
  currencyMinorUnits: { method: 'initBusinessMetrics', arguments: { currency: 'money' } },
  exchangeRate: {
    method: 'initBusinessMetrics',
    arguments: { currency: 'money.reporting.rates', reporting_currency: 'money.reporting.currency' },
  },
  featureUsage: {
    method: 'recordFeatureUsage',
    arguments: {
      feature_name: 'featureName',
      user_tier: 'metadata.userTier',
      is_new_user: 'metadata.isNewUser',
    },
  },
  sessionDuration: {
    method: 'recordSessionEnd',
    arguments: { user_tier: 'metadata.userTier', entry_page: 'metadata.entryPage' },
  },
  activeUsers: { method: 'updateActiveUsers', arguments: { window: 'window', user_tier: 'counts key' } },
} as const satisfies { readonly [K in BusinessMetricKey]: InstrumentBinding<LabelsOf<K>> };

/** One instrument as the recording API uses it: its series table, one vocabulary per label (catalog order), and
 * its Prometheus family name (for drop reports). */
export interface BoundInstrument<Cell> {
  readonly definition: MetricDefinition;
  readonly table: SeriesTable<Cell>;
  readonly labels: readonly LabelIds[];
  readonly family: string;
}

/** What the factory needs to build instruments; resolved once by the recorder. */
export interface InstrumentFactoryOptions {
  /** The package's local series store, when initBusinessMetrics owns the MeterProvider; otherwise series are
   * forwarded to the Meter's synchronous instruments. */
  readonly store: LocalSeriesStore | undefined;
  readonly policies: Readonly<Record<string, LabelPolicy>>;
  /** Vocabularies shared by every instrument with that label, instead of one LabelVocabulary per instrument
   * from a policy (the currency label: one CurrencyVocabulary, so a currency has one id everywhere). */
  readonly sharedVocabularies?: Readonly<Record<string, LabelIds>>;
  readonly limits: VocabularyLimits & { readonly maxSeriesPerMetric: number };
  readonly reporter: GuardReporter;
}

/**
 * Builds bounded, table-backed instruments from catalog definitions. Used for the business instruments and for
 * any other catalog-defined instrument the package records through the same guard (e.g. HTTP server metrics).
 */
export class InstrumentFactory {
  constructor(
    private readonly meter: Meter,
    private readonly options: InstrumentFactoryOptions,
  ) {}

  /** A monotonic counter. */
  counter(definition: MetricDefinition, binding: InstrumentBinding): BoundInstrument<CounterCell> {
    const store = this.options.store;
    if (store) {
      const created = this.bind(definition, binding, (attributes) => new LocalCounterCell(attributes));
      store.addCounter(definition, created.table);
      return created;
    }
    const sdkCounter = this.meter.createCounter(definition.name, sdkOptions(definition));
    return this.bind(definition, binding, (attributes) => new MeterCounterCell(attributes, sdkCounter));
  }

  /**
   * An explicit-bucket histogram with the catalog's buckets (as a view in local mode, as advice on a Meter).
   * @param present turns a new series' label values into the attributes it is exported with (once per series,
   *   e.g. the HTTP status code as an integer and the `error.type` derived from it).
   */
  histogram(
    definition: MetricDefinition,
    binding: InstrumentBinding,
    present: (labels: Attributes) => Attributes = (labels) => labels,
  ): BoundInstrument<HistogramCell> {
    const boundaries = [...(definition.buckets ?? [])];
    const store = this.options.store;
    if (store) {
      const created = this.bind(
        definition,
        binding,
        (labels) => new LocalHistogramCell(present(labels), boundaries),
      );
      store.addHistogram(definition, created.table);
      return created;
    }
    const sdkHistogram = this.meter.createHistogram(definition.name, {
      ...sdkOptions(definition),
      advice: { explicitBucketBoundaries: boundaries },
    });
    return this.bind(definition, binding, (labels) => new MeterHistogramCell(present(labels), sdkHistogram));
  }

  /** A gauge whose last set value per series is reported by an observable gauge on every collection. */
  gauge(
    definition: MetricDefinition,
    binding: InstrumentBinding,
    skip?: (attributes: Attributes) => boolean,
  ): BoundInstrument<LocalGaugeCell> {
    const created = this.bind(definition, binding, (attributes) => new LocalGaugeCell(attributes));
    this.observableGauge(definition, (result) => {
      for (const cell of created.table.cells)
        if (!skip?.(cell.attributes)) result.observe(cell.value, cell.attributes);
    });
    return created;
  }

  /** An observable gauge whose callback computes its values at collection time. */
  observableGauge(definition: MetricDefinition, callback: (result: ObservableResult) => void): void {
    this.meter.createObservableGauge(definition.name, sdkOptions(definition)).addCallback(callback);
  }

  /** The guard's self-metrics: observable counters over the reporter's own tallies, so a refused or relabelled
   * measurement costs an increment, not an SDK add with attribute hashing. */
  selfMetrics(): void {
    const reporter = this.options.reporter;
    for (const kind of ['dropped', 'labelOverflow', 'seriesOverflow'] as const) {
      this.meter
        .createObservableCounter(SELF_METRICS[kind].name, sdkOptions(SELF_METRICS[kind]))
        .addCallback((result) =>
          reporter.forEachCount(kind, (attributes, count) => result.observe(count, attributes)),
        );
    }
  }

  private bind<Cell>(
    definition: MetricDefinition,
    binding: InstrumentBinding,
    createCell: (attributes: Attributes) => Cell,
  ): BoundInstrument<Cell> {
    const { policies, limits, reporter } = this.options;
    const family = prometheusFamilyName(definition);
    const labels = definition.labels.map((label): LabelIds => {
      const shared = this.options.sharedVocabularies?.[label];
      if (shared !== undefined) return shared;
      const argument = (binding.arguments as Readonly<Record<string, string>>)[label];
      const policy = policies[label];
      if (argument === undefined || policy === undefined) {
        throw new Error(
          `${definition.name}: label ${label} has no ${argument === undefined ? 'argument' : 'policy'}`,
        );
      }
      const origin: LabelOrigin = { method: binding.method, argument };
      return new LabelVocabulary(family, label, policy, limits, reporter, origin);
    });
    const table = new SeriesTable(
      family,
      definition.labels,
      labels,
      limits.maxSeriesPerMetric,
      createCell,
      reporter,
    );
    return { definition, table, labels, family };
  }
}

/** Every business instrument, built from the catalog with its binding. */
export interface BusinessInstruments {
  readonly funnelStep: BoundInstrument<CounterCell>;
  readonly conversions: BoundInstrument<CounterCell>;
  readonly timeToConversion: BoundInstrument<HistogramCell>;
  readonly revenue: BoundInstrument<CounterCell>;
  readonly orderValue: BoundInstrument<HistogramCell>;
  readonly refunds: BoundInstrument<CounterCell>;
  readonly featureUsage: BoundInstrument<CounterCell>;
  readonly sessionDuration: BoundInstrument<HistogramCell>;
  readonly activeUsers: BoundInstrument<LocalGaugeCell>;
}

/** Builds the business instruments (the revenue-per-minute gauge is the recorder's: it reads its windows; the
 * two money gauges are the Money's: they read the currencies in use). */
export function createBusinessInstruments(
  factory: InstrumentFactory,
  hooks: {
    /** Series of `business_active_users` another source reports (tiers counted by trackActiveUser). */
    readonly skipActiveUsers?: (attributes: Attributes) => boolean;
  } = {},
): BusinessInstruments {
  const m = BUSINESS_METRICS;
  const b = BUSINESS_BINDINGS;
  return {
    funnelStep: factory.counter(m.funnelStep, b.funnelStep),
    conversions: factory.counter(m.conversions, b.conversions),
    timeToConversion: factory.histogram(m.timeToConversion, b.timeToConversion),
    revenue: factory.counter(m.revenue, b.revenue),
    orderValue: factory.histogram(m.orderValue, b.orderValue),
    refunds: factory.counter(m.refunds, b.refunds),
    featureUsage: factory.counter(m.featureUsage, b.featureUsage),
    sessionDuration: factory.histogram(m.sessionDuration, b.sessionDuration),
    activeUsers: factory.gauge(m.activeUsers, b.activeUsers, hooks.skipActiveUsers),
  };
}

function sdkOptions(definition: MetricDefinition) {
  return { description: definition.description, unit: definition.unit };
}

/** The label policies in force: the catalog's defaults, replaced per key by the app's. */
export function resolvePolicies(
  overrides: Partial<Record<PolicyLabelKey, LabelPolicy>> | undefined,
): Record<PolicyLabelKey, LabelPolicy> {
  return { ...DEFAULT_LABEL_POLICIES, ...definedOnly(overrides ?? {}) };
}

/** A copy of `value` without its undefined properties, so `{ x: undefined }` does not override a default. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
