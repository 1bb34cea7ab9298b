/**
 * src/index.ts is the root entry point: its export list is the package's public API, so a name added, dropped or
 * re-pointed there must fail a test that says which. Holds the exact runtime export list (types are held by the
 * typecheck and tests/package/types.test.ts) and that each name is the very object of the module src/index.ts
 * takes it from; nothing of the subpath entry points (/express, /browser, /react, /analysis, /insights) is in it.
 */
import * as root from '../src';
import * as analysis from '../src/analysis';
import * as browser from '../src/browser';
import * as catalog from '../src/catalog';
import * as cluster from '../src/cluster';
import * as prometheus from '../src/exporters/prometheus';
import * as init from '../src/init';
import * as insights from '../src/insights';
import * as express from '../src/integrations/express';
import * as lifecycle from '../src/lifecycle';
import * as businessMetricsModule from '../src/metrics/business-metrics';
import * as singleton from '../src/metrics/singleton';
import * as views from '../src/metrics/views';
import * as currencies from '../src/money/currencies';
import * as react from '../src/react';
import * as runtime from '../src/runtime/node-runtime';
import * as trackers from '../src/trackers';
import * as version from '../src/version';
import { exportOrigins } from './support/entry-points';

describe('src/index.ts (the root entry point)', () => {
  it('exports exactly the public API, each name the very object of the module it comes from', () => {
    expect(
      exportOrigins(root, {
        init,
        prometheus,
        businessMetricsModule,
        singleton,
        currencies,
        views,
        lifecycle,
        cluster,
        catalog,
        runtime,
        version,
        trackers,
      }),
    ).toEqual({
      ALL_METRIC_LIST: 'catalog',
      BUSINESS_METRICS: 'catalog',
      BUSINESS_METRIC_LIST: 'catalog',
      BusinessMetrics: 'businessMetricsModule',
      CHECKOUT_STEPS: 'catalog',
      CheckoutStep: 'trackers',
      CheckoutTracker: 'trackers',
      DEFAULT_LABEL_POLICIES: 'catalog',
      DEFAULT_LIMITS: 'businessMetricsModule',
      EngagementTracker: 'trackers',
      ISO_CURRENCY_CODES: 'currencies',
      MILESTONE_STEP_PREFIX: 'trackers',
      OTHER_LABEL_VALUE: 'catalog',
      PROMETHEUS_FAMILIES: 'catalog',
      PROMETHEUS_SELF_FAMILIES: 'catalog',
      PrometheusPullReader: 'prometheus',
      REFUND_REASONS: 'catalog',
      RUNTIME_METRICS: 'runtime',
      RUNTIME_PROMETHEUS_FAMILIES: 'runtime',
      SCOPE_NAME: 'version',
      SELF_METRICS: 'catalog',
      UNKNOWN_LABEL_VALUE: 'catalog',
      VERSION: 'version',
      businessMetricViews: 'views',
      businessMetrics: 'singleton',
      icuMinorUnitExponent: 'currencies',
      initBusinessMetrics: 'init',
      installShutdownHooks: 'lifecycle',
      minorToUnits: 'currencies',
      otelToPrometheusName: 'prometheus',
      prometheusFamilyName: 'catalog',
      serializePrometheus: 'prometheus',
      watchWorkerThread: 'cluster',
    });
  });

  it('re-exports nothing of the subpath entry points', () => {
    // Objects and functions only: a primitive equal by value (a shared default number) is no re-export.
    const rootValues = new Set(Object.values(root).filter((value) => Object(value) === value));
    const subpaths = { analysis, browser, express, insights, react };
    const inRoot = Object.entries(subpaths).flatMap(([entry, module]) =>
      Object.entries(module)
        .filter(([, value]) => rootValues.has(value))
        .map(([name]) => `${entry}.${name}`),
    );
    expect(inRoot).toEqual([]);
  });
});
