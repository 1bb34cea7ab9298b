/**
 * Public trackers: the seed's `CheckoutTracker` and `EngagementTracker`, re-exported from the package's main entry.
 *
 * Owns: nothing but the re-exports. Must not touch: anything that needs Express, React or a browser.
 */
export { CheckoutStep, CheckoutTracker } from './checkout';
export type { CheckoutDeviceType, SessionContext } from './checkout';
export { EngagementTracker, MILESTONE_STEP_PREFIX } from './engagement';
export type { EngagementTrackerConfig, UserTier } from './engagement';
