/**
 * Property tests: thousands of random, hostile calls through every public record method never throw in normal
 * mode, and every scrape taken along the way passes `promtool check metrics` with every label within its caps.
 * In strict mode, bad values throw a TypeError naming the method, the argument and the rule.
 */
import fc from 'fast-check';
import {
  businessMetrics,
  initBusinessMetrics,
  type BusinessMetricsHandle,
  type BusinessMetricsLimits,
} from '../../src';
import { checkScrape, expectPromtoolClean, promtool, selfMetric } from './support/checks';
import { Lazy, hostileCall, hostileNumber, hostileValue, materialize, type Call } from './support/hostile';

const itWithPromtool = promtool ? it : it.skip;

function call(recorder: object, [method, first, second]: Call): void {
  (recorder as Record<string, (a: unknown, b: unknown) => void>)[method](
    materialize(first),
    materialize(second),
  );
}

describe('normal mode: hostile input never throws and never breaks the exposition', () => {
  // Small caps so the fuzzing reaches them; the default-limit run below uses the real defaults.
  const limits: BusinessMetricsLimits = {
    maxSeriesPerMetric: 60,
    maxLabelLength: 24,
    labels: { source: { kind: 'capped', maxValues: 8, known: ['direct'] } },
  };
  let handle: BusinessMetricsHandle;
  // Every scrape the properties below take; promtool checks them in a test of its own, so without promtool the
  // properties still run and only that one check is skipped.
  const scrapes: string[] = [];
  beforeAll(async () => {
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, limits, env: {} });
    await handle.ready;
  });
  afterAll(() => handle.shutdown());

  it('4000 runs of up to 8 calls, through the handle and the singleton; scrapes checked on the way', async () => {
    let calls = 0;
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(hostileCall, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (calls_, viaSingleton) => {
          for (const c of calls_) {
            expect(() => call(viaSingleton ? businessMetrics : handle.metrics, c)).not.toThrow();
            calls++;
          }
          run++;
        },
      ),
      { numRuns: 4000 },
    );
    expect(run).toBe(4000);
    expect(calls).toBeGreaterThan(10_000);

    // The scrape that both Prometheus (over HTTP) and getMetrics() serve.
    const response = await fetch(handle.prometheus!.url);
    expect(response.status).toBe(200);
    const served = [await response.text(), await handle.metrics.getMetrics()];
    scrapes.push(...served);
    for (const scrape of served) {
      const { exposition, seriesPerFamily } = checkScrape(scrape, limits);
      // Caps were reached and counted, not silently exceeded.
      expect(Math.max(...seriesPerFamily.values())).toBeGreaterThanOrEqual(limits.maxSeriesPerMetric!);
      expect(selfMetric(exposition, 'business_metrics_series_overflow_total', {})).toBeGreaterThan(0);
      expect(
        selfMetric(exposition, 'business_metrics_label_overflow_total', { reason: 'cap' }),
      ).toBeGreaterThan(0);
      expect(
        selfMetric(exposition, 'business_metrics_label_overflow_total', { reason: 'invalid_type' }),
      ).toBeGreaterThan(0);
      expect(
        selfMetric(exposition, 'business_metrics_dropped_total', { reason: 'not_finite' }),
      ).toBeGreaterThan(0);
      expect(
        selfMetric(exposition, 'business_metrics_dropped_total', { reason: 'internal_error' }),
      ).toBeGreaterThan(0);
    }
  });

  it('every intermediate scrape is valid too (200 runs between scrapes, 10 scrapes)', async () => {
    for (let scrape = 0; scrape < 10; scrape++) {
      fc.assert(
        fc.property(fc.array(hostileCall, { maxLength: 8 }), (calls) => {
          for (const c of calls) call(handle.metrics, c);
        }),
        { numRuns: 200 },
      );
      const text = await handle.metrics.getMetrics();
      scrapes.push(text);
      checkScrape(text, limits);
    }
  });

  itWithPromtool('every scrape taken above passes promtool check metrics', () => {
    expect(scrapes).toHaveLength(12);
    for (const scrape of scrapes) expectPromtoolClean(scrape);
  });
});

describe('normal mode with the default limits', () => {
  let scrape: string | undefined;

  it('hostile input stays within every default cap', async () => {
    const handle = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      fc.assert(
        fc.property(fc.array(hostileCall, { maxLength: 8 }), (calls) => {
          for (const c of calls) call(handle.metrics, c);
        }),
        { numRuns: 3000 },
      );
      scrape = await handle.metrics.getMetrics();
      checkScrape(scrape);
    } finally {
      await handle.shutdown();
    }
  });

  itWithPromtool('and its scrape passes promtool check metrics', () => {
    expect(scrape).toBeDefined();
    expectPromtoolClean(scrape!);
  });
});

describe('strict mode: bad values throw a TypeError naming method, argument and rule', () => {
  let handle: BusinessMetricsHandle;
  beforeAll(() => {
    handle = initBusinessMetrics({ exporters: ['none'], strict: true, env: {} });
  });
  afterAll(() => handle.shutdown());
  const revenueMeta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };

  const expectTypeError = (work: () => void, message: RegExp) => {
    let thrown: unknown;
    try {
      work();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(message);
  };

  it('amounts that are not finite numbers in range', () => {
    const bad = fc
      .oneof(hostileNumber, hostileValue)
      .filter((v) => !(typeof v === 'number' && v >= 0 && v <= 1e12));
    fc.assert(
      fc.property(bad, (amount) =>
        expectTypeError(
          () => handle.metrics.recordRevenue(materialize(amount) as number, revenueMeta),
          /^businessMetrics\.recordRevenue: amountCents must be a finite number between 0 and 1000000000000 \(limits\.maxAmountCents\) \(got .+\)$/,
        ),
      ),
      { numRuns: 1000 },
    );
  });

  it('label values outside an allow-list, of the wrong type, or missing', () => {
    const notADevice = fc
      .oneof(fc.string(), hostileValue)
      .filter(
        (v) =>
          !(
            typeof v === 'string' &&
            ['desktop', 'mobile', 'tablet', 'web', 'bot', 'unknown', 'other'].includes(v.trim())
          ),
      );
    fc.assert(
      fc.property(notADevice, (deviceType) =>
        expectTypeError(
          () =>
            handle.metrics.recordFunnelStep('cart_view', {
              source: 'direct',
              deviceType: materialize(deviceType) as string,
            }),
          /^businessMetrics\.recordFunnelStep: metadata\.deviceType (must be one of desktop, mobile|must be a string, number or boolean|is required)|^hostile/,
        ),
      ),
      { numRuns: 1000 },
    );
  });

  it('session start times that are invalid, in the future or too long ago', () => {
    const badTime = fc.oneof(
      fc.constant(new Date(NaN)),
      fc.integer({ min: 5_000, max: 10 ** 9 }).map((ms) => new Date(Date.now() + ms)),
      fc.integer({ min: 31, max: 10_000 }).map((days) => new Date(Date.now() - days * 86_400_000)),
      fc.string(),
    );
    fc.assert(
      fc.property(badTime, (start) =>
        expectTypeError(
          () => handle.metrics.recordSessionEnd(start as Date, { userTier: 'pro', entryPage: '/home' }),
          /^businessMetrics\.recordSessionEnd: sessionStartTime must be (a valid Date \(or epoch milliseconds\) not in the future|at most 2592000 s ago)/,
        ),
      ),
      { numRuns: 500 },
    );
  });

  it('metadata that is not an object', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.boolean()),
        (meta) =>
          expectTypeError(
            () => handle.metrics.recordRevenue(100, meta as never),
            /^businessMetrics\.recordRevenue: metadata must be an object \(got .+\)$/,
          ),
      ),
      { numRuns: 200 },
    );
  });

  it('messages stay short and on one line however large or strange the input', () => {
    const huge = fc.oneof(
      fc.constant(new Lazy('a 1 MB string', () => 'x'.repeat(1_000_000))),
      fc.string({ minLength: 500, maxLength: 2000 }),
      fc.constant(new Lazy('line breaks', () => 'a\nb\u2028c'.repeat(1000))),
    );
    // (updateActiveUsers put the whole tier key into the argument name; see the report for the patch.)
    const calls: Array<(value: string) => void> = [
      (v) => handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: v }),
      (v) => handle.metrics.recordRevenue(v as unknown as number, revenueMeta),
      (v) => handle.metrics.recordSessionEnd(v as unknown as Date, { userTier: 'pro', entryPage: '/' }),
      (v) => handle.metrics.updateActiveUsers('daily', { [v]: -1 }),
      (v) => handle.metrics.updateActiveUsers(v as 'daily', new Map([['pro', 1]])),
    ];
    fc.assert(
      fc.property(huge, fc.nat({ max: calls.length - 1 }), (value, which) => {
        let message = '';
        try {
          calls[which](materialize(value) as string);
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toMatch(/^businessMetrics\./);
        expect(message.length).toBeLessThan(400);
        expect(message).not.toMatch(/[\n\r\u2028\u2029]/);
      }),
      { numRuns: 200 },
    );
  });

  it('valid input never throws in strict mode', () => {
    const valid = fc.record({
      amount: fc.nat({ max: 10_000_000 }),
      device: fc.constantFrom('desktop', 'mobile', 'tablet', 'web'),
      tier: fc.constantFrom('free', 'pro', 'enterprise'),
      ago: fc.integer({ min: 0, max: 86_400_000 }),
      isNewUser: fc.boolean(),
    });
    fc.assert(
      fc.property(valid, ({ amount, device, tier, ago, isNewUser }) => {
        const start = new Date(Date.now() - ago);
        handle.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: device });
        handle.metrics.recordConversion('purchase', {
          source: 'direct',
          deviceType: device,
          sessionStartTime: start,
        });
        handle.metrics.recordRevenue(amount, revenueMeta);
        handle.metrics.recordFeatureUsage('export', { userTier: tier, isNewUser });
        handle.metrics.recordSessionEnd(start, { userTier: tier, entryPage: '/home' });
        handle.metrics.updateActiveUsers('daily', new Map([[tier, amount]]));
      }),
      { numRuns: 500 },
    );
  });
});
