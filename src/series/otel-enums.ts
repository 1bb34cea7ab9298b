/**
 * The values of @opentelemetry/sdk-metrics' enums (and the API's `ValueType`) that the pull path uses, without
 * loading the SDK or the API: a pull-only app serves `/metrics` from the store and never loads sdk-metrics, core or
 * resources (about 100 modules), nor the API in a process without tracing (see docs/performance.md#cold-start).
 * Each constant has the enum's own type, so it goes wherever the enum's value goes; a test compares every value
 * with the SDK's and the API's.
 *
 * Owns: those constants. Must not touch: anything that needs the SDK loaded (readers, providers).
 */
import type * as Api from '@opentelemetry/api';
import type * as Sdk from '@opentelemetry/sdk-metrics';

export type ValueType = Api.ValueType;
export const ValueType: { readonly INT: Api.ValueType.INT; readonly DOUBLE: Api.ValueType.DOUBLE } = {
  INT: 0,
  DOUBLE: 1,
};

export type AggregationTemporality = Sdk.AggregationTemporality;
export const AggregationTemporality: {
  readonly DELTA: Sdk.AggregationTemporality.DELTA;
  readonly CUMULATIVE: Sdk.AggregationTemporality.CUMULATIVE;
} = { DELTA: 0, CUMULATIVE: 1 };

export type DataPointType = Sdk.DataPointType;
export const DataPointType: {
  readonly HISTOGRAM: Sdk.DataPointType.HISTOGRAM;
  readonly EXPONENTIAL_HISTOGRAM: Sdk.DataPointType.EXPONENTIAL_HISTOGRAM;
  readonly GAUGE: Sdk.DataPointType.GAUGE;
  readonly SUM: Sdk.DataPointType.SUM;
} = { HISTOGRAM: 0, EXPONENTIAL_HISTOGRAM: 1, GAUGE: 2, SUM: 3 };

export type AggregationType = Sdk.AggregationType;
export const AggregationType: {
  readonly DEFAULT: Sdk.AggregationType.DEFAULT;
  readonly EXPLICIT_BUCKET_HISTOGRAM: Sdk.AggregationType.EXPLICIT_BUCKET_HISTOGRAM;
} = { DEFAULT: 0, EXPLICIT_BUCKET_HISTOGRAM: 4 };

export type InstrumentType = Sdk.InstrumentType;
export const InstrumentType: {
  readonly COUNTER: Sdk.InstrumentType.COUNTER;
  readonly OBSERVABLE_COUNTER: Sdk.InstrumentType.OBSERVABLE_COUNTER;
  readonly OBSERVABLE_GAUGE: Sdk.InstrumentType.OBSERVABLE_GAUGE;
} = {
  COUNTER: 'COUNTER' as Sdk.InstrumentType.COUNTER,
  OBSERVABLE_COUNTER: 'OBSERVABLE_COUNTER' as Sdk.InstrumentType.OBSERVABLE_COUNTER,
  OBSERVABLE_GAUGE: 'OBSERVABLE_GAUGE' as Sdk.InstrumentType.OBSERVABLE_GAUGE,
};
