/**
 * The published declarations in a strict TypeScript consumer, on TypeScript 5.9, 6 and 7 (7 is the native
 * compiler: its own `tsc` binary, run as a user runs it), with no `types` setting: TypeScript 6 and 7 load no
 * `@types` package by default, so whatever our .d.ts files need must be referenced from them. The consumer has
 * what a Node.js TypeScript app has installed (`@types/node`, and the frameworks of the entry points it uses: Express,
 * React, Fastify, NestJS, Hono);
 * the main entry is compiled alone (from ESM, nodenext, and CommonJS, node16), then every entry point together.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const COMPILERS = {
  '5.9': 'ts59@npm:typescript@5.9.3',
  '6': 'ts6@npm:typescript@6.0.3',
  '7': 'ts7@npm:typescript@7.0.2',
};
const COMPILER_DIR: Record<keyof typeof COMPILERS, string> = { '5.9': 'ts59', '6': 'ts6', '7': 'ts7' };

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
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        `./${tarball}`,
        ...Object.values(COMPILERS),
        '@types/node@20',
        '@types/express@5',
        '@types/react@19',
        'express@5',
        'fastify@5',
        '@nestjs/common@12',
        '@nestjs/core@12',
        'reflect-metadata@0.2',
        'rxjs@7',
        'hono@4',
      ],
      { cwd: scratch, stdio: 'pipe' },
    );
  }, 300_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // The main entry alone (nothing else pulls in Node's types there), from ESM and CommonJS; then every entry point
  // in one ESM consumer.
  const cases = Object.keys(COMPILERS).flatMap((version) => [
    [version, 'main', 'nodenext'] as const,
    [version, 'main', 'node16'] as const,
    [version, 'every', 'nodenext'] as const,
  ]);

  it.each(cases)(
    'TypeScript %s compiles a consumer of the %s entry (module %s) without errors',
    (version, entry, module) => {
      const dir = mkdtempSync(join(scratch, `${entry}-`));
      // nodenext + "type": "module" is an ESM app; node16 without it a CommonJS one (our require types).
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify(module === 'nodenext' ? { type: 'module' } : {}),
      );
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
      const tsc = join(
        scratch,
        'node_modules',
        COMPILER_DIR[version as keyof typeof COMPILERS],
        'bin',
        'tsc',
      );
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string };
        output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
      }
      expect(output).toBe('');
    },
  );

  it('runs the native compiler for TypeScript 7 (not the JavaScript one)', () => {
    const tsc = join(scratch, 'node_modules', 'ts7', 'bin', 'tsc');
    expect(execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' })).toMatch(/^Version 7\./);
  });
});
