/**
 * src/trackers/engagement.ts: the seed's EngagementTracker records feature usage with the session's tier and
 * new-user flag, milestones as the seed's `milestone_<name>` funnel steps, and the session's duration exactly
 * once, from its start (the tracker's creation by default); before init it records nothing.
 * Real exposition through initBusinessMetrics, read as Prometheus would.
 */
import { PROMETHEUS_FAMILIES } from '../../src';
import { EngagementTracker } from '../../src/trackers/engagement';
import { sumBy, sumOf } from '../../examples/shop/server/exposition';
import { liveTelemetry } from './telemetry';

const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const FEATURE_USAGE = PROMETHEUS_FAMILIES.featureUsage;
const SESSION_DURATION = PROMETHEUS_FAMILIES.sessionDuration;

describe('EngagementTracker', () => {
  // Recording before init must be a silent no-op: the trackers are used from library code that cannot know.
  const scrape = liveTelemetry(() =>
    new EngagementTracker({ userTier: 'free', entryPage: '/', isNewUser: true }).trackFeatureUsage(
      'before_init',
    ),
  );

  it('records features, milestones as seed-style funnel steps, and the session duration once', async () => {
    const tracker = new EngagementTracker({
      userTier: 'pro',
      entryPage: '/dashboard',
      isNewUser: false,
      sessionStartTime: new Date(Date.now() - 45_000),
    });
    tracker.trackFeatureUsage('dashboard_export');
    tracker.trackFeatureUsage('dashboard_export');
    tracker.trackMilestone('first_chart_created');
    expect(tracker.endSession()).toBe(true);
    expect(tracker.hasEnded).toBe(true);
    expect(tracker.endSession()).toBe(false);

    const samples = await scrape();
    expect(sumBy(samples, FEATURE_USAGE, 'feature_name')).toEqual(new Map([['dashboard_export', 2]]));
    expect(sumOf(samples, FEATURE_USAGE, { user_tier: 'pro', is_new_user: 'false' })).toBe(2);
    expect(
      sumOf(samples, FUNNEL, {
        step: 'milestone_first_chart_created',
        source: 'in_app',
        device_type: 'web',
        experiment_variant: 'control',
      }),
    ).toBe(1);
    expect(sumOf(samples, `${SESSION_DURATION}_count`, { user_tier: 'pro', entry_page: '/dashboard' })).toBe(
      1,
    );
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { le: '30' })).toBe(0);
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { le: '60' })).toBe(1);
  });

  it('records the same through methods taken off the tracker (event handlers, callbacks) as through method calls', async () => {
    const config = (entryPage: string) => ({
      userTier: 'free',
      entryPage,
      isNewUser: true,
      sessionStartTime: new Date(Date.now() - 45_000),
    });
    const called = new EngagementTracker(config('/called'));
    called.trackFeatureUsage('called_feature');
    called.trackMilestone('called');
    expect(called.endSession()).toBe(true);
    expect(called.endSession()).toBe(false);
    const { trackFeatureUsage, trackMilestone, endSession } = new EngagementTracker(config('/detached'));
    expect(() => trackFeatureUsage('detached_feature')).not.toThrow();
    expect(() => trackMilestone('detached')).not.toThrow();
    expect(endSession()).toBe(true);
    expect(endSession()).toBe(false);

    const samples = await scrape();
    const features = sumBy(samples, FEATURE_USAGE, 'feature_name', {
      user_tier: 'free',
      is_new_user: 'true',
    });
    expect(features.get('detached_feature')).toBe(1);
    expect(features.get('called_feature')).toBe(1);
    expect(sumOf(samples, FUNNEL, { step: 'milestone_detached' })).toBe(1);
    expect(sumOf(samples, FUNNEL, { step: 'milestone_called' })).toBe(1);
    for (const entry_page of ['/called', '/detached']) {
      expect([entry_page, sumOf(samples, `${SESSION_DURATION}_count`, { entry_page })]).toEqual([
        entry_page,
        1,
      ]);
      expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { entry_page, le: '60' })).toBe(1);
    }
  });

  it('never throws for a milestone that is not text, and never runs its code: recorded as `other`, counted', async () => {
    const tracker = new EngagementTracker({ userTier: 'pro', entryPage: '/', isNewUser: false });
    let ran = 0;
    const boom = () => {
      ran++;
      throw new Error('boom');
    };
    const hostile = [
      Symbol('milestone'),
      { toString: boom },
      { [Symbol.toPrimitive]: boom },
      new Proxy({}, { get: boom, getPrototypeOf: boom }),
    ];
    // The step was built with a template literal: each of these threw out of the call (or ran the caller's code).
    for (const milestone of hostile) expect(() => tracker.trackMilestone(milestone as never)).not.toThrow();
    expect(ran).toBe(0);
    const samples = await scrape();
    expect(sumOf(samples, FUNNEL, { step: 'other', source: 'in_app' })).toBe(hostile.length);
    expect(
      sumOf(samples, 'business_metrics_label_overflow_total', {
        metric: FUNNEL,
        label: 'step',
        reason: 'invalid_type',
      }),
    ).toBe(hostile.length);
  });

  it('did not record anything made before initialisation', async () => {
    const samples = await scrape();
    expect(sumOf(samples, FEATURE_USAGE, { feature_name: 'before_init' })).toBe(0);
  });

  it('measures a session from the moment the tracker was made when no start is given', async () => {
    const tracker = new EngagementTracker({ userTier: 'enterprise', entryPage: '/billing', isNewUser: true });
    expect(tracker.hasEnded).toBe(false);
    expect(tracker.endSession()).toBe(true);
    const samples = await scrape();
    const labels = { user_tier: 'enterprise', entry_page: '/billing' };
    expect(sumOf(samples, `${SESSION_DURATION}_count`, labels)).toBe(1);
    // Well under the first bucket's 10 s: the start was the tracker's creation, not some earlier default.
    expect(sumOf(samples, `${SESSION_DURATION}_bucket`, { ...labels, le: '10' })).toBe(1);
  });
});
