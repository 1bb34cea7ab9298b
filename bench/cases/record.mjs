/**
 * Per-call cost of the record methods, side by side with prom-client, the raw OpenTelemetry SDK and a plain Map.
 *
 * Owns: one variant of one row per process (chosen by `params.row` / `params.variant`), each doing exactly the
 * same instrument updates with the same label values (bench/lib/workload.mjs), and the self-check that what was
 * exported equals what was recorded. Must not touch: rounds, statistics (bench/run.mjs).
 *
 * Each caller builds its labels object per call, as application code does (`{ source, deviceType }`).
 */
import {
  conversionTuples,
  cycledSum,
  expectTotals,
  featureTuples,
  floorKeys,
  funnelTuples,
  loadPackage,
  MASK,
  parseExposition,
  require,
  revenueTuples,
  sampleTotals,
  sdkTotals,
  sessionTuples,
} from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';
import { startOtlpSink } from '../lib/otlp-sink.mjs';

const pkg = loadPackage();
const { BUSINESS_METRICS: M, prometheusFamilyName } = pkg;
const family = (key) => prometheusFamilyName(M[key]);
const labelNames = (key) => [...M[key].labels];

// ---------------------------------------------------------------------------------------------- the package
async function ours(exporters = ['prometheus'], extra = {}) {
  const telemetry = pkg.initBusinessMetrics({
    exporters,
    prometheus: { preventServerStart: true },
    serviceName: 'bench',
    env: {},
    ...extra,
  });
  await telemetry.ready;
  return telemetry;
}

/**
 * The check and close of an `ours` variant: the totals `expected(samples, ops)` names (`[label, measured,
 * expected]`, or a promise of them), and nothing relabelled or dropped by the guard.
 */
function oursVerdict(telemetry, expected) {
  return {
    async check(ops) {
      const samples = parseExposition(await telemetry.metrics.getMetrics());
      const guarded = ['business_metrics_dropped_total', 'business_metrics_label_overflow_total']
        .map((name) => sampleTotals(samples, name).sum)
        .reduce((a, b) => a + b, 0);
      return expectTotals([...(await expected(samples, ops)), ['relabelled_or_dropped', guarded, 0]]);
    },
    close: () => telemetry.shutdown(),
  };
}

/** recordRevenue through the package, with `currencies[i % 4]` on each call, or (undefined) the seed's call. */
async function revenueCase(t, currencies) {
  const telemetry = await ours();
  const { businessMetrics } = pkg;
  return {
    round(n, from) {
      if (currencies === undefined) {
        for (let i = from; i < from + n; i++) {
          const x = t[i & MASK];
          businessMetrics.recordRevenue(x[0], { productCategory: x[1], paymentMethod: x[2], region: x[3] });
        }
        return;
      }
      for (let i = from; i < from + n; i++) {
        const x = t[i & MASK];
        businessMetrics.recordRevenue(x[0], {
          productCategory: x[1],
          paymentMethod: x[2],
          region: x[3],
          currency: currencies[i & 3],
        });
      }
    },
    ...oursVerdict(telemetry, (samples, ops) => {
      const amount = cycledSum(t, 0, ops);
      return [
        ['revenue_total', sampleTotals(samples, family('revenue')).sum, amount],
        ['order_value_count', sampleTotals(samples, `${family('orderValue')}_count`).sum, ops],
      ];
    }),
  };
}

// ------------------------------------------------------------------------------------------------ prom-client
function promClient() {
  const client = require('prom-client');
  const registry = new client.Registry();
  const counter = (key) =>
    new client.Counter({
      name: family(key),
      help: M[key].description,
      labelNames: labelNames(key),
      registers: [registry],
    });
  const histogram = (key) =>
    new client.Histogram({
      name: family(key),
      help: M[key].description,
      labelNames: labelNames(key),
      buckets: [...M[key].buckets],
      registers: [registry],
    });
  return { client, registry, counter, histogram };
}

async function promTotals(metric) {
  const { values } = await metric.get();
  let value = 0;
  let count = 0;
  let sum = 0;
  for (const sample of values) {
    if (sample.metricName === undefined || sample.metricName === metric.name) value += sample.value;
    else if (sample.metricName.endsWith('_count')) count += sample.value;
    else if (sample.metricName.endsWith('_sum')) sum += sample.value;
  }
  return { value, count, sum };
}

// ---------------------------------------------------------------------------------------------- the raw SDK
function rawSdk(readerCount) {
  const sdk = require('@opentelemetry/sdk-metrics');
  class PullReader extends sdk.MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const readers = Array.from({ length: readerCount }, () => new PullReader());
  const provider = new sdk.MeterProvider({ readers, views: pkg.businessMetricViews() });
  const meter = provider.getMeter('bench');
  return {
    readers,
    counter: (key) => meter.createCounter(M[key].name, { unit: M[key].unit }),
    histogram: (key) => meter.createHistogram(M[key].name, { unit: M[key].unit }),
    /** Totals as every reader sees them (they must agree). */
    async totals(key) {
      const all = [];
      for (const reader of readers) all.push(sdkTotals(await reader.collect(), M[key].name));
      return all;
    },
    close: () => provider.shutdown(),
  };
}

// -------------------------------------------------------------------------------------------------- the rows
const ROWS = {
  funnel: {
    tuples: funnelTuples,
    async ours(t) {
      const telemetry = await ours();
      const { businessMetrics } = pkg;
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            businessMetrics.recordFunnelStep(x[0], {
              source: x[1],
              deviceType: x[2],
              experimentVariant: x[3],
            });
          }
        },
        ...oursVerdict(telemetry, (samples, ops) => [
          ['funnel_total', sampleTotals(samples, family('funnelStep')).sum, ops],
        ]),
      };
    },
    'prom-client'(t) {
      const counter = promClient().counter('funnelStep');
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            counter.inc({ step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] });
          }
        },
        async check(ops) {
          return expectTotals([['funnel_total', (await promTotals(counter)).value, ops]]);
        },
      };
    },
    ...sdkVariants(rawSdkFunnel),
    'map-floor'(t) {
      return mapFloor(floorKeys(t), 1);
    },
  },

  feature: {
    tuples: featureTuples,
    async ours(t) {
      const telemetry = await ours();
      const { businessMetrics } = pkg;
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            businessMetrics.recordFeatureUsage(x[0], { userTier: x[1], isNewUser: x[2] });
          }
        },
        ...oursVerdict(telemetry, (samples, ops) => [
          ['feature_total', sampleTotals(samples, family('featureUsage')).sum, ops],
        ]),
      };
    },
    'prom-client'(t) {
      const counter = promClient().counter('featureUsage');
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            counter.inc({ feature_name: x[0], user_tier: x[1], is_new_user: x[2] ? 'true' : 'false' });
          }
        },
        async check(ops) {
          return expectTotals([['feature_total', (await promTotals(counter)).value, ops]]);
        },
      };
    },
    ...sdkVariants((sdk) => {
      const counter = sdk.counter('featureUsage');
      return {
        round(t, n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            counter.add(1, { feature_name: x[0], user_tier: x[1], is_new_user: x[2] ? 'true' : 'false' });
          }
        },
        async check(ops) {
          const totals = await sdk.totals('featureUsage');
          return expectTotals(totals.map((total, r) => [`feature_total[reader${r}]`, total.value, ops]));
        },
      };
    }),
    'map-floor'(t) {
      return mapFloor(floorKeys(t), 1);
    },
  },

  conversion: {
    tuples: conversionTuples,
    async ours(t) {
      const telemetry = await ours();
      const { businessMetrics } = pkg;
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            businessMetrics.recordConversion(x[0], {
              source: x[1],
              deviceType: x[2],
              sessionStartTime: x[3],
            });
          }
        },
        ...oursVerdict(telemetry, (samples, ops) => [
          ['conversions_total', sampleTotals(samples, family('conversions')).sum, ops],
          ['time_to_conversion_count', sampleTotals(samples, `${family('timeToConversion')}_count`).sum, ops],
        ]),
      };
    },
    'prom-client'(t) {
      const prom = promClient();
      const conversions = prom.counter('conversions');
      const timing = prom.histogram('timeToConversion');
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            conversions.inc({ conversion_type: x[0], source: x[1], device_type: x[2] });
            timing.observe({ conversion_type: x[0] }, (Date.now() - x[3].getTime()) / 1000);
          }
        },
        async check(ops) {
          return expectTotals([
            ['conversions_total', (await promTotals(conversions)).value, ops],
            ['time_to_conversion_count', (await promTotals(timing)).count, ops],
          ]);
        },
      };
    },
    ...sdkVariants((sdk) => {
      const conversions = sdk.counter('conversions');
      const timing = sdk.histogram('timeToConversion');
      return {
        round(t, n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            conversions.add(1, { conversion_type: x[0], source: x[1], device_type: x[2] });
            timing.record((Date.now() - x[3].getTime()) / 1000, { conversion_type: x[0] });
          }
        },
        async check(ops) {
          const counted = await sdk.totals('conversions');
          const timed = await sdk.totals('timeToConversion');
          return expectTotals([
            ...counted.map((total, r) => [`conversions_total[reader${r}]`, total.value, ops]),
            ...timed.map((total, r) => [`time_to_conversion_count[reader${r}]`, total.count, ops]),
          ]);
        },
      };
    }),
    'map-floor'(t) {
      return mapFloor(floorKeys(t), 2);
    },
  },

  // Issue 16: a currency on every call must cost within 10% of the seed's call (default currency). Both
  // variants make the same instrument updates; the currencies cycle so four currency series are live.
  'revenue-currency': {
    tuples: revenueTuples,
    ours: (t) => revenueCase(t, ['USD', 'EUR', 'JPY', 'KWD']),
    'ours-seed-call': (t) => revenueCase(t, undefined),
  },

  revenue: {
    tuples: revenueTuples,
    async ours(t) {
      const telemetry = await ours();
      const { businessMetrics } = pkg;
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            businessMetrics.recordRevenue(x[0], { productCategory: x[1], paymentMethod: x[2], region: x[3] });
          }
        },
        ...oursVerdict(telemetry, (samples, ops) => {
          const amount = cycledSum(t, 0, ops);
          return [
            ['revenue_total', sampleTotals(samples, family('revenue')).sum, amount],
            ['order_value_count', sampleTotals(samples, `${family('orderValue')}_count`).sum, ops],
            ['order_value_sum', sampleTotals(samples, `${family('orderValue')}_sum`).sum, amount],
          ];
        }),
      };
    },
    'prom-client'(t) {
      const prom = promClient();
      const revenue = prom.counter('revenue');
      const orders = prom.histogram('orderValue');
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            revenue.inc({ product_category: x[1], payment_method: x[2], region: x[3] }, x[0]);
            orders.observe({ product_category: x[1] }, x[0]);
          }
        },
        async check(ops) {
          const amount = cycledSum(t, 0, ops);
          const order = await promTotals(orders);
          return expectTotals([
            ['revenue_total', (await promTotals(revenue)).value, amount],
            ['order_value_count', order.count, ops],
            ['order_value_sum', order.sum, amount],
          ]);
        },
      };
    },
    ...sdkVariants((sdk, t) => {
      const revenue = sdk.counter('revenue');
      const orders = sdk.histogram('orderValue');
      return {
        round(t, n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            revenue.add(x[0], { product_category: x[1], payment_method: x[2], region: x[3] });
            orders.record(x[0], { product_category: x[1] });
          }
        },
        async check(ops) {
          const amount = cycledSum(t, 0, ops);
          const revenues = await sdk.totals('revenue');
          const order = await sdk.totals('orderValue');
          return expectTotals([
            ...revenues.map((total, r) => [`revenue_total[reader${r}]`, total.value, amount]),
            ...order.map((total, r) => [`order_value_count[reader${r}]`, total.count, ops]),
          ]);
        },
      };
    }),
    'map-floor'(t) {
      return mapFloor(floorKeys(t), 2);
    },
  },

  session: {
    tuples: sessionTuples,
    async ours(t) {
      const telemetry = await ours();
      const { businessMetrics } = pkg;
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            businessMetrics.recordSessionEnd(x[0], { userTier: x[1], entryPage: x[2] });
          }
        },
        ...oursVerdict(telemetry, (samples, ops) => [
          ['session_count', sampleTotals(samples, `${family('sessionDuration')}_count`).sum, ops],
        ]),
      };
    },
    'prom-client'(t) {
      const sessions = promClient().histogram('sessionDuration');
      return {
        round(n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            sessions.observe({ user_tier: x[1], entry_page: x[2] }, (Date.now() - x[0].getTime()) / 1000);
          }
        },
        async check(ops) {
          return expectTotals([['session_count', (await promTotals(sessions)).count, ops]]);
        },
      };
    },
    ...sdkVariants((sdk) => {
      const sessions = sdk.histogram('sessionDuration');
      return {
        round(t, n, from) {
          for (let i = from; i < from + n; i++) {
            const x = t[i & MASK];
            sessions.record((Date.now() - x[0].getTime()) / 1000, { user_tier: x[1], entry_page: x[2] });
          }
        },
        async check(ops) {
          const totals = await sdk.totals('sessionDuration');
          return expectTotals(totals.map((total, r) => [`session_count[reader${r}]`, total.count, ops]));
        },
      };
    }),
    'map-floor'(t) {
      return mapFloor(floorKeys(t), 1);
    },
  },

  // Per-call cost with one exporter vs two: the package aggregates once whatever the number of readers.
  exporters: {
    tuples: funnelTuples,
    'ours-prometheus'(t) {
      return oursFunnel(t, ['prometheus'], undefined);
    },
    async 'ours-prometheus+otlp'(t) {
      const sink = await startOtlpSink();
      return oursFunnel(t, ['prometheus', 'otlp'], sink);
    },
    ...sdkVariants(rawSdkFunnel),
  },
};

function rawSdkFunnel(sdk) {
  const counter = sdk.counter('funnelStep');
  return {
    round(t, n, from) {
      for (let i = from; i < from + n; i++) {
        const x = t[i & MASK];
        counter.add(1, { step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] });
      }
    },
    async check(ops) {
      const totals = await sdk.totals('funnelStep');
      return expectTotals(totals.map((total, r) => [`funnel_total[reader${r}]`, total.value, ops]));
    },
  };
}

/** recordFunnelStep through the singleton, checked on the Prometheus exposition and (if any) the OTLP sink. */
async function oursFunnel(t, exporters, sink) {
  const telemetry = await ours(
    exporters,
    sink ? { otlp: { protocol: 'http/json', url: sink.url, exportIntervalMillis: 3_600_000 } } : {},
  );
  const { businessMetrics } = pkg;
  return {
    round(n, from) {
      for (let i = from; i < from + n; i++) {
        const x = t[i & MASK];
        businessMetrics.recordFunnelStep(x[0], { source: x[1], deviceType: x[2], experimentVariant: x[3] });
      }
    },
    ...oursVerdict(telemetry, async (samples, ops) => {
      const pairs = [['prometheus_funnel_total', sampleTotals(samples, family('funnelStep')).sum, ops]];
      if (sink) {
        await telemetry.forceFlush({ timeoutMillis: 10_000 });
        pairs.push(['otlp_funnel_total', sink.latestCounterTotal(M.funnelStep.name), ops]);
      }
      return pairs;
    }),
    async close() {
      await telemetry.shutdown();
      await sink?.close();
    },
  };
}

/** The raw SDK with one and with two cumulative readers, for a row whose body is `build(sdk)`. */
function sdkVariants(build) {
  const variant = (readerCount) => (t) => {
    const sdk = rawSdk(readerCount);
    const body = build(sdk, t);
    return { round: (n, from) => body.round(t, n, from), check: body.check, close: sdk.close };
  };
  return { 'raw-sdk': variant(1), 'raw-sdk-2-readers': variant(2) };
}

/** The floor: `updates` plain Map increments per call, with keys computed in advance. */
function mapFloor(keys, updates) {
  const maps = Array.from({ length: updates }, () => new Map());
  const [first, second] = maps;
  const round =
    updates === 1
      ? (n, from) => {
          for (let i = from; i < from + n; i++) {
            const key = keys[i & MASK];
            first.set(key, (first.get(key) ?? 0) + 1);
          }
        }
      : (n, from) => {
          for (let i = from; i < from + n; i++) {
            const key = keys[i & MASK];
            first.set(key, (first.get(key) ?? 0) + 1);
            second.set(key, (second.get(key) ?? 0) + 1);
          }
        };
  return {
    round,
    async check(ops) {
      return expectTotals(
        maps.map((map, m) => [`map${m}_total`, [...map.values()].reduce((a, b) => a + b, 0), ops]),
      );
    },
  };
}

serveCase(async ({ row, variant }) => {
  const spec = ROWS[row];
  if (!spec || typeof spec[variant] !== 'function' || variant === 'tuples') {
    throw new Error(`no variant ${variant} in row ${row}`);
  }
  return spec[variant](spec.tuples());
});
