/**
 * src/metrics/refused-input.ts: a refused engagement event is counted in business_metrics_dropped_total under the
 * metric its kind would have been recorded in, on the live handle's recorder; before init and after shutdown it
 * counts nothing and never throws.
 */
import { initBusinessMetrics, PROMETHEUS_FAMILIES } from '../../src';
import { countRefusedEngagementEvent } from '../../src/metrics/refused-input';
import { captureDiag } from '../support/diag-messages';
import { parseExposition } from '../support/exposition';

const DROPPED = 'business_metrics_dropped_total';

describe('countRefusedEngagementEvent', () => {
  it('counts each kind under the metric it would have been recorded in', async () => {
    const diag = captureDiag();
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      countRefusedEngagementEvent('engagementRouter', 'feature', 'not_allowed', 'feature "a" refused');
      countRefusedEngagementEvent('engagementRouter', 'feature', 'not_allowed', 'feature "b" refused');
      countRefusedEngagementEvent('engagementRouter', 'milestone', 'not_allowed', 'milestone "c" refused');
      countRefusedEngagementEvent('engagementRouter', 'session_end', 'invalid_time', 'too long');
      const exposition = parseExposition(await handle.metrics.getMetrics());
      expect(exposition.find(DROPPED).map((s) => [s.labels.metric, s.labels.reason, s.value])).toEqual(
        expect.arrayContaining([
          [PROMETHEUS_FAMILIES.featureUsage, 'not_allowed', 2],
          [PROMETHEUS_FAMILIES.funnelStep, 'not_allowed', 1],
          [PROMETHEUS_FAMILIES.sessionDuration, 'invalid_time', 1],
        ]),
      );
      expect(exposition.find(DROPPED)).toHaveLength(3);
    } finally {
      await handle.shutdown({ timeoutMillis: 2000 });
      diag.stop();
    }
  });

  it('counts nothing and does not throw before init and after shutdown', async () => {
    expect(() =>
      countRefusedEngagementEvent('engagementRouter', 'feature', 'not_allowed', 'x'),
    ).not.toThrow();
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    await handle.shutdown({ timeoutMillis: 2000 });
    expect(() =>
      countRefusedEngagementEvent('engagementRouter', 'feature', 'not_allowed', 'x'),
    ).not.toThrow();
  });
});
