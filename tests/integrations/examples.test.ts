/**
 * The framework examples of docs/integrations.md, run as a user runs them: each file appears in the docs verbatim,
 * starts on the built package in a child process (NestJS's TypeScript transpiled with its decorators first), takes
 * the seed's checkout funnel over real HTTP, serves it on /metrics behind its token, and stops on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { readDoc } from '../docs/docs-files';
import { parseExposition } from '../support/exposition';

const ROOT = join(__dirname, '..', '..');
const TOKEN = 'example-token';
const STEPS = ['cart', 'shipping', 'payment', 'review', 'complete'];
const ORDER = {
  cartValueCents: 4599,
  itemCount: 1,
  orderValue: 4599,
  productCategory: 'books',
  paymentMethod: 'card',
  region: 'eu_west',
};

interface Example {
  readonly framework: string;
  readonly file: string;
  readonly ready: RegExp;
  /** The file to run: NestJS's TypeScript is transpiled first (decorators included). */
  readonly prepare?: (source: string) => string;
}

const EXAMPLES: Example[] = [
  { framework: 'Fastify', file: 'examples/fastify/app.mjs', ready: /Fastify shop at (http:\/\/\S+),/ },
  { framework: 'Hono', file: 'examples/hono/app.mjs', ready: /Hono shop at (http:\/\/\S+),/ },
  {
    framework: 'NestJS',
    file: 'examples/nestjs/main.mts',
    ready: /NestJS shop at (http:\/\/\S+),/,
    prepare(source) {
      const { code } = transformSync(source, {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
      });
      // Inside the repository, so `otel-business-metrics` resolves to this package (its dist/).
      const dir = join(ROOT, 'test-artifacts', 'examples');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'nestjs-main.mjs'), code);
      return join(dir, 'nestjs-main.mjs');
    },
  },
];

describe.each(EXAMPLES)('the $framework example', ({ file, ready, prepare }) => {
  const source = readFileSync(join(ROOT, file), 'utf8');

  it('appears verbatim in docs/integrations.md', () => {
    expect(readDoc('docs/integrations.md')).toContain(`\n${source}\`\`\``);
  });

  it('records the checkout funnel it takes over HTTP, serves it behind its token, and stops on SIGTERM', async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    const child = spawn(process.execPath, [prepare ? prepare(source) : join(ROOT, file)], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', METRICS_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = ready.exec(output);
          if (match) resolve(match[1]!.replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1'));
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        void exited.then((how) => reject(new Error(`example exited early (${String(how)}):\n${output}`)));
      });
      for (const step of STEPS) {
        const answer = await fetch(`${base}/api/checkout/${step}?utm_source=newsletter`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148',
          },
          body: JSON.stringify(ORDER),
        });
        expect([step, answer.status]).toEqual([step, expect.any(Number)]);
        expect(answer.ok).toBe(true);
      }
      const beacon = await fetch(`${base}/api/engagement`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          session: { userTier: 'pro', entryPage: '/', isNewUser: false },
          events: [{ kind: 'feature', name: 'size_guide' }],
        }),
      });
      expect(beacon.status).toBe(202);
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const scrape = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const exposition = parseExposition(await scrape.text());
      for (const step of ['cart_view', 'shipping_info', 'payment_info', 'order_review', 'order_confirmed']) {
        expect([
          step,
          exposition.value('business_funnel_step_total', {
            step,
            source: 'newsletter',
            device_type: 'mobile',
          }),
        ]).toEqual([step, 1]);
      }
      expect(exposition.value('business_revenue_cents_total', { product_category: 'books' })).toBe(4599);
      expect(exposition.value('business_feature_usage_total', { feature_name: 'size_guide' })).toBe(1);
      const routes = new Set(
        exposition.find('http_server_request_duration_seconds_count').map((s) => s.labels.http_route),
      );
      expect(routes.has('/api/checkout/:step')).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    // installShutdownHooks flushed and let SIGTERM end the process as it would have.
    expect(await exited).toBe('SIGTERM');
  }, 120_000);
});
