/**
 * src/integrations/fetch/http-metrics.ts directly. `withHttpMetrics` around route handlers as Next.js calls them
 * (a Web `Request` and the route's context): the request is recorded under the route you name when the handler
 * returns, with its status, as 500 when it throws or rejects (the error still reaching the framework), as aborted
 * when the client's signal aborted by then, with the scheme of the URL; into the handle given, or the live one.
 * `httpMetricsMiddleware` on real Hono apps: the pattern Hono matched (none when no route answered), timed until the
 * Node response closes on `@hono/node-server` (a client that went away is aborted), and after the app's response is
 * ready elsewhere (Hono's own `app.request`).
 */
import { request as nodeRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../../src';
import { httpMetricsMiddleware, withHttpMetrics } from '../../../src/integrations/fetch/http-metrics';
import { recordedRequests as recorded, recordedWhen } from '../../support/http-requests';

let telemetry: BusinessMetricsHandle;
beforeEach(() => {
  telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
});
afterEach(() => telemetry.shutdown({ timeoutMillis: 2000 }));

describe('withHttpMetrics', () => {
  it('records each answer under the named route with its status and scheme, passing the context through', async () => {
    const contexts: unknown[] = [];
    const GET = withHttpMetrics(
      '/api/products/[id]',
      async (request: Request, context: { params: Promise<{ id: string }> }) => {
        contexts.push(await context.params);
        return new Response(null, { status: new URL(request.url).searchParams.has('missing') ? 404 : 200 });
      },
      { telemetry },
    );
    const params = Promise.resolve({ id: 'p-1' });
    expect((await GET(new Request('http://127.0.0.1/api/products/p-1'), { params })).status).toBe(200);
    expect((await GET(new Request('https://shop.example/api/products/p-2?missing'), { params })).status).toBe(
      404,
    );
    const sync = withHttpMetrics('/health', () => new Response('ok'), { telemetry });
    expect(
      await (sync(new Request('http://127.0.0.1/health', { method: 'HEAD' }), undefined) as Response).text(),
    ).toBe('ok');
    expect(contexts).toEqual([{ id: 'p-1' }, { id: 'p-1' }]);
    expect(await recorded(telemetry)).toEqual({
      'GET /api/products/[id] 200 http -': 1,
      'GET /api/products/[id] 404 https -': 1,
      'HEAD /health 200 http -': 1,
    });
  });

  it('records a throwing or rejecting handler as 500 and lets the error go on to the framework', async () => {
    const thrown = withHttpMetrics(
      '/throws',
      () => {
        throw new Error('sync failure');
      },
      { telemetry },
    );
    const rejected = withHttpMetrics('/rejects', () => Promise.reject(new Error('async failure')), {
      telemetry,
    });
    expect(() => thrown(new Request('http://127.0.0.1/throws', { method: 'POST' }), undefined)).toThrow(
      'sync failure',
    );
    await expect(rejected(new Request('http://127.0.0.1/rejects'), undefined)).rejects.toThrow(
      'async failure',
    );
    expect(await recorded(telemetry)).toEqual({
      'POST /throws 500 http 500': 1,
      'GET /rejects 500 http 500': 1,
    });
  });

  it("records Next.js's redirect() and notFound() with the status Next.js answers them with", async () => {
    // The functions a route handler calls (next/navigation), which throw what Next.js turns into a response.
    const { redirect, permanentRedirect, notFound } =
      jest.requireActual<typeof import('next/navigation')>('next/navigation');
    const moved = withHttpMetrics('/old', () => permanentRedirect('/new'), { telemetry });
    const login = withHttpMetrics('/account', async () => redirect('/login'), { telemetry });
    const missing = withHttpMetrics('/api/items/[id]', async () => notFound(), { telemetry });
    const digests: unknown[] = [];
    const digestOf = (error: unknown) => digests.push((error as { digest?: unknown }).digest);
    try {
      moved(new Request('http://127.0.0.1/old'), undefined);
    } catch (error) {
      digestOf(error);
    }
    await (login(new Request('http://127.0.0.1/account'), undefined) as Promise<Response>).catch(digestOf);
    await (missing(new Request('http://127.0.0.1/api/items/9'), undefined) as Promise<Response>).catch(
      digestOf,
    );
    // The errors still reach Next.js, which answers 308, 307 and 404 for them.
    expect(digests).toEqual([
      'NEXT_REDIRECT;replace;/new;308;',
      'NEXT_REDIRECT;replace;/login;307;',
      'NEXT_HTTP_ERROR_FALLBACK;404',
    ]);
    expect(await recorded(telemetry)).toEqual({
      'GET /old 308 http -': 1,
      'GET /account 307 http -': 1,
      'GET /api/items/[id] 404 http -': 1,
    });
  });

  it('records a handler that returns no Response as 500, as Next.js answers it, without throwing itself', async () => {
    const nothing = withHttpMetrics('/nothing', (() => undefined) as unknown as () => Response, {
      telemetry,
    });
    const plain = withHttpMetrics('/plain', (async () => ({ status: 200 })) as unknown as () => Response, {
      telemetry,
    });
    // A thenable that is not a promise of this realm (another realm's, or hand-made): awaited all the same.
    const thenable = withHttpMetrics(
      '/thenable',
      (() => ({
        then: (resolve: (response: Response) => void) => resolve(new Response(null, { status: 201 })),
      })) as unknown as () => Response,
      { telemetry },
    );
    const brokenThen = withHttpMetrics(
      '/broken-then',
      (() => ({
        then() {
          throw new Error('then failed');
        },
      })) as unknown as () => Response,
      { telemetry },
    );
    expect(nothing(new Request('http://127.0.0.1/nothing'), undefined)).toBeUndefined();
    expect(await plain(new Request('http://127.0.0.1/plain'), undefined)).toEqual({ status: 200 });
    expect((await thenable(new Request('http://127.0.0.1/thenable'), undefined)).status).toBe(201);
    await expect(
      (async () => await brokenThen(new Request('http://127.0.0.1/broken-then'), undefined))(),
    ).rejects.toThrow('then failed');
    expect(await recorded(telemetry)).toEqual({
      'GET /nothing 500 http 500': 1,
      'GET /plain 500 http 500': 1,
      'GET /thenable 201 http -': 1,
      'GET /broken-then 500 http 500': 1,
    });
  });

  it("records a request whose client's signal aborted before the handler returned as aborted", async () => {
    const client = new AbortController();
    const handler = withHttpMetrics(
      '/slow',
      async () => {
        client.abort();
        return new Response('too late');
      },
      { telemetry },
    );
    await handler(new Request('http://127.0.0.1/slow', { signal: client.signal }), undefined);
    expect(await recorded(telemetry)).toEqual({ 'GET /slow - http aborted': 1 });
  });

  it('records into the live handle without options, and refuses a route that is not a pattern', async () => {
    const handler = withHttpMetrics('/live', () => new Response('ok'));
    await handler(new Request('http://127.0.0.1/live'), undefined);
    expect(await recorded(telemetry)).toEqual({ 'GET /live 200 http -': 1 });
    expect(() => withHttpMetrics('', () => new Response('ok'))).toThrow(
      new TypeError('withHttpMetrics: route must be the route pattern'),
    );
  });
});

describe('httpMetricsMiddleware on real Hono apps', () => {
  function shop(): Hono {
    const app = new Hono();
    app.use(httpMetricsMiddleware({ telemetry }));
    app.get('/product/:id', (c) => c.text(`product ${c.req.param('id')}`));
    app.post('/boom', () => {
      throw new Error('boom');
    });
    return app;
  }

  it("records the pattern Hono matched, and no route when Hono's not-found handler answered (app.request)", async () => {
    const app = shop();
    expect((await app.request('/product/1')).status).toBe(200);
    expect((await app.request('/product/2')).status).toBe(200);
    expect((await app.request('/no/such/page')).status).toBe(404);
    expect((await app.request('/boom', { method: 'POST' })).status).toBe(500);
    expect(await recorded(telemetry)).toEqual({
      'GET /product/:id 200 http -': 2,
      'GET - 404 http -': 1,
      'POST /boom 500 http 500': 1,
    });
  });

  it('records no route when another middleware of app.use answered, or called next() into the not-found handler', async () => {
    const app = new Hono();
    app.use(httpMetricsMiddleware({ telemetry }));
    app.use('*', async (_c, next) => next());
    app.use('/admin/*', async (c, next) => (c.req.header('authorization') ? next() : c.text('no', 401)));
    app.get('/admin/reports/:id', (c) => c.text('report'));
    app.get('/product/:id', (c) => c.text('product'));
    // A route's own middleware: the request matched that route, whichever of its handlers answered.
    app.get(
      '/orders/:id',
      async (c, next) => (c.req.param('id') === 'secret' ? c.text('forbidden', 403) : next()),
      (c) => c.text('order'),
    );
    app.all('/webhook', (c) => c.text('ok'));
    // A sub-app with its own error handler: Hono wraps each of its handlers (two parameters) to apply it.
    const sub = new Hono();
    sub.onError((_error, c) => c.text('sub failed', 500));
    sub.all('/ping', (c) => c.text('pong'));
    sub.use('/guarded', async (c, next) => (c.req.header('authorization') ? next() : c.text('no', 401)));
    app.route('/sub', sub);
    const statuses: number[] = [];
    for (const [path, init] of [
      ['/nothing/here', {}],
      ['/PRODUCT/1', {}],
      ['/admin/reports/1', {}],
      ['/admin/reports/2', { headers: { authorization: 'Bearer x' } }],
      ['/product/1', {}],
      ['/orders/secret', {}],
      ['/orders/7', {}],
      ['/webhook', { method: 'POST' }],
      ['/sub/ping', {}],
      ['/sub/guarded', {}],
    ] as const)
      statuses.push((await app.request(path, init)).status);
    expect(statuses).toEqual([404, 404, 401, 200, 200, 403, 200, 200, 200, 401]);
    expect(await recorded(telemetry)).toEqual({
      'GET - 404 http -': 2,
      'GET - 401 http -': 2,
      'GET /admin/reports/:id 200 http -': 1,
      'GET /product/:id 200 http -': 1,
      'GET /orders/:id 403 http -': 1,
      'GET /orders/:id 200 http -': 1,
      'POST /webhook 200 http -': 1,
      'GET /sub/ping 200 http -': 1,
    });
  });

  it('reads the route from the match result, not from matchedRoutes, after finding it once', async () => {
    const app = new Hono();
    let reads = 0;
    // Before the middleware: every read of matchedRoutes on these requests is counted.
    app.use((c, next) => {
      const prototype = Object.getPrototypeOf(c.req) as object;
      const getter = Object.getOwnPropertyDescriptor(prototype, 'matchedRoutes')!.get!;
      Object.defineProperty(c.req, 'matchedRoutes', {
        get() {
          reads++;
          return getter.call(this) as unknown;
        },
      });
      return next();
    });
    app.use(httpMetricsMiddleware({ telemetry }));
    app.get('/product/:id', (c) => c.text('ok'));
    for (const id of [1, 2, 3]) expect((await app.request(`/product/${id}`)).status).toBe(200);
    expect(await recorded(telemetry)).toEqual({ 'GET /product/:id 200 http -': 3 });
    // Once, on the first request, to check the match result against it.
    expect(reads).toBe(1);
  });

  it('falls back to matchedRoutes on a context whose match result it cannot find or trust', async () => {
    const route = { path: '/product/:id' };
    class Req {
      readonly raw = new Request('https://shop.test/product/1');
      readonly method = 'GET';
      routeIndex = 0;
      readonly matchedRoutes = [{ path: '/*' }, route];
      // A symbol getter that is not Hono's match result: the routes are other objects.
      get [Symbol('decoy')]() {
        return [
          [
            [[undefined, { path: '/decoy' }], {}],
            [[undefined, { path: '/decoy' }], {}],
          ],
        ];
      }
    }
    const middleware = httpMetricsMiddleware({ telemetry });
    for (let i = 0; i < 2; i++) {
      const c = { req: new Req(), res: { status: 201 } };
      await middleware(c, async () => {
        c.req.routeIndex = 1;
      });
    }
    expect(await recorded(telemetry)).toEqual({ 'GET /product/:id 201 https -': 2 });
  });

  it('times requests until the Node response closes on @hono/node-server, a client that went away as aborted', async () => {
    const app = shop();
    let arrived: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/hang', () => {
      arrived();
      return new Promise<Response>(() => undefined);
    });
    const server = await new Promise<ServerType>((resolve) => {
      const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(listening));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/product/9`)).status).toBe(200);
      const client = nodeRequest(`${base}/hang`);
      client.on('error', () => undefined);
      client.end();
      await hanging;
      client.destroy();
      // Recorded when each Node response closes.
      const seen = await recordedWhen(telemetry, (requests) => Object.keys(requests).length === 2);
      expect(seen).toEqual({ 'GET /product/:id 200 http -': 1, 'GET /hang - http aborted': 1 });
    } finally {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
