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
import {
  PrometheusRangeClient,
  describeMultipleSeries,
  type PrometheusConnection,
  type RangeSeries,
} from './prometheus-client';

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
    const { technical, business, window, options } = prepare(request);
    // Sequential on purpose: the first error (often the unreachable server) is then reported once, not twice.
    const technicalSeries = await this.client.querySingleSeries(technical.query, window, 'technical');
    const businessSeries = await this.client.querySingleSeries(business.query, window, 'business');
    return this.finish(technical, business, window, options, technicalSeries, businessSeries);
  }

  /**
   * The same analysis for every value of label `by` of the business expression (each currency of a revenue
   * expression, say): one result per value, or the error that value alone met (too few points, a constant
   * series). `{by}` in the business name or unit is replaced by the value (`--business-unit '{by} per minute'`).
   * Throws for what concerns every group: the technical side, the connection, a business expression without
   * data, or series that `by` does not tell apart.
   */
  async correlateEach(request: CorrelationRequest & { by: string }): Promise<CorrelationGroup[]> {
    const by = request.by;
    if (typeof by !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(by)) {
      throw new CorrelationError('INVALID_ARGUMENT', `"by" must be a label name, got ${JSON.stringify(by)}`);
    }
    const { technical, business, window, options } = prepare(request);
    const technicalSeries = await this.client.querySingleSeries(technical.query, window, 'technical');
    const { series, warnings } = await this.client.queryRange(business.query, window);
    if (series.length === 0) {
      throw new CorrelationError(
        'NO_DATA',
        `The business expression ${JSON.stringify(business.query)} returned no data at ${this.client.url}.`,
      );
    }
    const groups = new Map<string, (typeof series)[number][]>();
    for (const entry of series) {
      const value = entry.labels[by];
      if (value === undefined) {
        throw new CorrelationError(
          'INVALID_ARGUMENT',
          `A series of the business expression has no "${by}" label (${JSON.stringify(entry.labels)}): ` +
            `aggregate with sum by (${by}) (...).`,
        );
      }
      groups.set(value, [...(groups.get(value) ?? []), entry]);
    }
    const results: CorrelationGroup[] = [];
    for (const [value, entries] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      const named = (text: string | undefined) => text?.replaceAll('{by}', value);
      const groupBusiness = { ...business, name: named(business.name), unit: named(business.unit) };
      const groupOptions = {
        ...options,
        business: {
          ...options.business,
          name: named(options.business?.name),
          unit: named(options.business?.unit),
        },
      };
      try {
        if (entries.length > 1) {
          throw new CorrelationError(
            'MULTIPLE_SERIES',
            describeMultipleSeries(`business (${by}=${value})`, business.query, entries),
          );
        }
        results.push({
          value,
          result: this.finish(technical, groupBusiness, window, groupOptions, technicalSeries, {
            ...entries[0],
            warnings,
          }),
        });
      } catch (error) {
        if (!(error instanceof CorrelationError)) throw error;
        results.push({ value, error });
      }
    }
    return results;
  }

  private finish(
    technical: MetricQuery,
    business: MetricQuery,
    window: QueryWindow,
    options: CorrelationOptions,
    technicalSeries: RangeSeries & { warnings: string[] },
    businessSeries: RangeSeries & { warnings: string[] },
  ): PrometheusCorrelationResult {
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

/** One value of the `by` label of {@link MetricCorrelationService.correlateEach}: its result, or its error. */
export interface CorrelationGroup {
  readonly value: string;
  readonly result?: PrometheusCorrelationResult;
  readonly error?: CorrelationError;
}

/** Check a request and resolve its window and options, before any query is sent. */
function prepare(request: CorrelationRequest): {
  technical: MetricQuery;
  business: MetricQuery;
  window: QueryWindow;
  options: CorrelationOptions;
} {
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
  return { technical, business, window, options };
}

/** Functional form of {@link MetricCorrelationService.correlate}: one call with the connection and the request. */
export async function analyzeCorrelation(
  request: CorrelationRequest & { prometheus: PrometheusConnection },
): Promise<PrometheusCorrelationResult> {
  return new MetricCorrelationService(request.prometheus).correlate(request);
}
