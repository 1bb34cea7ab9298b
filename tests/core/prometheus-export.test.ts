/**
 * The Prometheus pull path end to end: initBusinessMetrics with a real exporter on an ephemeral port, a known
 * workload, a scrape over HTTP, and every family, type, label set, bucket bound and value checked; then promtool.
 */
import {
  BUSINESS_METRIC_LIST,
  SCOPE_NAME,
  VERSION,
  initBusinessMetrics,
  prometheusFamilyName,
  type BusinessMetricsHandle,
} from '../../src';
import { checkMetrics, promtool } from '../support/promtool';
import { parseExposition, type Exposition } from '../support/exposition';
import {
  ACTIVE_DAILY,
  CONVERSION_SECONDS,
  FEATURES,
  FUNNEL,
  REVENUE,
  SESSIONS,
  cumulativeBuckets,
  expectedRevenue,
  runWorkload,
} from '../support/workload';

const SCOPE = { otel_scope_name: SCOPE_NAME, otel_scope_version: VERSION };

describe('Prometheus exporter (pull) through initBusinessMetrics', () => {
  let handle: BusinessMetricsHandle;
  let scrape: string;
  let exposition: Exposition;

  beforeAll(async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { host: '127.0.0.1', port: 0 },
      serviceName: 'checkout',
      env: {},
      // A reporting currency, so business_exchange_rate is exported too (USD into USD: 1).
      money: { reporting: { currency: 'USD', rates: {} } },
    });
    await handle.ready;
    runWorkload(handle.metrics);
    const response = await fetch(handle.prometheus!.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    scrape = await response.text();
    exposition = parseExposition(scrape);
  });
  afterAll(() => handle.shutdown());

  it('listens on a real ephemeral port, not the 9464 default', () => {
    expect(handle.prometheus!.port).toBeGreaterThan(0);
    expect(handle.prometheus!.port).not.toBe(9464);
    expect(handle.prometheus!.url).toBe(`http://127.0.0.1:${handle.prometheus!.port}/metrics`);
  });

  it('exposes every catalog family with its type and help', () => {
    for (const def of BUSINESS_METRIC_LIST) {
      const family = exposition.family(prometheusFamilyName(def));
      expect(family.type).toBe(def.kind);
      expect(family.help).toBe(def.description);
    }
  });

  it('exposes exactly the seed label keys on every business series', () => {
    for (const def of BUSINESS_METRIC_LIST) {
      const family = exposition.family(prometheusFamilyName(def));
      expect(family.samples.length).toBeGreaterThan(0);
      for (const sample of family.samples) {
        const keys = Object.keys(sample.labels).filter((key) => key !== 'le');
        expect(keys.sort()).toEqual([...def.labels, 'otel_scope_name', 'otel_scope_version'].sort());
        expect(sample.labels).toMatchObject(SCOPE);
      }
    }
  });

  it('counts funnel steps, conversions, revenue and feature usage exactly', () => {
    for (const [step, source, device_type, variant, times] of FUNNEL) {
      expect(
        exposition.value('business_funnel_step_total', {
          step,
          source,
          device_type,
          experiment_variant: variant ?? 'control',
        }),
      ).toBe(times);
    }
    expect(exposition.value('business_conversions_total', { conversion_type: 'purchase' })).toBe(
      CONVERSION_SECONDS.length,
    );
    for (const [key, cents] of expectedRevenue()) {
      const [product_category, payment_method, region] = key.split('|');
      expect(
        exposition.value('business_revenue_cents_total', { product_category, payment_method, region }),
      ).toBe(cents);
    }
    for (const [feature_name, user_tier, isNew, times] of FEATURES) {
      expect(
        exposition.value('business_feature_usage_total', {
          feature_name,
          user_tier,
          is_new_user: String(isNew),
        }),
      ).toBe(times);
    }
  });

  it('writes histogram buckets with the catalog bounds and cumulative counts', () => {
    const bounds = (name: string) => BUSINESS_METRIC_LIST.find((def) => def.name === name)!.buckets!;
    const leOf = (name: string, labels: Record<string, string>) =>
      exposition.find(`${name}_bucket`, labels).map((sample) => [sample.labels.le, sample.value]);

    const orderBounds = bounds('business_order_value_cents');
    const books = REVENUE.filter((r) => r[1] === 'books').map((r) => r[0]);
    expect(leOf('business_order_value_cents', { product_category: 'books' })).toEqual(
      cumulativeBuckets(books, orderBounds).map((count, i) => [
        i < orderBounds.length ? String(orderBounds[i]) : '+Inf',
        count,
      ]),
    );
    expect(exposition.value('business_order_value_cents_sum', { product_category: 'books' })).toBe(
      books.reduce((a, b) => a + b, 0),
    );
    expect(exposition.value('business_order_value_cents_count', { product_category: 'books' })).toBe(
      books.length,
    );

    const timing = leOf('business_time_to_conversion_seconds', { conversion_type: 'purchase' }).map(
      ([, v]) => v,
    );
    expect(timing).toEqual(
      cumulativeBuckets(CONVERSION_SECONDS, bounds('business_time_to_conversion_seconds')),
    );

    for (const [seconds, user_tier, entry_page] of SESSIONS) {
      const counts = leOf('business_session_duration_seconds', { user_tier, entry_page }).map(([, v]) => v);
      expect(counts).toEqual(cumulativeBuckets([seconds], bounds('business_session_duration_seconds')));
    }
  });

  it('reports the gauges: revenue of the last minute per region and active users', () => {
    const perRegion = new Map<string, number>();
    for (const [cents, , , region] of REVENUE) perRegion.set(region, (perRegion.get(region) ?? 0) + cents);
    for (const [region, cents] of perRegion) {
      expect(exposition.value('business_revenue_per_minute_cents', { region })).toBe(cents);
    }
    for (const [user_tier, count] of ACTIVE_DAILY) {
      expect(exposition.value('business_active_users', { window: 'daily', user_tier })).toBe(count);
    }
  });

  it('describes the service in target_info', () => {
    expect(exposition.value('target_info')).toBe(1);
    expect(exposition.find('target_info')[0].labels.service_name).toBe('checkout');
  });

  it('serves the same exposition through getMetrics() and the mountable handler', async () => {
    const viaApi = parseExposition(await handle.metrics.getMetrics());
    expect(viaApi.value('business_funnel_step_total', { step: 'cart_view' })).toBe(100);
    expect(typeof handle.metricsHandler).toBe('function');
  });

  (promtool ? it : it.skip)('passes promtool check metrics', () => {
    const result = checkMetrics(scrape);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});
