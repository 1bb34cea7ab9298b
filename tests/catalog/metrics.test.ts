import {
  ALL_METRIC_LIST,
  BUSINESS_METRICS,
  BUSINESS_METRIC_LIST,
  prometheusFamilyName,
  VERSION,
} from '../../src';
import { readFileSync } from 'node:fs';
import { shapeOfKind, upstreamPrometheusName } from '../../src/exporters/prometheus';
import { join } from 'node:path';

// The contract from the seed (issue 2's table): family, type, labels, buckets. The catalog must produce exactly this,
// plus the money additions of issue 16: a `currency` label on the three money families, refunds, and the two money
// gauges (docs/money.md).
const SEED_FAMILIES: Array<[string, string, string[], number[]?]> = [
  ['business_funnel_step_total', 'counter', ['step', 'source', 'device_type', 'experiment_variant']],
  ['business_conversions_total', 'counter', ['conversion_type', 'source', 'device_type']],
  [
    'business_time_to_conversion_seconds',
    'histogram',
    ['conversion_type'],
    [30, 60, 120, 300, 600, 1800, 3600],
  ],
  ['business_revenue_cents_total', 'counter', ['product_category', 'payment_method', 'region', 'currency']],
  [
    'business_order_value_cents',
    'histogram',
    ['product_category', 'currency'],
    [500, 1000, 2500, 5000, 10000, 25000, 50000],
  ],
  ['business_revenue_per_minute_cents', 'gauge', ['region', 'currency']],
  ['business_refunds_cents_total', 'counter', ['currency', 'payment_method', 'region', 'reason']],
  ['business_currency_minor_units', 'gauge', ['currency']],
  ['business_exchange_rate', 'gauge', ['currency', 'reporting_currency']],
  ['business_feature_usage_total', 'counter', ['feature_name', 'user_tier', 'is_new_user']],
  [
    'business_session_duration_seconds',
    'histogram',
    ['user_tier', 'entry_page'],
    [10, 30, 60, 120, 300, 600, 1800, 3600],
  ],
  ['business_active_users', 'gauge', ['window', 'user_tier']],
];

describe('metric catalog', () => {
  it('defines exactly the seed families, types, label keys and buckets', () => {
    const actual = BUSINESS_METRIC_LIST.map((def) => [
      prometheusFamilyName(def),
      def.kind,
      [...def.labels],
      ...(def.buckets ? [[...def.buckets]] : []),
    ]);
    expect(actual).toEqual(SEED_FAMILIES);
  });

  it.each(ALL_METRIC_LIST.map((def) => [def.name, def] as const))(
    '%s gets the same Prometheus name from the upstream JS exporter (no unit suffix) as from the Collector translation',
    (_name, def) => {
      expect(upstreamPrometheusName(def.name, shapeOfKind(def.kind))).toBe(prometheusFamilyName(def));
    },
  );

  it('uses OTel names without _total, and unit words only where they match the unit', () => {
    for (const def of ALL_METRIC_LIST) {
      expect(def.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(def.name.endsWith('_total')).toBe(false);
      if (def.name.endsWith('_seconds')) expect(def.unit).toBe('s');
      else expect(def.unit).toMatch(/^\{[a-z_]+\}$/);
    }
  });

  it('keeps bucket bounds strictly increasing', () => {
    for (const def of BUSINESS_METRIC_LIST.filter((d) => d.buckets)) {
      const buckets = def.buckets!;
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThan(buckets[i - 1]);
    }
    expect(BUSINESS_METRICS.orderValue.buckets).toHaveLength(7);
  });

  it('reports the package version as the scope version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});
