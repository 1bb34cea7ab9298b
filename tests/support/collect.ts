/**
 * A pull MetricReader for unit tests and helpers that flatten what it collects into plain points.
 */
import {
  DataPointType,
  MetricReader,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** Collects on demand; nothing else. */
export class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
  async resourceMetrics(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'collection errors');
    return resourceMetrics;
  }
}

export interface FlatPoint {
  attributes: Record<string, unknown>;
  value: number | Histogram;
}

export function findMetric(resourceMetrics: ResourceMetrics, name: string): MetricData | undefined {
  const matches = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((m) => m.descriptor.name === name);
  if (matches.length > 1) throw new Error(`metric ${name} appears ${matches.length} times`);
  return matches[0];
}

/** Points of one metric, sorted by their attributes for stable comparison. */
export function pointsOf(resourceMetrics: ResourceMetrics, name: string): FlatPoint[] {
  const metric = findMetric(resourceMetrics, name);
  if (!metric) return [];
  if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM)
    throw new Error('unexpected exponential histogram');
  return (metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: number | Histogram }>)
    .map((point) => ({ attributes: { ...point.attributes }, value: point.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
}
