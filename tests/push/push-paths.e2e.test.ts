/**
 * Every way business metrics reach Prometheus, for real, with one deterministic workload (tests/backend/workload.ts)
 * recorded by one app process per path:
 *   pull           the package's /metrics endpoint, scraped by Prometheus 3
 *   http/protobuf  OTLP to our Collector (collector.yaml), its prometheus exporter scraped by Prometheus 3
 *   http/json      the same, OTLP/HTTP JSON
 *   grpc           the same, OTLP/gRPC
 *   delta          http/protobuf with delta temporality, made cumulative by the Collector's deltatocumulative
 *   prometheus-otlp  http/protobuf straight into Prometheus 3's own OTLP receiver
 * Each path has its own Prometheus 3 with the shipped recording and alert rules. At one evaluation time, every
 * seed query, every recording rule (its recorded series and its expression) and every alert expression must
 * return the same label sets on every path, and the same values, where "the same" is:
 *   - totals (the last cumulative value) exactly: nothing lost or doubled on the way;
 *   - ratios, shares and quantiles to 1e-6 relative: each path samples at its own instants, but every counter of a
 *     path grows in the same proportion at every sample, so these do not depend on when samples were taken;
 *   - absolute rates and increases (revenue per minute, cart views per hour) per cart view, to 1e-4: their
 *     extrapolation depends on when a path's first and last samples fell in the window, which differs between
 *     a scrape and a push every second; divided by the same path's cart-view rate over the same window (read the
 *     same way: recorded by the same rule group, or from the raw counter) it does not, up to the millisecond
 *     apart at which one export's counters can be stamped;
 *   - `le` bucket bounds as numbers: Prometheus 3 writes a scraped bound as "60.0", an OTLP-received one as "60";
 *   - alert expressions without their final threshold, so the values are compared whether or not they fire;
 *   - on the delta path, windowed values of the package's self-metrics are not compared (only their label sets and
 *     totals): a delta stream is sampled only when it changes (see the comment in the test).
 * The Collector and Prometheus are started once for the whole file.
 */
import { join } from 'node:path';
import type { InitOptions } from '../../src';
import { ALERTS_FILE, allRules, RECORDING_FILE, rulesConfig } from '../backend/backend-files';
import { FUNNEL_PER_TICK, ORDERS_PER_TICK } from '../backend/workload';
import { bundleFixture, cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { requireGoBinary, startCollector, type Collector } from '../support/go-binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';

const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const describeE2e = otelcol && prometheus3 ? describe : describe.skip;

const TICKS = 40;
const TICK_MILLIS = 250;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Path {
  readonly name: string;
  collector?: Collector;
  prometheus?: PrometheusServer;
  app?: RunningChild;
}

const PATH_NAMES = ['pull', 'http/protobuf', 'http/json', 'grpc', 'delta', 'prometheus-otlp'] as const;
const paths: Path[] = PATH_NAMES.map((name) => ({ name }));
const instanceId = (path: Path) => `shop-${path.name.replace(/\W/g, '-')}`;

/** Labels that name where a series came from, not what it counts. */
const ORIGIN_LABELS = new Set([
  'job',
  'instance',
  'otel_scope_name',
  'otel_scope_version',
  'otel_scope_schema_url',
]);

const SEED_QUERIES = [
  'sum(rate(business_funnel_step_total{step="order_confirmed"}[1h])) / sum(rate(business_funnel_step_total{step="cart_view"}[1h])) * 100',
  'sum by (region) (rate(business_revenue_cents_total[5m])) * 60',
  'histogram_quantile(0.5, sum by (product_category, le) (rate(business_order_value_cents_bucket[1h])))',
  'sum by (feature_name) (rate(business_feature_usage_total{is_new_user="true"}[24h])) / ignoring (feature_name) group_left sum(rate(business_feature_usage_total{is_new_user="true"}[24h])) * 100',
  'histogram_quantile(0.95, sum by (user_tier, le) (rate(business_session_duration_seconds_bucket[1h])))',
];

const TOTALS = [
  'sum(business_funnel_step_total{step="cart_view"})',
  'sum by (step) (business_funnel_step_total)',
  'sum by (region) (business_revenue_cents_total)',
  'sum by (product_category) (business_order_value_cents_count)',
  'sum by (product_category) (business_order_value_cents_sum)',
  'sum by (le) (business_session_duration_seconds_bucket)',
  'sum by (metric, reason) (business_metrics_dropped_total)',
  'sum by (window, user_tier) (business_active_users)',
];

/**
 * The cart-view rate over the same window, taken the same way as `query` takes its data: from the recorded series
 * of the same rule group (evaluated at the same instant) when the query reads recorded series, from the raw
 * counter otherwise. Undefined for a query over no window. `at`: for a recorded series whose group records no
 * cart-view rate of its window (`...:increase30m`), the raw rate must be taken at the instant the rule was
 * evaluated (the sample's timestamp), where it sees the same samples.
 */
function cartViewRateFor(query: string): { expr: string; at?: string } | undefined {
  const recorded = /:(?:rate|increase)(\d+[smhd])/.exec(query)?.[1];
  if (recorded === '5m' || recorded === '1h')
    return { expr: `step:business_funnel_step:rate${recorded}{step="cart_view"}` };
  if (recorded && /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/.test(query))
    return { expr: `sum(rate(business_funnel_step_total{step="cart_view"}[${recorded}]))`, at: query };
  const window = /\[(\d+[smhd])\]/.exec(query)?.[1];
  return window ? { expr: `sum(rate(business_funnel_step_total{step="cart_view"}[${window}]))` } : undefined;
}

function prometheusConfig(path: Path, pullTarget?: string): string {
  // As otel-collector/prometheus/prometheus.yml: honor_labels keeps job/instance from the resource. Prometheus 3's
  // OTLP receiver path has nothing to scrape.
  const jobs = path.collector
    ? [{ job: 'otel-collector', target: path.collector.metricsTarget, honorLabels: true }]
    : pullTarget
      ? [{ job: 'business-app', target: pullTarget }]
      : [];
  // Prometheus 3's default, stated: the same names as the Collector's exporter.
  return rulesConfig(jobs, ['otlp:', '  translation_strategy: UnderscoreEscapingWithSuffixes']);
}

function appOptions(path: Path): InitOptions {
  const common = {
    serviceName: 'shop',
    resourceAttributes: { 'service.instance.id': instanceId(path) },
    env: {},
  };
  const push = (otlp: NonNullable<InitOptions['otlp']>): InitOptions => ({
    ...common,
    exporters: ['otlp'],
    otlp: { exportIntervalMillis: 1000, exportTimeoutMillis: 1000, ...otlp },
  });
  const collector = path.collector!;
  switch (path.name) {
    case 'pull':
      return { ...common, exporters: ['prometheus'], prometheus: { host: '127.0.0.1', port: 0 } };
    case 'http/protobuf':
    case 'http/json':
      return push({ protocol: path.name, url: `${collector.httpUrl}/v1/metrics` });
    case 'grpc':
      return push({ protocol: 'grpc', url: collector.grpcUrl });
    case 'delta':
      return push({
        protocol: 'http/protobuf',
        url: `${collector.httpUrl}/v1/metrics`,
        temporality: 'delta',
      });
    default:
      return push({ protocol: 'http/protobuf', url: `${path.prometheus!.url}/api/v1/otlp/v1/metrics` });
  }
}

describeE2e('push paths end to end: the same figures through every path', () => {
  let evaluationTime = 0;

  async function query(path: Path, expr: string): Promise<Sample[]> {
    const body = await path.prometheus!.api<{ status: string; error?: string; data: { result: Sample[] } }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}&time=${evaluationTime}`,
    );
    if (body.status !== 'success') throw new Error(`${path.name}: ${expr}: ${body.error}`);
    return body.data.result;
  }

  /** label set (origin labels left out) -> value */
  async function vector(path: Path, expr: string): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    for (const sample of await query(path, expr)) {
      const labels = Object.entries(sample.metric)
        .filter(([name]) => !ORIGIN_LABELS.has(name))
        // Prometheus 3 writes a scraped bucket bound as "60.0" and one from its OTLP receiver as "60": compared
        // as numbers here (a query matching le="60" by string would only work on one path; ours use none).
        .map(([name, value]) => [name, name === 'le' ? String(Number(value)) : value])
        .sort(([a], [b]) => a.localeCompare(b));
      const key = JSON.stringify(labels);
      expect({ path: path.name, expr, duplicate: result.has(key) }).toEqual({
        path: path.name,
        expr,
        duplicate: false,
      });
      result.set(key, Number(sample.value[1]));
    }
    return result;
  }

  beforeAll(async () => {
    const app = bundleFixture('shop', join(__dirname, 'fixtures'));
    // The bundle runs from a temporary folder; the optional gRPC exporter is required at run time (never bundled),
    // so the children find it in this repository's node_modules, as an app finds it in its own.
    const env = { NODE_PATH: join(__dirname, '..', '..', 'node_modules') };
    await Promise.all(
      paths.map(async (path) => {
        if (['http/protobuf', 'http/json', 'grpc', 'delta'].includes(path.name)) {
          path.collector = await startCollector(otelcol!);
        }
      }),
    );
    // Pull: the app first (Prometheus needs its port); push: Prometheus first (the app needs its address).
    for (const path of paths) {
      if (path.name === 'pull') continue;
      path.prometheus = await startPrometheus(prometheus3!, {
        config: prometheusConfig(path),
        extraArgs: path.name === 'prometheus-otlp' ? ['--web.enable-otlp-receiver'] : [],
      });
    }
    for (const path of paths) {
      path.app = startChild(
        app,
        [JSON.stringify(appOptions(path)), String(TICKS), String(TICK_MILLIS)],
        300_000,
        env,
      );
    }
    const pull = paths[0];
    const pullUrl = (await pull.app!.waitForLine(/^ready /, 30_000)).split(' ')[1];
    pull.prometheus = await startPrometheus(prometheus3!, { config: prometheusConfig(pull, pullUrl) });
    await Promise.all(paths.map((path) => path.app!.waitForLine(/^done /, 60_000)));

    // Every path has the final totals, then a few more samples and rule evaluations.
    const expected = 100 * TICKS;
    const deadline = Date.now() + 30_000;
    for (const path of paths) {
      for (;;) {
        evaluationTime = Date.now() / 1000;
        const result = await query(path, 'sum(business_funnel_step_total{step="cart_view"})');
        if (result.length === 1 && Number(result[0].value[1]) === expected) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${path.name} never showed ${expected} cart views (last: ${JSON.stringify(result)})\n` +
              (path.collector?.log().slice(-3000) ?? ''),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 3500));
    evaluationTime = Date.now() / 1000 - 0.5;
  }, 180_000);

  afterAll(async () => {
    cleanUpChildren();
    await Promise.all(paths.map((path) => path.prometheus?.stop()));
    await Promise.all(paths.map((path) => path.collector?.stop()));
  }, 60_000);

  it('delivers every measurement: the last cumulative totals are identical, and whole, on every path', async () => {
    const reference = paths[0];
    expect(await vector(reference, TOTALS[0])).toEqual(new Map([['[]', 100 * TICKS]]));
    const steps = await vector(reference, TOTALS[1]);
    for (const [step, count] of FUNNEL_PER_TICK) {
      expect(steps.get(JSON.stringify([['step', step]]))).toBe(count * TICKS);
    }
    const revenue = [...(await vector(reference, TOTALS[2])).values()].reduce((a, b) => a + b, 0);
    expect(revenue).toBe(ORDERS_PER_TICK.reduce((sum, [cents]) => sum + cents, 0) * TICKS);
    for (const expr of TOTALS) {
      const expected = Object.fromEntries(await vector(reference, expr));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      for (const path of paths.slice(1)) {
        expect({ path: path.name, expr, values: Object.fromEntries(await vector(path, expr)) }).toEqual({
          path: path.name,
          expr,
          values: expected,
        });
      }
    }
  });

  const recording = allRules(RECORDING_FILE).filter((rule) => rule.record);
  const alerts = allRules(ALERTS_FILE).filter((rule) => rule.alert);
  const cases: Array<[string, string]> = [
    ...SEED_QUERIES.map((expr, i) => [`seed query ${i + 1}`, expr] as [string, string]),
    ...recording.map((rule) => [`recorded series ${rule.record}`, rule.record!] as [string, string]),
    ...recording.map((rule) => [`recording rule expression ${rule.record}`, rule.expr] as [string, string]),
    // Without its final threshold: `revenue per minute < 500` keeps or drops a series depending on the absolute
    // rate, which differs between paths (see the top comment); the value itself is compared per cart view.
    ...alerts.map(
      (rule) =>
        [`alert expression ${rule.alert}`, rule.expr.trim().replace(/\s*(?:<|>|<=|>=)\s*[\d.]+$/, '')] as [
          string,
          string,
        ],
    ),
  ];

  it.each(cases)('%s: same label sets and values on every path', async (_, expr) => {
    const normalizer = cartViewRateFor(expr);
    const perPath = new Map<string, { raw: Map<string, number>; perCartView: Map<string, number> }>();
    for (const path of paths) {
      const raw = await vector(path, expr);
      let cartViews = 1;
      if (normalizer?.at && raw.size > 0) {
        // The rule's last evaluation instant (its sample's timestamp); the data there no longer changes.
        const [stamp] = await query(path, `max(timestamp(${normalizer.at}))`);
        const rule = await path.prometheus!.api<{ data: { result: Sample[] } }>(
          `/api/v1/query?query=${encodeURIComponent(normalizer.expr)}&time=${stamp?.value[1]}`,
        );
        cartViews = Number(rule.data.result[0]?.value[1]);
      } else if (normalizer) {
        cartViews = Number((await query(path, normalizer.expr))[0]?.value[1]);
      }
      perPath.set(path.name, {
        raw,
        perCartView: new Map([...raw].map(([key, value]) => [key, value / cartViews])),
      });
    }
    const reference = perPath.get('pull')!;
    const close = (a: number, b: number, tolerance: number) =>
      (Number.isNaN(a) && Number.isNaN(b)) ||
      a === b ||
      Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
    for (const [name, result] of perPath) {
      expect({ path: name, labelSets: [...result.raw.keys()].sort() }).toEqual({
        path: name,
        labelSets: [...reference.raw.keys()].sort(),
      });
      // The Collector stamps samples with the app's collection time (collector.yaml's send_timestamps, which exact
      // money needs), and a delta stream only has a point when it changed: the SDK's self-metric counters stop
      // changing at another export than the business counters do, so over a window their extrapolated increases
      // are sampled differently from the cart views'. Their label sets (above) and totals (the first test) still
      // match exactly.
      if (name === 'delta' && normalizer && expr.includes('business_metrics_')) continue;
      for (const [key, value] of result.raw) {
        const same = close(value, reference.raw.get(key)!, 1e-6);
        // 1e-4: a path may stamp two counters of one export a millisecond apart (Prometheus 3's OTLP receiver:
        // the package's self-metrics vs the business counters), which moves a 15m extrapolated rate by ~3e-6.
        const samePerCartView = close(result.perCartView.get(key)!, reference.perCartView.get(key)!, 1e-4);
        expect({
          path: name,
          series: key,
          value,
          pull: reference.raw.get(key),
          perCartView: [result.perCartView.get(key), reference.perCartView.get(key)],
          matches: same || samePerCartView,
        }).toEqual({
          path: name,
          series: key,
          value,
          pull: reference.raw.get(key),
          perCartView: [result.perCartView.get(key), reference.perCartView.get(key)],
          matches: true,
        });
      }
    }
  });

  it('turns service.name / service.instance.id into job / instance, and the resource into target_info', async () => {
    for (const path of paths.slice(1)) {
      const series = await query(path, 'count by (job, instance) (business_funnel_step_total)');
      expect({ path: path.name, labels: series.map((sample) => sample.metric) }).toEqual({
        path: path.name,
        labels: [{ job: 'shop', instance: instanceId(path) }],
      });
      const info = await query(path, 'target_info');
      expect(info).toHaveLength(1);
      expect(info[0].metric).toMatchObject({ job: 'shop', instance: instanceId(path) });
      expect(info[0].metric).toHaveProperty('telemetry_sdk_language', 'nodejs');
      if (path.collector) {
        // Stamped by collector.yaml's resource processor: it lands on target_info, not on business series.
        expect(info[0].metric).toHaveProperty('deployment_environment_name', 'production');
        expect(await query(path, 'business_funnel_step_total{deployment_environment_name!=""}')).toEqual([]);
      }
    }
  });

  it('keeps the Collector quiet: no export failures on any push path', async () => {
    for (const path of paths.slice(1)) {
      expect({
        path: path.name,
        failures: await query(path, 'business_metrics_export_failures_total'),
      }).toEqual({
        path: path.name,
        failures: [],
      });
    }
  });
});
