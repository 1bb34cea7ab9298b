/**
 * docs/safety.md: its code examples run here as written (between the `README example` markers; the docs import
 * from 'otel-business-metrics'), its prose tables match the sources of truth (self-metrics, drop and relabel
 * reasons, strict-mode messages), and the generated limits/labels tables sit inside it.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBusinessMetrics, installShutdownHooks, SELF_METRICS, prometheusFamilyName } from '../../src';
import { DROP_REASONS, RELABEL_REASONS } from '../../src/guard/reasons';
import { requireBinary } from '../support/binaries';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { startPrometheus } from '../support/prometheus-server';
import { withEnv } from '../support/env';
import { waitUntil } from '../support/wait';

const SAFETY_DOC = join(__dirname, '../../docs/safety.md');
const prometheus = requireBinary('prometheus', 'apt-get install prometheus');

const STRICT_MESSAGES = [
  'businessMetrics.recordRevenue: amountCents must be a finite number between 0 and 1000000000000 (limits.maxAmountCents) (got -5)',
  'businessMetrics.recordFunnelStep: metadata.deviceType must be one of desktop, mobile, tablet, web, bot, unknown ' +
    '(configure limits.labels.device_type to allow more) (got "fridge")',
];

describe('docs/safety.md examples, run as written', () => {
  it('strict mode throws the TypeErrors the docs show', async () => {
    const telemetry = initBusinessMetrics({ exporters: ['none'], strict: true });
    try {
      expect(() =>
        telemetry.metrics.recordRevenue(-5, {
          productCategory: 'books',
          paymentMethod: 'card',
          region: 'eu_west',
        }),
      ).toThrow(new TypeError(STRICT_MESSAGES[0]));
      expect(() =>
        telemetry.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'fridge' }),
      ).toThrow(new TypeError(STRICT_MESSAGES[1]));
    } finally {
      await telemetry.shutdown();
    }
  });

  it('configuring the limits', async () => {
    const restore = withEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: '0' }); // the example's default port, made free
    // --- README example: limits ---
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      limits: {
        maxSeriesPerMetric: 5000,
        labels: {
          source: { kind: 'capped', maxValues: 200, known: ['direct', 'in_app', 'newsletter'] },
          device_type: { kind: 'allow', values: ['desktop', 'mobile', 'tablet', 'web', 'tv'] },
        },
      },
    });
    // --- end ---
    try {
      await telemetry.ready;
      for (let i = 0; i < 250; i++)
        telemetry.metrics.recordFunnelStep('cart_view', { source: `s${i}`, deviceType: 'tv' });
      const text = await telemetry.metrics.getMetrics();
      expect(text).toMatch(
        /^business_funnel_step_total\{step="cart_view",source="s199",device_type="tv".* 1$/m,
      );
      expect(text).toMatch(
        /^business_funnel_step_total\{step="cart_view",source="other",device_type="tv".* 50$/m,
      );
    } finally {
      await telemetry.shutdown();
      restore();
    }
  });

  it('shutdown hooks', async () => {
    const receiver = await startOtlpReceiver();
    const restore = withEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace('/v1/metrics', ''),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', // the test receiver decodes JSON
    });
    const listeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
    const before = listeners();
    // --- README example: hooks ---
    const telemetry = initBusinessMetrics({ exporters: ['otlp'] });
    const removeHooks = installShutdownHooks(telemetry, { timeoutMillis: 5000 });
    // --- end ---
    try {
      expect(listeners()).toBe(before + 2);
      telemetry.metrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
      removeHooks();
      expect(listeners()).toBe(before);
      await telemetry.shutdown({ timeoutMillis: 5000 });
      expect(receiver.requests.length).toBeGreaterThan(0); // shutdown flushed to the configured endpoint
    } finally {
      restore();
      await receiver.close();
    }
  });

  (prometheus ? it : it.skip)(
    'a bearer-protected standalone endpoint, scraped by a real Prometheus',
    async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'obm-readme-'));
      const restore = withEnv({ METRICS_TOKEN: 'readme-example-token', OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
      // --- README example: auth ---
      const telemetry = initBusinessMetrics({
        exporters: ['prometheus'],
        prometheus: { auth: { bearerToken: process.env.METRICS_TOKEN! } },
      });
      // --- end ---
      let server: Awaited<ReturnType<typeof startPrometheus>> | undefined;
      try {
        await telemetry.ready;
        telemetry.metrics.recordRevenue(4200, {
          productCategory: 'books',
          paymentMethod: 'card',
          region: 'eu_west',
        });
        expect((await fetch(telemetry.prometheus!.url)).status).toBe(401);
        // The prometheus.yml of docs/safety.md; only the token file path and the target port differ.
        const tokenFile = join(workDir, 'shop-metrics-token');
        writeFileSync(tokenFile, `${process.env.METRICS_TOKEN}\n`);
        const config = readmeYaml()
          .replace('/etc/prometheus/shop-metrics-token', tokenFile)
          .replace("'127.0.0.1:9464'", `'127.0.0.1:${telemetry.prometheus!.port}'`);
        server = await startPrometheus(prometheus!, { config: `global:\n  scrape_interval: 1s\n${config}` });
        const query = async (promql: string) =>
          (
            await server!.api<{ data: { result: Array<{ value: [number, string] }> } }>(
              `/api/v1/query?query=${encodeURIComponent(promql)}`,
            )
          ).data.result;
        await waitUntil(
          'Prometheus to scrape the protected endpoint',
          async () => (await query('business_revenue_cents_total{job="shop"}')).length > 0,
          { timeoutMillis: 20_000 },
        );
        expect((await query('up{job="shop"}'))[0].value[1]).toBe('1');
        expect((await query('business_revenue_cents_total{job="shop"}'))[0].value[1]).toBe('4200');
      } finally {
        await server?.stop();
        await telemetry.shutdown();
        restore();
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  );

  it("metricsHandler behind the app's own auth (Express)", async () => {
    const app = express();
    const requireAdmin = (req: Request, res: Response, next: NextFunction) =>
      req.get('x-role') === 'admin' ? next() : void res.status(403).send('forbidden');
    // --- README example: mount ---
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
    });
    app.get('/internal/metrics', requireAdmin, (req, res) => telemetry.metricsHandler!(req, res));
    // --- end ---
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      telemetry.metrics.recordRevenue(4200, {
        productCategory: 'books',
        paymentMethod: 'card',
        region: 'eu_west',
      });
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/internal/metrics`;
      expect((await fetch(url)).status).toBe(403);
      const allowed = await fetch(url, { headers: { 'x-role': 'admin' } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toMatch(/^business_revenue_cents_total\{.*\} 4200$/m);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await telemetry.shutdown();
    }
  });
});

/** docs/safety.md, the whole file: it is the Safety chapter. */
function safetySection(): string {
  const text = readFileSync(SAFETY_DOC, 'utf8');
  if (!text.startsWith('# Safety\n')) throw new Error('docs/safety.md does not start with "# Safety"');
  return text;
}

function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]);
}

function readmeYaml(): string {
  const blocks = codeBlocks(safetySection(), 'yaml');
  if (blocks.length !== 1)
    throw new Error(`expected one yaml block in docs/safety.md, found ${blocks.length}`);
  return blocks[0];
}

/** The code between this file's README example markers, dedented. */
function markedExamples(): Map<string, string> {
  const source = readFileSync(__filename, 'utf8');
  const examples = new Map<string, string>();
  for (const [, name, body] of source.matchAll(
    /\/\/ --- README example: (\w+) ---\n([\s\S]*?)\n\s*\/\/ --- end ---/g,
  )) {
    const lines = body.split('\n');
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
    examples.set(name, lines.map((l) => l.slice(indent)).join('\n'));
  }
  return examples;
}

describe('docs/safety.md matches the code', () => {
  it('contains every example this file runs, verbatim', () => {
    const blocks = codeBlocks(safetySection(), 'ts');
    const examples = markedExamples();
    expect([...examples.keys()].sort()).toEqual(['auth', 'hooks', 'limits', 'mount']);
    for (const [name, code] of examples)
      expect({ name, inReadme: blocks.includes(code) }).toEqual({ name, inReadme: true });
  });

  it('shows the strict-mode messages the package really throws', () => {
    const strictBlock = codeBlocks(safetySection(), 'ts').find((block) => block.includes('strict: true'));
    expect(strictBlock).toBeDefined();
    // `// TypeError: ...` comments, continuation lines (`//   ...`) joined with a space.
    const shown = strictBlock!
      .split('\n')
      .filter((line) => line.startsWith('//'))
      .map((line) => line.replace(/^\/\/\s*/, ''))
      .reduce<string[]>((messages, line) => {
        if (line.startsWith('TypeError: ')) messages.push(line.slice('TypeError: '.length));
        else messages[messages.length - 1] += ` ${line}`;
        return messages;
      }, []);
    expect(shown).toEqual(STRICT_MESSAGES);
  });

  it('lists every self-metric with its labels, and every drop and relabel reason', () => {
    const section = safetySection();
    const table = section.split('\n').filter((line) => line.startsWith('| `business_metrics_'));
    const listed = table.map((line) => {
      const [family, labels] = line
        .split('|')
        .slice(1, 3)
        .map((cell) => cell.trim());
      return {
        family: family.replace(/`/g, ''),
        labels: labels
          .split(',')
          .map((l) => l.trim().replace(/`/g, ''))
          .filter((l) => l !== ''), // an empty cell: a metric without labels
      };
    });
    expect(listed).toEqual(
      Object.values(SELF_METRICS).map((def) => ({
        family: prometheusFamilyName(def),
        labels: [...def.labels],
      })),
    );
    const droppedRow = table.find((line) => line.startsWith('| `business_metrics_dropped_total`'))!;
    const relabelRow = table.find((line) => line.startsWith('| `business_metrics_label_overflow_total`'))!;
    // "`reason` is one of `a`, `b` (remarks), ...": the backticked words after "one of", outside parentheses.
    const reasonsIn = (row: string) =>
      [
        ...row
          .split('|')[3]
          .split('one of')[1]
          .replace(/\([^)]*\)/g, '')
          .matchAll(/`([a-z_]+)`/g),
      ].map((m) => m[1]);
    expect(reasonsIn(droppedRow).sort()).toEqual([...DROP_REASONS].sort());
    expect(reasonsIn(relabelRow).sort()).toEqual([...RELABEL_REASONS].sort());
    for (const reason of DROP_REASONS) expect(section).toContain(`{reason="${reason}"}`);
    for (const reason of RELABEL_REASONS) expect(section).toContain(`{reason="${reason}"}`);
  });

  it('holds the generated limits and labels tables (checked against DEFAULT_LIMITS and DEFAULT_LABEL_POLICIES by tests/docs)', () => {
    const section = safetySection();
    expect(section).toContain('<!-- generated:limits -->');
    expect(section).toContain('<!-- generated:labels -->');
    expect(section).not.toContain('<!-- part:safety -->');
  });
});
