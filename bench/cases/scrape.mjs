/**
 * Time of one Prometheus scrape of N counter series or N histogram series (8 buckets): the package's pull
 * reader (collect + serialise, what `GET /metrics` costs), prom-client's `registry.metrics()`, and the upstream
 * OTel path for reference (raw SDK + @opentelemetry/exporter-prometheus's collect and PrometheusSerializer).
 *
 * Owns: building the same N series in each, one variant per process, and the self-check that the exposition
 * holds exactly N series with the recorded totals. Must not touch: rounds, statistics.
 */
import { expectTotals, loadPackage, parseExposition, require, sampleTotals } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const pkg = loadPackage();
const { BUSINESS_METRICS: M, prometheusFamilyName } = pkg;
const RECORDS_PER_SERIES = 3;
const TIERS = ['free', 'pro', 'enterprise', 'team'];

/** N distinct label tuples per kind, in the catalog's label order. */
function seriesLabels(kind, series) {
  return Array.from({ length: series }, (_, i) =>
    kind === 'counter'
      ? [
          `step_${i % 100}`,
          `source_${Math.floor(i / 100) % 50}`,
          Math.floor(i / 5000) % 2 ? 'mobile' : 'desktop',
          'control',
        ]
      : [TIERS[i % 4], `/page/${Math.floor(i / 4)}`],
  );
}
const observation = (i, r) => [5, 45, 700, 4000][(i + r) % 4];

const VARIANTS = {
  async ours(kind, labels) {
    const telemetry = pkg.initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      serviceName: 'bench',
      env: {},
      limits: {
        maxSeriesPerMetric: labels.length + 10,
        labels: {
          step: { kind: 'capped', maxValues: 1000 },
          source: { kind: 'capped', maxValues: 1000 },
          user_tier: { kind: 'allow', values: TIERS },
          entry_page: { kind: 'capped', maxValues: labels.length },
        },
      },
    });
    const metrics = telemetry.metrics;
    const start = Date.now();
    for (let r = 0; r < RECORDS_PER_SERIES; r++) {
      labels.forEach((x, i) => {
        if (kind === 'counter')
          metrics.recordFunnelStep(x[0], { source: x[1], deviceType: x[2], experimentVariant: x[3] });
        else metrics.recordSessionEnd(start - observation(i, r) * 1000, { userTier: x[0], entryPage: x[1] });
      });
    }
    return { scrape: () => metrics.getMetrics(), close: () => telemetry.shutdown() };
  },

  async 'prom-client'(kind, labels) {
    const client = require('prom-client');
    const registry = new client.Registry();
    const definition = kind === 'counter' ? M.funnelStep : M.sessionDuration;
    const options = {
      name: prometheusFamilyName(definition),
      help: definition.description,
      labelNames: [...definition.labels],
      registers: [registry],
    };
    const metric =
      kind === 'counter'
        ? new client.Counter(options)
        : new client.Histogram({ ...options, buckets: [...definition.buckets] });
    for (let r = 0; r < RECORDS_PER_SERIES; r++) {
      labels.forEach((x, i) => {
        if (kind === 'counter')
          metric.inc({ step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] });
        else metric.observe({ user_tier: x[0], entry_page: x[1] }, observation(i, r));
      });
    }
    return { scrape: () => registry.metrics() };
  },

  async 'upstream-otel'(kind, labels) {
    const sdk = require('@opentelemetry/sdk-metrics');
    const { PrometheusExporter, PrometheusSerializer } = require('@opentelemetry/exporter-prometheus');
    const exporter = new PrometheusExporter({ preventServerStart: true });
    // The SDK's default limit is 2000 series per instrument; lift it so all N series are there.
    const aggregationCardinalityLimit = labels.length + 10;
    const provider = new sdk.MeterProvider({
      readers: [exporter],
      views: [
        ...pkg.businessMetricViews().map((view) => ({ ...view, aggregationCardinalityLimit })),
        { instrumentName: M.funnelStep.name, aggregationCardinalityLimit },
      ],
    });
    const meter = provider.getMeter('bench');
    const counter = meter.createCounter(M.funnelStep.name);
    const histogram = meter.createHistogram(M.sessionDuration.name);
    for (let r = 0; r < RECORDS_PER_SERIES; r++) {
      labels.forEach((x, i) => {
        if (kind === 'counter')
          counter.add(1, { step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] });
        else histogram.record(observation(i, r), { user_tier: x[0], entry_page: x[1] });
      });
    }
    const serializer = new PrometheusSerializer();
    return {
      // What the exporter's request handler does per scrape.
      scrape: async () => serializer.serialize((await exporter.collect()).resourceMetrics),
      close: () => provider.shutdown(),
    };
  },
};

serveCase(async ({ variant, kind, series }) => {
  const labels = seriesLabels(kind, series);
  const target = await VARIANTS[variant](kind, labels);
  let last = '';
  return {
    async round(n) {
      for (let i = 0; i < n; i++) last = await target.scrape();
    },
    async check() {
      const samples = parseExposition(last);
      if (kind === 'counter') {
        const lines = sampleTotals(samples, prometheusFamilyName(M.funnelStep));
        return expectTotals([
          ['series', lines.count, series],
          ['total', lines.sum, series * RECORDS_PER_SERIES],
        ]);
      }
      const family = prometheusFamilyName(M.sessionDuration);
      const counts = sampleTotals(samples, `${family}_count`);
      return expectTotals([
        ['series', counts.count, series],
        ['observations', counts.sum, series * RECORDS_PER_SERIES],
        [
          'bucket_lines',
          sampleTotals(samples, `${family}_bucket`).count,
          series * (M.sessionDuration.buckets.length + 1),
        ],
      ]);
    },
    close: () => target.close?.(),
  };
});
