/**
 * Folder src/series/: the package's own storage of business series (series-table.ts: ids -> cells with the
 * lifetime cap and each series' birth; raw-tuple-cache.ts: callers' raw label values -> cells in front of a
 * table; cells.ts: one series' state; time.ts: the store's clock; observed.ts: the package's observable instruments when no SDK
 * runs them; otel-enums.ts: the SDK's enum values without the SDK; this file: collection for SDK readers, and a
 * pull-only app's whole collection). The folder must not touch label normalisation or exporters.
 *
 * The package's own aggregation for its counters and histograms, handed to every reader as a MetricProducer.
 *
 * Why not the SDK's synchronous instruments: their per-call attribute hashing (sort + JSON.stringify) dominates
 * the cost of a business event, every extra reader doubles it, and their cardinality limit does not bound memory
 * under cumulative temporality. Here a measurement updates one cell found by label ids; readers, temporality,
 * resource and export remain the SDK's (but in a pull-only app, which has no SDK reader: collectPull). A reader calls collect() synchronously from its own collection, so every
 * scrape or export sees every measurement recorded before it, and no update can be lost between two collections.
 *
 * Owns: the tables of local cells and what each collection reports (cumulative or delta per reader; a pull-only
 * app's whole collection, with the observed instruments and the app's own MeterProvider's), copied into
 * columns (collection.ts: the columns, and the OTel MetricData built from them for readers that want objects).
 * Must not touch: label resolution, exporters.
 * Must not import: `src/guard/`, `src/exporters/`, `src/metrics/`, `@opentelemetry/sdk-trace-base`.
 */
import type { HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type {
  MetricCollectOptions,
  CollectionResult,
  MetricProducer,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricDefinition } from '../catalog/metrics';
import type { LocalCounterCell, LocalHistogramCell } from './cells';
import { refreshExemplarGate, type Exemplar } from './exemplars';
import {
  float64Column,
  int32Column,
  storeScopeMetrics,
  type CounterColumns,
  type HistogramColumns,
  type MetricColumns,
} from './collection';
import type { SeriesTable } from './series-table';
import { ObservedInstruments } from './observed';
import { AggregationTemporality } from './otel-enums';
import { hrTimeNow } from './time';
import { withTimeout } from '../support';

interface Registered<Cell> {
  readonly definition: MetricDefinition;
  readonly table: SeriesTable<Cell>;
}

interface HistogramSnapshot {
  readonly counts: number[];
  readonly sum: number;
  readonly count: number;
}

/**
 * What a producer reports for one series: fills row `row` of the columns and returns true, or returns false to
 * leave the series out of this collection.
 */
type CounterRow = (cell: LocalCounterCell, columns: CounterColumnsBuilder, row: number) => boolean;
type HistogramRow = (cell: LocalHistogramCell, columns: HistogramColumnsBuilder, row: number) => boolean;

type Writable<T> = { -readonly [K in keyof T]: T[K] };
/** The start time of a collection whose every series starts when it was born (cumulative). */
const PER_SERIES_START = 'per-series';

type CounterColumnsBuilder = Writable<CounterColumns> & {
  exemplars: (Exemplar | undefined)[] | undefined;
};
type HistogramColumnsBuilder = Writable<HistogramColumns> & {
  exemplars: (readonly (Exemplar | undefined)[] | undefined)[] | undefined;
};

export class LocalSeriesStore {
  private readonly counters: Registered<LocalCounterCell>[] = [];
  private readonly histograms: Registered<LocalHistogramCell>[] = [];
  private deltaReaders = 0;
  private readonly cumulative: MetricProducer = new CumulativeProducer(this);
  /** When the store started counting: the start of every delta reader's first interval. */
  readonly startTime: HrTime = hrTimeNow();
  /**
   * The package's observable instruments, when the store observes them itself (a pull-only app: no SDK
   * MeterProvider runs their callbacks; see observed.ts and {@link collectPull}); undefined where the SDK's
   * asynchronous instruments observe them.
   */
  readonly observed: ObservedInstruments | undefined;

  constructor(
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
    options: { observesInstruments?: boolean } = {},
  ) {
    refreshExemplarGate();
    this.observed = options.observesInstruments ? new ObservedInstruments() : undefined;
  }

  /**
   * A whole cumulative collection of a pull-only app, as an SDK reader with this store as its producer collected
   * it: the observed instruments' scope first (the SDK's meters come before a reader's producers), then the scopes
   * of `more` (the app's own MeterProvider, once it has one), then the store's counters and histograms.
   * `options.timeoutMillis` bounds `more`: past it, `more`'s metrics are left out and its error is in `errors`.
   */
  async collectPull(
    more?: (options: MetricCollectOptions) => Promise<CollectionResult>,
    options: MetricCollectOptions = {},
  ): Promise<CollectionResult> {
    const errors: unknown[] = [];
    const scopeMetrics: ScopeMetrics[] = [];
    const observed = this.observed?.collect(errors) ?? [];
    if (observed.length > 0) scopeMetrics.push({ scope: this.scope, metrics: observed });
    if (more) {
      // The app's part never holds back the store's: past `timeoutMillis` (which the SDK also gives each of its
      // observable callbacks), it is left out of this collection and reported in `errors`.
      const { timeoutMillis } = options;
      try {
        const pending = more(options);
        const collected =
          timeoutMillis === undefined
            ? await pending
            : await withTimeout(pending, timeoutMillis, "the app's MeterProvider's collection");
        scopeMetrics.push(...collected.resourceMetrics.scopeMetrics);
        errors.push(...collected.errors);
      } catch (error) {
        errors.push(error);
      }
    }
    const own = await this.cumulative.collect();
    scopeMetrics.push(...own.resourceMetrics.scopeMetrics);
    return { resourceMetrics: { resource: this.resource, scopeMetrics }, errors };
  }

  addCounter(definition: MetricDefinition, table: SeriesTable<LocalCounterCell>): void {
    this.counters.push({ definition, table });
  }

  addHistogram(definition: MetricDefinition, table: SeriesTable<LocalHistogramCell>): void {
    this.histograms.push({ definition, table });
  }

  /** A producer for one reader; delta readers get their own memory of what they last reported. */
  createProducer(temporality: AggregationTemporality): MetricProducer {
    return temporality === AggregationTemporality.DELTA
      ? new DeltaProducer(this, this.deltaReaders++)
      : new CumulativeProducer(this);
  }

  /**
   * @internal One collection: every series `counterRow`/`histogramRow` keeps, copied into columns (collection.ts).
   * `startTime` is every point's, or PER_SERIES_START for each series' own. `visited` is called
   * with the collection's end time when at least one series exists.
   */
  collectColumns(
    startTime: HrTime | typeof PER_SERIES_START,
    counterRow: CounterRow,
    histogramRow: HistogramRow,
    temporality: AggregationTemporality,
    visited?: (endTime: HrTime) => void,
  ): CollectionResult {
    // A trace SDK registered (or disabled) since the last collection starts (or stops) exemplars from now on.
    refreshExemplarGate();
    const endTime = hrTimeNow();
    const metrics: MetricColumns[] = [];
    let anySeries = false;
    for (const { definition, table } of this.counters) {
      const cells = table.cells;
      if (cells.length === 0) continue;
      anySeries = true;
      const columns: CounterColumnsBuilder = {
        kind: 'counter',
        definition,
        length: 0,
        series: cells,
        births: table.births,
        indices: int32Column(cells.length),
        perSeriesStart: startTime === PER_SERIES_START,
        values: float64Column(cells.length),
        exemplars: undefined,
      };
      let row = 0;
      for (let index = 0; index < cells.length; index++) {
        const cell = cells[index];
        if (counterRow(cell, columns, row)) columns.indices[row++] = index;
      }
      columns.length = row;
      if (row > 0) metrics.push(columns);
    }
    for (const { definition, table } of this.histograms) {
      const cells = table.cells;
      if (cells.length === 0) continue;
      anySeries = true;
      const boundaries = (cells[0] as LocalHistogramCell).boundaries;
      const n = cells.length;
      const columns: HistogramColumnsBuilder = {
        kind: 'histogram',
        definition,
        length: 0,
        boundaries,
        series: cells,
        births: table.births,
        indices: int32Column(n),
        perSeriesStart: startTime === PER_SERIES_START,
        bucketCounts: float64Column(n * (boundaries.length + 1)),
        sums: float64Column(n),
        counts: float64Column(n),
        mins: float64Column(n),
        maxs: float64Column(n),
        exemplars: undefined,
      };
      let row = 0;
      for (let index = 0; index < cells.length; index++) {
        const cell = cells[index];
        if (histogramRow(cell, columns, row)) columns.indices[row++] = index;
      }
      columns.length = row;
      if (row > 0) metrics.push(columns);
    }
    if (anySeries) visited?.(endTime);
    return {
      resourceMetrics: {
        resource: this.resource,
        scopeMetrics: [
          storeScopeMetrics({
            scope: this.scope,
            temporality,
            // With a column per series, this one is only a default (the store's start) and is never exported.
            startTime: startTime === PER_SERIES_START ? this.startTime : startTime,
            endTime,
            metrics,
          }),
        ],
      },
      errors: [],
    };
  }
}

class CumulativeProducer implements MetricProducer {
  constructor(private readonly store: LocalSeriesStore) {}

  async collect(): Promise<CollectionResult> {
    // Each series starts when it was born, not when the process started: a created timestamp far before the
    // first increment (beyond Prometheus's lookback, or its head's 1 h window) would not make that increment count.
    return this.store.collectColumns(
      PER_SERIES_START,
      (cell, columns, row) => {
        columns.values[row] = cell.value;
        if (cell.exemplar !== undefined) (columns.exemplars ??= [])[row] = cell.exemplar;
        return true;
      },
      (cell, columns, row) => {
        if (cell.count === 0) return false;
        // Copied: an exporter may serialise after later measurements changed the cell.
        const buckets = cell.counts.length;
        for (let b = 0, at = row * buckets; b < buckets; b++) columns.bucketCounts[at + b] = cell.counts[b];
        columns.sums[row] = cell.sum;
        columns.counts[row] = cell.count;
        columns.mins[row] = cell.min;
        columns.maxs[row] = cell.max;
        if (cell.exemplars !== undefined) (columns.exemplars ??= [])[row] = cell.exemplars.slice();
        return true;
      },
      AggregationTemporality.CUMULATIVE,
    );
  }
}

/** Reports what changed since this reader's previous collection; series without change are left out. */
class DeltaProducer implements MetricProducer {
  private readonly reportedCounters = new Map<LocalCounterCell, number>();
  private readonly reportedHistograms = new Map<LocalHistogramCell, HistogramSnapshot>();
  private previousEnd: HrTime;
  constructor(
    private readonly store: LocalSeriesStore,
    /** This reader's min/max window in every histogram cell of the store (see LocalHistogramCell.windows). */
    private readonly window: number,
  ) {
    this.previousEnd = store.startTime;
  }

  async collect(): Promise<CollectionResult> {
    return this.store.collectColumns(
      this.previousEnd,
      (cell, columns, row) => {
        const delta = cell.value - (this.reportedCounters.get(cell) ?? 0);
        if (delta === 0) return false;
        this.reportedCounters.set(cell, cell.value);
        columns.values[row] = delta;
        return true;
      },
      (cell, columns, row) => {
        const previous = this.reportedHistograms.get(cell);
        const count = cell.count - (previous?.count ?? 0);
        if (count === 0) return false;
        const counts = cell.counts.slice();
        this.reportedHistograms.set(cell, { counts, sum: cell.sum, count: cell.count });
        // First report of this series to this reader: the interval is the whole history, so the cumulative
        // min/max are the interval's. From then on the cell tracks this reader's window.
        const window = this.window * 2;
        let min = cell.min;
        let max = cell.max;
        if (previous !== undefined) {
          min = cell.windows[window];
          max = cell.windows[window + 1];
        }
        while (cell.windows.length <= window + 1) cell.windows.push(Infinity, -Infinity);
        cell.windows[window] = Infinity;
        cell.windows[window + 1] = -Infinity;
        const buckets = counts.length;
        for (let b = 0, at = row * buckets; b < buckets; b++) {
          columns.bucketCounts[at + b] = previous ? counts[b] - previous.counts[b] : counts[b];
        }
        columns.sums[row] = cell.sum - (previous?.sum ?? 0);
        columns.counts[row] = count;
        columns.mins[row] = min;
        columns.maxs[row] = max;
        return true;
      },
      AggregationTemporality.DELTA,
      (endTime) => (this.previousEnd = endTime),
    );
  }
}
