/**
 * GuardReporter: counting, rate-limited diag warnings, and strict-mode TypeErrors that name method, argument and
 * rule. Uses real SDK counters and a real diag logger.
 */
import { LabelVocabulary } from '../../src/guard/vocabulary';
import { createGuardHarness } from '../support/guard-harness';

const METRIC = 'business_revenue_cents_total';

describe('GuardReporter', () => {
  it('counts every drop by metric and reason, and warns once a minute per kind with a suppressed count', async () => {
    let now = 1_000_000;
    const harness = createGuardHarness({ now: () => now });
    try {
      for (let i = 0; i < 500; i++) {
        harness.reporter.drop('recordRevenue', 'amountCents', METRIC, 'not_finite', 'must be finite', NaN);
      }
      harness.reporter.drop('recordRevenue', 'amountCents', METRIC, 'negative', 'must be >= 0', -1);
      expect(await harness.count('dropped', { metric: METRIC, reason: 'not_finite' })).toBe(500);
      expect(await harness.count('dropped', { metric: METRIC, reason: 'negative' })).toBe(1);
      expect(harness.warnings).toHaveLength(2);
      expect(harness.warnings[0]).toBe(
        'businessMetrics.recordRevenue: amountCents must be finite (got NaN); measurement dropped [reason=not_finite]',
      );

      now += 59_999;
      harness.reporter.drop('recordRevenue', 'amountCents', METRIC, 'not_finite', 'must be finite', Infinity);
      expect(harness.warnings).toHaveLength(2);
      now += 1;
      harness.reporter.drop(
        'recordRevenue',
        'amountCents',
        METRIC,
        'not_finite',
        'must be finite',
        -Infinity,
      );
      expect(harness.warnings).toHaveLength(3);
      expect(harness.warnings[2]).toMatch(/got -Infinity.*\(500 similar warnings suppressed\)$/);
    } finally {
      await harness.close();
    }
  });

  it('counts series overflow per metric and warns about it once a minute', async () => {
    const harness = createGuardHarness();
    try {
      for (let i = 0; i < 10; i++) harness.reporter.seriesOverflow(METRIC, 2000);
      expect(await harness.count('seriesOverflow', { metric: METRIC })).toBe(10);
      expect(harness.warnings).toEqual([
        `${METRIC} reached its cap of 2000 series; new label combinations are recorded with every label "other"`,
      ]);
    } finally {
      await harness.close();
    }
  });

  it('turns an error thrown while reading arguments into a counted internal_error drop', async () => {
    const harness = createGuardHarness();
    try {
      harness.reporter.internalError('recordRevenue', METRIC, new RangeError('getter exploded'));
      expect(await harness.count('dropped', { metric: METRIC, reason: 'internal_error' })).toBe(1);
      expect(harness.warnings[0]).toContain('RangeError: getter exploded');
    } finally {
      await harness.close();
    }
  });

  it('in strict mode throws a TypeError naming method, argument and rule, and counts nothing', async () => {
    const harness = createGuardHarness({ strict: true });
    try {
      expect(() =>
        harness.reporter.drop('recordRevenue', 'amountCents', METRIC, 'negative', 'must be at least 0', -5),
      ).toThrow(new TypeError('businessMetrics.recordRevenue: amountCents must be at least 0 (got -5)'));

      const v = new LabelVocabulary(
        'business_funnel_step_total',
        'device_type',
        { kind: 'allow', values: ['desktop', 'mobile'] },
        { maxLabelLength: 64 },
        harness.reporter,
        { method: 'recordFunnelStep', argument: 'metadata.deviceType' },
      );
      expect(() => v.resolve('fridge')).toThrow(
        new TypeError(
          'businessMetrics.recordFunnelStep: metadata.deviceType must be one of desktop, mobile ' +
            '(configure limits.labels.device_type to allow more) (got "fridge")',
        ),
      );
      expect(() => v.resolve(undefined)).toThrow(/metadata\.deviceType is required \(got undefined\)/);
      // A BigInt is a usable value type (converted with String), so it fails only the allow-list rule.
      expect(() => v.resolve(10n ** 30n)).toThrow(/must be one of desktop, mobile .*\(got 1(0){30}n\)/);
      expect(() => v.resolve(() => 'x')).toThrow(
        /recordFunnelStep: metadata\.deviceType must be a string, number or boolean \(got a function\)/,
      );
      expect(() => harness.reporter.internalError('recordRevenue', METRIC, new Error('boom'))).toThrow(
        'boom',
      );
      expect(await harness.points('dropped')).toEqual([]);
      expect(await harness.points('labelOverflow')).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it("counts an anonymous client's refused input even in strict mode, warning once a minute with where", async () => {
    const harness = createGuardHarness({ strict: true });
    try {
      const metric = 'business_feature_usage_total';
      for (const name of ['wishlist', 'beta']) {
        expect(() =>
          harness.reporter.refusedInput(
            'engagementRouter',
            metric,
            'not_allowed',
            `feature "${name}" refused`,
          ),
        ).not.toThrow();
      }
      expect(await harness.count('dropped', { metric, reason: 'not_allowed' })).toBe(2);
      expect(harness.warnings).toEqual([
        'engagementRouter: feature "wishlist" refused; event dropped [reason=not_allowed]',
      ]);
    } finally {
      await harness.close();
    }
  });

  it('counts a call refused for a runtime condition (the clock) even in strict mode, warning like a drop', async () => {
    const harness = createGuardHarness({ strict: true });
    try {
      const metric = 'business_active_users';
      for (let i = 0; i < 2; i++) {
        expect(() =>
          harness.reporter.dropForCondition(
            'trackActiveUser',
            'the clock',
            metric,
            'future_time',
            'must read a UTC day near the current one',
            '2026-12-07T00:00:00.000Z',
          ),
        ).not.toThrow();
      }
      expect(await harness.count('dropped', { metric, reason: 'future_time' })).toBe(2);
      expect(harness.warnings).toEqual([
        'businessMetrics.trackActiveUser: the clock must read a UTC day near the current one ' +
          '(got 2026-12-07T00:00:00.000Z); measurement dropped [reason=future_time]',
      ]);
    } finally {
      await harness.close();
    }
  });

  it('in strict mode still only counts a reached cap (a runtime condition, not a programming error)', async () => {
    const harness = createGuardHarness({ strict: true });
    try {
      const v = new LabelVocabulary(
        'business_funnel_step_total',
        'source',
        { kind: 'capped', maxValues: 1 },
        { maxLabelLength: 64 },
        harness.reporter,
        { method: 'recordFunnelStep', argument: 'metadata.source' },
      );
      v.resolve('a');
      expect(() => v.resolve('b')).not.toThrow();
      expect(
        await harness.count('labelOverflow', {
          metric: 'business_funnel_step_total',
          label: 'source',
          reason: 'cap',
        }),
      ).toBe(1);
    } finally {
      await harness.close();
    }
  });
});

describe('GuardReporter tallies (for observable self-metric counters)', () => {
  it('hold exactly the counts reported, per attributes, and an SDK reader collects the same', async () => {
    const harness = createGuardHarness();
    try {
      const site = harness.reporter.relabelSite(
        { method: 'recordFunnelStep', argument: 'metadata.source' },
        'business_funnel_step_total',
        'source',
        'cap',
        'has too many values',
      );
      for (let i = 0; i < 7; i++) harness.reporter.relabel(site, `v${i}`);
      for (let i = 0; i < 3; i++)
        harness.reporter.drop('recordRevenue', 'amountCents', METRIC, 'negative', 'r', -1);
      harness.reporter.internalError('recordRevenue', METRIC, new Error('x'));
      harness.reporter.seriesOverflow(METRIC, 10);
      harness.reporter.seriesOverflow(METRIC, 10);
      // Expected values written out from the calls above, not read back through the reporter: the tallies
      // (what forEachCount hands the observable counters) and what an SDK reader collects from them.
      const expected = {
        dropped: [
          { attributes: { metric: METRIC, reason: 'internal_error' }, value: 1 },
          { attributes: { metric: METRIC, reason: 'negative' }, value: 3 },
        ],
        labelOverflow: [
          {
            attributes: { metric: 'business_funnel_step_total', label: 'source', reason: 'cap' },
            value: 7,
          },
        ],
        seriesOverflow: [{ attributes: { metric: METRIC }, value: 2 }],
      };
      const byReason = (
        a: { attributes: Record<string, string> },
        b: { attributes: Record<string, string> },
      ) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes));
      for (const kind of ['dropped', 'labelOverflow', 'seriesOverflow'] as const) {
        const tallied: Array<{ attributes: Record<string, string>; value: number }> = [];
        harness.reporter.forEachCount(kind, (attributes, count) =>
          tallied.push({ attributes: { ...(attributes as Record<string, string>) }, value: count }),
        );
        expect(tallied.sort(byReason)).toEqual(expected[kind]);
        expect((await harness.points(kind)).sort(byReason)).toEqual(expected[kind]);
      }
    } finally {
      await harness.close();
    }
  });
});
