/**
 * The seed's engagement tracker for server-side use: feature usage, milestones and session end for one user
 * session, recorded through the `businessMetrics` singleton.
 *
 * Owns: the seed's mapping of engagement events to metrics (milestones become `milestone_<name>` funnel steps with
 * source `in_app`, device `web`, variant `control`). Must not touch: instruments or exporters; must not run in a
 * browser (browsers use `otel-business-metrics/browser`, which posts to the Express engagement router).
 */
import { businessMetrics } from '../metrics/singleton';

/** The user tiers of the seed's engagement events. Other strings are accepted; the core maps them to `other`. */
export type UserTier = 'free' | 'pro' | 'enterprise';

export interface EngagementTrackerConfig {
  readonly userTier: UserTier | string;
  /** The page the session started on; use a route pattern (`/product/:id`), not a URL, to keep cardinality low. */
  readonly entryPage: string;
  readonly isNewUser: boolean;
  /** When the session started. Defaults to the moment the tracker is created, as in the seed. */
  readonly sessionStartTime?: Date;
}

/** Prefix the seed gives milestone funnel steps. */
export const MILESTONE_STEP_PREFIX = 'milestone_';

/**
 * Tracks one user session's engagement (the seed's `EngagementTracker`).
 *
 * `endSession` records the session duration once; later calls do nothing, so React strict-mode double unmounts or a
 * logout followed by a page unload cannot count a session twice.
 */
export class EngagementTracker {
  private readonly sessionStartTime: Date;
  private readonly userTier: string;
  private readonly entryPage: string;
  private readonly isNewUser: boolean;
  private ended = false;

  /**
   * A config that cannot be read (missing, a getter that throws) does not throw here: its fields stay undefined,
   * and the core drops or relabels what they would have labelled, counted, as for any bad metadata.
   */
  constructor(config: EngagementTrackerConfig) {
    let read: Partial<EngagementTrackerConfig> = {};
    try {
      read = {
        sessionStartTime: config.sessionStartTime,
        userTier: config.userTier,
        entryPage: config.entryPage,
        isNewUser: config.isNewUser,
      };
    } catch {
      // Left undefined: see above.
    }
    this.sessionStartTime = read.sessionStartTime ?? new Date();
    this.userTier = read.userTier as string;
    this.entryPage = read.entryPage as string;
    this.isNewUser = read.isNewUser as boolean;
    // Bound once per tracker: apps hand its methods to event handlers and callbacks
    // (`window.addEventListener('pagehide', tracker.endSession)`), and such a detached call must record, not throw
    // a TypeError from `this` being undefined.
    this.trackFeatureUsage = this.trackFeatureUsage.bind(this);
    this.trackMilestone = this.trackMilestone.bind(this);
    this.endSession = this.endSession.bind(this);
  }

  /** The user interacted with a feature; use stable, descriptive names (`dashboard_export`). */
  trackFeatureUsage(featureName: string): void {
    businessMetrics.recordFeatureUsage(featureName, { userTier: this.userTier, isNewUser: this.isNewUser });
  }

  /** The user reached a milestone (`first_chart_created`); recorded as the funnel step `milestone_<name>`. */
  trackMilestone(milestone: string): void {
    // Only what the core turns into text is prefixed: anything else goes to it as it came, to be recorded as `other`
    // and counted like any bad label value. A template literal would run its toString, or throw for a symbol.
    const kind = typeof milestone;
    const step =
      kind === 'string' || kind === 'number' || kind === 'boolean' || kind === 'bigint'
        ? `${MILESTONE_STEP_PREFIX}${milestone}`
        : milestone;
    businessMetrics.recordFunnelStep(step, {
      source: 'in_app',
      deviceType: 'web',
      experimentVariant: 'control',
    });
  }

  /** Whether `endSession` has already recorded this session. */
  get hasEnded(): boolean {
    return this.ended;
  }

  /**
   * The session ended (logout, page unload, idle timeout): records its duration since `sessionStartTime`.
   * Returns false when the session had already ended.
   */
  endSession(): boolean {
    if (this.ended) return false;
    this.ended = true;
    businessMetrics.recordSessionEnd(this.sessionStartTime, {
      userTier: this.userTier,
      entryPage: this.entryPage,
    });
    return true;
  }
}
