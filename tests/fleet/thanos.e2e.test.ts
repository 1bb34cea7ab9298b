/**
 * Beyond one Prometheus, for real (docs/beyond-one-prometheus.md): the fleet of otel-collector/thanos/fleet.mjs
 * (3 gateway Collectors, an agent Collector, Thanos Receive x3 with a ketama hashring and replication factor 3,
 * Query with replica dedup, Rule evaluating the shipped rule files against Query, Store and a Compactor on a
 * filesystem bucket) against the single-Prometheus reference: one Prometheus 3 receiving the same recordings
 * over OTLP. One fleet for the whole file.
 *
 * Ten app processes record the deterministic workload of tests/backend/workload.ts (with the rule extras, so every
 * rule, alert and dashboard query has data), tick by tick: nine push cumulative OTLP with each export to the next
 * gateway in turn; one pushes delta to the agent, which makes it cumulative (one writer per stream) and forwards it
 * to a gateway. Every process also pushes cumulative OTLP to the reference. Then every app stops sending, and once
 * everything it sent has landed and every recording rule evaluated after that, with Query's dedup on:
 *   - every seed query, recorded series, recording rule expression, alert verdict and part, and dashboard query
 *     has data on both sides and gives the reference's answer, as tests/support/same-answers.ts defines it (the one
 *     comparison tests/push uses too: totals exact, ratios 1e-6, rates per cart view, NaN never; what reads only last
 *     week again with last week read as 2 s ago); the few without data on a side are stated (sidesWithData);
 *   - a receiver killed: the same answers at the same instant, and new writes still land whole (quorum 2 of 3);
 *   - a gateway killed: cumulative totals exact again once every app exported past it;
 *   - the agent killed: what the delta app loses is measured (the deltas sent while it was down; its running
 *     sums restart, a counter reset), and printed for the guide;
 *   - nine days of history, backfilled with promtool and uploaded to the bucket, compacted and served by Store:
 *     the week-offset alerts give on Thanos what one Prometheus gives on the same blocks, firing included.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dashboardQueries, type GrafanaDashboard } from '../../src/dashboards/grafana';
import {
  ALERTS_FILE,
  DASHBOARD_FILE,
  RULES_DIR,
  allRules,
  inlineRecordingRules,
} from '../backend/backend-files';
import {
  historyOpenMetrics,
  scrapeOneTick,
  scrapedSeries,
  timeGrid,
  type ScrapedSeries,
} from '../backend/history';
import { bundleFixture, cleanUpChildren } from '../safety/support/child';
import { requireGoBinary } from '../support/go-binaries';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import {
  answer,
  type Answer,
  expectSameAnswers,
  type InstantQuery,
  ORIGIN_LABELS,
  readsOnlyLastWeek,
  sameAnswerCases,
  TOTALS,
  SEED_QUERIES,
  toVector,
  type Sample,
} from '../support/same-answers';
import { waitUntil } from '../support/wait';
import { fleetPlan, startFleet, type RunningFleet } from './fleet';

const thanos = requireGoBinary('thanos');
const otelcol = requireGoBinary('otelcol');
const prometheus3 = requireGoBinary('prometheus');
const promtool3 = requireGoBinary('promtool');
const describeFleet = thanos && otelcol && prometheus3 && promtool3 ? describe : describe.skip;

const PUSH_FILE = join(RULES_DIR, 'business-push.yml');
/** What Thanos Rule loads by default (prometheus.yml's rule files but the anchored ones); the reference the same. */
const RULE_FILES = fleetPlan({ work: tmpdir() })
  .processes.find((planned) => planned.name === 'rule')!
  .args.filter((arg) => arg.startsWith('--rule-file='))
  .map((arg) => arg.slice('--rule-file='.length));
const CUMULATIVE_APPS = 9;
const DELTA_APP = 'shop-delta';
const EXPORT_MILLIS = 1000;
const FIRST_TICKS = 20;

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

/**
 * Dashboard queries that read only last week (directly, or through a recorded series of same-answers'
 * LAST_WEEK_RULES): empty within a run, so they are compared again with last week read as 2 s ago
 * (sameAnswerCases); as shipped, the week-offset alerts are compared on nine days of backfilled history below.
 */
const LAST_WEEK_PANELS = [
  'dashboard Net revenue against the same 30 minutes last week, by currency (A)',
  'dashboard Revenue at risk (today, last hour), by currency (A)',
  'dashboard Revenue at risk (today, last hour), by currency (B)',
  'dashboard Revenue per minute against last week, and revenue at risk, by currency (A)',
  'dashboard Revenue per minute against last week, and revenue at risk, by currency (C)',
];

/**
 * The sides that can have data for a case: neither for what reads only last week; nor for `up` (nothing is scraped
 * anywhere: the apps push, and so do the gateways their own metrics); nor for the Collector's send failures
 * (`otelcol_exporter_send_failed_metric_points_total`: a gateway has the series only from its first failed point,
 * none fails in a healthy fleet, and the reference has no Collector; business-push.test.yml tests that alert with
 * promtool, and the gateways' test below reads what they sent); both for everything else.
 */
function sidesWithData(name: string, expr: string): string[] {
  if (readsOnlyLastWeek(name, expr, LAST_WEEK_PANELS) || /\bup\s*\{|\botelcol_/.test(expr)) return [];
  return ['reference', 'fleet'];
}

/** Both sides saw the same ten instances under the same job: an answer per instance is compared per instance. */
const SAME_INSTANCES = new Set([...ORIGIN_LABELS].filter((label) => label !== 'job' && label !== 'instance'));

interface App {
  readonly id: string;
  readonly process: ChildProcess;
  /** Send a command line; resolves with the child's answer line. */
  send(command: string): Promise<string>;
}

describeFleet('beyond one Prometheus: gateways, agent and Thanos against one Prometheus', () => {
  let fleet: RunningFleet;
  let reference: PrometheusServer;
  const apps: App[] = [];
  let evaluationTime = 0;
  let ticksPerApp = 0;
  const deltaTicks = { sent: 0 };

  const get = async <T>(base: string, path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`);
    const body = (await response.json()) as { status: string; error?: string; data: T };
    if (body.status !== 'success') throw new Error(`${base}${path}: ${body.error}`);
    return body.data;
  };
  const thanosQuery = async (expr: string, time = evaluationTime): Promise<Sample[]> =>
    (
      await get<{ result: Sample[] }>(
        fleet.plan.urls.query,
        `/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}&dedup=true`,
      )
    ).result;
  const referenceQuery = async (expr: string, time = evaluationTime): Promise<Sample[]> =>
    (
      await get<{ result: Sample[] }>(
        reference.url,
        `/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`,
      )
    ).result;

  /**
   * The fleet's answer as the reference can have it: without the gateways' own series (job otel-gateway), unless
   * the case reads the Collector's own counters (which must then be empty on the fleet as well).
   */
  const fleetAnswers = (expr: string): InstantQuery =>
    /\botelcol_/.test(expr)
      ? thanosQuery
      : async (e, t) => (await thanosQuery(e, t)).filter((sample) => sample.metric.job !== 'otel-gateway');

  /** Each instance's cart-view sample times (ms) on one side, over the last hour. */
  const cartViewStamps = async (side: 'fleet' | 'reference'): Promise<Map<string, number[]>> => {
    const path = `/api/v1/query?query=${encodeURIComponent('business_funnel_step_total{step="cart_view"}[1h]')}&time=${Date.now() / 1000}`;
    const { result } = await get<{
      result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    }>(
      side === 'fleet' ? fleet.plan.urls.query : reference.url,
      side === 'fleet' ? `${path}&dedup=true` : path,
    );
    return new Map(
      result.map((series) => [
        series.metric.instance,
        series.values.map(([time]) => Math.round(time * 1000)),
      ]),
    );
  };

  const startApp = (script: string, id: string, options: Record<string, unknown>): Promise<App> => {
    const child = spawn(process.execPath, [script, JSON.stringify({ id, ...options })], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_PATH: join(__dirname, '..', '..', 'node_modules') },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5000)));
    const lines: string[] = [];
    const waiting: Array<(line: string) => void> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    });
    const nextLine = (timeoutMillis = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const queued = lines.shift();
        if (queued !== undefined) return resolve(queued);
        const timer = setTimeout(
          () => reject(new Error(`${id}: no answer; stderr: ${stderr}`)),
          timeoutMillis,
        );
        waiting.push((line) => (clearTimeout(timer), resolve(line)));
      });
    return nextLine().then((line) => {
      expect(line).toBe('ready');
      return {
        id,
        process: child,
        send: (command: string) => {
          child.stdin!.write(`${command}\n`);
          return nextLine();
        },
      };
    });
  };

  /** Each backend shows its expected value for `expr` (one series), polled until it does. */
  const waitFor = async (expr: string, expected: { fleet: number; reference: number }, what: string) => {
    let last: number[][] = [];
    await waitUntil(
      `${what}: ${expr} becomes ${JSON.stringify(expected)}`,
      async () => {
        const now = Date.now() / 1000;
        const [fleetResult, referenceResult] = await Promise.all([
          thanosQuery(expr, now),
          referenceQuery(expr, now),
        ]);
        last = [fleetResult, referenceResult].map((result) =>
          result.map((sample) => Number(sample.value[1])),
        );
        return JSON.stringify(last) === JSON.stringify([[expected.fleet], [expected.reference]])
          ? undefined
          : `last: ${JSON.stringify(last)}`;
      },
      {
        timeoutMillis: 60_000,
        intervalMillis: 500,
        context: (missing) =>
          `${missing}\n${[...fleet.processes.values()].map((p) => `--- ${p.name}\n${p.log().slice(-1500)}`).join('\n')}`,
      },
    );
  };
  const waitForBoth = (expr: string, expected: number, what: string) =>
    waitFor(expr, { fleet: expected, reference: expected }, what);
  const allCartViews = 'sum(business_funnel_step_total{step="cart_view"})';
  const tickAll = async (count: number) => {
    await Promise.all(apps.map((app) => app.send(`tick ${count}`)));
    ticksPerApp += count;
  };

  beforeAll(async () => {
    reference = await startPrometheus(prometheus3!, {
      config: [
        'global:',
        '  evaluation_interval: 1s',
        'rule_files:',
        ...RULE_FILES.map((file) => `  - ${file}`),
        'otlp:',
        '  translation_strategy: UnderscoreEscapingWithSuffixes',
        'scrape_configs: []',
      ].join('\n'),
      extraArgs: ['--web.enable-otlp-receiver'],
    });
    fleet = await startFleet(
      { thanos: thanos!, otelcol: otelcol! },
      { evalInterval: '1s', storeSync: '2s', gatewayTelemetryMillis: 1000 },
      ['compact'],
    );
    const script = bundleFixture('instance', join(__dirname, 'fixtures'));
    const common = { reference: `${reference.url}/api/v1/otlp/v1/metrics`, intervalMillis: EXPORT_MILLIS };
    apps.push(
      ...(await Promise.all([
        ...Array.from({ length: CUMULATIVE_APPS }, (_, i) =>
          startApp(script, `shop-${i}`, { ...common, gateways: fleet.plan.urls.gateways, flaky: true }),
        ),
        // Exports only when told (after each tick): a delta stream has a point where a series changed, and the
        // package's self-metrics (observable counters) have one at every export, so periodic exports in between
        // would sample them at other instants than the business counters.
        startApp(script, DELTA_APP, { ...common, intervalMillis: 3_600_000, agent: fleet.plan.urls.agent }),
      ])),
    );
    // Tick by tick, each flushed, so every counter moves between samples on both sides (recorded all at once, each
    // series would be born at its final value: rates 0, ratios 0/0).
    for (let tick = 0; tick < FIRST_TICKS; tick++) await tickAll(1);
    deltaTicks.sent += FIRST_TICKS;
    await waitForBoth(allCartViews, 100 * FIRST_TICKS * apps.length, 'first workload');

    // Then every app stops sending. While samples keep coming, a windowed value depends on the instant it is
    // evaluated at (rule groups each evaluate at their own instant, alert parts read 2 s earlier); once a side's
    // samples stop, it does not. A side is complete once it holds every sample an app's exports landed (and none
    // but those and the failed ones', which it may have stored anyway).
    const sent = new Map<string, Record<'fleet' | 'reference', { landed: number[]; failed: number[] }>>();
    for (const app of apps) sent.set(app.id, JSON.parse((await app.send('pause')).replace(/^paused /, '')));
    let settled = 0;
    await waitUntil(
      'every sample the apps sent landed on both sides',
      async () => {
        settled = 0;
        for (const side of ['fleet', 'reference'] as const) {
          const stamps = await cartViewStamps(side);
          for (const app of apps) {
            const { landed, failed } = sent.get(app.id)![side];
            const held = stamps.get(app.id) ?? [];
            const missing = landed.filter((stamp) => !held.includes(stamp));
            const unknown = held.filter((stamp) => !landed.includes(stamp) && !failed.includes(stamp));
            if (missing.length > 0 || unknown.length > 0 || held.length < 2)
              return `${side} ${app.id}: holds ${held.length}, missing ${missing.join()}, unknown ${unknown.join()}`;
            // From when on its windowed values no longer change: the last sample, plus the 1.1 mean sample
            // intervals past which Prometheus stops extrapolating towards the evaluation instant.
            const mean = (held[held.length - 1] - held[0]) / (held.length - 1);
            settled = Math.max(settled, (held[held.length - 1] + 1.1 * mean) / 1000 + 0.1);
          }
        }
        return undefined;
      },
      { timeoutMillis: 60_000 },
    );
    // Every recording rule group on both sides evaluated after that (alert-only groups, such as the 1-minute push
    // group, record nothing the comparisons read), and the alert parts' `offset 2s` reaches past it too.
    await waitUntil(
      'every recording rule group evaluated after the samples stopped',
      async () => {
        const sides: Array<[string, string]> = [
          ['reference', reference.url],
          ['Thanos Rule', fleet.plan.urls.rule],
        ];
        for (const [side, base] of sides) {
          const { groups } = await get<{
            groups: Array<{ name: string; lastEvaluation: string; rules: Array<{ type: string }> }>;
          }>(base, '/api/v1/rules');
          const late = groups.find(
            (group) =>
              group.rules.some((rule) => rule.type === 'recording') &&
              Date.parse(group.lastEvaluation) / 1000 < settled,
          );
          if (late) return `${side}: ${late.name} last evaluated ${late.lastEvaluation}`;
        }
        return Date.now() / 1000 < settled + 2.5 ? 'offset 2s not yet past' : undefined;
      },
      { timeoutMillis: 60_000 },
    );
    evaluationTime = Date.now() / 1000;
  }, 240_000);

  afterAll(async () => {
    await Promise.all(
      apps.map(
        (app) =>
          new Promise((resolve) => {
            app.process.once('exit', resolve);
            app.process.kill('SIGTERM');
          }),
      ),
    );
    cleanUpChildren();
    await fleet?.stop();
    await reference?.stop();
  }, 60_000);

  it('delivers every measurement of ten apps through rotating gateways: totals whole and identical', async () => {
    expect(toVector(await thanosQuery(allCartViews), 'fleet')).toEqual(
      new Map([['[]', 100 * FIRST_TICKS * apps.length]]),
    );
    for (const expr of TOTALS) {
      const expected = Object.fromEntries(toVector(await referenceQuery(expr), 'reference'));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect({ expr, values: Object.fromEntries(toVector(await thanosQuery(expr), 'fleet')) }).toEqual({
        expr,
        values: expected,
      });
    }
    // Each app is one instance on both sides, the delta one included.
    const perInstance = 'sum by (instance) (business_funnel_step_total{step="cart_view"})';
    const byInstance = async (query: typeof thanosQuery) =>
      Object.fromEntries((await query(perInstance)).map((s) => [s.metric.instance, Number(s.value[1])]));
    const expected = Object.fromEntries(apps.map((app) => [app.id, 100 * FIRST_TICKS]));
    expect(await byInstance(thanosQuery)).toEqual(expected);
    expect(await byInstance(referenceQuery)).toEqual(expected);
  });

  it('money: totals per currency exact (sales, refunds); Thanos Query 0.42 refuses the anchored modifier', async () => {
    for (const expr of [
      'sum by (currency) (business_revenue_cents_total)',
      'sum by (currency, reason) (business_refunds_cents_total)',
    ]) {
      const expected = Object.fromEntries(toVector(await referenceQuery(expr), 'reference'));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect({ expr, values: Object.fromEntries(toVector(await thanosQuery(expr), 'fleet')) }).toEqual({
        expr,
        values: expected,
      });
    }
    // Prometheus 3.16's exact windowed increase; Thanos 0.42.4 has no flag to enable it (docs say what to use).
    const anchored = 'sum by (currency) (increase(business_revenue_cents_total[5m] anchored))';
    expect((await referenceQuery(anchored)).length).toBeGreaterThan(0);
    const response = await fetch(
      `${fleet.plan.urls.query}/api/v1/query?query=${encodeURIComponent(anchored)}&time=${evaluationTime}`,
    );
    expect(await response.json()).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/anchored modifier is experimental and not enabled/),
    });
  });

  it('without dedup every series is there three times (one per receive replica): dedup is what makes sums right', async () => {
    const raw = (
      await get<{ result: Sample[] }>(
        fleet.plan.urls.query,
        `/api/v1/query?query=${encodeURIComponent('count(business_funnel_step_total{step="cart_view"})')}&time=${evaluationTime}&dedup=false`,
      )
    ).result;
    expect(Number(raw[0].value[1])).toBe(3 * apps.length);
  });

  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as GrafanaDashboard;
  const dashboardCases = dashboardQueries(dashboard).map(
    (entry) =>
      [`dashboard ${entry.panel} (${entry.refId})`, entry.expr.replaceAll('$__range', '1h')] as [
        string,
        string,
      ],
  );
  // Every rule file Rule evaluates and every dashboard query, with Grafana's `$__range` as an hour.
  const cases = sameAnswerCases(RULE_FILES, dashboardCases, LAST_WEEK_PANELS);

  it('compares every dashboard query, and each stated exception reads last week', () => {
    expect(dashboardCases.filter((entry) => !cases.includes(entry))).toEqual([]);
    for (const name of LAST_WEEK_PANELS) {
      const expr = dashboardCases.find(([panel]) => panel === name)?.[1] ?? '';
      expect({ name, readsLastWeek: /offset 7d/.test(inlineRecordingRules(expr)) }).toEqual({
        name,
        readsLastWeek: true,
      });
    }
  });

  // The exact-money table's queries use `anchored`, which Thanos refuses.
  const anchoredCases = cases.filter(([, expr]) => /\banchored\b/.test(expr));
  it.each(anchoredCases)(
    '%s: exact on one Prometheus 3.16, refused by Thanos Query (anchored)',
    async (_name, expr) => {
      expect((await referenceQuery(expr)).length).toBeGreaterThan(0);
      const response = await fetch(
        `${fleet.plan.urls.query}/api/v1/query?query=${encodeURIComponent(expr)}&time=${evaluationTime}`,
      );
      expect(await response.json()).toMatchObject({
        status: 'error',
        error: expect.stringMatching(/anchored/),
      });
    },
  );

  it.each(cases.filter((entry) => !anchoredCases.includes(entry)))(
    '%s: data, and the answer of one Prometheus',
    async (name, expr) => {
      const answers = new Map<string, Answer>([
        ['reference', await answer(referenceQuery, expr, 'reference', SAME_INSTANCES)],
        ['fleet', await answer(fleetAnswers(expr), expr, 'fleet', SAME_INSTANCES)],
      ]);
      expectSameAnswers(expr, answers, sidesWithData(name, expr));
    },
  );

  it('the gateways push their own metrics through themselves: job otel-gateway is alive, nothing failed', async () => {
    const gateways = await thanosQuery(
      'group by (instance) (target_info{job="otel-gateway"})',
      Date.now() / 1000,
    );
    expect(gateways.map((sample) => sample.metric.instance).sort()).toEqual([
      'gateway-0',
      'gateway-1',
      'gateway-2',
    ]);
    const failed = await thanosQuery(
      'sum by (instance, exporter) (otelcol_exporter_send_failed_metric_points_total)',
      Date.now() / 1000,
    );
    for (const sample of failed)
      expect({ ...sample.metric, failed: Number(sample.value[1]) }).toMatchObject({ failed: 0 });
    const sent = await thanosQuery(
      'sum(otelcol_exporter_sent_metric_points_total{exporter="prometheus_remote_write"})',
      Date.now() / 1000,
    );
    expect(Number(sent[0].value[1])).toBeGreaterThan(0);
  });

  it('sizing: each receiver holds every series once (replication factor 3 on 3 receivers); measured per app', async () => {
    const now = Date.now() / 1000;
    const count = async (selector: string) =>
      Number((await thanosQuery(`count(${selector})`, now))[0].value[1]);
    const perApp = await count('{__name__=~".+", tenant_id="default-tenant", instance="shop-0"}');
    const stored = await count('{__name__=~".+", tenant_id="default-tenant"}');
    const heads: number[] = [];
    for (const name of ['receive-0', 'receive-1', 'receive-2']) {
      const port = fleet.plan.ports[name].http;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const head = [...text.matchAll(/^prometheus_tsdb_head_series\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
      heads.push(head);
    }
    console.log(
      `sizing: ${perApp} series per app instance, ${stored} distinct series in Receive (10 apps + 3 gateways' ` +
        `own metrics), head series per receiver ${heads.join(' / ')} (replication factor 3: each holds all)`,
    );
    expect(perApp).toBeGreaterThan(50);
    for (const head of heads) expect(head).toBe(stored);
  });

  it('a receiver killed: the same answers at the same instant, and new writes still land whole', async () => {
    const before = new Map<string, Map<string, number>>();
    for (const expr of [...TOTALS, ...SEED_QUERIES])
      before.set(expr, toVector(await thanosQuery(expr), 'fleet'));
    const victim = fleet.processes.get('receive-2')!;
    await victim.kill();
    try {
      for (const expr of [...TOTALS, ...SEED_QUERIES]) {
        expect({ expr, values: toVector(await thanosQuery(expr), 'fleet') }).toEqual({
          expr,
          values: before.get(expr),
        });
      }
      await tickAll(5);
      deltaTicks.sent += 5;
      await waitForBoth(allCartViews, 100 * ticksPerApp * apps.length, 'with a receiver down');
    } finally {
      await victim.restart();
    }
  }, 120_000);

  it('a gateway killed: cumulative totals exact again after the next export of every app', async () => {
    const victim = fleet.processes.get('gateway-1')!;
    await victim.kill();
    try {
      await tickAll(5);
      deltaTicks.sent += 5;
      // Each app's flush after its ticks went to some gateway; one more export moves every app past the dead one.
      await Promise.all(apps.map((app) => app.send('flush')));
      await waitForBoth(allCartViews, 100 * ticksPerApp * apps.length, 'with a gateway down');
    } finally {
      await victim.restart();
    }
  }, 120_000);

  it('the agent killed: the delta app loses exactly what it sent meanwhile (measured), and its sums restart', async () => {
    const delta = apps.find((app) => app.id === DELTA_APP)!;
    const series = `business_funnel_step_total{instance="${DELTA_APP}",step="cart_view"}`;
    await waitForBoth(`sum(${series})`, 100 * deltaTicks.sent, 'the delta app before the outage');
    const agent = fleet.processes.get('agent')!;
    const outageStarted = Date.now();
    await agent.kill();
    const lostTicks = 3;
    await delta.send(`tick ${lostTicks}`); // its export fails: a delta exporter drops what it could not send
    await agent.restart();
    const outageMillis = Date.now() - outageStarted;
    const afterTicks = 2;
    await delta.send(`tick ${afterTicks}`);
    const recorded = deltaTicks.sent + lostTicks + afterTicks;
    // The reference saw everything (cumulative); the agent's new running sum holds only what came after.
    await waitFor(
      `sum(${series})`,
      { fleet: 100 * afterTicks, reference: 100 * recorded },
      'the delta app after the outage',
    );
    const now = Date.now() / 1000;
    const referenceTotal = Number((await referenceQuery(`sum(${series})`, now))[0].value[1]);
    expect(referenceTotal).toBe(100 * recorded);
    const fleetLast = Number((await thanosQuery(`sum(${series})`, now))[0].value[1]);
    expect(fleetLast).toBe(100 * afterTicks);
    // What increase()/rate() see: the raw samples, with the reset counted as Prometheus counts one.
    const matrix = await get<{ result: Array<{ values: Array<[number, string]> }> }>(
      fleet.plan.urls.query,
      `/api/v1/query?query=${encodeURIComponent(`${series}[15m]`)}&time=${now}&dedup=true`,
    );
    expect(matrix.result).toHaveLength(1);
    let counted = 0;
    let previous = 0;
    for (const [, text] of matrix.result[0].values) {
      const value = Number(text);
      counted += value >= previous ? value - previous : value;
      previous = value;
    }
    const lost = 100 * recorded - counted;
    console.log(
      `agent outage of ${outageMillis} ms: recorded ${100 * recorded} cart views, the fleet counts ${counted} ` +
        `(lost ${lost} = the ${lostTicks} ticks sent while the agent was down); sum() after the restart shows ` +
        `${fleetLast} (the agent's running sum restarted)`,
    );
    expect(lost).toBe(100 * lostTicks);
    deltaTicks.sent = recorded;
  }, 120_000);

  describe('long retention: backfilled blocks in the bucket, served by Store', () => {
    // History ends 10 days ago: the live workload's windows (up to [7d] and [24h] offset 7d) never reach it.
    const T = Math.floor(Date.now() / 1000 / MINUTE) * MINUTE - 10 * DAY;
    /** The times each week-over-week alert is compared at: healthy days, then across the drop. */
    const COMPARED_AT = [T - 2 * DAY, T - 20 * HOUR, T - 8 * HOUR, T - 1 * HOUR, T];
    const between = (t: number, from: number, to: number) => t > T + from && t <= T + to;
    /** Healthy for 9 days; in the last 16 hours new-user usage at 20%, the daily users and the revenue at half. */
    const schedule = (series: ScrapedSeries, t: number): number => {
      if (/^business_(revenue_cents_total|order_value_cents_(sum|bucket))$/.test(series.name))
        return between(t, -16 * HOUR, 0) ? 0.5 : 1;
      if (series.name === 'business_feature_usage_total' && series.labels.is_new_user === 'true')
        return between(t, -16 * HOUR, 0) ? 0.2 : 1;
      if (series.name === 'business_active_users' && series.labels.window === 'daily')
        return between(t, -16 * HOUR, 0) ? 0.5 : 1;
      return 1;
    };
    // Alerts comparing with a week earlier, directly or through recording rules (inlined: history has no
    // recorded series).
    const weekOffsetAlerts = [...allRules(ALERTS_FILE), ...allRules(PUSH_FILE)]
      .filter((rule) => rule.alert)
      .map((rule) => ({ name: rule.alert!, expr: inlineRecordingRules(rule.expr) }))
      .filter((rule) => /offset\s+7d/.test(rule.expr));
    let onBlocks: PrometheusServer;
    let scratch = '';

    beforeAll(async () => {
      const exposition = await scrapeOneTick();
      scratch = mkdtempSync(join(tmpdir(), 'obm-fleet-history-'));
      const input = join(scratch, 'history.om');
      const times = timeGrid(T - 9 * DAY, T, T - 13 * HOUR, 10 * MINUTE, MINUTE);
      writeFileSync(input, historyOpenMetrics(scrapedSeries(exposition), times, 6 / MINUTE, schedule));
      const blocks = join(scratch, 'blocks');
      execFileSync(promtool3!, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', input, blocks], {
        stdio: 'pipe',
      });
      // The same blocks, untouched, for one Prometheus; the upload and the Compactor change the bucket's copy.
      const prometheusData = join(scratch, 'prometheus');
      cpSync(blocks, prometheusData, { recursive: true });
      await fleet.runThanos([
        'tools',
        'bucket',
        'upload-blocks',
        `--path=${blocks}`,
        '--label=source="backfill"',
        `--objstore.config-file=${join(fleet.work, 'bucket.yml')}`,
      ]);
      const compactor = await fleet.start('compact');
      await compactor.exited();
      onBlocks = await startPrometheus(prometheus3!, { dataDir: prometheusData, config: 'global: {}' });
      // Store has synced the compacted bucket once it has loaded exactly the blocks in it (it may have seen the
      // uploaded ones before the Compactor replaced them) and Query answers from the oldest day.
      await waitUntil(
        'Store serves the compacted backfill',
        async () => {
          const metrics = await (await fetch(`${fleet.plan.urls.store}/metrics`)).text();
          const loaded = Number(/^thanos_bucket_store_blocks_loaded(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
          const inBucket = readdirBlocks(fleet.plan.bucket).length;
          if (loaded !== inBucket) return `Store loaded ${loaded} blocks, the bucket holds ${inBucket}`;
          // Query skips a store whose advertised time range (refreshed every few seconds, apart from the Store's
          // own sync) does not reach the queried time, answering empty without a warning: so every time a
          // comparison reads, a week earlier included, must be answered, not only the oldest day.
          for (const at of [T - 9 * DAY + 20 * MINUTE, ...COMPARED_AT.flatMap((t) => [t, t - 7 * DAY])]) {
            const answer = await thanosQuery('sum(business_funnel_step_total{step="cart_view"})', at);
            if (answer.length !== 1) return `Query has nothing at T${((at - T) / HOUR).toFixed(1)}h`;
          }
          return true;
        },
        {
          timeoutMillis: 60_000,
          intervalMillis: 500,
          context: (missing) => `${missing}\n${fleet.processes.get('store')!.log()}`,
        },
      );
    }, 180_000);

    afterAll(async () => {
      await onBlocks?.stop();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it('the Compactor merged the uploaded blocks: fewer, longer blocks in the bucket', async () => {
      const uploaded = readdirBlocks(join(scratch, 'blocks'));
      const inBucket = readdirBlocks(fleet.plan.bucket);
      expect(inBucket.length).toBeGreaterThan(0);
      expect(inBucket.length).toBeLessThan(uploaded.length);
    });

    it('covers the week-over-week alerts, revenue baseline included', () => {
      expect(weekOffsetAlerts.map((rule) => rule.name).sort()).toEqual(
        expect.arrayContaining(['DailyActiveUsersDrop', 'NewUserEngagementDrop', 'RevenueBelowBaseline']),
      );
    });

    it.each(weekOffsetAlerts.map((rule) => [rule.name, rule.expr] as const))(
      '%s (offset 7d) gives one Prometheus’s answer over the same history, firing after the drop',
      async (name, expr) => {
        let fired = 0;
        for (const at of COMPARED_AT) {
          const onThanos = toVector(await thanosQuery(expr, at), 'fleet');
          const onPrometheus = toVector(
            (
              await get<{ result: Sample[] }>(
                onBlocks.url,
                `/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`,
              )
            ).result,
            'one Prometheus',
          );
          const keys = (map: Map<string, number>) => [...map.keys()].sort();
          expect({ name, at, labels: keys(onThanos) }).toEqual({ name, at, labels: keys(onPrometheus) });
          for (const [key, value] of onPrometheus) {
            expect({
              name,
              at,
              key,
              close: Math.abs(onThanos.get(key)! - value) <= 1e-6 * Math.abs(value),
            }).toEqual({ name, at, key, close: true });
          }
          if (onPrometheus.size > 0) fired++;
        }
        // Silent on the healthy days, holding once the drop shows.
        expect(toVector(await thanosQuery(expr, T - 2 * DAY), 'fleet').size).toBe(0);
        expect({ name, fired: fired > 0 }).toEqual({ name, fired: true });
      },
    );
  });
});

/** The blocks (ULID-named folders) in a TSDB or bucket folder. */
function readdirBlocks(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(name));
}
