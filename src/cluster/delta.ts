/**
 * The aggregate as an exporter of the primary asks for it: each kind of metric in the temporality the reader's
 * selector gives its instrument type (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta or lowmemory: counters
 * and histograms delta, up-down counters cumulative; a push exporter or reader of the app's: whatever it selects),
 * delta being what each series of the aggregate gained since this reader's previous collection.
 *
 * The aggregate's counters and histograms never go backwards while the primary lives (aggregate.ts), so a
 * difference of two of its collections is exactly what the fleet recorded in between; an up-down counter's delta
 * is its change, negative too (a worker that exits takes its share with it; a series that leaves the aggregate with
 * the last worker holding it gets one last delta back to 0). What a delta point cannot carry: a
 * histogram's min and max of the interval (the aggregate keeps them over all time), so a series' first delta
 * carries the all-time ones and later deltas none. The wire keeps a metric's shape, not its instrument: a monotonic
 * sum is asked about as a counter (an observable counter's too), a non-monotonic one as an up-down counter. Gauges
 * are gauges either way; a series that did not change is left out, as the local store's delta readers leave it out.
 * A delta point carries no exemplars, as the local store's delta collections carry none: the aggregate's are the
 * latest ever kept, not necessarily of the interval.
 *
 * Owns: that difference, one memory per reader. Must not touch: the merge (aggregate.ts), collection rounds
 * (primary.ts), which exporters exist (init.ts).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTime, type InstrumentationScope } from '@opentelemetry/core';
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

/** An up-down counter series as last reported: what its closing point needs once it leaves the aggregate. */
interface UpDownSeries {
  readonly scope: InstrumentationScope;
  readonly descriptor: MetricData['descriptor'];
  readonly attributes: Attributes;
  readonly endTime: HrTime;
}

/** Spread over a point copied from the aggregate: its `exemplars` (aggregate.ts) stay off the delta point. */
const NO_EXEMPLARS = { exemplars: undefined };

/** How many closed up-down series {@link DeltaOfAggregate} remembers the closing of. */
const MAX_CLOSED_SERIES = 10_000;

function scopeKeyOf(scope: InstrumentationScope): string {
  return `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}\u0000`;
}

/** Differences of the aggregate's successive collections, for one reader. */
export class DeltaOfAggregate implements MetricProducer {
  /** By scope, family and series identity: the cumulative numbers of this reader's previous collection. */
  private readonly reported = new Map<string, Reported>();
  /** By the same key, the up-down counter series among them (delta ones only). */
  private readonly upDown = new Map<string, UpDownSeries>();
  /** The end of this reader's previous collection: the start of every later delta interval. */
  private previousEnd: HrTime | undefined;
  /**
   * Up-down counter series closed back to 0, by key: the end of their closing point, where their next interval
   * starts if they come back (not at their birth again, which would overlap the intervals already sent). At most
   * {@link MAX_CLOSED_SERIES}, the oldest forgotten first.
   */
  private readonly closed = new Map<string, HrTime>();

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
    /** The up-down counter deltas of this collection, by family: where a closing point of the family goes. */
    const upDownOut = new Map<string, MetricData>();
    const scopes = scopeMetrics.map(({ scope, metrics }) => ({
      scope,
      metrics: metrics.map((metric) => {
        end ??= metric.dataPoints[0]?.endTime;
        const family = scopeKeyOf(scope) + metric.descriptor.name + '\u0000';
        const delta = this.deltaOf(scope, metric, family, previousEnd, seen);
        if (delta !== metric && instrumentTypeOf(metric) === InstrumentType.UP_DOWN_COUNTER) {
          upDownOut.set(family, delta);
        }
        return delta;
      }),
    }));
    // Series that left the aggregate are forgotten. Counters and histograms stay in it while the primary lives
    // (their end is no decrease); an up-down counter's series leaves when every worker holding it exited
    // (aggregate.ts), its value gone with them: a backend summing deltas must hear it fall to 0, or it keeps the
    // last value for good.
    for (const [key, reported] of this.reported) {
      if (seen.has(key)) continue;
      this.reported.delete(key);
      const series = this.upDown.get(key);
      if (series === undefined) continue;
      this.upDown.delete(key);
      if (reported[0] === 0) {
        // Nothing to close: were it to come back, its intervals so far ended at the previous collection.
        this.rememberClosed(key, previousEnd ?? series.endTime);
        continue;
      }
      end ??= hrTime();
      const point: DataPoint<number> = {
        startTime: previousEnd ?? series.endTime,
        endTime: end,
        attributes: series.attributes,
        value: -reported[0],
      };
      this.rememberClosed(key, end);
      const family = scopeKeyOf(series.scope) + series.descriptor.name + '\u0000';
      const out = upDownOut.get(family);
      if (out !== undefined) {
        (out.dataPoints as DataPoint<number>[]).push(point);
        continue;
      }
      const closing: MetricData = {
        descriptor: series.descriptor,
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPointType: DataPointType.SUM,
        isMonotonic: false,
        dataPoints: [point],
      };
      upDownOut.set(family, closing);
      const scopeKey = scopeKeyOf(series.scope);
      const scope = scopes.find((entry) => scopeKeyOf(entry.scope) === scopeKey);
      if (scope !== undefined) scope.metrics.push(closing);
      else scopes.push({ scope: series.scope, metrics: [closing] });
    }
    if (end !== undefined) this.previousEnd = end;
    for (const scope of scopes)
      scope.metrics = scope.metrics.filter((metric) => metric.dataPoints.length > 0);
    return {
      resourceMetrics: { resource, scopeMetrics: scopes.filter((scope) => scope.metrics.length > 0) },
      errors: result.errors,
    };
  }

  private rememberClosed(key: string, at: HrTime): void {
    this.closed.set(key, at);
    if (this.closed.size > MAX_CLOSED_SERIES) this.closed.delete(this.closed.keys().next().value!);
  }

  private deltaOf(
    scope: InstrumentationScope,
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
      const closedAt = this.closed.get(key);
      if (closedAt !== undefined) this.closed.delete(key);
      const startTime =
        previous !== undefined && previousEnd !== undefined ? previousEnd : (closedAt ?? point.startTime);
      if (typeof point.value === 'number') {
        const before = previous?.[0] ?? 0;
        // Never expected of a counter (the aggregate does not go backwards): a lower value starts it afresh.
        const delta = monotonic && point.value < before ? point.value : point.value - before;
        this.reported.set(key, [point.value]);
        if (!monotonic) {
          const { attributes, endTime } = point;
          this.upDown.set(key, { scope, descriptor: metric.descriptor, attributes, endTime });
        }
        if (delta !== 0) dataPoints.push({ ...point, ...NO_EXEMPLARS, startTime, value: delta });
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
        ...NO_EXEMPLARS,
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
