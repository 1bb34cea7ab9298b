/**
 * The options of cluster mode (`initBusinessMetrics({ cluster: { ... } })`) and their validation.
 *
 * Owns: the option types and the messages for malformed ones. Must not touch: what the options drive (the
 * primary, the sources), configuration precedence (config/options.ts).
 */
import { GAUGE_RULE_NAMES, type GaugeRule } from './rules';

/** Options of cluster mode (`initBusinessMetrics({ cluster: { ... } })`). */
export interface ClusterOptions {
  /** How long the primary waits for each worker at a scrape before answering without it. Default 1000 ms. */
  timeoutMillis?: number;
  /**
   * Merge rule for gauges of your own (by instrument name): `sum`, `latest`, `max` or `min`. The package's
   * gauges have theirs (revenue minute: `sum`; active users: `latest`). Default for other gauges: `max`.
   */
  gauges?: Record<string, GaugeRule>;
}

/** @throws TypeError naming the option, for a malformed `cluster` option. */
export function validateClusterOptions(options: ClusterOptions): void {
  const timeout = options.timeoutMillis;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))) {
    throw new TypeError(`cluster.timeoutMillis must be a positive number (got ${String(timeout)})`);
  }
  for (const [name, rule] of Object.entries(options.gauges ?? {})) {
    if (!GAUGE_RULE_NAMES.includes(rule)) {
      throw new TypeError(
        `cluster.gauges.${name} must be one of ${GAUGE_RULE_NAMES.map((known) => `'${known}'`).join(', ')} (got ${String(rule)})`,
      );
    }
  }
}
