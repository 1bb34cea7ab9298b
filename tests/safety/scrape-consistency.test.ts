/**
 * A scrape taken while the app records as fast as it can is a consistent snapshot: every histogram's _count
 * equals its +Inf bucket, buckets never decrease with `le`, and no counter (or histogram count/sum) ever goes
 * down between consecutive scrapes. Recording runs in setImmediate loops interleaved with HTTP scrapes.
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import type { Exposition } from '../support/exposition';
import { checkScrape } from './support/checks';

const SCRAPES = 60;
const LOOPS = 4;
const BATCH = 200;

describe('scrapes during heavy recording', () => {
  let handle: BusinessMetricsHandle;
  beforeAll(async () => {
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
  });
  afterAll(() => handle.shutdown());

  it('are internally consistent and monotonic', async () => {
    let running = true;
    let recorded = 0;
    const categories = ['books', 'games', 'garden', 'toys'];
    const loop = (seed: number) =>
      new Promise<void>((resolve) => {
        const step = () => {
          if (!running) return resolve();
          for (let i = 0; i < BATCH; i++) {
            const n = seed + recorded++;
            const category = categories[n % categories.length];
            handle.metrics.recordFunnelStep(n % 3 ? 'cart_view' : 'payment_info', {
              source: `s${n % 7}`,
              deviceType: 'web',
            });
            handle.metrics.recordRevenue(100 + (n % 60_000), {
              productCategory: category,
              paymentMethod: 'card',
              region: 'eu',
            });
            handle.metrics.recordSessionEnd(Date.now() - (n % 4000) * 1000, {
              userTier: 'pro',
              entryPage: `/p${n % 5}`,
            });
            handle.metrics.recordConversion('purchase', {
              source: `s${n % 7}`,
              deviceType: 'mobile',
              sessionStartTime: Date.now() - (n % 5000) * 1000,
            });
          }
          setImmediate(step);
        };
        setImmediate(step);
      });
    const loops = Array.from({ length: LOOPS }, (_, i) => loop(i * 1_000_000));

    let previous: Exposition | undefined;
    const recordedAtScrape: number[] = [];
    try {
      for (let scrape = 0; scrape < SCRAPES; scrape++) {
        const response = await fetch(handle.prometheus!.url);
        expect(response.status).toBe(200);
        recordedAtScrape.push(recorded);
        const { exposition } = checkScrape(await response.text()); // includes _count == +Inf, monotonic buckets
        if (previous) expectNoDecrease(previous, exposition);
        previous = exposition;
      }
    } finally {
      running = false;
      await Promise.all(loops);
    }
    // Recording really was interleaved with the scrapes.
    const advancing = recordedAtScrape.filter((count, i) => i > 0 && count > recordedAtScrape[i - 1]).length;
    expect(advancing).toBeGreaterThan(SCRAPES / 2);
    // And the final scrape holds everything.
    const final = checkScrape(await handle.metrics.getMetrics()).exposition;
    const funnel = final.find('business_funnel_step_total').reduce((sum, sample) => sum + sample.value, 0);
    expect(funnel).toBe(recorded);
  });
});

/** Every counter sample, histogram bucket, _count and _sum is at least its value in the previous scrape. */
function expectNoDecrease(before: Exposition, after: Exposition): void {
  const key = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(labels)}`;
  const later = new Map(after.samples.map((sample) => [key(sample.name, sample.labels), sample.value]));
  for (const family of before.families.values()) {
    if (family.type !== 'counter' && family.type !== 'histogram') continue;
    for (const sample of family.samples) {
      const next = later.get(key(sample.name, sample.labels));
      if (next === undefined || next < sample.value) {
        throw new Error(
          `${sample.name}${JSON.stringify(sample.labels)} went from ${sample.value} to ${next}`,
        );
      }
    }
  }
}
