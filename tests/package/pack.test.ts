/**
 * The package as a user gets it: `npm pack`, installed into a scratch project, imported from CommonJS and ESM
 * (one shared singleton), and type-checked from both module systems.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

describe('published package', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'obm-pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: ROOT, stdio: 'pipe' });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'))!;
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'commonjs' }),
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`], {
      cwd: scratch,
      stdio: 'pipe',
    });
  }, 240_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const run = (file: string, source: string) => {
    writeFileSync(join(scratch, file), source);
    return execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8' });
  };

  it('works from CommonJS', () => {
    const output = run(
      'cjs.js',
      `const { initBusinessMetrics, businessMetrics, BUSINESS_METRICS } = require('otel-business-metrics');
       const handle = initBusinessMetrics('none');
       businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
       businessMetrics.getMetrics().then((text) => {
         console.log(Object.keys(BUSINESS_METRICS).length, /business_funnel_step_total\\{step="cart_view"/.test(text));
         return handle.shutdown();
       });`,
    );
    // The seed's nine families, plus refunds and the two money gauges (issue 16).
    expect(output.trim()).toBe('12 true');
  });

  it('works from ESM and shares one singleton with CommonJS', () => {
    const output = run(
      'esm.mjs',
      `import { createRequire } from 'node:module';
       import { initBusinessMetrics, businessMetrics } from 'otel-business-metrics';
       const required = createRequire(import.meta.url)('otel-business-metrics');
       const handle = initBusinessMetrics('none');
       required.businessMetrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
       const text = await businessMetrics.getMetrics();
       console.log(required.businessMetrics === businessMetrics, /business_revenue_cents_total\\{[^}]*\\} 2599/.test(text));
       await handle.shutdown();`,
    );
    expect(output.trim()).toBe('true true');
  });

  it('serves the correlation toolkit from otel-business-metrics/analysis only, to require and import alike', () => {
    const output = run(
      'analysis.mjs',
      `import { createRequire } from 'node:module';
       import * as analysis from 'otel-business-metrics/analysis';
       const require = createRequire(import.meta.url);
       const required = require('otel-business-metrics/analysis');
       const root = require('otel-business-metrics');
       const samples = (f) => Array.from({ length: 20 }, (_, i) => ({ timestamp: 60 * i, value: f(i) }));
       const result = analysis.correlateSeries(samples((i) => i), samples((i) => 3 * i + (i % 2)), { step: 60 });
       console.log(
         required.correlateSeries === analysis.correlateSeries,
         result.pearson.r > 0.99,
         'MetricCorrelationService' in root || 'pearson' in root,
         'naivePearson' in analysis || 'naivePearson' in root,
       );`,
    );
    expect(output.trim()).toBe('true true false false');
  });

  it('runs the otel-business-metrics command from the package (a usage error needs no server)', () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(join(scratch, 'node_modules/.bin/otel-business-metrics'), ['correlate'], {
        cwd: scratch,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      failure = error as { status?: number; stderr?: string };
    }
    expect(failure.status).toBe(2);
    expect(failure.stderr).toMatch(/--prometheus/);
  });

  it('ships type declarations for both module systems', () => {
    const usage = `
      import { initBusinessMetrics, businessMetrics, BusinessMetrics, type BusinessMetricsHandle } from 'otel-business-metrics';
      const handle: BusinessMetricsHandle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 } });
      businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web', experimentVariant: 'B' });
      // @ts-expect-error amountCents must be a number
      businessMetrics.recordRevenue('12', { productCategory: 'a', paymentMethod: 'b', region: 'c' });
      export const klass: typeof BusinessMetrics = BusinessMetrics;
      export const done: Promise<void> = handle.shutdown({ timeoutMillis: 100 });
      import { correlateSeries, type CorrelationResult } from 'otel-business-metrics/analysis';
      export const correlation: CorrelationResult = correlateSeries([], [], { step: 60 });
    `;
    writeFileSync(join(scratch, 'usage.ts'), usage);
    writeFileSync(join(scratch, 'usage.mts'), usage);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          // A Node project has @types/node; borrow the repo's instead of installing it again.
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['usage.ts', 'usage.mts'],
      }),
    );
    // skipLibCheck is off on purpose: the emitted declarations themselves must type-check.
    try {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: scratch, encoding: 'utf8' });
    } catch (error) {
      throw new Error(`tsc failed:\n${(error as { stdout?: string }).stdout ?? String(error)}`, {
        cause: error,
      });
    }
  });
});
