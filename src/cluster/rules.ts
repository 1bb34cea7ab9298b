/**
 * The gauge rules of cluster mode as a table: what each rule does to a series' merged value, and which rule each
 * of the package's own gauges gets (see docs/several-processes.md).
 *
 * Owns: the rules' arithmetic and the package's gauges' rules. Must not touch: when rules run and over which
 * sources (aggregate.ts), validation of an app's rule names (options.ts reads the names from here).
 */
import { BUSINESS_METRICS, SELF_METRICS } from '../catalog/metrics';

/**
 * How a gauge combines across sources:
 * - `sum`: each source reports its own share (the rolling revenue minute: the fleet's minute is the sum);
 * - `latest`: the app sets one value for the whole fleet (active users): the value of the source that changed
 *   it most recently, as seen by the primary's collections (ties: the larger), never a multiple of it;
 * - `max` / `min`: the worst (or best) source, e.g. a per-process event-loop delay.
 */
export type GaugeRule = 'sum' | 'latest' | 'max' | 'min';

/** A gauge series' merged value so far at a render, and when the primary saw the source behind it change. */
export interface MergedGauge {
  value: number;
  changedAt: number;
}

/** One more source's value (seen changing at `changedAt`) joins `merged`; the first source's value starts it. */
type GaugeMerge = (merged: MergedGauge, value: number, changedAt: number) => void;

/** Every rule, by name: the aggregate looks a family's rule up once, when the family first arrives. */
export const GAUGE_RULES: { readonly [R in GaugeRule]: GaugeMerge } = Object.freeze({
  sum(merged, value) {
    merged.value += value;
  },
  max(merged, value) {
    if (value > merged.value) merged.value = value;
  },
  min(merged, value) {
    if (value < merged.value) merged.value = value;
  },
  latest(merged, value, changedAt) {
    if (changedAt > merged.changedAt || (changedAt === merged.changedAt && value > merged.value)) {
      merged.value = value;
      merged.changedAt = changedAt;
    }
  },
});

/** The rule names an app may give (`cluster.gauges`). */
export const GAUGE_RULE_NAMES = Object.keys(GAUGE_RULES) as GaugeRule[];

/**
 * - the rolling revenue minute: each worker's window holds the revenue it took, so the fleet's minute is the
 *   sum;
 * - active users: the app sets one fleet-wide number (computed elsewhere); each worker holds a copy, so the
 *   aggregate is the most recently changed value, never the copy multiplied by the number of workers;
 * - exchange rates: each worker reads the app's table, refreshed in its own time; the most recently changed rate
 *   is the current one (the highest would keep a fallen rate until every worker has refreshed).
 * - cluster sources: the primary counts its workers and threads, a node:cluster worker the threads it relays (each
 *   reports only its own), so the sum is every source of the cluster.
 */
export const PACKAGE_GAUGE_RULES: Readonly<Record<string, GaugeRule>> = Object.freeze({
  [BUSINESS_METRICS.revenuePerMinute.name]: 'sum',
  [BUSINESS_METRICS.activeUsers.name]: 'latest',
  [BUSINESS_METRICS.exchangeRate.name]: 'latest',
  [SELF_METRICS.clusterSources.name]: 'sum',
});
