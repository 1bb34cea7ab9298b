/**
 * Public trackers: the seed's `CheckoutTracker` and `EngagementTracker`, re-exported from the package's main entry.
 *
 * Folder src/trackers/. Owns: the seed's checkout and engagement event mappings, recording through the
 * `businessMetrics` singleton; this file only re-exports. Must not touch: instruments, exporters, anything that
 * needs Express, React or a browser.
 * Must not import: `src/metrics/instruments.ts`, `src/series/`, `src/exporters/`, `src/browser/`, `src/integrations/`, `express`, `react`.
 */
export { CheckoutStep, CheckoutTracker } from './checkout';
export type { CheckoutDeviceType, SessionContext } from './checkout';
export { EngagementTracker, MILESTONE_STEP_PREFIX } from './engagement';
export type { EngagementTrackerConfig, UserTier } from './engagement';
