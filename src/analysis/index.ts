/**
 * Public API of the correlation analysis between technical and business metrics.
 *
 * Owns: the exported surface of src/analysis. Must not touch: anything outside src/analysis.
 */
export { CorrelationError, isCorrelationError, type CorrelationErrorCode } from './errors';
export {
  parseDuration as parsePrometheusDuration,
  formatDuration as formatPrometheusDuration,
  resolveQueryWindow,
  PROMETHEUS_MAX_POINTS_PER_SERIES,
  type QueryWindow,
  type TimeInput,
  type TimeRangeOptions as CorrelationTimeRange,
} from './duration';
export {
  pearson,
  naivePearson,
  spearman,
  averageRanks,
  centeredMoments,
  fisherInference,
  normalUpperTail,
  linearFit,
  crossCorrelation,
  strongestLag,
  lag1Autocorrelation,
  effectiveSampleSize,
  type CenteredMoments,
  type FisherInference,
  type LinearFit,
  type LaggedCorrelation,
} from './statistics';
export { alignOnGrid, type Sample, type AlignedSeries, type SeriesAccounting } from './align';
export {
  correlateSeries,
  correlationStrength,
  correlationResultToJson,
  formatReport as formatCorrelationReport,
  DEFAULT_MIN_SAMPLES,
  DEFAULT_MAX_LAG,
  type CorrelationOptions,
  type CorrelationResult,
  type CorrelationResultJson,
  type CorrelationStrength,
  type LagSummary,
  type MetricPresentation,
  type SeriesSummary,
} from './correlation';
export {
  PrometheusRangeClient,
  describeMultipleSeries,
  type PrometheusConnection,
  type RangeSeries,
  type RangeQueryResult,
} from './prometheus-client';
export {
  MetricCorrelationService,
  analyzeCorrelation,
  type CorrelationRequest,
  type MetricQuery,
  type PrometheusCorrelationResult,
} from './service';
export { renderCorrelationSvg, type SvgOptions as CorrelationSvgOptions } from './svg';
