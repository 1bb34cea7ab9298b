/**
 * The `insight-rules` subcommand: writes the insight recording rules and alerts (src/insights) as a Prometheus rule
 * file, with the user's Apdex threshold, checkout routes, windows and alert thresholds.
 *
 * Owns: this command's options and messages. Must not touch: what the rules say (it calls src/insights).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_INSIGHT_RULE_OPTIONS as D, insightRulesYaml, type InsightRuleOptions } from '../insights';
import { EXIT_OK, EXIT_USAGE, type CliOutput } from './correlate';

/** The --output file could not be written. */
export const EXIT_WRITE_ERROR = 1;

export const INSIGHT_RULES_HELP = `Usage: otel-business-metrics insight-rules [options] [--output FILE]

Write the insight rules (estimated revenue lost to errors, revenue at risk against the same time last week,
Apdex and the 0-100 experience score, and their alerts) as a Prometheus rule file. With no option it prints the
file shipped as otel-collector/prometheus/rules/insights.yml. Load it next to business-recording.yml.

Apdex:
  --apdex-threshold SECONDS     T (default ${D.apdexThresholdSeconds}); T and 4T must be bucket boundaries of the
                                duration histogram: with the default buckets 0.025, 0.25 or 2.5
  --buckets LIST                the histogram's boundaries, comma-separated, if you changed them with a View
  --checkout-routes REGEX       http_route values of the checkout path (default ${D.checkoutRoutes})

Windows:
  --rate-window DURATION        per-minute figures, Apdex, error rates (default ${D.rateWindow})
  --sum-window DURATION         accumulated figures and the traffic comparison (default ${D.sumWindow})
  --order-value-window DURATION trailing mean order value and currency mix (default ${D.orderValueWindow})
  --baseline-offset DURATION    how far back expected revenue looks (default ${D.baselineOffset})

Revenue at risk:
  --traffic-scale-band LOW..HIGH  clamp today's traffic ratio to this band (default ${D.trafficScaleBand.join('..')})
  --traffic-scale-min-cart-views N  fewest baseline cart views to scale at all (default ${D.trafficScaleMinCartViews})
  --risk-share X                alert above this share of expected revenue (default ${D.revenueAtRiskShare})
  --risk-for DURATION           ... for this long (default ${D.revenueAtRiskFor})
  --risk-min-orders N           ... when the baseline window had at least N orders (default ${D.revenueAtRiskMinOrders})

Experience score:
  --score-floor N               alert below this score, 0-100 (default ${D.experienceScoreFloor})
  --score-for DURATION          ... for this long (default ${D.experienceFor})
  --score-min-requests N        ... with at least N requests in the rate window (default ${D.experienceMinRequests})

Output:
  --output FILE                 write the file instead of printing it
  -h, --help                    show this help

Exit codes: 0 success, 1 the --output file could not be written (the message names it and why), 2 usage error
(an unknown option, or e.g. an Apdex threshold without bucket boundaries).
`;

/** Why a file could not be written, in words a user acts on (the code stays, for searching). */
const WRITE_ERROR_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
};

function numberOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new RangeError(`--${option} expects a number, got "${value}"`);
  }
  return parsed;
}

/** Run `insight-rules` with its arguments. Resolves to the exit code. */
export async function runInsightRules(args: string[], output: CliOutput): Promise<number> {
  const fail = (message: string) => {
    output.stderr(`otel-business-metrics insight-rules: ${message}\nRun with --help for usage.\n`);
    return EXIT_USAGE;
  };
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'apdex-threshold': { type: 'string' },
        buckets: { type: 'string' },
        'checkout-routes': { type: 'string' },
        'rate-window': { type: 'string' },
        'sum-window': { type: 'string' },
        'order-value-window': { type: 'string' },
        'baseline-offset': { type: 'string' },
        'traffic-scale-band': { type: 'string' },
        'traffic-scale-min-cart-views': { type: 'string' },
        'risk-share': { type: 'string' },
        'risk-for': { type: 'string' },
        'risk-min-orders': { type: 'string' },
        'score-floor': { type: 'string' },
        'score-for': { type: 'string' },
        'score-min-requests': { type: 'string' },
        output: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help) {
    output.stdout(INSIGHT_RULES_HELP);
    return EXIT_OK;
  }
  let text: string;
  try {
    const band = values['traffic-scale-band'];
    const bandMatch = band === undefined ? undefined : /^([0-9.]+)\.\.([0-9.]+)$/.exec(band);
    if (band !== undefined && !bandMatch)
      throw new RangeError(`--traffic-scale-band expects LOW..HIGH, got "${band}"`);
    const options: InsightRuleOptions = {
      apdexThresholdSeconds: numberOption(values['apdex-threshold'], 'apdex-threshold'),
      durationBuckets: values.buckets?.split(',').map((bound) => numberOption(bound.trim(), 'buckets')!),
      checkoutRoutes: values['checkout-routes'],
      rateWindow: values['rate-window'],
      sumWindow: values['sum-window'],
      orderValueWindow: values['order-value-window'],
      baselineOffset: values['baseline-offset'],
      trafficScaleBand: bandMatch ? [Number(bandMatch[1]), Number(bandMatch[2])] : undefined,
      trafficScaleMinCartViews: numberOption(
        values['traffic-scale-min-cart-views'],
        'traffic-scale-min-cart-views',
      ),
      revenueAtRiskShare: numberOption(values['risk-share'], 'risk-share'),
      revenueAtRiskFor: values['risk-for'],
      revenueAtRiskMinOrders: numberOption(values['risk-min-orders'], 'risk-min-orders'),
      experienceScoreFloor: numberOption(values['score-floor'], 'score-floor'),
      experienceFor: values['score-for'],
      experienceMinRequests: numberOption(values['score-min-requests'], 'score-min-requests'),
    };
    text = insightRulesYaml(options);
  } catch (error) {
    if (error instanceof RangeError) return fail(error.message);
    throw error;
  }
  if (values.output) {
    try {
      writeFileSync(values.output, text);
    } catch (error) {
      // A file system answer, not a bug: one line naming the file and the cause, no stack.
      const code = (error as NodeJS.ErrnoException).code;
      const why = code ? `${WRITE_ERROR_WORDS[code] ?? (error as Error).message} (${code})` : String(error);
      output.stderr(`otel-business-metrics insight-rules: cannot write ${values.output}: ${why}\n`);
      return EXIT_WRITE_ERROR;
    }
    output.stderr(`Insight rules written to ${values.output}\n`);
  } else {
    output.stdout(text);
  }
  return EXIT_OK;
}
