/**
 * The port through which the web integrations count the engagement events they refused of an anonymous client's
 * batch (a name outside the app's allow-list, a session end outside the server's time bounds) in
 * `business_metrics_dropped_total`, on the live recorder's own guard reporter: integrations never reach the guard.
 *
 * Owns: which metric a refused event kind is counted under (the one it would have been recorded in). Must not
 * touch: deciding what is refused (the integration's validation), frameworks, requests and responses.
 */
import type { EngagementEventKind } from '../browser/protocol';
import { BUSINESS_METRICS } from '../catalog/metrics';
import { prometheusFamilyName } from '../catalog/prometheus-naming';
import type { DropReason } from '../guard/reasons';
import { instrumentContextOf } from './business-metrics';
import { liveRecorder } from './singleton';

const METRIC_OF_KIND: Readonly<Record<EngagementEventKind, string>> = {
  feature: prometheusFamilyName(BUSINESS_METRICS.featureUsage),
  milestone: prometheusFamilyName(BUSINESS_METRICS.funnelStep),
  session_end: prometheusFamilyName(BUSINESS_METRICS.sessionDuration),
};

/**
 * Count one refused engagement event under `business_metrics_dropped_total{metric, reason}` (with a rate-limited
 * `diag` warning naming `where`), on the recorder of the live `initBusinessMetrics()` handle: before init and after
 * shutdown nothing is recorded, and nothing is counted. Never throws.
 */
export function countRefusedEngagementEvent(
  where: string,
  kind: EngagementEventKind,
  reason: Extract<DropReason, 'not_allowed' | 'invalid_time'>,
  message: string,
): void {
  instrumentContextOf(liveRecorder())?.options.reporter.refusedInput(
    where,
    METRIC_OF_KIND[kind],
    reason,
    message,
  );
}
