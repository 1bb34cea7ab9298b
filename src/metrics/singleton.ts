/**
 * The `businessMetrics` singleton the seed's code imports. It forwards to the BusinessMetrics that
 * initBusinessMetrics bound, and is a cheap no-op before init and after shutdown, so library code can record
 * unconditionally. The first recording call before any initBusinessMetrics() says so once per process (a Node
 * warning, code OTEL_BUSINESS_METRICS_BEFORE_INIT: no diag logger exists before init), then the target becomes
 * the plain no-op, so later calls cost what they cost before. Calls after shutdown() are deliberate: silent.
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

/** Node warning code of the before-init warning (`node --disable-warning=OTEL_BUSINESS_METRICS_BEFORE_INIT`). */
export const BEFORE_INIT_WARNING_CODE = 'OTEL_BUSINESS_METRICS_BEFORE_INIT';

/** Once: the first recording call before init. */
function recordedBeforeInit(method: string): void {
  forwarding.target = NOOP_RECORDER;
  process.emitWarning(
    `otel-business-metrics: businessMetrics.${method}() was called before initBusinessMetrics(); calls before ` +
      'init record nothing. Call initBusinessMetrics() at startup, before code that records (said once per process)',
    { code: BEFORE_INIT_WARNING_CODE },
  );
}

const BEFORE_INIT: BusinessMetricsRecorder = Object.freeze({
  recordFunnelStep: () => recordedBeforeInit('recordFunnelStep'),
  recordConversion: () => recordedBeforeInit('recordConversion'),
  recordRevenue: () => recordedBeforeInit('recordRevenue'),
  recordRefund: () => recordedBeforeInit('recordRefund'),
  recordFeatureUsage: () => recordedBeforeInit('recordFeatureUsage'),
  recordSessionEnd: () => recordedBeforeInit('recordSessionEnd'),
  updateActiveUsers: () => recordedBeforeInit('updateActiveUsers'),
  trackActiveUser: () => recordedBeforeInit('trackActiveUser'),
  getMetrics: () => Promise.resolve(''),
});

// Each method reads the one instance, not `this`: seed code passes them around detached
// (`emitter.on('paid', businessMetrics.recordRevenue)`), and a no-op must not throw for that.
class ForwardingBusinessMetrics implements BusinessMetricsRecorder {
  /** @internal */
  target: BusinessMetricsRecorder = BEFORE_INIT;

  recordFunnelStep(step: string, metadata: FunnelStepMetadata): void {
    forwarding.target.recordFunnelStep(step, metadata);
  }
  recordConversion(type: string, metadata: ConversionMetadata): void {
    forwarding.target.recordConversion(type, metadata);
  }
  recordRevenue(amountCents: number, metadata: RevenueMetadata): void {
    forwarding.target.recordRevenue(amountCents, metadata);
  }
  recordRefund(amountMinor: number, metadata: RefundMetadata): void {
    forwarding.target.recordRefund(amountMinor, metadata);
  }
  recordFeatureUsage(featureName: string, metadata: FeatureUsageMetadata): void {
    forwarding.target.recordFeatureUsage(featureName, metadata);
  }
  recordSessionEnd(sessionStartTime: Date | number, metadata: SessionMetadata): void {
    forwarding.target.recordSessionEnd(sessionStartTime, metadata);
  }
  updateActiveUsers(
    window: ActiveUsersWindow,
    counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  ): void {
    forwarding.target.updateActiveUsers(window, counts);
  }
  trackActiveUser(userId: string, metadata: ActiveUserMetadata): void {
    forwarding.target.trackActiveUser(userId, metadata);
  }
  /** Resolves to '' before initBusinessMetrics. */
  getMetrics(format?: ExpositionFormat): Promise<string> {
    return forwarding.target.getMetrics(format);
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
  const target = forwarding.target;
  return target === NOOP_RECORDER || target === BEFORE_INIT ? undefined : target;
}

/** The recorder of a handle whose `shutdown()` is handing its final values over to a scrape, until it has. */
let handingOver: BusinessMetricsRecorder | undefined;

/**
 * @internal Whom a scrape of the live handle reads (the adapters' `/metrics` given no handle): the handle handing
 * over its final values while it does (its shutdown unbound it from {@link liveRecorder} at once, and its hand-over
 * waits for exactly such a scrape), else the live one.
 */
export function scrapedRecorder(): BusinessMetricsRecorder | undefined {
  return handingOver ?? liveRecorder();
}

/**
 * @internal Called by a handle's shutdown when its hand-over begins; the returned function, when it ends (only the
 * latest hand-over is scraped, as only one handle is live at a time).
 */
export function bindHandingOver(target: BusinessMetricsRecorder): () => void {
  handingOver = target;
  return () => {
    if (handingOver === target) handingOver = undefined;
  };
}

/** @internal Called by initBusinessMetrics (also when OTEL_SDK_DISABLED makes it a no-op) and its shutdown. */
export function bindBusinessMetrics(target: BusinessMetricsRecorder | undefined): void {
  forwarding.target = target ?? NOOP_RECORDER;
}
