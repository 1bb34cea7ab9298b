/**
 * What each web framework adapter costs a request, on the real framework, in-process: the same app with the
 * adapter's HTTP server metrics (`ours`), with an empty hook of the kind the adapter installs (`hook`: an
 * `onRequest` hook that only calls `done`, a Hono middleware that only calls `next`, a route-handler wrapper that
 * only calls the handler), and without either (`none`), the same request made through the framework's own request
 * path. `ours` - `hook` is the adapter's own code (the `close` listener, reading the route, the recording), which
 * the <= 300 ns target is about, as the Express row measures its middleware alone; `ours` - `none` adds what the
 * framework charges for running a hook at all (Hono, for one, skips its middleware composition for a lone handler).
 * `hook-again` is the same app as `hook` in another process: `hook-again` - `hook` should be 0, and how far it is
 * from 0 says how small a difference the row can resolve on the machine it ran on.
 *
 * Frameworks (`framework` param): `fastify` (`app.inject`, the plugin's `onRequest` hook), `nestjs` (NestJS 12 on
 * the Fastify platform, the module's hook, through the Fastify instance's `inject`), `hono` (`app.fetch` with a Web
 * `Request` and Node's response in the environment, as `@hono/node-server` calls it), `next` (a Next.js route handler called as Next.js calls it, bare or wrapped
 * by `withHttpMetrics`). Express is the `http-middleware` row.
 *
 * Owns: those apps and their self-check (requests recorded = requests made, under the route pattern, status 200). Must not
 * touch: rounds, statistics (bench/run.mjs).
 */
/* global Request, Response */
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { DIST, loadPackage, parseExposition, require } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const COUNT = 'http_server_request_duration_seconds_count';
const entry = (name) => require(join(dirname(DIST), 'integrations', name, 'index.js'));

serveCase(async ({ variant, framework }) => {
  if (!['ours', 'hook', 'hook-again', 'none'].includes(variant))
    throw new Error(`no variant ${variant} in row web-frameworks`);
  const ours = variant === 'ours';
  // `hook-again` is `hook` in a process of its own: their difference (A/A) is what the row can resolve.
  const emptyHook = variant === 'hook' || variant === 'hook-again';
  // Calls of the empty hook, for the self-check.
  let hooked = 0;
  const pkg = loadPackage();
  const telemetry = pkg.initBusinessMetrics({
    exporters: ['prometheus'],
    prometheus: { preventServerStart: true },
    serviceName: 'bench',
    env: {},
  });
  let request;
  let route;
  let close = async () => undefined;
  if (framework === 'fastify') {
    const app = require('fastify')();
    if (ours) await app.register(entry('fastify').businessMetricsPlugin, { telemetry });
    if (emptyHook) app.addHook('onRequest', (_request, _reply, done) => (hooked++, done()));
    app.get('/product/:id', async () => 'ok');
    await app.ready();
    request = () => app.inject({ method: 'GET', url: '/product/42' });
    route = '/product/:id';
    close = () => app.close();
  } else if (framework === 'nestjs') {
    require('reflect-metadata');
    const { Controller, Get, Module } = require('@nestjs/common');
    const { NestFactory } = require('@nestjs/core');
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    class ProductController {
      product() {
        return 'ok';
      }
    }
    const method = Object.getOwnPropertyDescriptor(ProductController.prototype, 'product');
    Reflect.decorate([Get('/product/:id')], ProductController.prototype, 'product', method);
    Controller()(ProductController);
    class AppModule {}
    const imports = ours ? [entry('nestjs').BusinessMetricsModule.forRoot({ telemetry })] : [];
    Module({ imports, controllers: [ProductController] })(AppModule);
    const adapter = new FastifyAdapter();
    if (emptyHook) adapter.getInstance().addHook('onRequest', (_request, _reply, done) => (hooked++, done()));
    const app = await NestFactory.create(AppModule, adapter, { logger: false });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    request = () => fastify.inject({ method: 'GET', url: '/product/42' });
    route = '/product/:id';
    close = () => app.close();
  } else if (framework === 'hono') {
    const { Hono } = await import('hono');
    const app = new Hono();
    if (ours) app.use(entry('fetch').httpMetricsMiddleware({ telemetry }));
    if (emptyHook) app.use((_c, next) => (hooked++, next()));
    app.get('/product/:id', (c) => c.text('ok'));
    // As @hono/node-server calls it on Node: with Node's response in the environment, closed after each answer.
    const outgoing = new EventEmitter();
    outgoing.statusCode = 200;
    outgoing.writableFinished = true;
    const env = { incoming: {}, outgoing };
    const req = new Request('http://bench.local/product/42');
    request = async () => {
      await app.fetch(req, env);
      outgoing.emit('close');
      outgoing.removeAllListeners('close');
    };
    route = '/product/:id';
  } else if (framework === 'next') {
    // A route handler as Next.js calls it: the request and the route's context.
    const handler = async (_request, { params }) => new Response(`ok ${(await params).id}`);
    const wrapped = ours
      ? entry('fetch').withHttpMetrics('/api/products/[id]', handler, { telemetry })
      : emptyHook
        ? (request, context) => (hooked++, handler(request, context))
        : handler;
    const req = new Request('http://bench.local/api/products/42');
    const context = { params: Promise.resolve({ id: '42' }) };
    request = () => wrapped(req, context);
    route = '/api/products/[id]';
  } else {
    throw new Error(`no framework ${framework} in row web-frameworks`);
  }
  let made = 0;
  return {
    async round(iterations) {
      for (let i = 0; i < iterations; i++) await request();
      made += iterations;
    },
    async check() {
      // Recording happens when a response closes; let the last one close.
      await new Promise((resolve) => setImmediate(resolve));
      const samples = parseExposition(await telemetry.metrics.getMetrics()).filter((s) => s.name === COUNT);
      const total = samples.reduce((sum, s) => sum + s.value, 0);
      if (!ours) {
        const wrong = [];
        if (total !== 0) wrong.push(`recorded ${total} requests without the adapter`);
        if (emptyHook && hooked !== made)
          wrong.push(`the empty hook ran ${hooked} times for ${made} requests`);
        return wrong.length
          ? { ok: false, detail: wrong.join('; ') }
          : {
              ok: true,
              detail: `${made} requests, nothing recorded${emptyHook ? ', hook ran for each' : ''}`,
            };
      }
      const labelled = samples.filter((s) => s.labels.includes(`http_route="${route}"`));
      const wrong = [];
      if (total !== made) wrong.push(`recorded ${total} requests, made ${made}`);
      if (labelled.length !== 1) wrong.push(`series under ${route}: ${labelled.length}`);
      // Every request was answered: none may read as aborted (app.inject once made all of them look so).
      else if (!labelled[0].labels.includes('http_response_status_code="200"'))
        wrong.push(`recorded as ${labelled[0].labels}, not with status 200`);
      return wrong.length
        ? { ok: false, detail: wrong.join('; ') }
        : { ok: true, detail: `${total} requests` };
    },
    async close() {
      await close();
      await telemetry.shutdown();
    },
  };
});
