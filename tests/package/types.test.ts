/**
 * The published declarations in a strict TypeScript consumer, on TypeScript 5.9, 6 and 7 (7 is the native
 * compiler: its own `tsc` binary, run as a user runs it), with no `types` setting: TypeScript 6 and 7 load no
 * `@types` package by default, so whatever our .d.ts files need must be referenced from them. The consumer has
 * what a Node.js TypeScript app has installed (`@types/node`, and the frameworks of the entry points it uses: Express,
 * React, Fastify, NestJS, Hono);
 * the main entry is compiled alone (from ESM, nodenext, and CommonJS, node16), then every entry point together.
 * The compilers are devDependencies pinned exactly (`typescript`, `typescript-6` and `typescript-7`, npm aliases),
 * so `npm ci` brings them; the consumer's node_modules holds the packed tarball's files and links to this
 * repository's installed packages (nothing is downloaded at test time).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
/** The compiler packages in this repository's node_modules (package.json devDependencies). */
const COMPILERS = { '5.9': 'typescript', '6': 'typescript-6', '7': 'typescript-7' } as const;
/** What the consumer app has installed beside the package (its @types are the only ones TypeScript 5.9 loads). */
const CONSUMER_PACKAGES = [
  '@types/node',
  '@types/express',
  '@types/react',
  'express',
  'fastify',
  '@nestjs/common',
  '@nestjs/core',
  'reflect-metadata',
  'rxjs',
  'hono',
];

/** A typed use of each entry point, so the check reaches the declarations the app really touches. */
const CONSUMERS: Record<string, string> = {
  main: `import { initBusinessMetrics, businessMetrics, installShutdownHooks, type BusinessMetricsHandle } from 'otel-business-metrics';
const handle: BusinessMetricsHandle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 } });
installShutdownHooks(handle, { signals: ['SIGTERM'] });
businessMetrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu_west', currency: 'EUR' });
export const served: ((req: never, res: never) => void) | undefined = handle.metricsHandler;
export const url: string | undefined = handle.prometheus?.url;`,
  express: `import express from 'express';
import { metricsMiddleware, httpMetricsMiddleware } from 'otel-business-metrics/express';
import { initBusinessMetrics } from 'otel-business-metrics';
const telemetry = initBusinessMetrics('none');
const app = express();
app.use(httpMetricsMiddleware({ telemetry }));
app.get('/metrics', metricsMiddleware(telemetry));`,
  analysis: `import { correlateSeries } from 'otel-business-metrics/analysis';
const samples = [1, 2, 3].map((value, i) => ({ timestamp: 60 * i, value }));
export const r: number = correlateSeries(samples, samples, { step: 60 }).pearson.r;`,
  browser: `import { createEngagementClient } from 'otel-business-metrics/browser';
createEngagementClient({ endpoint: '/api/engagement', userTier: 'pro', entryPage: '/', isNewUser: false }).trackFeature('search');`,
  react: `import { useEngagementTracking } from 'otel-business-metrics/react';
export function usePage() { return useEngagementTracking({ userTier: 'pro', entryPage: '/', isNewUser: false }); }`,
  fastify: `import Fastify from 'fastify';
import { businessMetricsPlugin } from 'otel-business-metrics/fastify';
import { initBusinessMetrics } from 'otel-business-metrics';
const telemetry = initBusinessMetrics('none');
export const app = Fastify().register(businessMetricsPlugin, {
  telemetry,
  metrics: { auth: { bearerToken: 'token' } },
  engagement: { features: ['search'], resolveSession: (request, claimed) => ({ ...claimed, entryPage: request.url }) },
});`,
  nestjs: `import { Module } from '@nestjs/common';
import { BusinessMetricsModule, BUSINESS_METRICS } from 'otel-business-metrics/nestjs';
import { initBusinessMetrics } from 'otel-business-metrics';
const telemetry = initBusinessMetrics('none');
@Module({ imports: [BusinessMetricsModule.forRoot({ telemetry, metrics: true, engagement: { features: ['search'] } })] })
export class AppModule {}
export const token: string = BUSINESS_METRICS;`,
  fetch: `import { Hono } from 'hono';
import { engagementHandler, httpMetricsMiddleware, metricsHandler, withHttpMetrics } from 'otel-business-metrics/fetch';
const app = new Hono();
app.use(httpMetricsMiddleware());
const metrics = metricsHandler({ auth: { bearerToken: 'token' } });
app.all('/metrics', (c) => metrics(c.req.raw));
const beacon = engagementHandler({ features: ['search'] });
app.all('/api/engagement', (c) => beacon.forClient(c.req.raw, undefined));
export const GET = withHttpMetrics('/api/products/[id]', async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  Response.json({ id: (await context.params).id }),
);
export const POST = beacon;`,
};

describe('published declarations in a strict consumer', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'obm-types-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: ROOT, stdio: 'pipe' });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'))!;
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // The package as npm installs it: the tarball's files; its dependencies, peers and the app's own packages are
    // links to the installed copies (TypeScript follows a link to its real path, where their own imports resolve).
    const installed = join(scratch, 'node_modules', 'otel-business-metrics');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(scratch, tarball), '-C', installed, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    const linked = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
      ...CONSUMER_PACKAGES,
    ]);
    for (const name of linked) {
      const link = join(scratch, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), link, 'dir');
    }
  }, 60_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // The main entry alone (nothing else pulls in Node's types there), from ESM and CommonJS; then every entry point
  // in one ESM consumer.
  const cases = Object.keys(COMPILERS).flatMap((version) => [
    [version, 'main', 'nodenext'] as const,
    [version, 'main', 'node16'] as const,
    [version, 'every', 'nodenext'] as const,
  ]);

  /** The compiler's output for one case ('' when it compiled without errors). */
  async function compile(version: string, entry: string, module: string): Promise<string> {
    const dir = mkdtempSync(join(scratch, `${entry}-`));
    // nodenext + "type": "module" is an ESM app; node16 without it a CommonJS one (our require types).
    writeFileSync(join(dir, 'package.json'), JSON.stringify(module === 'nodenext' ? { type: 'module' } : {}));
    const files = entry === 'every' ? Object.keys(CONSUMERS) : [entry];
    for (const file of files) writeFileSync(join(dir, `${file}.ts`), `${CONSUMERS[file]}\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module,
          moduleResolution: module,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          jsx: 'react-jsx',
          // NestJS's decorators (the nestjs consumer).
          experimentalDecorators: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: files.map((file) => `${file}.ts`),
      }),
    );
    const tsc = join(ROOT, 'node_modules', COMPILERS[version as keyof typeof COMPILERS], 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      return '';
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      return `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message;
    }
  }

  // One compiler per core at a time: each case is CPU-bound and independent.
  const outputs = new Map<string, Promise<string>>();
  beforeAll(() => {
    const lanes = Array.from({ length: Math.min(availableParallelism(), cases.length) }, () =>
      Promise.resolve(),
    );
    cases.forEach(([version, entry, module], i) => {
      const output = lanes[i % lanes.length].then(() => compile(version, entry, module));
      lanes[i % lanes.length] = output.then(() => undefined);
      outputs.set(`${version} ${entry} ${module}`, output);
    });
  });

  it.each(cases)(
    'TypeScript %s compiles a consumer of the %s entry (module %s) without errors',
    async (version, entry, module) => {
      expect(await outputs.get(`${version} ${entry} ${module}`)).toBe('');
    },
    300_000,
  );

  it('runs the native compiler for TypeScript 7 (not the JavaScript one)', () => {
    const tsc = join(ROOT, 'node_modules', COMPILERS['7'], 'bin', 'tsc');
    expect(execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' })).toMatch(/^Version 7\./);
  });
});
