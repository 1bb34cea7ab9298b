/**
 * Time of one Prometheus scrape of N counter series or N histogram series (8 buckets) of the catalog, or (`otel`)
 * N series of an app's own counter with OpenTelemetry HTTP attributes (dotted keys, a numeric status code,
 * `error.type` on the failures only; recorded through the SDK, so serialised from the SDK's points rather than
 * the store's columns): the package's pull reader (collect + serialise, what `GET /metrics` costs), prom-client's
 * `registry.metrics()`, and the upstream OTel path for reference (raw SDK + @opentelemetry/exporter-prometheus's
 * collect and PrometheusSerializer).
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

const OTEL_COUNTER = 'http.server.requests';
const OTEL_FAMILY = 'http_server_requests_total';

/** The attributes of the `otel` kind's series i: OpenTelemetry's HTTP semantic conventions, as an app records them. */
function otelAttributes([route, method, status]) {
  const attributes = {
    'http.request.method': method,
    'http.route': route,
    'http.response.status_code': status,
  };
  return status >= 500 ? { ...attributes, 'error.type': String(status) } : attributes;
}

/** N distinct label tuples per kind, in the catalog's label order. */
function seriesLabels(kind, series) {
  return Array.from({ length: series }, (_, i) =>
    kind === 'otel'
      ? [`/api/items/${i >> 2}`, i & 1 ? 'POST' : 'GET', i & 2 ? 500 : 200]
      : kind === 'counter'
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

/** A MeterProvider whose instruments keep all N series (the SDK's default limit is 2000 per instrument). */
function providerFor(sdk, reader, labels, views = []) {
  const aggregationCardinalityLimit = labels.length + 10;
  return new sdk.MeterProvider({
    readers: [reader],
    views: [
      ...views.map((view) => ({ ...view, aggregationCardinalityLimit })),
      { instrumentName: OTEL_COUNTER, aggregationCardinalityLimit },
    ],
  });
}

function recordOtel(meter, labels) {
  const counter = meter.createCounter(OTEL_COUNTER);
  const attributes = labels.map(otelAttributes);
  for (let r = 0; r < RECORDS_PER_SERIES; r++) attributes.forEach((a) => counter.add(1, a));
}

const VARIANTS = {
  async ours(kind, labels) {
    if (kind === 'otel') {
      const reader = new pkg.PrometheusPullReader({ preventServerStart: true });
      const provider = providerFor(require('@opentelemetry/sdk-metrics'), reader, labels);
      recordOtel(provider.getMeter('app'), labels);
      return { scrape: () => reader.getMetrics(), close: () => provider.shutdown() };
    }
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
    if (kind === 'otel') {
      const counter = new client.Counter({
        name: OTEL_FAMILY,
        help: 'requests',
        labelNames: ['http_request_method', 'http_route', 'http_response_status_code', 'error_type'],
        registers: [registry],
      });
      const labelSets = labels.map((x) =>
        Object.fromEntries(Object.entries(otelAttributes(x)).map(([k, v]) => [k.replace(/\./g, '_'), v])),
      );
      for (let r = 0; r < RECORDS_PER_SERIES; r++) labelSets.forEach((l) => counter.inc(l));
      return { scrape: () => registry.metrics() };
    }
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
    const provider = providerFor(sdk, exporter, labels, [
      ...pkg.businessMetricViews(),
      { instrumentName: M.funnelStep.name, aggregationCardinalityLimit },
    ]);
    const meter = provider.getMeter('bench');
    const serializer = new PrometheusSerializer();
    const scrape = async () => serializer.serialize((await exporter.collect()).resourceMetrics);
    if (kind === 'otel') {
      recordOtel(meter, labels);
      return { scrape, close: () => provider.shutdown() };
    }
    const counter = meter.createCounter(M.funnelStep.name);
    const histogram = meter.createHistogram(M.sessionDuration.name);
    for (let r = 0; r < RECORDS_PER_SERIES; r++) {
      labels.forEach((x, i) => {
        if (kind === 'counter')
          counter.add(1, { step: x[0], source: x[1], device_type: x[2], experiment_variant: x[3] });
        else histogram.record(observation(i, r), { user_tier: x[0], entry_page: x[1] });
      });
    }
    return {
      scrape, // what the exporter's request handler does per scrape
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
      if (kind === 'otel') {
        const lines = sampleTotals(samples, OTEL_FAMILY);
        return expectTotals([
          ['series', lines.count, series],
          ['total', lines.sum, series * RECORDS_PER_SERIES],
        ]);
      }
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
