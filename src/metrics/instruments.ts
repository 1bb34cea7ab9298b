/**
 * THE place that registers instruments: every catalog instrument and every self-metric the package exports is
 * created here, and nowhere else calls a Meter's `create*` (tests/docs/architecture.test.ts holds the rest of
 * `src/` to that). For every catalog entry: its label vocabularies, its series table and where its series are
 * kept (the package's local store, or the synchronous instruments of an app's Meter); the observable gauges read
 * their values from the parts that own them (the revenue windows, the active-user sketches, the money settings);
 * the self-metrics read the tallies of the guard, the exporters, the Redis store and the cluster primary.
 *
 * Owns: which recording method and argument feed each label (BUSINESS_BINDINGS, kept beside the label keys), the
 * construction of tables, vocabularies and SDK instruments, which source each observed instrument reads, and
 * where observed instruments live: the SDK Meter's asynchronous instruments, or the store's own observations
 * when the store observes them (a pull-only app, which loads no SDK: series/observed.ts).
 * Must not touch: value rules and the recording API (metrics/business-metrics.ts), what the sources count,
 * exporters, collection.
 */
import type { Attributes, BatchObservableResult, Meter, ObservableResult } from '@opentelemetry/api';
import { DEFAULT_LABEL_POLICIES, type LabelPolicy, type PolicyLabelKey } from '../catalog/labels';
import {
  BUSINESS_METRICS,
  SELF_METRICS,
  type BusinessMetricKey,
  type MetricDefinition,
} from '../catalog/metrics';
import { prometheusFamilyName } from '../catalog/prometheus-naming';
import type { LabelOrigin } from '../guard/reasons';
import type { GuardReporter } from '../guard/reporter';
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
import type { Observe } from '../series/observed';
import { SeriesTable } from '../series/series-table';
import { otelApi } from '../support';

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
  private readonly observables: ObservableHost;

  constructor(
    private readonly meter: Meter,
    private readonly options: InstrumentFactoryOptions,
  ) {
    this.observables = observableHost(meter, options.store);
  }

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

  /**
   * A gauge whose last set value per series is reported by an observable gauge on every collection.
   * @param skip series of the table another source reports (`also`)
   * @param also more values of the same gauge, observed after the table's
   */
  gauge(
    definition: MetricDefinition,
    binding: InstrumentBinding,
    skip?: (attributes: Attributes) => boolean,
    also?: (observe: Observe) => void,
  ): BoundInstrument<LocalGaugeCell> {
    const created = this.bind(definition, binding, (attributes) => new LocalGaugeCell(attributes));
    this.observableGauge(definition, (observe) => {
      for (const cell of created.table.cells)
        if (!skip?.(cell.attributes)) observe(cell.value, cell.attributes);
      also?.(observe);
    });
    return created;
  }

  /** An observable counter over a tally the package keeps itself. */
  observableCounter(definition: MetricDefinition, callback: (observe: Observe) => void): void {
    this.observables.counter(definition, callback);
  }

  /** An observable gauge whose callback computes its values at collection time. */
  observableGauge(definition: MetricDefinition, callback: (observe: Observe) => void): void {
    this.observables.gauge(definition, callback);
  }

  /** The guard's self-metrics: observable counters over the reporter's own tallies, so a refused or relabelled
   * measurement costs an increment, not an SDK add with attribute hashing. */
  selfMetrics(): void {
    const reporter = this.options.reporter;
    for (const kind of ['dropped', 'labelOverflow', 'seriesOverflow'] as const) {
      this.observables.counter(SELF_METRICS[kind], (observe) =>
        reporter.forEachCount(kind, (attributes, count) => observe(count, attributes)),
      );
    }
  }

  /** Several observable gauges read by one callback at each collection (a batch: one pass over the source). */
  batchObservableGauges(
    definitions: readonly MetricDefinition[],
    callback: (observe: (index: number, value: number, attributes: Attributes) => void) => void,
  ): void {
    this.observables.batchGauges(definitions, callback);
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

export type { Observe } from '../series/observed';

/** What the money gauges report at a collection, for every currency in use. */
export interface MoneyGaugeObservations {
  minorUnits(value: number, attributes: Attributes): void;
  exchangeRate(value: number, attributes: Attributes): void;
}

/** Where the business instruments observed at collection read their values. */
export interface BusinessInstrumentSources {
  /** trackActiveUser's counts. */
  readonly activeUsers: {
    /** Tiers it counts: `business_active_users` series of updateActiveUsers for them are not reported. */
    isTracked(tier: string): boolean;
    forEachValue(visit: (value: number, attributes: Attributes) => void): void;
  };
  /** The rolling revenue minutes (`business_revenue_per_minute_cents`). */
  readonly revenuePerMinute: (observe: Observe) => void;
  /** The two money gauges (`business_currency_minor_units`, `business_exchange_rate`). */
  readonly money: (observe: MoneyGaugeObservations) => void;
  /** The Redis store's failure tallies by reason, when a store is configured (the self-metric exists only then). */
  readonly activeUsersStoreFailures?: () => Readonly<Record<string, number>> | undefined;
}

/**
 * Builds every business instrument of a recorder, and its self-metrics: the tables the record methods update,
 * and the observable instruments whose values come from `sources`.
 */
export function createBusinessInstruments(
  factory: InstrumentFactory,
  sources: BusinessInstrumentSources,
): BusinessInstruments {
  const m = BUSINESS_METRICS;
  const b = BUSINESS_BINDINGS;
  const tracked = sources.activeUsers;
  const instruments: BusinessInstruments = {
    funnelStep: factory.counter(m.funnelStep, b.funnelStep),
    conversions: factory.counter(m.conversions, b.conversions),
    timeToConversion: factory.histogram(m.timeToConversion, b.timeToConversion),
    revenue: factory.counter(m.revenue, b.revenue),
    orderValue: factory.histogram(m.orderValue, b.orderValue),
    refunds: factory.counter(m.refunds, b.refunds),
    featureUsage: factory.counter(m.featureUsage, b.featureUsage),
    sessionDuration: factory.histogram(m.sessionDuration, b.sessionDuration),
    // One source per tier: a tier trackActiveUser counts is reported from its sketches, not from updateActiveUsers.
    activeUsers: factory.gauge(
      m.activeUsers,
      b.activeUsers,
      (attributes) => tracked.isTracked(String(attributes.user_tier)),
      (observe) => tracked.forEachValue(observe),
    ),
  };
  factory.observableGauge(m.revenuePerMinute, sources.revenuePerMinute);
  factory.batchObservableGauges([m.currencyMinorUnits, m.exchangeRate], (observe) =>
    sources.money({
      minorUnits: (value, attributes) => observe(0, value, attributes),
      exchangeRate: (value, attributes) => observe(1, value, attributes),
    }),
  );
  const storeFailures = sources.activeUsersStoreFailures;
  if (storeFailures) {
    const byReason = new Map<string, Attributes>();
    factory.observableCounter(SELF_METRICS.activeUsersStoreFailures, (observe) => {
      for (const [reason, count] of Object.entries(storeFailures() ?? {})) {
        if (count === 0) continue;
        let attributes = byReason.get(reason);
        if (!attributes) byReason.set(reason, (attributes = Object.freeze({ reason })));
        observe(count, attributes);
      }
    });
  }
  factory.selfMetrics();
  return instruments;
}

/** What the process-wide self-metrics read (one set per initBusinessMetrics, on its MeterProvider). */
export interface ProcessSelfMetricSources {
  /** Every push exporter with its failed exports so far (`business_metrics_export_failures{exporter}`). */
  readonly exporters: ReadonlyArray<{ readonly name: string; readonly failures: number }>;
  /** The cluster primary: collections that went without a source's numbers, and the sources it knows. */
  readonly cluster?: {
    forEachFailure(visit: (reason: string, count: number) => void): void;
    readonly sources: number;
  };
}

/**
 * Registers the self-metrics of initBusinessMetrics itself (not of one recorder) on its Meter, or in its store
 * when the store observes the package's observables (see {@link observableHost}).
 */
export function registerProcessSelfMetrics(
  meter: Meter,
  store: LocalSeriesStore | undefined,
  sources: ProcessSelfMetricSources,
): void {
  const observables = observableHost(meter, store);
  const exporters = sources.exporters.map((exporter) => ({
    exporter,
    attributes: Object.freeze({ exporter: exporter.name }),
  }));
  observables.counter(SELF_METRICS.exportFailures, (observe) => {
    for (const { exporter, attributes } of exporters)
      if (exporter.failures > 0) observe(exporter.failures, attributes);
  });
  const cluster = sources.cluster;
  if (cluster === undefined) return;
  observables.counter(SELF_METRICS.clusterCollectionFailures, (observe) =>
    cluster.forEachFailure((reason, count) => observe(count, { reason })),
  );
  observables.gauge(SELF_METRICS.clusterSources, (observe) => observe(cluster.sources));
}

/** Where observed instruments of catalog definitions are registered: asynchronous instruments or the store's. */
interface ObservableHost {
  counter(definition: MetricDefinition, callback: (observe: Observe) => void): void;
  gauge(definition: MetricDefinition, callback: (observe: Observe) => void): void;
  batchGauges(
    definitions: readonly MetricDefinition[],
    callback: (observe: (index: number, value: number, attributes: Attributes) => void) => void,
  ): void;
}

/**
 * The store's own observations when it observes the package's observables (no SDK MeterProvider runs them: a
 * pull-only app), else the Meter's asynchronous instruments.
 */
function observableHost(meter: Meter, store: LocalSeriesStore | undefined): ObservableHost {
  return store?.observed ?? meterObservables(meter);
}

function meterObservables(meter: Meter): ObservableHost {
  const single =
    (kind: 'counter' | 'gauge') =>
    (definition: MetricDefinition, callback: (observe: Observe) => void): void => {
      const instrument =
        kind === 'counter'
          ? meter.createObservableCounter(definition.name, sdkOptions(definition))
          : meter.createObservableGauge(definition.name, sdkOptions(definition));
      instrument.addCallback((result: ObservableResult) =>
        callback((value, attributes) => result.observe(value, attributes)),
      );
    };
  return {
    counter: single('counter'),
    gauge: single('gauge'),
    batchGauges(definitions, callback) {
      const gauges = definitions.map((definition) =>
        meter.createObservableGauge(definition.name, sdkOptions(definition)),
      );
      meter.addBatchObservableCallback((result: BatchObservableResult) => {
        callback((index, value, attributes) => result.observe(gauges[index], value, attributes));
      }, gauges);
    },
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

/**
 * The Meter of a recorder whose instruments all live in the package's own series store (a pull-only app), which
 * never calls it: the API's no-op Meter, loaded only if one of its methods is called, so such an app need not load
 * @opentelemetry/api at all (support/otel-api.ts).
 */
export function storeOnlyMeter(): Meter {
  let noop: Meter | undefined;
  const meter = (): Meter => (noop ??= otelApi().createNoopMeter());
  return {
    createGauge: (...args) => meter().createGauge(...args),
    createHistogram: (...args) => meter().createHistogram(...args),
    createCounter: (...args) => meter().createCounter(...args),
    createUpDownCounter: (...args) => meter().createUpDownCounter(...args),
    createObservableGauge: (...args) => meter().createObservableGauge(...args),
    createObservableCounter: (...args) => meter().createObservableCounter(...args),
    createObservableUpDownCounter: (...args) => meter().createObservableUpDownCounter(...args),
    addBatchObservableCallback: (...args) => meter().addBatchObservableCallback(...args),
    removeBatchObservableCallback: (...args) => meter().removeBatchObservableCallback(...args),
  };
}
