/**
 * Views for apps that own their MeterProvider and construct `BusinessMetrics` from one of its Meters.
 *
 * Owns: the catalog -> ViewOptions derivation. Histogram advice already gives the right buckets when no view
 * sets an aggregation; register these views when your provider has views that would otherwise match.
 */
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { BUSINESS_METRIC_LIST } from '../catalog/metrics';
import { AggregationType } from '../series/otel-enums';

/** One explicit-bucket view per business histogram, named and bucketed exactly as the catalog says. */
export function businessMetricViews(): ViewOptions[] {
  return BUSINESS_METRIC_LIST.filter((definition) => definition.kind === 'histogram').map((definition) => ({
    instrumentName: definition.name,
    aggregation: {
      type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
      options: { boundaries: [...(definition.buckets ?? [])] },
    },
  }));
}
