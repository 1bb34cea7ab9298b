/**
 * Every way business metrics reach Prometheus, for real, with one deterministic workload (tests/backend/workload.ts:
 * a tick, the refused inputs and the rule extras) recorded by one app process per path:
 *   pull           the package's /metrics endpoint, scraped by Prometheus 3
 *   http/protobuf  OTLP to our Collector (collector.yaml), its prometheus exporter scraped by Prometheus 3
 *   http/json      the same, OTLP/HTTP JSON
 *   grpc           the same, OTLP/gRPC
 *   delta          http/protobuf with delta temporality, made cumulative by the Collector's deltatocumulative
 *   prometheus-otlp  http/protobuf straight into Prometheus 3's own OTLP receiver
 * Each path has its own Prometheus 3 with every shipped rule file. At one evaluation time, every seed query, every
 * recording rule (its recorded series and its expression), every alert's verdict and every part of an alert
 * (tests/support/same-answers.ts) must return data, and the same label sets and values on every path, as
 * same-answers.ts defines "the same" (totals exact, ratios to 1e-6, absolute rates per cart view; NaN never);
 * the only queries without data are stated below with the reason (pathsWithData). On the delta
 * path, windowed values of the package's self-metrics are not compared (only their label sets and totals): a
 * delta stream is sampled only when it changes (see the comment in the test).
 * The Collector and Prometheus are started once for the whole file.
 */
import { join } from 'node:path';
import type { InitOptions } from '../../src';
import { allRules, inlineRecordingRules, ruleFiles, rulesConfig } from '../backend/backend-files';
import { FUNNEL_PER_TICK, ORDERS_PER_TICK } from '../backend/workload';
import { bundleFixture, cleanUpChildren, startChild, type RunningChild } from '../safety/support/child';
import { requireGoBinary, startCollector, type Collector } from '../support/go-binaries';
import { startFreezableTarget, type FreezableTarget } from '../support/freezable-target';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import {
  answer,
  cartViewRateFor,
  type Answer,
  expectSameAnswers,
  LAST_WEEK_ALERTS,
  LAST_WEEK_RULES,
  readsOnlyLastWeek,
  sameAnswerCases,
  TOTALS,
  toVector,
  type Sample,
} from '../support/same-answers';
import { waitUntil } from '../support/wait';

const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const describeE2e = otelcol && prometheus3 ? describe : describe.skip;

const TICKS = 40;
const TICK_MILLIS = 250;

/** Every shipped rule file (Prometheus 3.16 loads the anchored ones too). */
const RULE_FILES = ruleFiles();

/**
 * Paths where a query can have data: none for what reads only last week (a run of seconds has none; each such case
 * is compared again with last week read as 2 s ago: same-answers.ts); `up` only where Prometheus scrapes (not
 * behind Prometheus 3's own OTLP receiver); the Collector's own counters (`otelcol_*`) on none, as no Prometheus
 * here scrapes a Collector's telemetry (business-push.test.yml tests that alert, tests/fleet compares it on the
 * gateways' own counters).
 */
function pathsWithData(name: string, expr: string): readonly string[] {
  if (readsOnlyLastWeek(name, expr) || /\botelcol_/.test(expr)) return [];
  if (/\bup\s*\{/.test(expr)) return PATH_NAMES.filter((path) => path !== 'prometheus-otlp');
  return PATH_NAMES;
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

function prometheusConfig(path: Path, pullTarget?: string): string {
  // As otel-collector/prometheus/prometheus.yml: honor_labels keeps job/instance from the resource. Prometheus 3's
  // OTLP receiver path has nothing to scrape.
  const jobs = path.collector
    ? [{ job: 'otel-collector', target: path.collector.metricsTarget, honorLabels: true }]
    : pullTarget
      ? [{ job: 'business-app', target: pullTarget, trackTimestampsStaleness: true }]
      : [];
  // Prometheus 3's default, stated: the same names as the Collector's exporter.
  return rulesConfig(jobs, ['otlp:', '  translation_strategy: UnderscoreEscapingWithSuffixes'], RULE_FILES);
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
  let pullTarget: FreezableTarget | undefined;
  const cartViewSeries = 'business_funnel_step_total{step="cart_view"}';
  const allCartViews = `sum(${cartViewSeries})`;

  async function query(path: Path, expr: string, time = evaluationTime): Promise<Sample[]> {
    const body = await path.prometheus!.api<{ status: string; error?: string; data: { result: Sample[] } }>(
      `/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`,
    );
    if (body.status !== 'success') throw new Error(`${path.name}: ${expr}: ${body.error}`);
    return body.data.result;
  }

  /** Epoch seconds of every cart-view sample a path holds. */
  async function sampleTimes(path: Path): Promise<number[]> {
    const body = await path.prometheus!.api<{ data: { result: Array<{ values: Array<[number, string]> }> } }>(
      `/api/v1/query?query=${encodeURIComponent(`${cartViewSeries}[10m]`)}&time=${Date.now() / 1000}`,
    );
    if (body.data.result.length !== 1) throw new Error(`${path.name}: ${JSON.stringify(body.data)}`);
    return body.data.result[0].values.map(([time]) => time);
  }

  /** Metric points a Collector's OTLP receiver accepted and its Prometheus exporter was handed, from its own metrics. */
  async function collectorPoints(collector: Collector): Promise<{ accepted: number; sent: number }> {
    const text = await (await fetch(`${collector.telemetryUrl}/metrics`)).text();
    const sum = (pattern: RegExp) =>
      [...text.matchAll(pattern)].reduce((total, [, value]) => total + Number(value), 0);
    return {
      accepted: sum(/^otelcol_receiver_accepted_metric_points(?:_total)?\{[^}]*\} (\S+)$/gm),
      sent: sum(
        /^otelcol_exporter_sent_metric_points(?:_total)?\{[^}]*exporter="prometheus"[^}]*\} (\S+)$/gm,
      ),
    };
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
    // Pull: Prometheus scrapes the app through a target that can be frozen (see below).
    const pull = paths[0];
    const pullUrl = (await pull.app!.waitForLine(/^ready /, 30_000)).split(' ')[1];
    pullTarget = await startFreezableTarget(pullUrl);
    pull.prometheus = await startPrometheus(prometheus3!, {
      config: prometheusConfig(pull, pullTarget.address),
    });
    await Promise.all(paths.map((path) => path.app!.waitForLine(/^done /, 60_000)));

    // Every path has the final totals.
    const expected = 100 * TICKS;
    await waitUntil(
      'every path shows the final cart views',
      async () => {
        for (const path of paths) {
          const result = await query(path, allCartViews, Date.now() / 1000);
          if (result.length !== 1 || Number(result[0].value[1]) !== expected)
            return `${path.name}: ${JSON.stringify(result)}`;
        }
        return undefined;
      },
      { context: (path) => paths.map((p) => p.collector?.log().slice(-2000) ?? '').join('\n') + path },
    );

    // Then every path stops sampling: the push apps shut down (their final export is the last), the pull target
    // serves its last body from now on. Rates extrapolate from the first and last samples in their window, so
    // while samples keep coming the value of a windowed query depends on the instant it is evaluated at (rule
    // groups each evaluate at their own instant); once a backend's samples stop, it does not.
    const stoppedAt = new Map<string, number>();
    stoppedAt.set(pull.name, pullTarget.freeze());
    await Promise.all(
      paths.slice(1).map(async (path) => {
        path.app!.process.kill('SIGTERM');
        const result = await path.app!.exited;
        if (result.code !== 0) throw new Error(`${path.name} app exited ${result.code}: ${result.stderr}`);
        stoppedAt.set(path.name, Date.now());
      }),
    );
    // A Collector's batch processor holds what it received for up to its timeout (5 s in collector.yaml), the
    // apps' final exports included: a Collector path is complete once its Prometheus exporter has been handed every
    // point the receiver accepted, and Prometheus has scraped the exporter after that.
    await waitUntil('every Collector handed all it received to its Prometheus exporter', async () => {
      for (const path of paths.filter((p) => p.collector)) {
        const { accepted, sent } = await collectorPoints(path.collector!);
        if (accepted === 0 || sent !== accepted) return `${path.name}: accepted ${accepted}, sent ${sent}`;
      }
      return undefined;
    });
    for (const path of paths.filter((p) => p.collector)) stoppedAt.set(path.name, Date.now());
    // What a path holds is complete once Prometheus has scraped after that (pull: after the freeze); a push into
    // Prometheus's own receiver was stored when its export was answered.
    await waitUntil('every scraped path scraped after its app stopped', async () => {
      for (const path of paths.filter((p) => p.name !== 'prometheus-otlp')) {
        const [up] = await query(path, 'max(timestamp(up))', Date.now() / 1000);
        if (!up || Number(up.value[1]) * 1000 <= stoppedAt.get(path.name)!) return path.name;
      }
      return undefined;
    });
    const complete = Date.now() / 1000;
    // From when on a path's windowed values no longer change: its last sample, plus the 1.1 mean sample intervals
    // past which Prometheus stops extrapolating towards the evaluation instant.
    let settled = complete;
    for (const path of paths) {
      const stamps = await sampleTimes(path);
      const mean = (stamps[stamps.length - 1] - stamps[0]) / (stamps.length - 1);
      settled = Math.max(settled, stamps[stamps.length - 1] + 1.1 * mean + 0.1);
    }
    // Every rule group of every path evaluated after that (the 1-minute exact-money group included), and the alert
    // parts' `offset 2s` reaches past it too.
    await waitUntil(
      'every rule group evaluated after the samples stopped',
      async () => {
        for (const path of paths) {
          const body = await path.prometheus!.api<{
            data: { groups: Array<{ name: string; lastEvaluation: string }> };
          }>('/api/v1/rules');
          const late = body.data.groups.find((group) => Date.parse(group.lastEvaluation) / 1000 < settled);
          if (late) return `${path.name}: ${late.name} last evaluated ${late.lastEvaluation}`;
        }
        return Date.now() / 1000 < settled + 2.5 ? 'offset 2s not yet past' : undefined;
      },
      { timeoutMillis: 90_000 },
    );
    evaluationTime = Date.now() / 1000;
  }, 240_000);

  afterAll(async () => {
    cleanUpChildren();
    await pullTarget?.close();
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
    const usd = await vector(reference, 'sum(business_revenue_cents_total{currency="USD"})');
    expect(usd).toEqual(new Map([['[]', ORDERS_PER_TICK.reduce((sum, [cents]) => sum + cents, 0) * TICKS]]));
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

  // Every seed query, recorded series, recording rule expression, alert verdict and part; what reads only last week
  // also with last week read as 2 s ago (same-answers.ts).
  const cases = sameAnswerCases(RULE_FILES);

  it('compares every shipped rule and alert, and each stated exception reads last week', () => {
    for (const rule of RULE_FILES.flatMap(allRules)) {
      const name = rule.record ? `recorded series ${rule.record}` : `alert ${rule.alert} part `;
      expect({ rule: rule.record ?? rule.alert, compared: cases.some(([c]) => c.startsWith(name)) }).toEqual({
        rule: rule.record ?? rule.alert,
        compared: true,
      });
    }
    // Each stated exception reads last week.
    const expressions = new Map(
      RULE_FILES.flatMap(allRules).map((rule) => [rule.record ?? rule.alert!, rule.expr]),
    );
    for (const name of [...LAST_WEEK_RULES, ...LAST_WEEK_ALERTS]) {
      expect({
        name,
        readsLastWeek: /offset 7d/.test(inlineRecordingRules(expressions.get(name) ?? '')),
      }).toEqual({
        name,
        readsLastWeek: true,
      });
    }
  });

  it.each(cases)('%s: data, and the same label sets and values on every path', async (name, expr) => {
    const answers = new Map<string, Answer>();
    for (const path of paths)
      answers.set(path.name, await answer((e, t) => query(path, e, t), expr, path.name));
    // Data where it can have data (pathsWithData) and nothing where it cannot, no NaN, the same answers.
    // The Collector stamps samples with the app's collection time (collector.yaml's send_timestamps, which exact
    // money needs), and a delta stream only has a point when it changed: the SDK's self-metric counters stop
    // changing at another export than the business counters do, so over a window their extrapolated increases
    // are sampled differently from the cart views'. Their label sets (here) and totals (the first test) still
    // match exactly.
    expectSameAnswers(
      expr,
      answers,
      pathsWithData(name, expr),
      (path) => path === 'delta' && cartViewRateFor(expr) !== undefined && expr.includes('business_metrics_'),
    );
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

  it("keeps the Collector quiet: no export failures of the path's own exporter, only the flaky one's 1", async () => {
    for (const path of paths) {
      const failures = await query(path, 'business_metrics_export_failures_total');
      expect({ path: path.name, failures: failures.map((s) => [s.metric.exporter, s.value[1]]) }).toEqual({
        path: path.name,
        failures: [['FlakyExporter', '1']],
      });
    }
  });
});
