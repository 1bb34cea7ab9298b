/**
 * The package as a user gets it: `npm pack`, installed into a scratch project, imported from CommonJS and ESM
 * (one shared singleton), type-checked from both module systems, and installed next to other patches of the API and
 * the SDK (one API copy, working metrics).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOADED_MODULES_SNIPPET } from '../support/bundle-modules';

const ROOT = join(__dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

describe('published package', () => {
  let scratch: string;
  let tarball: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'obm-pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: ROOT, stdio: 'pipe' });
    tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'))!;
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

  it('serves the insight rules from otel-business-metrics/insights, the same as the packaged rule file', () => {
    const output = run(
      'insights.mjs',
      `import { createRequire } from 'node:module';
       import { readFileSync } from 'node:fs';
       import * as insights from 'otel-business-metrics/insights';
       const require = createRequire(import.meta.url);
       const required = require('otel-business-metrics/insights');
       const root = require('otel-business-metrics');
       const shipped = readFileSync(
         require.resolve('otel-business-metrics/package.json').replace('package.json', 'otel-collector/prometheus/rules/insights.yml'),
         'utf8',
       );
       console.log(
         required.insightRulesYaml === insights.insightRulesYaml,
         insights.insightRulesYaml() === shipped,
         insights.experienceScore(1, 0),
         'insightRulesYaml' in root,
       );`,
    );
    expect(output.trim()).toBe('true true 100 false');
  });

  it('serves the web framework entry points to require and import, each loading its framework only itself', () => {
    // The frameworks an app would have, installed beside the package (from npm's cache), so that an entry point
    // that loaded one it should not would show here.
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        'fastify@5',
        'hono@4',
        '@nestjs/common@12',
        '@nestjs/core@12',
        'reflect-metadata@0.2',
        'rxjs@7',
      ],
      { cwd: scratch, stdio: 'pipe' },
    );
    const output = run(
      'frameworks.mjs',
      `import { createRequire } from 'node:module';
       const require = createRequire(import.meta.url);
       ${LOADED_MODULES_SNIPPET}
       const FRAMEWORKS = ['fastify', 'hono', '@nestjs/common', '@nestjs/core', 'next', 'express', 'react'];
       const packageOf = (file) => {
         const [first, second] = file.slice(file.lastIndexOf('node_modules/') + 13).split('/');
         return first.startsWith('@') ? first + '/' + second : first;
       };
       const frameworks = () =>
         [...new Set(Object.keys(require.cache).map(packageOf).filter((name) => FRAMEWORKS.includes(name)))].sort();
       const root = await import('otel-business-metrics');
       // The package's modules that ran (from its bundle too: tests/support/bundle-modules.ts).
       const ownFiles = () => loadedModules().filter((file) => file.includes('/otel-business-metrics/dist/'));
       const integrations = () => ownFiles().filter((file) => file.includes('/dist/integrations/'));
       const loadedByMain = [...frameworks(), ...integrations()];
       const fastify = await import('otel-business-metrics/fastify');
       const fetchEntry = await import('otel-business-metrics/fetch');
       const nest = await import('otel-business-metrics/nestjs');
       const loadedByEntries = frameworks();
       // And the list sees the entry points' modules once they load.
       const entryModulesRan = ['fastify', 'fetch', 'nestjs'].map((entry) =>
         integrations().some((file) => file.includes('/dist/integrations/' + entry + '/')),
       );
       const same = [
         fastify.businessMetricsPlugin === require('otel-business-metrics/fastify').businessMetricsPlugin,
         fetchEntry.metricsHandler === require('otel-business-metrics/fetch').metricsHandler,
         nest.BusinessMetricsModule === require('otel-business-metrics/nestjs').BusinessMetricsModule,
       ];
       const telemetry = root.initBusinessMetrics({ exporters: ['prometheus'], prometheus: { preventServerStart: true } });
       // Fastify: the app's own Fastify runs the plugin.
       const Fastify = require('fastify');
       const app = Fastify();
       await app.register(fastify.businessMetricsPlugin, { telemetry, metrics: true });
       app.get('/product/:id', async () => 'ok');
       await app.inject('/product/1');
       const scraped = (await app.inject('/metrics')).body;
       // Web handlers on Hono.
       const { Hono } = await import('hono');
       const hono = new Hono();
       const metrics = fetchEntry.metricsHandler({ telemetry });
       hono.all('/metrics', (c) => metrics(c.req.raw));
       const honoAnswer = await hono.request('/metrics', { headers: { accept: 'application/openmetrics-text' } });
       // NestJS loads when the module is defined.
       const dynamicModule = nest.BusinessMetricsModule.forRoot({ telemetry, metrics: true });
       console.log(JSON.stringify({
         loadedByMain,
         loadedByEntries,
         entryModulesRan,
         same,
         fastifyRoute: scraped.includes('http_route="/product/:id"'),
         hono: [honoAnswer.status, honoAnswer.headers.get('content-type')],
         nest: [dynamicModule.global, dynamicModule.controllers.length, frameworks()],
       }));
       await app.close();
       await telemetry.shutdown();`,
    );
    expect(JSON.parse(output)).toEqual({
      loadedByMain: [],
      loadedByEntries: [],
      entryModulesRan: [true, true, true],
      same: [true, true, true],
      fastifyRoute: true,
      hono: [200, 'application/openmetrics-text; version=1.0.0; charset=utf-8'],
      // (Hono was imported as ESM, which require.cache does not list.)
      nest: [true, 1, ['@nestjs/common', '@nestjs/core', 'fastify']],
    });
  }, 240_000);

  it('says which optional framework is missing when an entry point needs it', () => {
    // Outside the scratch project, whose node_modules has NestJS.
    const app = mkdtempSync(join(tmpdir(), 'obm-without-nest-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'without-nest', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, tarball)], {
      cwd: app,
      stdio: 'pipe',
    });
    writeFileSync(
      join(app, 'check.js'),
      `const { BusinessMetricsModule } = require('otel-business-metrics/nestjs');
       try { BusinessMetricsModule.forRoot({}); console.log('loaded'); } catch (error) { console.log(error.name, error.message); }`,
    );
    const output = execFileSync(process.execPath, ['check.js'], { cwd: app, encoding: 'utf8' }).trim();
    rmSync(app, { recursive: true, force: true });
    expect(output).toMatch(
      /^OptionalPeerError otel-business-metrics\/nestjs needs the optional package @nestjs\/common \(NestJS 12\), which is not installed: npm install @nestjs\/common$/,
    );
  }, 120_000);

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

  it('joins an app that already has other patches of the API and the SDK: one API, working metrics', () => {
    // An existing app: @opentelemetry/api 1.9.0 and sdk-metrics 2.12.1, where our lockfile has 1.9.1 and 2.12.0.
    const app = join(scratch, 'existing-app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'existing-app',
        private: true,
        dependencies: { '@opentelemetry/api': '1.9.0', '@opentelemetry/sdk-metrics': '2.12.1' },
      }),
    );
    // No try/catch: if npm cannot install, execFileSync throws and the test fails with npm's stderr.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, tarball)], {
      cwd: app,
      stdio: 'pipe',
    });
    writeFileSync(
      join(app, 'check.js'),
      `const { readdirSync, existsSync, readFileSync } = require('node:fs');
       const { join } = require('node:path');
       // Every installed copy of a package, wherever npm put it in the tree.
       const copies = (name) => {
         const found = [];
         const walk = (modules) => {
           if (!existsSync(modules)) return;
           for (const entry of readdirSync(modules)) {
             if (entry.startsWith('.')) continue;
             const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((e) => join(modules, entry, e)) : [join(modules, entry)];
             for (const dir of dirs) {
               const manifest = join(dir, 'package.json');
               if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name) found.push(dir);
               walk(join(dir, 'node_modules'));
             }
           }
         };
         walk(join(__dirname, 'node_modules'));
         return found.map((dir) => dir.slice(__dirname.length + 1) + '@' + require(join(dir, 'package.json')).version);
       };
       const pkgDir = join(__dirname, 'node_modules/otel-business-metrics');
       const fromPkg = (id) => require.resolve(id, { paths: [pkgDir] });
       const api = require('@opentelemetry/api');
       const sdk = require('@opentelemetry/sdk-metrics');
       const { initBusinessMetrics, businessMetrics } = require('otel-business-metrics');
       const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 } });
       // The app registers the package's provider through its own API copy and records a technical metric there.
       api.metrics.setGlobalMeterProvider(handle.meterProvider);
       api.metrics.getMeter('existing-app').createCounter('app_requests').add(3);
       businessMetrics.recordRevenue(4242, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' });
       handle.ready
         .then(() => fetch(handle.prometheus.url))
         .then((res) => res.text())
         .then(async (text) => {
           console.log(JSON.stringify({
             apiCopies: copies('@opentelemetry/api'),
             sdkCopies: copies('@opentelemetry/sdk-metrics'),
             apiSameFile: fromPkg('@opentelemetry/api') === require.resolve('@opentelemetry/api'),
             apiSameObject: require(fromPkg('@opentelemetry/api')).metrics === api.metrics,
             sdkSameFile: fromPkg('@opentelemetry/sdk-metrics') === require.resolve('@opentelemetry/sdk-metrics'),
             providerIsAppSdk: handle.meterProvider instanceof sdk.MeterProvider,
             host: handle.prometheus.host,
             revenue: /^business_revenue_cents_total\\{[^}]*\\} 4242$/m.test(text),
             appCounter: /^app_requests_total\\{[^}]*\\} 3$/m.test(text),
           }));
           await handle.shutdown();
         });`,
    );
    const result = JSON.parse(execFileSync(process.execPath, ['check.js'], { cwd: app, encoding: 'utf8' }));
    const { sdkCopies, ...rest } = result as { sdkCopies: string[] } & Record<string, unknown>;
    expect(rest).toEqual({
      // The API is a peer dependency: the app's 1.9.0 is the only copy, so the package shares its globals.
      apiCopies: ['node_modules/@opentelemetry/api@1.9.0'],
      apiSameFile: true,
      apiSameObject: true,
      // Our caret range lets npm hand the package the app's own sdk-metrics 2.12.1: no copy of its own.
      sdkSameFile: true,
      providerIsAppSdk: true,
      host: '127.0.0.1',
      revenue: true,
      appCounter: true,
    });
    // Not a single copy in the tree, though: the upstream OTLP packages (0.223.0) pin sdk-metrics to exactly 2.12.0,
    // so npm nests that patch under them. They only read the exported data; the package's provider, readers and
    // instruments are the app's copy. Any other place a copy lands (e.g. under otel-business-metrics) fails here.
    expect(sdkCopies).toContain('node_modules/@opentelemetry/sdk-metrics@2.12.1');
    for (const copy of sdkCopies.filter((c) => c !== 'node_modules/@opentelemetry/sdk-metrics@2.12.1')) {
      expect(copy).toMatch(
        /^node_modules\/@opentelemetry\/(exporter-metrics-otlp-[a-z]+|otlp-[a-z-]+)\/node_modules\/@opentelemetry\/sdk-metrics@2\.12\.0$/,
      );
    }
  }, 120_000);

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
