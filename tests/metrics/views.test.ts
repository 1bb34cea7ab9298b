/**
 * src/metrics/views.ts: businessMetricViews() for an app that owns its MeterProvider. One explicit-bucket view per
 * business histogram, named and bucketed as the catalog says (a fresh copy each call, so an app that edits
 * its views cannot change the catalog), and what the views are for: with a reader that prefers exponential
 * histograms, the business histograms still come out with the catalog's `le` bounds that the rules and
 * dashboards query, where without the views the reader's preference wins. Real SDK MeterProvider and reader.
 */
import {
  AggregationType,
  DataPointType,
  InstrumentType,
  MeterProvider,
  type Histogram,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { BUSINESS_METRICS, BusinessMetrics } from '../../src';
import { businessMetricViews } from '../../src/metrics/views';
import { findMetric, TestReader } from '../support/collect';

const ORDER_VALUE_BUCKETS = [500, 1000, 2500, 5000, 10000, 25000, 50000];

/** BusinessMetrics on an app's provider whose reader prefers exponential histograms; the order value metric. */
async function orderValueWith(views: ViewOptions[]) {
  const reader = new TestReader({
    aggregationSelector: (type) =>
      type === InstrumentType.HISTOGRAM
        ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
        : { type: AggregationType.DEFAULT },
  });
  const provider = new MeterProvider({ readers: [reader], views });
  try {
    const metrics = new BusinessMetrics(provider.getMeter('shop'));
    for (const cents of [600, 2599, 60_000])
      metrics.recordRevenue(cents, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
    return findMetric(await reader.resourceMetrics(), 'business_order_value_cents')!;
  } finally {
    await provider.shutdown();
  }
}

describe('businessMetricViews', () => {
  it('gives one explicit-bucket view per business histogram, with the catalog buckets', () => {
    expect(businessMetricViews()).toEqual([
      {
        instrumentName: 'business_time_to_conversion_seconds',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [30, 60, 120, 300, 600, 1800, 3600] },
        },
      },
      {
        instrumentName: 'business_order_value_cents',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: ORDER_VALUE_BUCKETS },
        },
      },
      {
        instrumentName: 'business_session_duration_seconds',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [10, 30, 60, 120, 300, 600, 1800, 3600] },
        },
      },
    ]);
  });

  it('hands out copies: editing the boundaries of one call changes neither the catalog nor the next call', () => {
    const [, orderValue] = businessMetricViews();
    const aggregation = orderValue.aggregation as { options: { boundaries: number[] } };
    aggregation.options.boundaries.push(1e9);
    expect(BUSINESS_METRICS.orderValue.buckets).toEqual(ORDER_VALUE_BUCKETS);
    expect(businessMetricViews()[1].aggregation).toEqual({
      type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
      options: { boundaries: ORDER_VALUE_BUCKETS },
    });
  });

  it('keeps the catalog buckets when the reader prefers exponential histograms (which win without the views)', async () => {
    const without = await orderValueWith([]);
    expect(without.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);

    const withViews = await orderValueWith(businessMetricViews());
    expect(withViews.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(withViews.dataPoints).toHaveLength(1);
    const value = withViews.dataPoints[0].value as Histogram;
    expect(value.buckets).toEqual({ boundaries: ORDER_VALUE_BUCKETS, counts: [0, 1, 0, 1, 0, 0, 0, 1] });
    expect(value.count).toBe(3);
  });
});
