/**
 * What each web framework adapter costs a request, on the real framework, in-process: the same app with the
 * adapter's HTTP server metrics (`ours`), with an empty hook of the kind the adapter installs (`hook`: an
 * `onRequest` hook that only calls `done`, a Hono middleware that only calls `next`, a route-handler wrapper that
 * only calls the handler), and without either (`none`), the same request made through the framework's own request
 * path. `ours` - `hook` is the adapter's own code (the `close` listener, reading the route, the recording), which
 * the <= 300 ns target is about, as the Express row measures its middleware alone; `ours` - `none` adds what the
 * framework charges for running a hook at all (Hono, for one, skips its middleware composition for a lone handler).
 * `hook-again` is the same app as `hook` in another process: `hook-again` - `hook` should be 0, and how far it is
 * from 0 says how small a difference the row can resolve on the machine it ran on. bench/run.mjs starts every
 * variant in several processes (replicas) and takes the differences process pair by process pair; this case
 * serves one process and knows nothing of that.
 *
 * Frameworks (`framework` param): `fastify` (`app.inject`, the plugin's `onRequest` hook), `nestjs` (NestJS 12 on
 * the Fastify platform, the module's hook, through the Fastify instance's `inject`), `hono` (the app served by
 * `@hono/node-server`'s own request listener, as `serve()` runs it on Node: its light Request around Node's
 * request, its light Response, the answer written to a Node-like response made per request and closed after it;
 * not `app.fetch` with undici's Request and Response and one response reused for every request, which no Node
 * server does and which made the adapter's `close` listener cost more), `next` (a Next.js route handler called as
 * Next.js calls it, with a `NextRequest` and the route's context, bare or wrapped by `withHttpMetrics`). Express
 * is the `http-middleware` row.
 *
 * `measure: 'hooks'` (Fastify and NestJS only): an `inject` request costs 20-30 us and a process differs from the
 * next by microseconds, far more than 300 ns, so these rows also measure the part of Fastify's request path the
 * adapter lives in, alone. One real request through `inject` (the same app) hands over Fastify's own `request`
 * and `reply` of the matched route (a `preHandler` hook in every variant keeps them); then each operation is what
 * Fastify does per request around `onRequest` and what Node does when the response ends: Fastify's own
 * `onRequestHookRunner` (fastify/lib/hooks.js) over the route context's `onRequest` hooks (the plugin's or
 * module's hook, the empty hook, or none: Fastify calls no runner then), with those objects, then `close` emitted
 * on `reply.raw` (the light-my-request response, ended with 200) and its `close` listeners removed, in every
 * variant; `reply.raw.finished` (what `end()` sets, `reply.sent` reads) is false while the hooks run and true
 * again for `close`, as on a request whose reply is sent after its hooks. So `ours` - `hook` is the adapter's own
 * hook and its `close` listener (clock, route context, scheme, status, recording), on the real framework's objects
 * and runner, not a mock; what it leaves out is the rest of a request (routing, parsing, the handler, the reply),
 * the same in every variant, and how cold the caches are in a whole request. The capturing request counts as one
 * request made.
 *
 * `measure: 'ready'` (Hono and Next.js only): the same request path, with a route handler that answers with a
 * `Response` built once, at setup, instead of one per request. Building a Web `Response` (undici's body stream,
 * made transferable) is over half a request's CPU in the Next.js rows; it is the handler's work, not the
 * framework's or the adapter's, and it leaves the adapter's few hundred ns running in caches it has just filled
 * with other things. So `ours` - `hook` here is the adapter's own work on the framework's real request path (Hono:
 * @hono/node-server's listener, routing, its Context and middleware composition and the Node response's `close`;
 * Next.js: the handler called with a `NextRequest` and the route's context, its promise awaited), as the `hooks`
 * rows are for Fastify; what it leaves out is the handler's Response and how cold the caches are after one.
 *
 * Owns: those apps and their self-check (requests recorded = requests made, under the route pattern, status 200). Must not
 * touch: rounds, statistics (bench/run.mjs).
 */
/* global Response */
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { DIST, loadPackage, parseExposition, require } from '../lib/workload.mjs';
import { serveCase } from '../lib/child.mjs';

const COUNT = 'http_server_request_duration_seconds_count';
const entry = (name) => require(join(dirname(DIST), 'integrations', name, 'index.js'));

serveCase(async ({ variant, framework, measure = 'inject' }) => {
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
  // `measure: 'hooks'`: the request and reply of one real request, kept by a hook of the kind no variant measures.
  const hookPath = measure === 'hooks';
  // `measure: 'ready'`: the handler answers with a Response built once (never read: no body consumed).
  const readyPath = measure === 'ready';
  if (
    !['inject', 'hooks', 'ready'].includes(measure) ||
    (hookPath && !['fastify', 'nestjs'].includes(framework)) ||
    (readyPath && !['hono', 'next'].includes(framework))
  )
    throw new Error(`no measure ${measure} for ${framework} in row web-frameworks`);
  let kept;
  const keep = (request, reply, done) => {
    kept ??= { request, reply };
    done();
  };
  let made = 0;
  if (framework === 'fastify') {
    const app = require('fastify')();
    if (ours) await app.register(entry('fastify').businessMetricsPlugin, { telemetry });
    if (emptyHook) app.addHook('onRequest', (_request, _reply, done) => (hooked++, done()));
    if (hookPath) app.addHook('preHandler', keep);
    app.get('/product/:id', async () => 'ok');
    await app.ready();
    request = () => app.inject({ method: 'GET', url: '/product/42' });
    if (hookPath) request = await hookRunner(request, 'fastify');
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
    if (hookPath) adapter.getInstance().addHook('preHandler', keep);
    const app = await NestFactory.create(AppModule, adapter, { logger: false });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    request = () => fastify.inject({ method: 'GET', url: '/product/42' });
    if (hookPath)
      request = await hookRunner(
        request,
        require.resolve('fastify', { paths: [require.resolve('@nestjs/platform-fastify')] }),
      );
    route = '/product/:id';
    close = () => app.close();
  } else if (framework === 'hono') {
    const { Hono } = await import('hono');
    const { getRequestListener } = require('@hono/node-server');
    const app = new Hono();
    // @hono/node-server's own listener, as `serve()` runs it on Node: it puts its light Request and Response in
    // place of the global ones (so the ready Response is built after it), wraps Node's request and writes the
    // answer to Node's response.
    const listener = getRequestListener(app.fetch);
    const ready = readyPath ? new Response('ok 42') : undefined;
    if (ours) app.use(entry('fetch').httpMetricsMiddleware({ telemetry }));
    if (emptyHook) app.use((_c, next) => (hooked++, next()));
    app.get('/product/:id', readyPath ? () => ready : (c) => c.text('ok'));
    const incoming = { method: 'GET', url: '/product/42', headers: { host: 'bench.local' }, socket: {} };
    request = async () => {
      // A response of its own per request, as Node's server makes one, closed once the listener has answered.
      const outgoing = new EventEmitter();
      outgoing.statusCode = 200;
      outgoing.writableFinished = false;
      outgoing.writeHead = (status) => {
        outgoing.statusCode = status;
      };
      outgoing.end = () => {
        outgoing.writableFinished = true;
      };
      await listener(incoming, outgoing);
      if (!outgoing.writableFinished) throw new Error('@hono/node-server did not end the response');
      outgoing.emit('close');
    };
    route = '/product/:id';
  } else if (framework === 'next') {
    // A route handler as Next.js calls it: the request and the route's context.
    const ready = readyPath ? new Response('ok 42') : undefined;
    const handler = readyPath
      ? async (_request, { params }) => ((await params).id, ready)
      : async (_request, { params }) => new Response(`ok ${(await params).id}`);
    const wrapped = ours
      ? entry('fetch').withHttpMetrics('/api/products/[id]', handler, { telemetry })
      : emptyHook
        ? (request, context) => (hooked++, handler(request, context))
        : handler;
    // What Next.js hands a route handler: a NextRequest (its own `url` getter, undici's `method` and `signal`).
    const { NextRequest } = require('next/server');
    const req = new NextRequest('http://bench.local/api/products/42');
    const context = { params: Promise.resolve({ id: '42' }) };
    request = () => wrapped(req, context);
    route = '/api/products/[id]';
  } else {
    throw new Error(`no framework ${framework} in row web-frameworks`);
  }

  /**
   * One real request (`inject`), then an operation over its request and reply as described in the header, with
   * the hook runner of the Fastify at `fastifyPath` (the app's own: NestJS brings its platform's).
   */
  async function hookRunner(inject, fastifyPath) {
    const response = await inject();
    made++;
    if (response.statusCode !== 200 || kept === undefined)
      throw new Error(
        `the capturing request answered ${response.statusCode}${kept ? '' : ', no request kept'}`,
      );
    const { onRequestHookRunner } = require(join(dirname(require.resolve(fastifyPath)), 'lib', 'hooks.js'));
    const { request: fastifyRequest, reply } = kept;
    const contextKey = Object.getOwnPropertySymbols(fastifyRequest).find(
      (key) => key.description === 'fastify.context',
    );
    const hooks = fastifyRequest[contextKey]?.onRequest;
    if (hooks === undefined) throw new Error('no route context on the Fastify request');
    // NestJS may hook requests itself; the app without our hook or the empty one has none of its own on Fastify.
    if (hooks === null ? variant !== 'none' : variant === 'none' && framework === 'fastify')
      throw new Error(`onRequest hooks ${hooks === null ? 'absent' : 'present'} for variant ${variant}`);
    const raw = reply.raw;
    if (!raw.writableEnded || raw.statusCode !== 200) throw new Error('reply.raw has not ended with 200');
    // Node keeps `close` listeners after the event: the adapter's, which recorded the capturing request (the
    // self-check says if it did not). Each operation removes every listener after its `close`, so it must be alone.
    raw.removeAllListeners('close');
    // What `end()` sets and `writableEnded` (so `reply.sent`) reads: false while the hooks run, or Fastify's runner
    // skips them on a sent reply; true again when `close` comes, as after a response sent in full.
    if (Object.getOwnPropertyDescriptor(raw, 'finished')?.writable !== true)
      throw new Error('reply.raw keeps no writable `finished`');
    const proceed = (error) => {
      if (error) throw error;
    };
    return () => {
      raw.finished = false;
      if (hooks !== null) onRequestHookRunner(hooks, fastifyRequest, reply, proceed);
      else proceed(null);
      raw.finished = true;
      raw.emit('close');
      raw.removeAllListeners('close');
    };
  }
  // The hook path is synchronous: awaiting each operation would add a microtask to a 100-300 ns operation.
  const sync = hookPath;
  return {
    async round(iterations) {
      if (sync) for (let i = 0; i < iterations; i++) request();
      else for (let i = 0; i < iterations; i++) await request();
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
