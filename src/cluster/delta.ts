/**
 * The aggregate as an exporter of the primary asks for it: cumulative as it is, or, for a reader that asks for
 * delta temporality (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta or lowmemory, a push exporter or reader
 * of the app's that selects it), what each counter and histogram series of the aggregate gained since this
 * reader's previous collection.
 *
 * The aggregate never goes backwards while the primary lives (aggregate.ts), so a difference of two of its
 * collections is exactly what the fleet recorded in between. What a delta point cannot carry: a histogram's min and
 * max of the interval (the aggregate keeps them over all time), so a series' first delta carries the all-time ones
 * and later deltas none. Up-down counters stay cumulative (as both OpenTelemetry presets keep them), gauges are
 * gauges; a series that did not change is left out, as the local store's delta readers leave it out.
 *
 * Owns: that difference, one memory per reader. Must not touch: the merge (aggregate.ts), collection rounds
 * (primary.ts), which exporters exist (init.ts).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { identityOf } from './validate';

/** The aggregate `aggregate` for a reader whose counters have temporality `temporality`. */
export function aggregateProducer(
  aggregate: MetricProducer,
  temporality: AggregationTemporality,
): MetricProducer {
  return temporality === AggregationTemporality.DELTA ? new DeltaOfAggregate(aggregate) : aggregate;
}

/** What a series' previous collection reported: a counter's value, or a histogram's count, sum and buckets. */
type Reported = number[];

/** Differences of the aggregate's successive collections, for one reader. */
export class DeltaOfAggregate implements MetricProducer {
  /** By scope, family and series identity: the cumulative numbers of this reader's previous collection. */
  private readonly reported = new Map<string, Reported>();
  /** The end of this reader's previous collection: the start of every later delta interval. */
  private previousEnd: HrTime | undefined;

  constructor(private readonly aggregate: MetricProducer) {}

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
    const summed = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
    const histogram = metric.dataPointType === DataPointType.HISTOGRAM;
    if (!summed && !histogram) return metric;
    const dataPoints: DataPoint<number | Histogram>[] = [];
    for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
      const key = family + identityOf(point.attributes as Attributes);
      seen.add(key);
      const previous = this.reported.get(key);
      const startTime = previous !== undefined && previousEnd !== undefined ? previousEnd : point.startTime;
      if (typeof point.value === 'number') {
        const before = previous?.[0] ?? 0;
        // Never expected (the aggregate does not go backwards): a lower value starts the series afresh.
        const delta = point.value >= before ? point.value - before : point.value;
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
