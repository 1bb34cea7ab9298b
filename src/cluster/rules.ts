/**
 * The merge rule of each of the package's own gauges, from the catalog (see docs/several-processes.md).
 *
 * Owns: the per-gauge rules. Must not touch: the merge itself (aggregate.ts).
 */
import { BUSINESS_METRICS } from '../catalog/metrics';
import type { GaugeRule } from './aggregate';

/**
 * - the rolling revenue minute: each worker's window holds the revenue it took, so the fleet's minute is the
 *   sum;
 * - active users: the app sets one fleet-wide number (computed elsewhere); each worker holds a copy, so the
 *   aggregate is the most recently changed value, never the copy multiplied by the number of workers.
 */
export const PACKAGE_GAUGE_RULES: Readonly<Record<string, GaugeRule>> = Object.freeze({
  [BUSINESS_METRICS.revenuePerMinute.name]: 'sum',
  [BUSINESS_METRICS.activeUsers.name]: 'latest',
});
