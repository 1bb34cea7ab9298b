/**
 * `otel-business-metrics/analysis`: correlation between a technical and a business metric, read from Prometheus
 * or given in memory, with the statistics behind the report. A separate entry point so an app that only records
 * metrics never loads the analysis, SVG and HTTP-client code.
 *
 * Owns: the exported surface of src/analysis (what is exported here is public; the rest of the folder is internal,
 * and tests import it from its own modules). Must not touch: anything outside src/analysis but src/support's text helpers; recording state.
 * The root entry (src/index.ts) must not re-export this.
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/`, `src/cluster/`, `@opentelemetry/*`.
 */
export { CorrelationError, isCorrelationError, type CorrelationErrorCode } from './errors';
export {
  type QueryWindow as CorrelationQueryWindow,
  type TimeInput as CorrelationTimeInput,
  type TimeRangeOptions as CorrelationTimeRange,
} from './duration';
export {
  pearson,
  spearman,
  fisherInference,
  linearFit,
  crossCorrelation,
  lag1Autocorrelation,
  effectiveSampleSize,
  slopeInference,
  studentT975,
  type SlopeInference,
  type FisherInference,
  type LinearFit as LeastSquaresFit,
  type LaggedCorrelation,
} from './statistics';
export {
  type Sample as CorrelationSample,
  type AlignedSeries as AlignedCorrelationSeries,
  type SeriesAccounting as AlignmentAccounting,
} from './align';
export {
  correlateSeries,
  correlationResultToJson,
  formatReport as formatCorrelationReport,
  MIN_EFFECT_EFFECTIVE_N,
  type EffectSize,
  type CorrelationOptions,
  type CorrelationResult,
  type CorrelationResultJson,
  type CorrelationStrength,
  type LagSummary,
  type MetricPresentation as CorrelationMetricPresentation,
  type SeriesSummary as CorrelationSeriesSummary,
} from './correlation';
export { type PrometheusConnection } from './prometheus-client';
export {
  MetricCorrelationService,
  analyzeCorrelation,
  type CorrelationGroup,
  type CorrelationRequest,
  type MetricQuery as CorrelationMetricQuery,
  type PrometheusCorrelationResult,
} from './service';
export { renderCorrelationSvg, type SvgOptions as CorrelationSvgOptions } from './svg';
