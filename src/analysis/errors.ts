/**
 * The one error type of the correlation analysis, with a stable machine-readable `code`.
 *
 * Owns: error codes and their meaning. Must not touch: I/O, formatting of reports.
 */

/** Every way a correlation analysis can fail, so callers (and the CLI) can branch without parsing messages. */
export type CorrelationErrorCode =
  /** An argument (range, step, option) is malformed or out of bounds. */
  | 'INVALID_ARGUMENT'
  /** The range and step ask for more points per series than Prometheus returns (11,000). */
  | 'TOO_MANY_POINTS'
  /** No TCP/HTTP connection to Prometheus could be made (refused, DNS, TLS). */
  | 'PROMETHEUS_UNREACHABLE'
  /** Prometheus did not answer within the client timeout. */
  | 'PROMETHEUS_TIMEOUT'
  /** Prometheus (or a proxy in front of it) answered with a non-2xx status that is not a query error. */
  | 'PROMETHEUS_HTTP_ERROR'
  /** Prometheus rejected or failed the PromQL expression; the message carries Prometheus's own text. */
  | 'PROMETHEUS_QUERY_ERROR'
  /** The response was not the JSON a Prometheus query_range API returns. */
  | 'PROMETHEUS_BAD_RESPONSE'
  /** The expression returned several series where one is needed. */
  | 'MULTIPLE_SERIES'
  /** The expression returned no series, or only NaN/Inf samples. */
  | 'NO_DATA'
  /** Fewer aligned (timestamp-matched, finite) points than the configured minimum. */
  | 'TOO_FEW_POINTS'
  /** One series has zero variance, so no correlation is defined. */
  | 'CONSTANT_SERIES';

/** Thrown by every function of the analysis module for expected failures. */
export class CorrelationError extends Error {
  override readonly name = 'CorrelationError';

  constructor(
    /** Stable identifier of the failure kind. */
    readonly code: CorrelationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link CorrelationError}, optionally of the given code. */
export function isCorrelationError(error: unknown, code?: CorrelationErrorCode): error is CorrelationError {
  return error instanceof CorrelationError && (code === undefined || error.code === code);
}
