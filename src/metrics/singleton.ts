/**
 * The `businessMetrics` singleton the seed's code imports. It forwards to the BusinessMetrics that
 * initBusinessMetrics bound, and is a cheap no-op before init and after shutdown, so library code can record
 * unconditionally.
 *
 * Owns: which recorder is current. Must not touch: instruments, exporters.
 */
import type { ExpositionFormat } from '../exporters/prometheus/serializer';
import type {
  ActiveUserMetadata,
  ActiveUsersWindow,
  BusinessMetricsRecorder,
  ConversionMetadata,
  FeatureUsageMetadata,
  FunnelStepMetadata,
  RefundMetadata,
  RevenueMetadata,
  SessionMetadata,
} from './business-metrics';

const NOOP_RECORDER: BusinessMetricsRecorder = Object.freeze({
  recordFunnelStep() {},
  recordConversion() {},
  recordRevenue() {},
  recordRefund() {},
  recordFeatureUsage() {},
  recordSessionEnd() {},
  updateActiveUsers() {},
  trackActiveUser() {},
  getMetrics: () => Promise.resolve(''),
});

class ForwardingBusinessMetrics implements BusinessMetricsRecorder {
  /** @internal */
  target: BusinessMetricsRecorder = NOOP_RECORDER;

  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void {
    this.target.recordFunnelStep(step, metadata);
  }
  recordConversion(type: string, metadata: ConversionMetadata): void {
    this.target.recordConversion(type, metadata);
  }
  recordRevenue(amountCents: number, metadata: RevenueMetadata): void {
    this.target.recordRevenue(amountCents, metadata);
  }
  recordRefund(amountMinor: number, metadata: RefundMetadata): void {
    this.target.recordRefund(amountMinor, metadata);
  }
  recordFeatureUsage(featureName: string, metadata: FeatureUsageMetadata): void {
    this.target.recordFeatureUsage(featureName, metadata);
  }
  recordSessionEnd(sessionStartTime: Date | number, metadata: SessionMetadata): void {
    this.target.recordSessionEnd(sessionStartTime, metadata);
  }
  updateActiveUsers(
    window: ActiveUsersWindow,
    counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  ): void {
    this.target.updateActiveUsers(window, counts);
  }
  trackActiveUser(userId: string, metadata: ActiveUserMetadata): void {
    this.target.trackActiveUser(userId, metadata);
  }
  /** Resolves to '' before initBusinessMetrics. */
  getMetrics(format?: ExpositionFormat): Promise<string> {
    return this.target.getMetrics(format);
  }
}

const forwarding = new ForwardingBusinessMetrics();

/**
 * The process-wide recorder. Records into the provider of the live `initBusinessMetrics()` handle; does nothing
 * (and never throws) before init and after shutdown.
 */
export const businessMetrics: BusinessMetricsRecorder = forwarding;

/**
 * @internal The recorder of the live `initBusinessMetrics()` handle, or undefined before init and after shutdown.
 * For integrations that cannot be handed the handle (Next.js route handlers run in other bundles than
 * instrumentation.ts, and share only the package's own module state).
 */
export function liveRecorder(): BusinessMetricsRecorder | undefined {
  return forwarding.target === NOOP_RECORDER ? undefined : forwarding.target;
}

/** @internal Called by initBusinessMetrics and its shutdown. */
export function bindBusinessMetrics(target: BusinessMetricsRecorder | undefined): void {
  forwarding.target = target ?? NOOP_RECORDER;
}
