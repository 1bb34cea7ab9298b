/**
 * The OpenTelemetry SDK pitfalls measured in platform.md, shown neutralised through the package's API:
 * NaN/Infinity are accepted silently by the SDK (and poison a series forever), BigInt/circular attributes throw
 * synchronously, a function-valued attribute crashes the process at the next scrape, and the SDK keeps the
 * caller's attribute object by reference (mutating it later relabels the series).
 */
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';
import { parseExposition } from '../support/exposition';
import { bundleFixture, cleanUpChildren, startChild } from './support/child';
import { promtool, selfMetric } from './support/checks';
import { PromtoolChecks } from '../support/promtool';

const itWithPromtool = promtool ? it : it.skip;
const forPromtool = new PromtoolChecks();

describe('SDK pitfalls, through our API', () => {
  let handle: BusinessMetricsHandle;
  beforeEach(() => {
    handle = initBusinessMetrics({ exporters: ['none'], env: {} });
  });
  afterEach(() => handle.shutdown());
  afterAll(cleanUpChildren);

  const scrape = async () => parseExposition(await handle.metrics.getMetrics());
  const revenueMeta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };

  it('NaN and ±Infinity are never recorded: the series keeps its real total, and each drop is counted', async () => {
    handle.metrics.recordRevenue(500, revenueMeta);
    for (const bad of [NaN, Infinity, -Infinity]) handle.metrics.recordRevenue(bad, revenueMeta);
    handle.metrics.recordRevenue(250, revenueMeta);
    handle.metrics.recordSessionEnd(new Date(NaN), { userTier: 'pro', entryPage: '/' });
    handle.metrics.updateActiveUsers('daily', new Map([['pro', NaN]]));
    const exposition = await scrape();
    expect(exposition.value('business_revenue_cents_total', { product_category: 'books' })).toBe(750);
    expect(exposition.value('business_order_value_cents_sum', { product_category: 'books' })).toBe(750);
    expect(exposition.value('business_order_value_cents_count', { product_category: 'books' })).toBe(2);
    expect(exposition.find('business_session_duration_seconds_count')).toEqual([]);
    expect(exposition.find('business_active_users')).toEqual([]);
    for (const sample of exposition.samples) expect(Number.isFinite(sample.value)).toBe(true);
    const dropped = (metric: string, reason: string) =>
      selfMetric(exposition, 'business_metrics_dropped_total', { metric, reason });
    expect(dropped('business_revenue_cents_total', 'not_finite')).toBe(3);
    expect(dropped('business_session_duration_seconds', 'invalid_time')).toBe(1);
    expect(dropped('business_active_users', 'not_finite')).toBe(1);
  });

  it('negative and absurd amounts are dropped and counted, not recorded', async () => {
    handle.metrics.recordRevenue(-1, revenueMeta);
    handle.metrics.recordRevenue(1e300, revenueMeta);
    handle.metrics.recordRevenue('12' as unknown as number, revenueMeta);
    const exposition = await scrape();
    expect(exposition.find('business_revenue_cents_total')).toEqual([]);
    for (const reason of ['negative', 'too_large', 'not_a_number']) {
      expect(
        selfMetric(exposition, 'business_metrics_dropped_total', {
          metric: 'business_revenue_cents_total',
          reason,
        }),
      ).toBe(1);
    }
  });

  it('BigInt, circular and function-valued labels never throw and are recorded as bounded values', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => {
      handle.metrics.recordFunnelStep('cart_view', { source: 10n as unknown as string, deviceType: 'web' });
      handle.metrics.recordFunnelStep('cart_view', {
        source: circular as unknown as string,
        deviceType: 'web',
      });
      handle.metrics.recordFunnelStep('cart_view', {
        source: (() => 'x') as unknown as string,
        deviceType: 'web',
      });
    }).not.toThrow();
    const exposition = await scrape();
    expect(exposition.value('business_funnel_step_total', { source: '10' })).toBe(1); // BigInt converts safely
    expect(exposition.value('business_funnel_step_total', { source: 'other' })).toBe(2);
    expect(
      selfMetric(exposition, 'business_metrics_label_overflow_total', {
        metric: 'business_funnel_step_total',
        label: 'source',
        reason: 'invalid_type',
      }),
    ).toBe(2);
    forPromtool.add('hostile attribute values', await handle.metrics.getMetrics());
  });

  it("the caller's metadata object is copied: mutating it afterwards does not relabel the series", async () => {
    const metadata = { source: 'google', deviceType: 'web', experimentVariant: 'A' };
    handle.metrics.recordFunnelStep('cart_view', metadata);
    metadata.source = 'bing';
    metadata.deviceType = 'mobile';
    metadata.experimentVariant = 'B';
    const revenue = { ...revenueMeta };
    handle.metrics.recordRevenue(100, revenue);
    revenue.region = 'us_east';
    let exposition = await scrape();
    expect(exposition.find('business_funnel_step_total').map((s) => s.labels)).toEqual([
      expect.objectContaining({ source: 'google', device_type: 'web', experiment_variant: 'A' }),
    ]);
    expect(exposition.find('business_revenue_cents_total').map((s) => s.labels.region)).toEqual(['eu_west']);

    handle.metrics.recordFunnelStep('cart_view', metadata); // the mutated object is a new, separate series
    exposition = await scrape();
    expect(exposition.value('business_funnel_step_total', { source: 'google' })).toBe(1);
    expect(exposition.value('business_funnel_step_total', { source: 'bing', device_type: 'mobile' })).toBe(1);
  });

  it('control: the same function-valued label on a plain SDK counter kills the process at its next scrape', async () => {
    const result = await startChild(bundleFixture('raw-sdk-function-label'), []).exited;
    expect(result.stdout).toContain('RECORDED');
    expect(result.stdout).not.toContain('SCRAPED'); // it died serialising the scrape
    expect(result.stderr).toMatch(/TypeError/);
    expect(result.code).not.toBe(0);
  });

  it('a process that records function/BigInt/circular labels survives its next scrapes (exit 0)', async () => {
    const result = await startChild(bundleFixture('hostile-labels-then-scrape'), []).exited;
    expect(result.stderr).toBe('');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    const scrapes = result.stdout.match(/^SCRAPE \d+ \d+$/gm) ?? [];
    expect(scrapes).toHaveLength(2);
    for (const line of scrapes) {
      const [, status, businessLines] = line.split(' ');
      expect(status).toBe('200');
      expect(Number(businessLines)).toBeGreaterThan(10);
    }
  });
});

describe('SDK pitfalls, checked by promtool', () => {
  itWithPromtool('the exposition after hostile attribute values passes promtool check metrics', () => {
    forPromtool.expectClean(['hostile attribute values']);
  });
});
