/**
 * Folder src/series/: the package's own storage of business series (series-table.ts: ids -> cells with the
 * lifetime cap; cells.ts: one series' state; this file: collection for SDK readers). The folder must not touch
 * label normalisation or exporters.
 *
 * The package's own aggregation for its counters and histograms, handed to every reader as a MetricProducer.
 *
 * Why not the SDK's synchronous instruments: their per-call attribute hashing (sort + JSON.stringify) dominates
 * the cost of a business event, every extra reader doubles it, and their cardinality limit does not bound memory
 * under cumulative temporality. Here a measurement updates one cell found by label ids; readers, temporality,
 * resource and export remain the SDK's. A reader calls collect() synchronously from its own collection, so every
 * scrape or export sees every measurement recorded before it, and no update can be lost between two collections.
 *
 * Owns: the tables of local cells and their conversion to OTel MetricData (cumulative or delta per reader).
 * Must not touch: label resolution, exporters.
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricDefinition } from '../catalog/metrics';
import type { LocalCounterCell, LocalHistogramCell } from './cells';
import { refreshExemplarGate, type ExemplarCarrier } from './exemplars';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
import type { SeriesTable } from './series-table';

interface Registered<Cell> {
  readonly definition: MetricDefinition;
  readonly table: SeriesTable<Cell>;
}

interface HistogramSnapshot {
  readonly counts: number[];
  readonly sum: number;
  readonly count: number;
}

export class LocalSeriesStore {
  private readonly counters: Registered<LocalCounterCell>[] = [];
  private readonly histograms: Registered<LocalHistogramCell>[] = [];
  private deltaReaders = 0;
  /** When the store started counting: the start of every delta reader's first interval. */
  readonly startTime: HrTime = hrTime();

  constructor(
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
  ) {
    refreshExemplarGate();
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

  /** @internal */
  collectMetrics(
    counterPoint: (cell: LocalCounterCell, endTime: HrTime) => DataPoint<number> | undefined,
    histogramPoint: (cell: LocalHistogramCell, endTime: HrTime) => DataPoint<Histogram> | undefined,
    temporality: AggregationTemporality,
  ): CollectionResult {
    // A trace SDK registered (or disabled) since the last collection starts (or stops) exemplars from now on.
    refreshExemplarGate();
    const endTime = hrTime();
    const metrics: MetricData[] = [];
    for (const { definition, table } of this.counters) {
      const dataPoints: DataPoint<number>[] = [];
      for (const cell of table.cells) {
        const point = counterPoint(cell, endTime);
        if (point) dataPoints.push(point);
      }
      if (dataPoints.length > 0) {
        metrics.push({
          descriptor: descriptorOf(definition),
          aggregationTemporality: temporality,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints,
        });
      }
    }
    for (const { definition, table } of this.histograms) {
      const dataPoints: DataPoint<Histogram>[] = [];
      for (const cell of table.cells) {
        const point = histogramPoint(cell, endTime);
        if (point) dataPoints.push(point);
      }
      if (dataPoints.length > 0) {
        metrics.push({
          descriptor: descriptorOf(definition),
          aggregationTemporality: temporality,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints,
        });
      }
    }
    return {
      resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: this.scope, metrics }] },
      errors: [],
    };
  }
}

function descriptorOf(definition: MetricDefinition) {
  return {
    name: definition.name,
    description: definition.description,
    unit: definition.unit,
    valueType: ValueType.DOUBLE,
  };
}

class CumulativeProducer implements MetricProducer {
  constructor(private readonly store: LocalSeriesStore) {}

  async collect(): Promise<CollectionResult> {
    // Each series starts when it was born, not when the process started: a created timestamp far before the
    // first increment (beyond Prometheus's lookback, or its head's 1 h window) would not make that increment count.
    return this.store.collectMetrics(
      (cell, endTime) => {
        const point: DataPoint<number> & Mutable<ExemplarCarrier> = {
          startTime: cell.startTime,
          endTime,
          attributes: cell.attributes,
          value: cell.value,
        };
        // Only the Prometheus serializer reads this (see exemplars.ts); exemplar objects are never mutated.
        if (cell.exemplar !== undefined) point.exemplars = [cell.exemplar];
        return point;
      },
      (cell, endTime) => {
        if (cell.count === 0) return undefined;
        const point: DataPoint<Histogram> & Mutable<ExemplarCarrier> = {
          startTime: cell.startTime,
          endTime,
          attributes: cell.attributes,
          // Copied: an exporter may serialise after later measurements changed the cell.
          value: {
            buckets: { boundaries: cell.boundaries as number[], counts: cell.counts.slice() },
            sum: cell.sum,
            count: cell.count,
            min: cell.min,
            max: cell.max,
          },
        };
        if (cell.exemplars !== undefined) point.exemplars = cell.exemplars.slice();
        return point;
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
    const startTime = this.previousEnd;
    let endOfThisCollection: HrTime = startTime;
    const result = this.store.collectMetrics(
      (cell, endTime) => {
        endOfThisCollection = endTime;
        const delta = cell.value - (this.reportedCounters.get(cell) ?? 0);
        if (delta === 0) return undefined;
        this.reportedCounters.set(cell, cell.value);
        return { startTime, endTime, attributes: cell.attributes, value: delta };
      },
      (cell, endTime) => {
        endOfThisCollection = endTime;
        const previous = this.reportedHistograms.get(cell);
        const count = cell.count - (previous?.count ?? 0);
        if (count === 0) return undefined;
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
        return {
          startTime,
          endTime,
          attributes: cell.attributes,
          value: {
            buckets: {
              boundaries: cell.boundaries as number[],
              counts: previous ? counts.map((value, i) => value - previous.counts[i]) : counts.slice(),
            },
            sum: cell.sum - (previous?.sum ?? 0),
            count,
            min,
            max,
          },
        };
      },
      AggregationTemporality.DELTA,
    );
    this.previousEnd = endOfThisCollection;
    return result;
  }
}
