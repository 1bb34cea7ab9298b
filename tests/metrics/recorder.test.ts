/**
 * src/metrics/recorder.ts holds only types: the recording API every app calls. What it promises is checked where
 * types are checked (this file is typechecked by `npm run lint`, which CI runs): the argument shapes take the
 * seed's calls and refuse a call without a required label or with a wrong type (`@ts-expect-error` fails the
 * typecheck when the refusal goes away); the interface lists exactly the recording methods below (adding or
 * dropping one fails the typecheck of `RECORDER_METHODS`); both the `businessMetrics` singleton and a handle's
 * `metrics` are BusinessMetricsRecorders. At runtime: the module exports nothing (types cost an app nothing),
 * and a call of every method through the interface type reaches the exposition.
 */
import { businessMetrics, initBusinessMetrics } from '../../src';
import * as Recorder from '../../src/metrics/recorder';
import { parseExposition } from '../support/exposition';

/** Every method of the recorder interface, no more: the type fails when the interface gains or loses one. */
const RECORDER_METHODS: Record<keyof Recorder.BusinessMetricsRecorder, true> = {
  recordFunnelStep: true,
  recordConversion: true,
  recordRevenue: true,
  recordRefund: true,
  recordFeatureUsage: true,
  recordSessionEnd: true,
  updateActiveUsers: true,
  trackActiveUser: true,
  getMetrics: true,
};

// The seed's calls, as typed values; optional labels may be left out.
const funnel: Recorder.FunnelStepMetadata = { source: 'google', deviceType: 'mobile' };
const conversion: Recorder.ConversionMetadata = {
  source: 'google',
  deviceType: 'mobile',
  sessionStartTime: new Date(),
};
const revenue: Recorder.RevenueMetadata = {
  productCategory: 'books',
  paymentMethod: 'card',
  region: 'eu_west',
};
const refund: Recorder.RefundMetadata = { paymentMethod: 'card', region: 'eu_west', reason: 'duplicate' };
const feature: Recorder.FeatureUsageMetadata = { userTier: 'pro', isNewUser: false };
const session: Recorder.SessionMetadata = { userTier: 'pro', entryPage: '/' };

// A call without a required label, or with a wrong type, does not compile.
void [
  // @ts-expect-error deviceType is required
  { source: 'google' } satisfies Recorder.FunnelStepMetadata,
  // @ts-expect-error sessionStartTime is a Date or epoch milliseconds, not text
  { source: 'google', deviceType: 'web', sessionStartTime: 'today' } satisfies Recorder.ConversionMetadata,
  // @ts-expect-error isNewUser is a boolean
  { userTier: 'pro', isNewUser: 'no' } satisfies Recorder.FeatureUsageMetadata,
];

describe('the recorder types', () => {
  it('are types only: the module exports nothing at runtime', () => {
    expect(Object.keys(Recorder)).toEqual([]);
  });

  it('are what the singleton and a handle implement: every method, each call reaching the exposition', async () => {
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      const recorders: Recorder.BusinessMetricsRecorder[] = [businessMetrics, handle.metrics];
      for (const recorder of recorders) {
        const methods = Object.keys(RECORDER_METHODS) as Array<keyof Recorder.BusinessMetricsRecorder>;
        expect(methods.filter((name) => typeof recorder[name] !== 'function')).toEqual([]);
        recorder.recordFunnelStep('cart_view', funnel);
        recorder.recordConversion('purchase', conversion);
        recorder.recordRevenue(2599, revenue);
        recorder.recordRefund(599, refund);
        recorder.recordFeatureUsage('export', feature);
        recorder.recordSessionEnd(Date.now() - 30_000, session);
        recorder.updateActiveUsers('daily', { free: 3 });
        // Another tier: a tier counted by trackActiveUser ignores updateActiveUsers (docs/active-users.md).
        recorder.trackActiveUser('user-1', { userTier: 'enterprise' });
      }
      const exposition = parseExposition(await handle.metrics.getMetrics());
      // Through the singleton and through the handle: twice each.
      expect(exposition.value('business_funnel_step_total', { step: 'cart_view', source: 'google' })).toBe(2);
      expect(exposition.value('business_conversions_total', { conversion_type: 'purchase' })).toBe(2);
      expect(exposition.value('business_revenue_cents_total', { product_category: 'books' })).toBe(5198);
      expect(exposition.value('business_refunds_cents_total', { reason: 'duplicate' })).toBe(1198);
      expect(exposition.value('business_feature_usage_total', { feature_name: 'export' })).toBe(2);
      expect(exposition.value('business_session_duration_seconds_count', { user_tier: 'pro' })).toBe(2);
      expect(exposition.value('business_active_users', { window: 'daily', user_tier: 'free' })).toBe(3);
      // One distinct user, tracked through both: the sketch's estimate of one.
      const distinct = exposition.value('business_active_users', {
        window: 'daily',
        user_tier: 'enterprise',
      });
      expect(Math.round(distinct)).toBe(1);
    } finally {
      await handle.shutdown();
    }
  });
});
