/**
 * BusinessMetrics: the seed's recording methods, turning one business event into updates of the instruments
 * that metrics/instruments.ts wires from the catalog.
 *
 * Owns: the value rules (amounts, durations, counts) and which instruments each method updates. Must not touch:
 * instrument construction (metrics/instruments.ts), exporters, the MeterProvider's lifecycle, process state.
 *
 * Hot path rule: a record method never throws (unless `strict`), allocates nothing once its series exists, and
 * never formats a string. Everything unusual goes through the GuardReporter.
 * Must not import: `src/exporters/`, `src/cluster/`, `src/init.ts`.
 */
import type { Meter } from '@opentelemetry/api';
import { activeUsersClusterExtension } from '../active-users/cluster-sketches';
import { ActiveUsersCounter } from '../active-users/tracker';
import type { ClusterExtension } from '../cluster/extensions';
import { OTHER_LABEL_VALUE } from '../catalog/labels';
import { BUSINESS_METRICS } from '../catalog/metrics';
import { prometheusFamilyName } from '../catalog/prometheus-naming';
import { DEFAULT_LIMITS } from '../config/defaults';
import type { DropReason } from '../guard/reasons';
import { GuardReporter } from '../guard/reporter';
import { describe } from '../support';
import type { ScrapeHints } from '../exporters/prometheus/scrape-endpoint';
import type { ExpositionFormat } from '../exporters/prometheus/serializer';
import { Money } from '../money/money';
import type { LocalSeriesStore } from '../series/local-store';
import type { CounterCell } from '../series/cells';
import { CARDINALITY_LIMIT } from '../series/observed';
import { RawTupleCache } from '../series/raw-tuple-cache';
import {
  createBusinessInstruments,
  definedOnly,
  InstrumentFactory,
  resolvePolicies,
  type BusinessInstruments,
  type InstrumentFactoryOptions,
} from './instruments';
import type {
  ActiveUserMetadata,
  ActiveUsersWindow,
  BusinessMetricsLimits,
  BusinessMetricsOptions,
  BusinessMetricsRecorder,
  ConversionMetadata,
  FeatureUsageMetadata,
  FunnelStepMetadata,
  RefundMetadata,
  RevenueMetadata,
  SessionMetadata,
} from './recorder';
import { RevenueWindow } from './revenue-window';
import { stampClock } from './coarse-clock';

export type * from './recorder';
export { DEFAULT_LIMITS } from '../config/defaults';

/** The refund reason recorded when a refund gives none. */
const DEFAULT_REFUND_REASON = 'customer_request';

/** How far in the future a session start may lie before it counts as a clock error (client clock skew). */
const FUTURE_TOLERANCE_MS = 1000;

const LOCAL_STORE: unique symbol = Symbol('otel-business-metrics.localStore');

/**
 * @internal `getMetrics()` with what a scrape tells its source (the scraper's own deadline): initBusinessMetrics'
 * exposition, which the adapters' `/metrics` answer through.
 */
export type ScrapeExposition = (format: ExpositionFormat, hints?: ScrapeHints) => Promise<string>;

/** @internal Options initBusinessMetrics passes to record into its own local series store. */
export interface InternalBusinessMetricsOptions extends BusinessMetricsOptions {
  [LOCAL_STORE]?: LocalSeriesStore;
  /** What `getMetrics()` reads. */
  exposition?: ScrapeExposition;
  /** What the adapters' `/metrics` read: a scrape, seen by the final-scrape hand-over (default: `exposition`). */
  scrape?: ScrapeExposition;
}

/** @internal */
export function withLocalStore(
  options: Omit<InternalBusinessMetricsOptions, typeof LOCAL_STORE>,
  store: LocalSeriesStore,
): InternalBusinessMetricsOptions {
  return { ...options, [LOCAL_STORE]: store };
}

/** @internal What an integration needs to build instruments of its own on a recorder's store, limits and guard. */
export interface InstrumentContext {
  readonly meter: Meter;
  readonly options: InstrumentFactoryOptions;
}

// Kept outside the class so that nothing of it shows in the public type.
const INSTRUMENT_CONTEXTS = new WeakMap<object, InstrumentContext>();
const SCRAPE_EXPOSITIONS = new WeakMap<object, ScrapeExposition>();

/**
 * @internal The store, limits and guard reporter of a recorder built by this package (the HTTP integration records
 * through them), or undefined for any other object.
 */
export function instrumentContextOf(recorder: unknown): InstrumentContext | undefined {
  return typeof recorder === 'object' && recorder !== null ? INSTRUMENT_CONTEXTS.get(recorder) : undefined;
}

/**
 * @internal The exposition a framework adapter's `/metrics` answers with (as `getMetrics()`, but a scrape: it takes
 * the scraper's hints and the final-scrape hand-over sees it), or undefined for a recorder without one (or any
 * other object).
 */
export function scrapeExpositionOf(recorder: unknown): ScrapeExposition | undefined {
  return typeof recorder === 'object' && recorder !== null ? SCRAPE_EXPOSITIONS.get(recorder) : undefined;
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
  /** Stamps that need whole seconds only (the revenue minute, an active user's day); see coarse-clock.ts. */
  private readonly stampNow: () => number;
  private readonly limits: Required<Omit<BusinessMetricsLimits, 'labels'>>;
  private readonly exposition: ScrapeExposition | undefined;
  private readonly instruments: BusinessInstruments;
  private readonly money: Money;
  /** Rolling minute per currency and region: [currency id][region id of the revenue instrument]. */
  private readonly revenueWindows: RevenueWindow[][] = [];
  /** Windows made so far, and how many the gauge may hold before new pairs share the all-`other` window. */
  private revenueWindowCount = 0;
  private readonly maxRevenueWindows: number;
  private overflowRevenueWindow: RevenueWindow | undefined;
  private readonly revenuePerMinuteFamily = prometheusFamilyName(BUSINESS_METRICS.revenuePerMinute);
  /** Id of the default refund reason in the refunds instrument's reason vocabulary. */
  private readonly defaultRefundReason: number;
  private readonly activeUsersCounter: ActiveUsersCounter;
  /** Raw label values -> cell of the counters recorded most (series/raw-tuple-cache.ts): a call with a tuple seen
   * before skips one vocabulary lookup per label and the table's probe. */
  private readonly funnelCells: RawTupleCache<CounterCell>;
  private readonly conversionCells: RawTupleCache<CounterCell>;
  private readonly featureCells: RawTupleCache<CounterCell>;

  constructor(meter: Meter, options: BusinessMetricsOptions = {}) {
    bindPublicMethods(this);
    // Read through a closure, not captured: fake timers installed after construction replace Date.now.
    this.now = options.now ?? (() => Date.now());
    this.stampNow = stampClock(options.now);
    this.reporter = new GuardReporter(options.strict === true, this.now);
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options.limits ?? {}) };
    validateLimits(this.limits);
    // The per-minute gauge is an observable one: its series are held to the cap like every other metric's (one
    // kept for the all-`other` window), and below the SDK's cardinality limit of 2000 per instrument, whose own
    // overflow series would keep only the last of the windows it folds.
    this.maxRevenueWindows = Math.min(this.limits.maxSeriesPerMetric, CARDINALITY_LIMIT - 1) - 1;
    const { exposition, scrape = exposition } = options as InternalBusinessMetricsOptions;
    this.exposition = exposition;
    if (scrape) SCRAPE_EXPOSITIONS.set(this, scrape);
    this.money = new Money(options.money);
    const policies = resolvePolicies(options.limits?.labels);
    const factoryOptions = {
      store: (options as InternalBusinessMetricsOptions)[LOCAL_STORE],
      policies,
      sharedVocabularies: { currency: this.money.currencies },
      limits: this.limits,
      reporter: this.reporter,
    };
    INSTRUMENT_CONTEXTS.set(this, { meter, options: factoryOptions });
    const factory = new InstrumentFactory(meter, factoryOptions);
    const activeUsers = new ActiveUsersCounter(options.activeUsers ?? {}, {
      reporter: this.reporter,
      now: this.now,
      stampNow: this.stampNow,
      // Only with the real wall clock: the monotonic clock vouches for its leaps, not for an injected clock's.
      monotonicNow: options.now === undefined ? () => performance.now() : undefined,
      tierPolicy: policies.user_tier,
      maxLabelLength: this.limits.maxLabelLength,
      maxActiveUsers: this.limits.maxActiveUsers,
      family: prometheusFamilyName(BUSINESS_METRICS.activeUsers),
      warn: (key, message) => this.reporter.warn(key, message),
    });
    this.activeUsersCounter = activeUsers;
    this.instruments = createBusinessInstruments(factory, {
      activeUsers,
      revenuePerMinute: (observe) => {
        const now = this.now();
        for (const byRegion of this.revenueWindows) {
          if (byRegion)
            for (const window of byRegion) if (window) observe(window.total(now), window.attributes);
        }
        const overflow = this.overflowRevenueWindow;
        if (overflow) observe(overflow.total(now), overflow.attributes);
      },
      money: (sink) => this.money.observeGauges(sink, this.reporter),
      activeUsersStoreFailures:
        options.activeUsers?.redis !== undefined ? () => activeUsers.storeHealth?.failures : undefined,
    });
    this.defaultRefundReason = this.instruments.refunds.labels[3].resolve(DEFAULT_REFUND_REASON);
    this.funnelCells = new RawTupleCache(this.instruments.funnelStep.table);
    this.conversionCells = new RawTupleCache(this.instruments.conversions.table);
    this.featureCells = new RawTupleCache(this.instruments.featureUsage.table);
  }

  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void {
    const family = this.instruments.funnelStep.family;
    try {
      if (!this.isMetadata(metadata, 'recordFunnelStep', family)) return;
      this.funnelCells
        .at4(step, metadata.source, metadata.deviceType, metadata.experimentVariant || 'control')
        .add(1);
    } catch (error) {
      this.reporter.internalError('recordFunnelStep', family, error);
    }
  }

  recordConversion(type: string, metadata: ConversionMetadata): void {
    const family = this.instruments.conversions.family;
    try {
      if (!this.isMetadata(metadata, 'recordConversion', family)) return;
      const timing = this.instruments.timeToConversion;
      // Checked first so strict mode throws before anything is recorded; in normal mode an unusable start time
      // drops only the duration, never the conversion.
      const seconds = this.secondsSince(
        metadata.sessionStartTime,
        'recordConversion',
        'metadata.sessionStartTime',
        timing.family,
      );
      this.conversionCells.at3(type, metadata.source, metadata.deviceType).add(1);
      if (seconds !== undefined) timing.table.at1(timing.labels[0].resolve(type)).record(seconds);
    } catch (error) {
      this.reporter.internalError('recordConversion', family, error);
    }
  }

  recordRevenue(amountCents: number, metadata: RevenueMetadata): void {
    const { table, labels, family } = this.instruments.revenue;
    try {
      if (!this.isMetadata(metadata, 'recordRevenue', family)) return;
      const currencyId = this.moneyCheck(
        'recordRevenue',
        'amountCents',
        family,
        amountCents,
        metadata.currency,
      );
      if (currencyId < 0) return;
      const regionId = labels[2].resolve(metadata.region);
      const categoryId = labels[0].resolve(metadata.productCategory);
      table.at4(categoryId, labels[1].resolve(metadata.paymentMethod), regionId, currencyId).add(amountCents);
      const orders = this.instruments.orderValue;
      orders.table.at2(orders.labels[0].resolve(metadata.productCategory), currencyId).record(amountCents);
      const byRegion = this.revenueWindows[currencyId] ?? (this.revenueWindows[currencyId] = []);
      const window = byRegion[regionId] ?? this.newRevenueWindow(byRegion, regionId, currencyId);
      window.add(amountCents, this.stampNow());
    } catch (error) {
      this.reporter.internalError('recordRevenue', family, error);
    }
  }

  /**
   * The window of a region and currency not seen before, or, once the gauge holds its cap, the all-`other` window
   * (every such amount counted in `business_metrics_series_overflow_total`, as any metric's overflow is).
   */
  private newRevenueWindow(byRegion: RevenueWindow[], regionId: number, currencyId: number): RevenueWindow {
    if (this.revenueWindowCount < this.maxRevenueWindows) {
      const labels = this.instruments.revenue.labels;
      const window = new RevenueWindow(
        Object.freeze({ region: labels[2].values[regionId], currency: labels[3].values[currencyId] }),
      );
      byRegion[regionId] = window;
      this.revenueWindowCount++;
      return window;
    }
    this.reporter.seriesOverflow(this.revenuePerMinuteFamily, this.maxRevenueWindows + 1);
    return (this.overflowRevenueWindow ??= new RevenueWindow(
      Object.freeze({ region: OTHER_LABEL_VALUE, currency: OTHER_LABEL_VALUE }),
    ));
  }

  recordRefund(amountMinor: number, metadata: RefundMetadata): void {
    const { table, labels, family } = this.instruments.refunds;
    try {
      if (!this.isMetadata(metadata, 'recordRefund', family)) return;
      const currencyId = this.moneyCheck(
        'recordRefund',
        'amountMinor',
        family,
        amountMinor,
        metadata.currency,
      );
      if (currencyId < 0) return;
      // After the money (a dropped call must not count a relabelled reason), before the table (strict mode throws
      // for a reason outside the vocabulary before anything is recorded).
      const reason = metadata.reason;
      const reasonId = reason === undefined ? this.defaultRefundReason : labels[3].resolve(reason);
      table
        .at4(
          currencyId,
          labels[1].resolve(metadata.paymentMethod),
          labels[2].resolve(metadata.region),
          reasonId,
        )
        .add(amountMinor);
    } catch (error) {
      this.reporter.internalError('recordRefund', family, error);
    }
  }

  recordFeatureUsage(featureName: string, metadata: FeatureUsageMetadata): void {
    const family = this.instruments.featureUsage.family;
    try {
      if (!this.isMetadata(metadata, 'recordFeatureUsage', family)) return;
      const isNewUser = metadata.isNewUser;
      this.featureCells
        .at3(
          featureName,
          metadata.userTier,
          isNewUser === true ? 'true' : isNewUser === false ? 'false' : isNewUser,
        )
        .add(1);
    } catch (error) {
      this.reporter.internalError('recordFeatureUsage', family, error);
    }
  }

  recordSessionEnd(sessionStartTime: Date | number, metadata: SessionMetadata): void {
    const { table, labels, family } = this.instruments.sessionDuration;
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
    const { table, labels, family } = this.instruments.activeUsers;
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
        const tierId = labels[1].resolve(tier);
        if (this.activeUsersCounter.isTracked(labels[1].values[tierId])) {
          this.reporter.drop(
            'updateActiveUsers',
            'counts key',
            family,
            'invalid_argument',
            'must not be a tier trackActiveUser counts (use one source per tier)',
            tier,
          );
          continue;
        }
        const reason = this.checkAmount(count, this.limits.maxActiveUsers);
        if (reason !== undefined) {
          this.reporter.drop(
            'updateActiveUsers',
            `counts value for ${describe(tier)}`,
            family,
            reason,
            amountRule(this.limits.maxActiveUsers, 'maxActiveUsers'),
            count,
          );
          continue;
        }
        table.at2(windowId, tierId).value = count as number;
      }
    } catch (error) {
      this.reporter.internalError('updateActiveUsers', family, error);
    }
  }

  trackActiveUser(userId: string, metadata: ActiveUserMetadata): void {
    try {
      this.activeUsersCounter.track(userId, metadata);
    } catch (error) {
      this.reporter.internalError('trackActiveUser', this.instruments.activeUsers.family, error);
    }
  }

  /**
   * Send the active users still queued for the Redis store and close its connection (if the store opened it).
   * initBusinessMetrics's `shutdown()` calls it; call it yourself for a `BusinessMetrics` you constructed with a
   * Redis store. Never rejects; a no-op without a store.
   * @param options.timeoutMillis when to stop waiting for Redis: the connection is then closed (if the store
   * opened it) and a warning says the final flush did not reach Redis. Without it, each step has the store's own
   * `timeoutMillis`.
   */
  close(options: { timeoutMillis?: number } = {}): Promise<void> {
    return this.activeUsersCounter.shutdown(options.timeoutMillis);
  }

  /** @internal Merge the changed active-user sketches into the Redis store now. */
  flushActiveUsers(): Promise<void> {
    return this.activeUsersCounter.flush();
  }

  /**
   * @internal Cluster mode: the extension that carries this recorder's active-user sketches between processes. In
   * a worker (`source`) the recorder then reports no active-user values itself: the primary merges every
   * worker's registers and reports the union, so a user seen by several workers counts once.
   */
  activeUsersClusterExtension(role: 'primary' | 'source'): ClusterExtension {
    if (role === 'source') this.activeUsersCounter.reportThroughPrimary();
    return activeUsersClusterExtension(this.activeUsersCounter, role);
  }

  getMetrics(format: ExpositionFormat = 'prometheus'): Promise<string> {
    if (this.exposition) return this.exposition(format);
    return Promise.reject(
      new Error(
        'getMetrics() needs initBusinessMetrics(): this BusinessMetrics records into a MeterProvider it does not own; ' +
          "read the exposition from that provider's own Prometheus reader",
      ),
    );
  }

  private isMetadata(metadata: unknown, method: string, family: string): boolean {
    if (typeof metadata === 'object' && metadata !== null) return true;
    this.reporter.drop(method, 'metadata', family, 'invalid_argument', 'must be an object', metadata);
    return false;
  }

  /**
   * The currency id of a money amount, or -1 after reporting why it cannot be recorded: the amount's common
   * rules, the currency code, and with an explicit currency an integer of minor units (a fraction means the
   * wrong exponent was applied, e.g. 19.99 passed for 1999 cents).
   *
   * Why two methods: the accepted case is one small expression the JIT inlines into recordRevenue and
   * recordRefund (a call with the reporting branches in it cost ~10% of recordRevenue); every refusal goes to
   * refuseMoney, which checks the rules again in order and reports the first one broken.
   */
  private moneyCheck(
    method: string,
    argument: string,
    family: string,
    amount: number,
    currency: unknown,
  ): number {
    if (
      typeof amount === 'number' &&
      amount >= 0 &&
      amount <= this.limits.maxAmountCents &&
      (currency === undefined || Number.isInteger(amount))
    ) {
      const currencyId = this.money.currencies.resolve(currency);
      if (currencyId >= 0) return currencyId;
    }
    return this.refuseMoney(method, argument, family, amount, currency);
  }

  private refuseMoney(
    method: string,
    argument: string,
    family: string,
    amount: number,
    currency: unknown,
  ): -1 {
    const reason = this.checkAmount(amount, this.limits.maxAmountCents);
    if (reason !== undefined) {
      this.reporter.drop(
        method,
        argument,
        family,
        reason,
        amountRule(this.limits.maxAmountCents, 'maxAmountCents'),
        amount,
      );
      return -1;
    }
    const refusal = this.money.currencies.refusal(currency);
    if (refusal < 0) {
      this.money.dropCurrency(this.reporter, method, family, refusal, currency);
      return -1;
    }
    this.reporter.drop(
      method,
      argument,
      family,
      'not_integer',
      'must be an integer number of minor units of metadata.currency (1999 for 19.99 USD)',
      amount,
    );
    return -1;
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

/**
 * The public methods, each bound once to its instance as an own property: apps destructure the recorder and pass
 * its methods around as callbacks (`const { recordRevenue } = handle.metrics`, `emitter.on('paid',
 * metrics.recordRevenue)`), as they do with the `businessMetrics` singleton, and a detached call must record, not
 * throw a TypeError from `this` being undefined. A subclass's override is what gets bound. A call through the own
 * property costs what the prototype's did (V8 inlines a bound function's target); only construction does the work.
 */
const PUBLIC_METHODS = [
  'recordFunnelStep',
  'recordConversion',
  'recordRevenue',
  'recordRefund',
  'recordFeatureUsage',
  'recordSessionEnd',
  'updateActiveUsers',
  'trackActiveUser',
  'getMetrics',
  'close',
] as const satisfies readonly (keyof BusinessMetrics)[];

function bindPublicMethods(metrics: BusinessMetrics): void {
  const own = metrics as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of PUBLIC_METHODS) own[name] = own[name].bind(metrics);
}

function validateLimits(limits: Required<Omit<BusinessMetricsLimits, 'labels'>>): void {
  for (const [name, value] of Object.entries(limits)) {
    if (name === 'labels') continue;
    if (typeof value !== 'number' || !(value >= 1) || !Number.isFinite(value)) {
      throw new RangeError(`limits.${name} must be a finite number >= 1 (got ${String(value)})`);
    }
  }
  // Above 2^53 a number no longer holds every integer: 2^53 + 1 cents would be recorded as 2^53, a cent lost unseen.
  if (limits.maxAmountCents > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `limits.maxAmountCents must be at most ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER), the largest ` +
        `amount a number holds to the unit (got ${String(limits.maxAmountCents)})`,
    );
  }
}

function amountRule(max: number, limit: 'maxAmountCents' | 'maxActiveUsers'): string {
  return `must be a finite number between 0 and ${max} (limits.${limit})`;
}
