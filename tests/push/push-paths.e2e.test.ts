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
 * return the same label sets on every path, and the same values, as tests/support/same-answers.ts defines "the
 * same" (totals exact, ratios to 1e-6, absolute rates per cart view); on the delta path, windowed values of the
 * package's self-metrics are not compared (only their label sets and totals): a delta stream is sampled only when
 * it changes (see the comment in the test).
 * The Collector and Prometheus are started once for the whole file.
 */
import { join } from 'node:path';
import type { InitOptions } from '../../src';
import { ALERTS_FILE, RECORDING_FILE, rulesConfig } from '../backend/backend-files';
import { FUNNEL_PER_TICK, ORDERS_PER_TICK } from '../backend/workload';
import { bundleFixture, cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { requireGoBinary, startCollector, type Collector } from '../support/go-binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import {
  answer,
  cartViewRateFor,
  comparisonCases,
  differences,
  TOTALS,
  toVector,
  type Sample,
} from '../support/same-answers';

const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const describeE2e = otelcol && prometheus3 ? describe : describe.skip;

const TICKS = 40;
const TICK_MILLIS = 250;

interface Path {
  readonly name: string;
  collector?: Collector;
  prometheus?: PrometheusServer;
  app?: RunningChild;
}

const PATH_NAMES = ['pull', 'http/protobuf', 'http/json', 'grpc', 'delta', 'prometheus-otlp'] as const;
const paths: Path[] = PATH_NAMES.map((name) => ({ name }));
const instanceId = (path: Path) => `shop-${path.name.replace(/\W/g, '-')}`;

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

  async function query(path: Path, expr: string, time = evaluationTime): Promise<Sample[]> {
    const body = await path.prometheus!.api<{ status: string; error?: string; data: { result: Sample[] } }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`,
    );
    if (body.status !== 'success') throw new Error(`${path.name}: ${expr}: ${body.error}`);
    return body.data.result;
  }

  /** label set (origin labels left out) -> value */
  const vector = async (path: Path, expr: string) =>
    toVector(await query(path, expr), `${path.name}: ${expr}`);

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

  it.each(comparisonCases([RECORDING_FILE], [ALERTS_FILE]))(
    '%s: same label sets and values on every path',
    async (_, expr) => {
      const reference = await answer((e, t) => query(paths[0], e, t), expr, paths[0].name);
      for (const path of paths.slice(1)) {
        const result = await answer((e, t) => query(path, e, t), expr, path.name);
        // The Collector stamps samples with the app's collection time (collector.yaml's send_timestamps, which exact
        // money needs), and a delta stream only has a point when it changed: the SDK's self-metric counters stop
        // changing at another export than the business counters do, so over a window their extrapolated increases
        // are sampled differently from the cart views'. Their label sets (here) and totals (the first test) still
        // match exactly.
        const labelSetsOnly =
          path.name === 'delta' && cartViewRateFor(expr) !== undefined && expr.includes('business_metrics_');
        const problems = differences(result, reference).filter(
          (problem) => !labelSetsOnly || problem.startsWith('label sets'),
        );
        expect({ path: path.name, expr, problems }).toEqual({
          path: path.name,
          expr,
          problems: [],
        });
      }
    },
  );

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
