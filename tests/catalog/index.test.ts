/**
 * src/catalog/index.ts, the catalog's entry for the rest of the package, the rule checks and the dashboard
 * generator: exactly these runtime names, each the very object of the module that defines it (the metric
 * definitions, the label vocabularies and policies, the exact-money queries), so there is one catalog and no copy.
 */
import * as catalog from '../../src/catalog';
import * as exactMoney from '../../src/catalog/exact-money';
import * as labels from '../../src/catalog/labels';
import * as metrics from '../../src/catalog/metrics';
import * as naming from '../../src/catalog/prometheus-naming';
import { exportOrigins } from '../support/entry-points';

describe('catalog entry point', () => {
  it('exports exactly these names, each from the module that defines it', () => {
    expect(exportOrigins(catalog, { metrics, labels, exactMoney })).toEqual({
      ALL_METRIC_LIST: 'metrics',
      BUSINESS_METRICS: 'metrics',
      BUSINESS_METRIC_LIST: 'metrics',
      CHECKOUT_STEPS: 'labels',
      DEFAULT_LABEL_POLICIES: 'labels',
      EXACT_MONEY_FIGURES: 'exactMoney',
      EXACT_MONEY_WINDOWS: 'exactMoney',
      HTTP_METRICS: 'metrics',
      OTHER_LABEL_VALUE: 'labels',
      PROMETHEUS_FAMILIES: 'metrics',
      PROMETHEUS_SELF_FAMILIES: 'metrics',
      REFUND_REASONS: 'labels',
      SELF_METRICS: 'metrics',
      UNKNOWN_LABEL_VALUE: 'labels',
      exactMoneyQuery: 'exactMoney',
      exactMoneyRule: 'exactMoney',
      exactMoneyRules: 'exactMoney',
      prometheusFamilyName: 'metrics',
      prometheusType: 'metrics',
    });
  });

  it('names families with the one naming module (metrics.ts passes prometheusFamilyName through)', () => {
    expect(catalog.prometheusFamilyName).toBe(naming.prometheusFamilyName);
  });
});
