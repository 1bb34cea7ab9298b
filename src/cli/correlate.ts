/**
 * The `correlate` subcommand: argument parsing, running the analysis, printing the report or JSON, writing the
 * SVG plot, and mapping failures to exit codes (0 success, 1 analysis error, 2 usage error).
 *
 * Owns: the command-line contract. Must not touch: statistics or Prometheus details (it calls src/analysis).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CorrelationError,
  MetricCorrelationService,
  correlationResultToJson,
  formatCorrelationReport,
  renderCorrelationSvg,
  type PrometheusCorrelationResult,
} from '../analysis';
import { parseDuration as parsePrometheusDuration } from '../analysis/duration';
import { redactCredentials } from '../analysis/prometheus-client';
import { printable } from '../support/describe';

/** Where the command writes; injectable so the command can run in-process. */
export interface CliOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_ANALYSIS_ERROR = 1;
export const EXIT_USAGE = 2;

export const CORRELATE_HELP = `Usage: otel-business-metrics correlate --prometheus URL --technical EXPR --business EXPR [options]

Correlate a technical and a business PromQL expression over a time range, from a Prometheus server.
Each expression must return exactly one series (aggregate with sum(...) or avg(...) if needed).

Required:
  --prometheus URL          Prometheus base URL (default: $PROMETHEUS_URL), e.g. http://localhost:9090
  --technical EXPR          technical PromQL, e.g. a p99 latency
  --business EXPR           business PromQL, e.g. a conversion rate

Time window:
  --range DURATION          window ending now (or at --end), e.g. 7d, 6h, 30m (default 7d)
  --start TIME, --end TIME  explicit window (ISO 8601 or unix seconds); --start overrides --range
  --step DURATION           evaluation grid, e.g. 5m, 30s (default 5m); at most 11,000 points per series

Analysis:
  --max-lag N               search lags of -N..+N steps (default 12, 0 disables).
                            Positive lag: the business series follows the technical one.
  --by LABEL                one analysis per value of this label of the business expression (e.g. currency);
                            {by} in --business-name/--business-unit becomes the value (e.g. '{by} per minute')
  --min-samples N           fewest aligned points for a report (default 10, at least 4)

Presentation:
  --technical-name TEXT     short name in sentences and plots (default: the expression)
  --technical-unit TEXT     display unit, e.g. ms
  --technical-scale X       multiply technical values for display, e.g. 1000 for seconds -> ms
  --business-name TEXT, --business-unit TEXT, --business-scale X   the same for the business side
  --per X                   technical change for the slope sentence and the effect size, in display units
                            (e.g. 100 for +100 ms)

Connection:
  --header 'Name: value'    extra HTTP header, repeatable (e.g. 'Authorization: Bearer TOKEN')
  --timeout DURATION        per-request timeout (default 30s)
  --get                     use GET instead of POST for query_range

Output:
  --json                    print the result as JSON instead of the text report
  --plot FILE.svg           also write an SVG with both series over time and the scatter with its fit line
                            (with --by, one file per value: FILE-<value>.svg)
  -h, --help                show this help

Exit codes: 0 success, 1 analysis error (unreachable, bad PromQL, no data, too few points, ...), 2 usage error.

Example:
  otel-business-metrics correlate --prometheus http://localhost:9090 --range 7d --step 5m \\
    --technical 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))' \\
    --technical-name 'p99 latency' --technical-unit ms --technical-scale 1000 --per 100 \\
    --business 'sum(rate(business_funnel_step_total{step="order_confirmed"}[1h])) / sum(rate(business_funnel_step_total{step="cart_view"}[1h]))' \\
    --business-name conversion --business-unit 'percentage points' --business-scale 100
`;

class UsageError extends Error {}

function number(value: string | undefined, option: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`--${option} expects ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return parsed;
}

function parseHeaders(values: string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values ?? []) {
    const colon = value.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header expects 'Name: value', got "${value}"`);
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return headers;
}

/** Run `correlate` with its arguments (everything after the subcommand). Resolves to the exit code. */
export async function runCorrelate(
  args: string[],
  output: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        prometheus: { type: 'string' },
        technical: { type: 'string' },
        business: { type: 'string' },
        range: { type: 'string' },
        start: { type: 'string' },
        end: { type: 'string' },
        step: { type: 'string' },
        'max-lag': { type: 'string' },
        by: { type: 'string' },
        'min-samples': { type: 'string' },
        'technical-name': { type: 'string' },
        'technical-unit': { type: 'string' },
        'technical-scale': { type: 'string' },
        'business-name': { type: 'string' },
        'business-unit': { type: 'string' },
        'business-scale': { type: 'string' },
        per: { type: 'string' },
        header: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        get: { type: 'boolean' },
        json: { type: 'boolean' },
        plot: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.stderr(
      `otel-business-metrics correlate: ${(error as Error).message}\nRun with --help for usage.\n`,
    );
    return EXIT_USAGE;
  }
  const options = parsed.values;
  if (options.help) {
    output.stdout(CORRELATE_HELP);
    return EXIT_OK;
  }

  let service: MetricCorrelationService;
  let request: Parameters<MetricCorrelationService['correlate']>[0];
  try {
    const prometheus = options.prometheus ?? env.PROMETHEUS_URL;
    const missing = [
      prometheus ? undefined : '--prometheus (or PROMETHEUS_URL)',
      options.technical ? undefined : '--technical',
      options.business ? undefined : '--business',
    ].filter(Boolean);
    if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`);
    if (options.plot !== undefined && !options.plot.trim())
      throw new UsageError('--plot expects a file name');
    service = new MetricCorrelationService({
      url: prometheus as string,
      headers: parseHeaders(options.header),
      timeoutMs:
        options.timeout === undefined
          ? undefined
          : parsePrometheusDuration(options.timeout, 'timeout') * 1000,
      method: options.get ? 'GET' : 'POST',
    });
    request = {
      technical: {
        query: options.technical as string,
        name: options['technical-name'],
        unit: options['technical-unit'],
        scale: number(options['technical-scale'], 'technical-scale'),
      },
      business: {
        query: options.business as string,
        name: options['business-name'],
        unit: options['business-unit'],
        scale: number(options['business-scale'], 'business-scale'),
      },
      range: options.start === undefined ? (options.range ?? '7d') : undefined,
      start: options.start,
      end: options.end,
      step: options.step ?? '5m',
      maxLag: number(options['max-lag'], 'max-lag', true),
      minSamples: number(options['min-samples'], 'min-samples', true),
      sentenceStep: number(options.per, 'per'),
    };
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof CorrelationError && error.code === 'INVALID_ARGUMENT')
    ) {
      output.stderr(
        `otel-business-metrics correlate: ${safeMessage(error.message)}\nRun with --help for usage.\n`,
      );
      return EXIT_USAGE;
    }
    throw error;
  }

  try {
    const by = options.by;
    if (by !== undefined) {
      const groups = await service.correlateEach({ ...request, by });
      if (options.json) {
        const json = {
          by,
          groups: groups.map((group) => ({
            value: group.value,
            ...(group.result
              ? { result: resultJson(group.result) }
              : { error: { code: group.error!.code, message: safeMessage(group.error!.message) } }),
          })),
        };
        output.stdout(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        output.stdout(
          groups
            .map(
              (group) =>
                `=== ${by}=${group.value} ===\n` +
                (group.result
                  ? formatCorrelationReport(group.result)
                  : `No analysis: ${group.error!.code}: ${safeMessage(group.error!.message)}`),
            )
            .join('\n\n') + '\n',
        );
      }
      if (options.plot) {
        for (const group of groups) {
          if (!group.result) continue;
          const file = options.plot.replace(
            /(\.svg)?$/i,
            `-${group.value.replace(/[^A-Za-z0-9_.-]/g, '_')}.svg`,
          );
          writeFileSync(file, renderCorrelationSvg(group.result));
          output.stderr(`Plot written to ${file}\n`);
        }
      }
      // Some value analysed: success; a value without enough data is said in its section.
      return groups.some((group) => group.result) ? EXIT_OK : EXIT_ANALYSIS_ERROR;
    }
    const result = await service.correlate(request);
    if (options.json) {
      output.stdout(`${JSON.stringify(resultJson(result), null, 2)}\n`);
    } else {
      output.stdout(`${formatCorrelationReport(result)}\n`);
    }
    if (options.plot) {
      writeFileSync(options.plot, renderCorrelationSvg(result));
      output.stderr(`Plot written to ${options.plot}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CorrelationError) {
      const usage = error.code === 'INVALID_ARGUMENT' || error.code === 'TOO_MANY_POINTS';
      output.stderr(`otel-business-metrics correlate: ${error.code}: ${safeMessage(error.message)}\n`);
      return usage ? EXIT_USAGE : EXIT_ANALYSIS_ERROR;
    }
    const message = error instanceof Error ? error.message : String(error);
    output.stderr(`otel-business-metrics correlate: ${safeMessage(message)}\n`);
    return EXIT_ANALYSIS_ERROR;
  }
}

/** The --json shape of one result: the analysis, where it came from and the window. */
function resultJson(result: PrometheusCorrelationResult) {
  return {
    ...correlationResultToJson(result),
    prometheusUrl: result.prometheusUrl,
    window: {
      start: new Date(result.window.start * 1000).toISOString(),
      end: new Date(result.window.end * 1000).toISOString(),
      step: result.window.step,
      points: result.window.points,
    },
  };
}

/** Every message the command prints: no URL credentials, no control characters (they may carry server text). */
export function safeMessage(message: string): string {
  return printable(redactCredentials(message), 2000);
}
