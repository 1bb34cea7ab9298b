/**
 * Cardinality attack: an attacker controls label values (utm_source and friends) and sends a distinct one with
 * every request. 1,000,000 measurements with distinct values in every open label, scraped over HTTP 100 times:
 * series per metric stay within the lifetime cap across scrapes (unlike the SDK's per-collection limit), every
 * label within its vocabulary bound, every replacement counted exactly, and no measurement lost.
 * (Heap growth for the same attack is measured by bench/cardinality-attack.mjs.)
 */
import {
  BUSINESS_METRIC_LIST,
  BUSINESS_METRICS,
  DEFAULT_LABEL_POLICIES,
  DEFAULT_LIMITS,
  initBusinessMetrics,
  prometheusFamilyName,
  type BusinessMetricsHandle,
  type CappedPolicy,
} from '../../src';
import type { Exposition } from '../support/exposition';
import { checkScrape, selfMetric } from './support/checks';

const ROUNDS = 100;
// Every 4 calls carry ~6 fresh values (revenue has three open labels), so 100 x 6,600 calls send just over
// 1,000,000 distinct label values.
const CALLS_PER_ROUND = 6_600;
const DISTINCT_VALUES = 1_000_000;
const FAMILY = {
  funnel: prometheusFamilyName(BUSINESS_METRICS.funnelStep),
  revenue: prometheusFamilyName(BUSINESS_METRICS.revenue),
  features: prometheusFamilyName(BUSINESS_METRICS.featureUsage),
  sessions: prometheusFamilyName(BUSINESS_METRICS.sessionDuration),
};
const cap = (label: keyof typeof DEFAULT_LABEL_POLICIES) =>
  (DEFAULT_LABEL_POLICIES[label] as CappedPolicy).maxValues;

describe('cardinality attack through the public API', () => {
  let handle: BusinessMetricsHandle;
  beforeAll(async () => {
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
  });
  afterAll(() => handle.shutdown());

  it('keeps every metric within its caps over 1,000,000 distinct hostile values and 100 scrapes', async () => {
    const counts = { funnel: 0, revenue: 0, features: 0, sessions: 0 };
    let revenueCents = 0;
    let junkDevices = 0;
    let previous: Exposition | undefined;
    const seriesSeen = new Map<string, number>();
    let serial = 0;
    // Distinct, utm-like, and different in every label; sometimes padded or with control characters, which
    // normalise away (still distinct after normalisation, so the expected counts stay exact).
    const fresh = (prefix: string) => {
      serial++;
      const id = `${prefix}_${serial.toString(36)}`;
      return serial % 7 === 0 ? `  ${id}\u0000\n` : id;
    };
    const started = Date.now();
    let recording = 0;
    let scraping = 0;
    let checking = 0;

    for (let round = 0; round < ROUNDS; round++) {
      let t = Date.now();
      for (let i = 0; i < CALLS_PER_ROUND; i++) {
        switch (i % 4) {
          case 0: {
            // Steps and variants cycle through values within their caps, so label combinations multiply and the
            // funnel reaches its series cap; sources are fresh every time, as from an attacker's utm_source.
            const junk = i % 8 === 0;
            if (junk) junkDevices++;
            const n = counts.funnel;
            handle.metrics.recordFunnelStep(`step_${n % 97}`, {
              source: fresh('utm'),
              deviceType: junk ? fresh('dev') : 'mobile',
              experimentVariant: `variant_${n % 13}`,
            });
            counts.funnel++;
            break;
          }
          case 1: {
            const cents = 1 + (i % 5000);
            revenueCents += cents;
            handle.metrics.recordRevenue(cents, {
              productCategory: fresh('cat'),
              paymentMethod: fresh('pay'),
              region: fresh('reg'),
            });
            counts.revenue++;
            break;
          }
          case 2:
            handle.metrics.recordFeatureUsage(fresh('feat'), { userTier: 'pro', isNewUser: i % 3 === 0 });
            counts.features++;
            break;
          default:
            handle.metrics.recordSessionEnd(new Date(Date.now() - 30_000), {
              userTier: 'free',
              entryPage: fresh('/p'),
            });
            counts.sessions++;
        }
      }

      recording += Date.now() - t;
      t = Date.now();
      const response = await fetch(handle.prometheus!.url);
      expect(response.status).toBe(200);
      const text = await response.text();
      scraping += Date.now() - t;
      t = Date.now();
      // The lifetime cap holds at every scrape, whatever came before; series never vanish (cumulative).
      for (const [family, series] of countSeries(text)) {
        expect(series).toBeLessThanOrEqual(DEFAULT_LIMITS.maxSeriesPerMetric + 1);
        expect(series).toBeGreaterThanOrEqual(seriesSeen.get(family) ?? 0);
        seriesSeen.set(family, series);
      }
      // The full check (strict parse, label bounds, monotonic counters) on every 10th scrape and the last.
      if (round % 10 === 9) {
        const { exposition } = checkScrape(text);
        if (previous) expectCountersNotDecreasing(previous, exposition);
        previous = exposition;
      }
      checking += Date.now() - t;
    }
    expect(serial).toBeGreaterThanOrEqual(DISTINCT_VALUES);
    const elapsed = Date.now() - started;

    const last = previous!;
    const total = (family: string) => last.find(family).reduce((sum, sample) => sum + sample.value, 0);
    // Nothing lost: every measurement is in some series (the all-"other" one included).
    expect(total(FAMILY.funnel)).toBe(counts.funnel);
    expect(total(FAMILY.revenue)).toBe(revenueCents);
    expect(total(FAMILY.features)).toBe(counts.features);
    expect(total(`${FAMILY.sessions}_count`)).toBe(counts.sessions);
    // The funnel (4 open labels) reached its series cap; the one extra series is the all-"other" one.
    expect(seriesSeen.get(FAMILY.funnel)).toBe(DEFAULT_LIMITS.maxSeriesPerMetric + 1);
    const allOther = last.find(FAMILY.funnel, {
      step: 'other',
      source: 'other',
      device_type: 'other',
      experiment_variant: 'other',
    });
    expect(allOther).toHaveLength(1);
    const seriesOverflow = selfMetric(last, 'business_metrics_series_overflow_total', {
      metric: FAMILY.funnel,
    });
    expect(seriesOverflow).toBeGreaterThan(0);
    expect(allOther[0].value).toBeGreaterThanOrEqual(seriesOverflow);

    // Every replaced value was counted, exactly: all values are distinct, so everything past a cap is replaced.
    const relabelled = (family: string, label: string, reason: string) =>
      selfMetric(last, 'business_metrics_label_overflow_total', { metric: family, label, reason });
    expect(relabelled(FAMILY.funnel, 'source', 'cap')).toBe(counts.funnel - cap('source'));
    expect(relabelled(FAMILY.funnel, 'step', 'cap')).toBe(0);
    expect(relabelled(FAMILY.funnel, 'device_type', 'not_allowed')).toBe(junkDevices);
    expect(relabelled(FAMILY.revenue, 'product_category', 'cap')).toBe(
      counts.revenue - cap('product_category'),
    );
    expect(relabelled(FAMILY.revenue, 'payment_method', 'cap')).toBe(counts.revenue - cap('payment_method'));
    expect(relabelled(FAMILY.revenue, 'region', 'cap')).toBe(counts.revenue - cap('region'));
    expect(relabelled(FAMILY.features, 'feature_name', 'cap')).toBe(counts.features - cap('feature_name'));
    expect(relabelled(FAMILY.sessions, 'entry_page', 'cap')).toBe(counts.sessions - cap('entry_page'));
    // The revenue-per-minute gauge has one series per admitted region (+ "other"), not one per value.
    expect(last.find(prometheusFamilyName(BUSINESS_METRICS.revenuePerMinute)).length).toBeLessThanOrEqual(
      cap('region') + 2,
    );
    console.log(
      `cardinality attack: ${serial} distinct values in ${ROUNDS * CALLS_PER_ROUND} calls, ${ROUNDS} scrapes: ` +
        `${elapsed} ms (recording ${recording} ms, scraping ${scraping} ms, checking ${checking} ms)`,
    );
  });
});

/** Series per business family, counted cheaply: one line per counter/gauge series, one `_count` per histogram. */
function countSeries(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const definition of BUSINESS_METRIC_LIST) {
    const family = prometheusFamilyName(definition);
    const prefix = definition.kind === 'histogram' ? `${family}_count{` : `${family}{`;
    let count = 0;
    for (let at = text.indexOf(`\n${prefix}`); at !== -1; at = text.indexOf(`\n${prefix}`, at + 1)) count++;
    series.set(family, count);
  }
  return series;
}

/** Counters (business and self-metrics) never go down between two scrapes of one process. */
function expectCountersNotDecreasing(before: Exposition, after: Exposition): void {
  const key = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(labels)}`;
  const later = new Map(after.samples.map((sample) => [key(sample.name, sample.labels), sample.value]));
  for (const family of before.families.values()) {
    if (family.type !== 'counter' && family.type !== 'histogram') continue;
    for (const sample of family.samples) {
      if (sample.name.endsWith('_created')) continue;
      const next = later.get(key(sample.name, sample.labels));
      if (next === undefined || next < sample.value) {
        throw new Error(
          `${sample.name}${JSON.stringify(sample.labels)} went from ${sample.value} to ${next}`,
        );
      }
    }
  }
}
