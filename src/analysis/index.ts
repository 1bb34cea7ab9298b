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
  type QueryWindow as CorrelationQueryWindow,
  type TimeInput as CorrelationTimeInput,
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
  type LinearFit as LeastSquaresFit,
  type LaggedCorrelation,
} from './statistics';
export {
  alignOnGrid,
  type Sample as CorrelationSample,
  type AlignedSeries as AlignedCorrelationSeries,
  type SeriesAccounting as AlignmentAccounting,
} from './align';
export {
  correlateSeries,
  validateCorrelationOptions,
  correlationStrength,
  correlationResultToJson,
  formatReport as formatCorrelationReport,
  DEFAULT_MIN_SAMPLES as DEFAULT_CORRELATION_MIN_SAMPLES,
  DEFAULT_MAX_LAG as DEFAULT_CORRELATION_MAX_LAG,
  type CorrelationOptions,
  type CorrelationResult,
  type CorrelationResultJson,
  type CorrelationStrength,
  type LagSummary,
  type MetricPresentation as CorrelationMetricPresentation,
  type SeriesSummary as CorrelationSeriesSummary,
} from './correlation';
export {
  PrometheusRangeClient,
  describeMultipleSeries,
  type PrometheusConnection,
  type RangeSeries as PrometheusRangeSeries,
  type RangeQueryResult as PrometheusRangeQueryResult,
} from './prometheus-client';
export {
  MetricCorrelationService,
  analyzeCorrelation,
  type CorrelationRequest,
  type MetricQuery as CorrelationMetricQuery,
  type PrometheusCorrelationResult,
} from './service';
export { renderCorrelationSvg, type SvgOptions as CorrelationSvgOptions } from './svg';
