/**
 * The aggregate as an exporter of the primary asks for it: each kind of metric in the temporality the reader's
 * selector gives its instrument type (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta or lowmemory: counters
 * and histograms delta, up-down counters cumulative; a push exporter or reader of the app's: whatever it selects),
 * delta being what each series of the aggregate gained since this reader's previous collection.
 *
 * The aggregate's counters and histograms never go backwards while the primary lives (aggregate.ts), so a
 * difference of two of its collections is exactly what the fleet recorded in between; an up-down counter's delta
 * is its change, negative too (a worker that exits takes its share with it). What a delta point cannot carry: a
 * histogram's min and max of the interval (the aggregate keeps them over all time), so a series' first delta
 * carries the all-time ones and later deltas none. The wire keeps a metric's shape, not its instrument: a monotonic
 * sum is asked about as a counter (an observable counter's too), a non-monotonic one as an up-down counter. Gauges
 * are gauges either way; a series that did not change is left out, as the local store's delta readers leave it out.
 *
 * Owns: that difference, one memory per reader. Must not touch: the merge (aggregate.ts), collection rounds
 * (primary.ts), which exporters exist (init.ts).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type AggregationTemporalitySelector,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { identityOf } from './validate';

/** The instrument types of the aggregate's metrics that have a temporality (see {@link instrumentTypeOf}). */
const SUMMED_TYPES = [InstrumentType.COUNTER, InstrumentType.UP_DOWN_COUNTER, InstrumentType.HISTOGRAM];

/**
 * The aggregate `aggregate` for a reader whose selector is `select` (asked once per instrument type, as the SDK
 * asks it once per instrument): the aggregate itself when it wants every type cumulative.
 */
export function aggregateProducer(
  aggregate: MetricProducer,
  select: AggregationTemporalitySelector,
): MetricProducer {
  const delta = new Set(SUMMED_TYPES.filter((type) => select(type) === AggregationTemporality.DELTA));
  return delta.size === 0 ? aggregate : new DeltaOfAggregate(aggregate, delta);
}

/** The instrument type a reader's selector is asked about for a metric; undefined for gauges. */
function instrumentTypeOf(metric: MetricData): InstrumentType | undefined {
  if (metric.dataPointType === DataPointType.HISTOGRAM) return InstrumentType.HISTOGRAM;
  if (metric.dataPointType !== DataPointType.SUM) return undefined;
  return metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER;
}

/** What a series' previous collection reported: a counter's value, or a histogram's count, sum and buckets. */
type Reported = number[];

/** Differences of the aggregate's successive collections, for one reader. */
export class DeltaOfAggregate implements MetricProducer {
  /** By scope, family and series identity: the cumulative numbers of this reader's previous collection. */
  private readonly reported = new Map<string, Reported>();
  /** The end of this reader's previous collection: the start of every later delta interval. */
  private previousEnd: HrTime | undefined;

  constructor(
    private readonly aggregate: MetricProducer,
    /** The instrument types reported as deltas; the others pass as they are. Default: OpenTelemetry's delta preset. */
    private readonly delta: ReadonlySet<InstrumentType> = new Set([
      InstrumentType.COUNTER,
      InstrumentType.HISTOGRAM,
    ]),
  ) {}

  async collect(options?: Parameters<MetricProducer['collect']>[0]): Promise<CollectionResult> {
    const result = await this.aggregate.collect(options);
    const { resource, scopeMetrics } = result.resourceMetrics;
    const previousEnd = this.previousEnd;
    let end: HrTime | undefined;
    const seen = new Set<string>();
    const scopes = scopeMetrics.map(({ scope, metrics }) => ({
      scope,
      metrics: metrics
        .map((metric) => {
          end ??= metric.dataPoints[0]?.endTime;
          const family = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}\u0000${metric.descriptor.name}\u0000`;
          return this.deltaOf(metric, family, previousEnd, seen);
        })
        .filter((metric) => metric.dataPoints.length > 0),
    }));
    // Series that left the aggregate (none that count: counters and histograms stay) are forgotten.
    for (const key of this.reported.keys()) if (!seen.has(key)) this.reported.delete(key);
    if (end !== undefined) this.previousEnd = end;
    return {
      resourceMetrics: { resource, scopeMetrics: scopes.filter((scope) => scope.metrics.length > 0) },
      errors: result.errors,
    };
  }

  private deltaOf(
    metric: MetricData,
    family: string,
    previousEnd: HrTime | undefined,
    seen: Set<string>,
  ): MetricData {
    const type = instrumentTypeOf(metric);
    if (type === undefined || !this.delta.has(type)) return metric;
    const monotonic = type === InstrumentType.COUNTER;
    const dataPoints: DataPoint<number | Histogram>[] = [];
    for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
      const key = family + identityOf(point.attributes as Attributes);
      seen.add(key);
      const previous = this.reported.get(key);
      const startTime = previous !== undefined && previousEnd !== undefined ? previousEnd : point.startTime;
      if (typeof point.value === 'number') {
        const before = previous?.[0] ?? 0;
        // Never expected of a counter (the aggregate does not go backwards): a lower value starts it afresh.
        const delta = monotonic && point.value < before ? point.value : point.value - before;
        this.reported.set(key, [point.value]);
        if (delta !== 0) dataPoints.push({ ...point, startTime, value: delta });
        continue;
      }
      const value = point.value;
      const counts = value.buckets.counts;
      const now = [value.count, value.sum ?? 0, ...counts];
      this.reported.set(key, now);
      const fresh = previous === undefined || previous.length !== now.length || value.count < previous[0];
      const count = fresh ? value.count : value.count - previous[0];
      if (count === 0) continue;
      dataPoints.push({
        ...point,
        startTime,
        value: {
          buckets: {
            boundaries: value.buckets.boundaries,
            counts: fresh ? counts.slice() : counts.map((n, i) => n - previous[2 + i]),
          },
          sum: fresh ? value.sum : (value.sum ?? 0) - previous[1],
          count,
          // The interval's min and max are unknown past a series' first report.
          min: fresh ? value.min : undefined,
          max: fresh ? value.max : undefined,
        },
      });
    }
    return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints } as MetricData;
  }
}
