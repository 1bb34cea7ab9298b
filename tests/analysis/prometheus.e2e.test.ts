/**
 * End to end against a real Prometheus (Debian package): three days of synthetic per-minute history are
 * backfilled with `promtool tsdb create-blocks-from openmetrics`, then the library and the built CLI
 * (`node dist/cli/main.js`, run `npm run build` first) correlate the p99-latency and conversion-rate PromQL of
 * docs/correlation.md. The data is designed (see history.ts) so Prometheus returns exactly the designed per-interval values;
 * the expected statistics are computed here from those values, independently of the code under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../support/binaries';
import { ROOT, requireBuiltCli, runCli } from '../support/cli';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server';
import { MetricCorrelationService, analyzeCorrelation, isCorrelationError } from '../../src/analysis';
import { referencePearson } from '../support/reference-statistics';
import {
  CONSTANT_QUERY,
  CONVERSION_QUERY,
  EVENT_LOOP_DELAY,
  P99_LATENCY_QUERY,
  PER_DEVICE_CART_VIEWS_QUERY,
  SEED_HOURLY_CONVERSION_QUERY,
  SPARSE_QUERY,
  REVENUE_PER_MINUTE_BY_CURRENCY_QUERY,
  STEP_SECONDS,
  buildHistory,
  designedRevenueEffect,
  type History,
} from './history';
import { DEFAULT_DESIGN } from './synthetic';

const prometheusBinary = requireBinary('prometheus', 'apt-get install prometheus');
const promtool = requireBinary('promtool', 'apt-get install prometheus');
const describeWithPrometheus = prometheusBinary && promtool ? describe : describe.skip;

describeWithPrometheus('correlation against a real Prometheus with backfilled history', () => {
  let prometheus: PrometheusServer;
  let history: History;
  let workDir: string;
  let window: { start: string; end: string };
  // Expected statistics from the designed values: lag 0 and business following technical by two steps.
  let expectedR0: number;
  let expectedRLag2: number;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'obm-correlate-'));
    // Blocks must lie before the head of the TSDB; ending the history ten minutes ago keeps them in the past.
    history = buildHistory(Date.now() / 1000 - 600);
    const input = join(workDir, 'history.om');
    const dataDir = join(workDir, 'data');
    writeFileSync(input, history.openMetrics);
    execFileSync(
      promtool as string,
      ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', input, dataDir],
      {
        stdio: 'pipe',
      },
    );
    prometheus = await startPrometheus(prometheusBinary as string, {
      config: 'global:\n  scrape_interval: 1m\n',
      dataDir,
    });
    window = {
      start: new Date(history.firstEnd * 1000).toISOString(),
      end: new Date(history.lastEnd * 1000).toISOString(),
    };
    // Oracle: a textbook Pearson written in the test support, independent of src/analysis.
    expectedR0 = referencePearson(history.latency, history.conversion);
    expectedRLag2 = referencePearson(history.latency.slice(0, -2), history.conversion.slice(2));
  }, 60000);

  afterAll(async () => {
    await prometheus?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('recovers the designed relationship through the PromQL of docs/correlation.md', async () => {
    const service = new MetricCorrelationService({ url: prometheus.url });
    const result = await service.correlate({
      technical: { query: P99_LATENCY_QUERY, name: 'p99 latency', unit: 'ms', scale: 1000 },
      business: { query: CONVERSION_QUERY, name: 'conversion', unit: 'percentage points', scale: 100 },
      start: window.start,
      end: window.end,
      step: '5m',
      maxLag: 12,
      sentenceStep: 100,
    });
    expect(result.n).toBe(history.latency.length);
    expect(result.window.points).toBe(history.latency.length);
    // Prometheus returns the designed values (to float rounding), so r matches the independent computation.
    expect(result.pearson.r).toBeCloseTo(expectedR0, 8);
    expect(result.lag?.steps).toBe(2);
    expect(result.lag?.seconds).toBe(2 * STEP_SECONDS);
    expect(result.lag?.r).toBeCloseTo(expectedRLag2, 8);
    // And the designed population value (-0.7) is within sampling error.
    expect(result.lag?.r).toBeGreaterThan(-0.76);
    expect(result.lag?.r).toBeLessThan(-0.64);
    expect(result.fit.slope).toBeLessThan(0);
    expect(result.lag?.fit.slope).toBeLessThan(0);
    expect(result.lagSentence).toMatch(
      /conversion follows p99 latency by 10m\. At that lag, \+100 ms of p99 latency goes with -0\.\d+ percentage points of conversion 10m later/,
    );
    expect(result.technical.labels).toEqual({});
    expect(result.prometheusUrl).toBe(prometheus.url);
  });

  it("shows why docs/correlation.md uses a [5m] window: the seed's [1h] conversion rate smears the lag and weakens r", async () => {
    const service = new MetricCorrelationService({ url: prometheus.url });
    const result = await service.correlate({
      technical: P99_LATENCY_QUERY,
      business: SEED_HOURLY_CONVERSION_QUERY,
      start: window.start,
      end: window.end,
      step: '5m',
      maxLag: 24,
    });
    // A 1h moving window spreads the two-step lag over a plateau about an hour wide.
    expect(Math.abs(result.lag?.r ?? 0)).toBeLessThan(Math.abs(expectedRLag2) - 0.1);
    expect(result.lag?.steps).toBeGreaterThan(4);
    const plateau = result.lag?.crossCorrelation.filter((c) => c.r !== null && c.r < -0.45).length ?? 0;
    expect(plateau).toBeGreaterThan(5);
  });

  it('runs the docs/correlation.md library example as written (the analysis entry point)', async () => {
    // The doc spells the names out; they must be the ones the catalog produces.
    const doc = readFileSync(join(ROOT, 'docs/correlation.md'), 'utf8');
    expect(doc).toContain(`'${P99_LATENCY_QUERY}'`);
    expect(doc).toContain(`'${CONVERSION_QUERY}'`);
    process.env.PROMETHEUS_URL = prometheus.url;
    process.env.PROMETHEUS_TOKEN = 'docs';
    const printed: unknown[][] = [];
    const log = jest
      .spyOn(console, 'log')
      .mockImplementation((...args: unknown[]) => void printed.push(args));
    const error = jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void printed.push(args));
    try {
      // --- docs example: correlation library ---
      const service = new MetricCorrelationService({
        url: process.env.PROMETHEUS_URL ?? 'http://localhost:9090',
        headers: { Authorization: `Bearer ${process.env.PROMETHEUS_TOKEN}` }, // optional
        timeoutMs: 30_000,
      });

      try {
        const result = await service.correlate({
          technical: {
            query:
              'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))',
            name: 'p99 latency',
            unit: 'ms',
            scale: 1000,
          },
          business: {
            query:
              'sum(rate(business_funnel_step_total{step="order_confirmed"}[5m])) / sum(rate(business_funnel_step_total{step="cart_view"}[5m]))',
            name: 'conversion',
            unit: 'percentage points',
            scale: 100,
          },
          range: '7d',
          step: '5m',
          maxLag: 12,
          sentenceStep: 100, // "+100 ms of p99 latency goes with ..."
        });
        console.log(result.slopeSentence);
        console.log(result.pearson.r, result.pearson.ci95, result.pearson.pValue, result.lag?.steps);
      } catch (error) {
        if (isCorrelationError(error)) console.error(error.code, error.message);
        else throw error;
      }
      // --- end ---
    } finally {
      log.mockRestore();
      error.mockRestore();
      delete process.env.PROMETHEUS_URL;
      delete process.env.PROMETHEUS_TOKEN;
    }
    expect(printed).toHaveLength(2);
    expect(printed[0][0]).toMatch(
      /^\+100 ms of p99 latency goes with -0\.1\d+ percentage points of conversion/,
    );
    const [r, ci95, pValue, lagSteps] = printed[1] as [number, [number, number], number, number];
    expect(r).toBeCloseTo(expectedR0, 8);
    expect(ci95[0]).toBeLessThan(r);
    expect(ci95[1]).toBeGreaterThan(r);
    expect(pValue).toBeLessThan(0.001);
    expect(lagSteps).toBe(2);
  });

  it('reads the same result with GET and through the functional API with a relative range', async () => {
    const result = await analyzeCorrelation({
      prometheus: { url: `${prometheus.url}/`, method: 'GET', headers: { 'X-Scope-OrgID': 'shop' } },
      technical: P99_LATENCY_QUERY,
      business: CONVERSION_QUERY,
      range: '4d',
      step: '5m',
    });
    expect(result.n).toBe(history.latency.length);
    expect(result.pearson.r).toBeCloseTo(expectedR0, 8);
    expect(result.lag?.steps).toBe(2);
  });

  it.each([
    [
      'bad PromQL',
      { technical: 'sum(rate(http_requests_total[5m]', business: CONVERSION_QUERY },
      'PROMETHEUS_QUERY_ERROR',
      /Prometheus rejected the query .*bad_data.*parse error/,
    ],
    [
      'several series',
      { technical: P99_LATENCY_QUERY, business: PER_DEVICE_CART_VIEWS_QUERY },
      'MULTIPLE_SERIES',
      /returned 2 series.*differ in label: device_type \("desktop", "mobile"\)/,
    ],
    [
      'no data',
      { technical: 'sum(rate(no_such_metric_total[5m]))', business: CONVERSION_QUERY },
      'NO_DATA',
      /returned no data/,
    ],
    [
      'a series of only NaN (0/0 at every step)',
      { technical: P99_LATENCY_QUERY, business: 'vector(0) / 0' },
      'NO_DATA',
      /returned only NaN\/Inf values/,
    ],
    [
      'too few points',
      { technical: P99_LATENCY_QUERY, business: SPARSE_QUERY },
      'TOO_FEW_POINTS',
      /aligned points? \(need at least 10\)/,
    ],
    [
      'a constant series',
      { technical: P99_LATENCY_QUERY, business: CONSTANT_QUERY },
      'CONSTANT_SERIES',
      /is constant \(12 at all \d+ aligned points\)/,
    ],
  ])('explains %s', async (_, queries, code, message) => {
    const service = new MetricCorrelationService({ url: prometheus.url });
    const attempt = service.correlate({ ...queries, start: window.start, end: window.end, step: '5m' });
    await expect(attempt).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  // Request errors and an unreachable server need no Prometheus: tests/analysis/service.test.ts.

  describe('the built CLI', () => {
    beforeAll(requireBuiltCli);

    const baseArgs = () => [
      'correlate',
      '--prometheus',
      prometheus.url,
      '--technical',
      P99_LATENCY_QUERY,
      '--business',
      CONVERSION_QUERY,
      '--start',
      window.start,
      '--end',
      window.end,
      '--step',
      '5m',
    ];

    /**
     * The first `sh` block after `heading` in docs/correlation.md, as shell words (backslash-newline continues,
     * single quotes group), run with the built CLI: `npx otel-business-metrics` dropped, the documented server URL
     * and each file name in `files` replaced by this test's.
     */
    const runDocsCommand = async (heading: RegExp, files: Record<string, string> = {}) => {
      const block = new RegExp(`${heading.source}\\n[\\s\\S]*?\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(
        readFileSync(join(ROOT, 'docs/correlation.md'), 'utf8'),
      );
      expect(block).not.toBeNull();
      const words = [...block![1].replace(/\\\n/g, ' ').matchAll(/'([^']*)'|(\S+)/g)].map(
        (m) => m[1] ?? m[2],
      );
      expect(words.slice(0, 3)).toEqual(['npx', 'otel-business-metrics', 'correlate']);
      expect(words).toContain('http://localhost:9090');
      for (const name of Object.keys(files)) expect(words).toContain(name);
      const replaced = (word: string) =>
        word === 'http://localhost:9090' ? prometheus.url : (files[word] ?? word);
      return { words, run: await runCli(words.slice(2).map(replaced)) };
    };

    it('prints a readable report, exit code 0', async () => {
      const run = await runCli([
        ...baseArgs(),
        '--max-lag',
        '6',
        '--technical-name',
        'p99 latency',
        '--technical-unit',
        'ms',
        '--technical-scale',
        '1000',
        '--per',
        '100',
        '--business-name',
        'conversion',
        '--business-unit',
        'percentage points',
        '--business-scale',
        '100',
        '--header',
        'Authorization: Bearer test-token',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /^(Weak|Moderate|Strong) negative correlation between p99 latency and conversion: Pearson r = -0\.\d+/,
      );
      expect(run.stdout).toContain(`${history.latency.length} aligned points`);
      expect(run.stdout).toMatch(/\+100 ms of p99 latency goes with -0\.\d+ percentage points of conversion/);
      expect(run.stdout).toContain('within ±6 steps (±30m) is at lag +2 steps');
      expect(run.stdout).toContain('Correlation is not causation');
    });

    it('runs the docs/correlation.md command line as written (only the server URL and the plot path differ)', async () => {
      const plot = join(workDir, 'correlation.svg');
      const { run } = await runDocsCommand(/## Command line/, { 'correlation.svg': plot });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'Weak negative correlation between p99 latency and conversion: Pearson r = -0.26 (95% CI -0.32 to -0.2, p < 0.001, n = 864). Stronger with a lag: moderate (r = -0.67) with conversion 10m later.',
      );
      expect(run.stdout).toContain(
        '+100 ms of p99 latency goes with -0.147 percentage points of conversion (least-squares slope over 864 points).',
      );
      expect(run.stdout).toContain(
        'At that lag, +100 ms of p99 latency goes with -0.38 percentage points of conversion 10m later.',
      );
      // The effect size: the designed -0.4 percentage points per +100 ms lies inside its interval, and the line is
      // the one docs/correlation.md shows.
      const effect =
        /effect size {4}(\+100 ms of p99 latency goes with -[\d.]+ percentage points of conversion 10m later \(95% CI (-[\d.]+) to (-[\d.]+);[^\n]*)/.exec(
          run.stdout,
        );
      expect(effect).not.toBeNull();
      const designed = DEFAULT_DESIGN.slopePerSecond * 0.1 * 100;
      expect(Number(effect![2])).toBeLessThan(designed);
      expect(Number(effect![3])).toBeGreaterThan(designed);
      expect(readFileSync(join(ROOT, 'docs/correlation.md'), 'utf8')).toContain(
        `  effect size    ${effect![1]}`,
      );
      expect(readFileSync(plot, 'utf8')).toContain('class="effect-sentence"');
      expect(readFileSync(plot, 'utf8')).toContain('id="scatter-panel"');
    });

    it('runs the docs/correlation.md revenue-per-currency example as written: one effect per currency, in its units', async () => {
      const plot = join(workDir, 'revenue.svg');
      const { words, run } = await runDocsCommand(/## Effect size in business units/, {
        'revenue.svg': plot,
      });
      expect(words).toContain(REVENUE_PER_MINUTE_BY_CURRENCY_QUERY);
      expect(run.code).toBe(0);
      const designed = designedRevenueEffect();
      const sections = run.stdout.split(/^=== currency=(\w+) ===$/m).slice(1);
      expect(sections.filter((_, i) => i % 2 === 0)).toEqual(['EUR', 'JPY']);
      for (let i = 0; i < sections.length; i += 2) {
        const currency = sections[i] as 'EUR' | 'JPY';
        const effect = new RegExp(
          `effect size {4}\\+100 ms of p99 latency goes with (-[\\d.]+) ${currency} of revenue per minute 10m later \\(95% CI (-[\\d.]+) to (-[\\d.]+);`,
        ).exec(sections[i + 1]);
        expect({ currency, effect: effect !== null }).toEqual({ currency, effect: true });
        expect(Number(effect![2])).toBeLessThan(designed[currency]);
        expect(Number(effect![3])).toBeGreaterThan(designed[currency]);
        expect(readFileSync(plot.replace(/\.svg$/, `-${currency}.svg`), 'utf8')).toContain(
          `${currency} of revenue per minute`,
        );
      }
    });

    it('refuses the effect of +100 ms of a p95 that never moved that much, in the words docs/correlation.md quotes', async () => {
      const p95 = P99_LATENCY_QUERY.replace('0.99', '0.95');
      const run = await runCli([
        ...baseArgs().map((word) => (word === P99_LATENCY_QUERY ? p95 : word)),
        '--technical-name',
        'p95 latency',
        '--technical-unit',
        'ms',
        '--technical-scale',
        '1000',
        '--per',
        '100',
        '--business-name',
        'conversion',
      ]);
      expect(run.code).toBe(0);
      const refusal = /`(Effect of \+100 ms of p95 latency on conversion not stated: [^`]*)`/.exec(
        readFileSync(join(ROOT, 'docs/correlation.md'), 'utf8').replace(/\n\s*/g, ' '),
      );
      expect(refusal).not.toBeNull();
      expect(run.stdout).toContain(refusal![1]);
    });

    it('runs one analysis per currency through the library too', async () => {
      const service = new MetricCorrelationService({ url: prometheus.url });
      const groups = await service.correlateEach({
        technical: { query: P99_LATENCY_QUERY, unit: 'ms', scale: 1000 },
        business: { query: REVENUE_PER_MINUTE_BY_CURRENCY_QUERY, name: 'revenue', unit: '{by} per minute' },
        start: window.start,
        end: window.end,
        sentenceStep: 100,
        by: 'currency',
      });
      expect(groups.map((group) => [group.value, group.result?.business.unit, group.error])).toEqual([
        ['EUR', 'EUR per minute', undefined],
        ['JPY', 'JPY per minute', undefined],
      ]);
      const designed = designedRevenueEffect();
      for (const group of groups) {
        const effect = group.result!.effect;
        expect(effect.stated).toBe(true);
        expect(effect.lagSteps).toBe(2);
        expect(effect.ci95[0]).toBeLessThan(designed[group.value as 'EUR' | 'JPY']);
        expect(effect.ci95[1]).toBeGreaterThan(designed[group.value as 'EUR' | 'JPY']);
      }
      // A label the series do not carry is a usage error, not one error per group.
      await expect(
        service.correlateEach({
          technical: P99_LATENCY_QUERY,
          business: REVENUE_PER_MINUTE_BY_CURRENCY_QUERY,
          start: window.start,
          end: window.end,
          by: 'region',
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('runs the docs/correlation.md event-loop delay example as written (runtime metrics vs conversion)', async () => {
      const { words, run } = await runDocsCommand(/### Node runtime metrics: event-loop delay vs conversion/);
      expect(words).toContain(`max(${EVENT_LOOP_DELAY})`);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'Weak negative correlation between event-loop delay p99 and conversion: Pearson r = -0.26 (95% CI -0.32 to -0.2, p < 0.001, n = 864). Stronger with a lag: moderate (r = -0.67) with conversion 10m later.',
      );
      // Four times the latency's slope per millisecond: +100 ms of latency went with -0.147 points.
      expect(run.stdout).toContain(
        '+10 ms of event-loop delay p99 goes with -0.0588 percentage points of conversion',
      );
    });

    it('prints JSON with --json and writes an SVG with --plot', async () => {
      const plot = join(workDir, 'plot.svg');
      const run = await runCli([...baseArgs(), '--json', '--plot', plot]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe(`Plot written to ${plot}\n`);
      const json = JSON.parse(run.stdout);
      expect(json).toMatchObject({
        n: history.latency.length,
        step: STEP_SECONDS,
        strength: expect.stringMatching(/^(weak|moderate|strong)$/),
        direction: 'negative',
        technical: { expression: P99_LATENCY_QUERY, name: P99_LATENCY_QUERY },
        business: { expression: CONVERSION_QUERY },
        lag: { steps: 2, seconds: 600, maxLag: 12 },
        window: { start: window.start.replace(/\.000Z$/, '.000Z'), points: history.latency.length },
        prometheusUrl: prometheus.url,
      });
      expect(json.pearson.r).toBeCloseTo(expectedR0, 8);
      expect(json.pearson.ci95[0]).toBeLessThan(json.pearson.r);
      expect(json.pearson.pValue).toBeLessThan(0.001);
      expect(json.spearman.rho).toBeLessThan(0);
      expect(json.fit.slope).toBeLessThan(0);
      expect(json.lag.crossCorrelation).toHaveLength(25);
      expect(json).not.toHaveProperty('aligned');
      const svg = readFileSync(plot, 'utf8');
      expect(svg).toMatch(
        /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
      );
      expect(svg).toContain('id="time-series-panel"');
      expect(svg).toContain('id="scatter-panel"');
      expect(svg).toContain('id="fit-line"');
      expect(svg.match(/<circle class="point"/g)).toHaveLength(history.latency.length);
      expect(svg).toContain('histogram_quantile(0.99');
    });

    it.each([
      [
        'bad PromQL',
        ['--technical', 'rate(foo[5m]'],
        1,
        /PROMETHEUS_QUERY_ERROR: Prometheus rejected the query .*parse error/,
      ],
      ['several series', ['--business', PER_DEVICE_CART_VIEWS_QUERY], 1, /MULTIPLE_SERIES: .*device_type/],
      ['too few points', ['--business', SPARSE_QUERY], 1, /TOO_FEW_POINTS: Only \d+ aligned points?/],
      ['a constant series', ['--business', CONSTANT_QUERY], 1, /CONSTANT_SERIES: .* is constant/],
    ])('reports %s with the right exit code', async (_, extra, code, message) => {
      const args = baseArgs();
      // Later options override earlier ones for single-valued options.
      const run = await runCli([...args, ...extra]);
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(code);
      expect(run.stdout).toBe('');
    });
    // Usage errors, help and an unreachable server need no Prometheus: tests/cli/correlate.test.ts.
  });
});
