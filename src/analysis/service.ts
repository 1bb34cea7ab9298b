/**
 * Correlation of a technical and a business PromQL expression, read from a real Prometheus.
 *
 * Owns: wiring the range client, the query window and the in-memory analysis together.
 * Must not touch: the process (no printing, no exit codes), the filesystem.
 */
import {
  correlateSeries,
  validateCorrelationOptions,
  type CorrelationOptions,
  type CorrelationResult,
  type MetricPresentation,
} from './correlation';
import { CorrelationError } from './errors';
import { resolveQueryWindow, type QueryWindow, type TimeInput } from './duration';
import { PrometheusRangeClient, type PrometheusConnection } from './prometheus-client';

/** One side of the analysis: the PromQL expression and how to present it. */
export interface MetricQuery extends MetricPresentation {
  /** PromQL returning exactly one series over the range (aggregate with sum/avg if needed). */
  query: string;
}

/** What to correlate, over which window. */
export interface CorrelationRequest {
  /** The technical expression, e.g. a p99 latency. */
  technical: string | MetricQuery;
  /** The business expression, e.g. a conversion rate. */
  business: string | MetricQuery;
  /** Duration ending at `end` (or now), e.g. `7d`. Ignored when `start` is given. */
  range?: string;
  start?: TimeInput;
  end?: TimeInput;
  /** Step of the evaluation grid, e.g. `5m`. Default `5m`. */
  step?: string | number;
  /** Fewest aligned pairs for a report (default 10, at least 4). */
  minSamples?: number;
  /** Lag search window in steps, ±maxLag (default 12; 0 disables). Positive lag: business follows technical. */
  maxLag?: number;
  /** Technical change the slope sentence talks about, in technical display units (e.g. 100 for "+100 ms"). */
  sentenceStep?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** A correlation result read from Prometheus, with the window that was queried. */
export interface PrometheusCorrelationResult extends CorrelationResult {
  readonly window: QueryWindow;
  readonly prometheusUrl: string;
}

function asQuery(side: string | MetricQuery): MetricQuery {
  return typeof side === 'string' ? { query: side } : side;
}

/**
 * Correlates technical and business metrics stored in Prometheus.
 *
 * ```ts
 * const service = new MetricCorrelationService({ url: 'http://localhost:9090' });
 * const result = await service.correlate({ technical: p99Latency, business: conversionRate, range: '7d', step: '5m' });
 * ```
 */
export class MetricCorrelationService {
  private readonly client: PrometheusRangeClient;

  constructor(connection: PrometheusConnection) {
    this.client = new PrometheusRangeClient(connection);
  }

  /**
   * Query both expressions on the same step grid and correlate them. Throws {@link CorrelationError} with a
   * `code` for every expected failure (unreachable, HTTP error, bad PromQL, several series, no data, too few
   * points, constant series, too many points).
   */
  async correlate(request: CorrelationRequest): Promise<PrometheusCorrelationResult> {
    const technical = asQuery(request.technical);
    const business = asQuery(request.business);
    const window = resolveQueryWindow({
      range: request.range,
      start: request.start,
      end: request.end,
      step: request.step ?? '5m',
      now: request.now,
    });
    const options: CorrelationOptions = {
      step: window.step,
      gridStart: window.start,
      minSamples: request.minSamples,
      maxLag: request.maxLag,
      sentenceStep: request.sentenceStep,
      technical: { name: technical.name ?? technical.query, unit: technical.unit, scale: technical.scale },
      business: { name: business.name ?? business.query, unit: business.unit, scale: business.scale },
    };
    for (const [side, query] of [
      ['technical', technical.query],
      ['business', business.query],
    ] as const) {
      if (typeof query !== 'string' || !query.trim()) {
        throw new CorrelationError('INVALID_ARGUMENT', `The ${side} PromQL expression is empty`);
      }
    }
    validateCorrelationOptions(options);
    // Sequential on purpose: the first error (often the unreachable server) is then reported once, not twice.
    const technicalSeries = await this.client.querySingleSeries(technical.query, window, 'technical');
    const businessSeries = await this.client.querySingleSeries(business.query, window, 'business');
    const result = correlateSeries(technicalSeries.samples, businessSeries.samples, options);
    const prometheusWarnings = [...technicalSeries.warnings, ...businessSeries.warnings].map(
      (warning) => `Prometheus: ${warning}`,
    );
    return {
      ...result,
      technical: { ...result.technical, expression: technical.query, labels: technicalSeries.labels },
      business: { ...result.business, expression: business.query, labels: businessSeries.labels },
      warnings: [...result.warnings, ...prometheusWarnings],
      window,
      prometheusUrl: this.client.url,
    };
  }
}

/** Functional form of {@link MetricCorrelationService.correlate}: one call with the connection and the request. */
export async function analyzeCorrelation(
  request: CorrelationRequest & { prometheus: PrometheusConnection },
): Promise<PrometheusCorrelationResult> {
  return new MetricCorrelationService(request.prometheus).correlate(request);
}
