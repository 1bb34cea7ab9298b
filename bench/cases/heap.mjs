/**
 * Steady heap per counter series: N series of a 4-label counter, after two scrapes, in the package, the raw SDK
 * (with the upstream Prometheus exporter as its reader) and prom-client.
 *
 * Owns: one round = a fresh instance; heap measured (after full GCs) once the instance exists and was scraped
 * empty, and again after N series were recorded and scraped twice, so fixed costs of the instance do not count.
 * Label strings are created before the baseline (they belong to the app); the attribute/labels objects passed
 * per call are created during recording, as apps do. Must not touch: rounds, statistics.
 */
import { expectTotals, loadPackage, parseExposition, require, sampleTotals } from '../lib/workload.mjs';
import { serveCase, settleHeap } from '../lib/child.mjs';

const pkg = loadPackage();
const { BUSINESS_METRICS: M, prometheusFamilyName } = pkg;
const FAMILY = prometheusFamilyName(M.funnelStep);

function seriesLabels(series) {
  return Array.from({ length: series }, (_, i) => [
    `step_${i % 100}`,
    `source_${Math.floor(i / 100) % 50}`,
    Math.floor(i / 5000) % 2 ? 'mobile' : 'desktop',
    `variant_${Math.floor(i / 10000)}`,
  ]);
}

const VARIANTS = {
  ours(series) {
    const telemetry = pkg.initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      serviceName: 'bench',
      env: {},
      limits: {
        maxSeriesPerMetric: series + 10,
        labels: {
          step: { kind: 'capped', maxValues: 1000 },
          source: { kind: 'capped', maxValues: 1000 },
          experiment_variant: { kind: 'capped', maxValues: 1000 },
        },
      },
    });
    const metrics = telemetry.metrics;
    return {
      record: (x) =>
        metrics.recordFunnelStep(x[0], { source: x[1], deviceType: x[2], experimentVariant: x[3] }),
      scrape: () => metrics.getMetrics(),
      close: () => telemetry.shutdown(),
    };
  },

  'raw-sdk'(series) {
    const sdk = require('@opentelemetry/sdk-metrics');
    const { PrometheusExporter, PrometheusSerializer } = require('@opentelemetry/exporter-prometheus');
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new sdk.MeterProvider({
      readers: [exporter],
      views: [{ instrumentName: M.funnelStep.name, aggregationCardinalityLimit: series + 10 }],
    });
    const counter = provider.getMeter('bench').createCounter(M.funnelStep.name);
    const serializer = new PrometheusSerializer();
    return {
      record: (x) =>
        counter.add(1, { step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] }),
      scrape: async () => serializer.serialize((await exporter.collect()).resourceMetrics),
      close: () => provider.shutdown(),
    };
  },

  'prom-client'() {
    const client = require('prom-client');
    const registry = new client.Registry();
    const counter = new client.Counter({
      name: FAMILY,
      help: M.funnelStep.description,
      labelNames: [...M.funnelStep.labels],
      registers: [registry],
    });
    return {
      record: (x) => counter.inc({ step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] }),
      scrape: () => registry.metrics(),
    };
  },
};

serveCase(async ({ variant, series }) => {
  const labels = seriesLabels(series);
  // Only totals are kept between rounds: an exposition string (a rope over cached label strings) would skew the
  // next round's baseline.
  let lastTotals = { count: NaN, sum: NaN };
  return {
    async round() {
      const target = VARIANTS[variant](series);
      await target.scrape();
      const before = await settleHeap();
      for (const x of labels) target.record(x);
      await target.scrape();
      lastTotals = sampleTotals(parseExposition(await target.scrape()), FAMILY);
      const after = await settleHeap();
      await target.close?.();
      await settleHeap();
      return (after - before) / series;
    },
    async check() {
      return expectTotals([
        ['series', lastTotals.count, series],
        ['total', lastTotals.sum, series],
      ]);
    },
  };
});
