/**
 * src/integrations/express/route-pattern.ts directly, on real Express 5 apps (their routers listed through
 * `app.router.listRoutes()`), with the request fields Express sets (`route`, `baseUrl`, `app`): the pattern joins
 * the mount patterns with the route's path and never uses the client's spelling; the same route path under two
 * mounts is told apart by the base URL; a route added after the first lookup is found; what cannot be known
 * without client text gives undefined. Over real sockets, with the metrics:
 * tests/integrations/express/http-metrics.test.ts.
 */
import express from 'express';
import { routePattern } from '../../../src/integrations/express/route-pattern';

/** The route object Express puts on `req.route` for the route registered with `path`. */
const routeOf = (path: unknown) => ({ path });

describe('routePattern', () => {
  const app = express();
  app.get('/product/:id', (_req, res) => void res.end());
  const api = express.Router();
  api.post('/engagement', (_req, res) => void res.end());
  app.use('/api', api);
  // The same route path under two mounts, one with a parameter.
  const orders = express.Router();
  orders.get('/orders/:order', (_req, res) => void res.end());
  app.use('/v1', orders);
  app.use('/t/:tenant', orders);
  const admin = express();
  admin.get('/users/:user', (_req, res) => void res.end());
  app.use('/admin', admin);

  it('is the registered path of a top-level route', () => {
    expect(routePattern({ route: routeOf('/product/:id'), baseUrl: '', app })).toBe('/product/:id');
  });

  it("joins the mount's pattern, whatever the client's letter case in baseUrl", () => {
    expect(routePattern({ route: routeOf('/engagement'), baseUrl: '/API', app })).toBe('/api/engagement');
  });

  it('tells apart the mounts of one route path by the base URL, parameters included', () => {
    expect(routePattern({ route: routeOf('/orders/:order'), baseUrl: '/v1', app })).toBe('/v1/orders/:order');
    expect(routePattern({ route: routeOf('/orders/:order'), baseUrl: '/t/acme', app })).toBe(
      '/t/:tenant/orders/:order',
    );
    expect(routePattern({ route: routeOf('/orders/:order'), baseUrl: '/T/Other-Tenant', app })).toBe(
      '/t/:tenant/orders/:order',
    );
    // A base URL no mount matches: no route rather than a guess.
    expect(routePattern({ route: routeOf('/orders/:order'), baseUrl: '/v9', app })).toBeUndefined();
  });

  it("puts a sub-app's mount path before its routes", () => {
    expect(routePattern({ route: routeOf('/users/:user'), baseUrl: '/admin', app: admin })).toBe(
      '/admin/users/:user',
    );
  });

  it('finds a route registered after the first lookup', () => {
    const late = express();
    late.get('/early', (_req, res) => void res.end());
    expect(routePattern({ route: routeOf('/early'), baseUrl: '', app: late })).toBe('/early');
    const router = express.Router();
    router.get('/late/:x', (_req, res) => void res.end());
    late.use('/mounted', router);
    expect(routePattern({ route: routeOf('/late/:x'), baseUrl: '/mounted', app: late })).toBe(
      '/mounted/late/:x',
    );
  });

  it('is undefined without a matched route, and never throws on odd input', () => {
    expect(routePattern({ baseUrl: '', app })).toBeUndefined();
    expect(routePattern({ route: null, app })).toBeUndefined();
    expect(routePattern({ route: 'not an object', app })).toBeUndefined();
    expect(routePattern({ route: routeOf(42), baseUrl: '', app })).toBeUndefined();
    expect(routePattern({ route: routeOf('/x'), baseUrl: '', app: undefined })).toBe('/x');
    // An app whose router getter throws (Express 4 does): only the top-level path is known.
    const throwing = Object.defineProperty({}, 'router', {
      get() {
        throw new Error('app.router is deprecated');
      },
    });
    expect(routePattern({ route: routeOf('/top'), baseUrl: '', app: throwing })).toBe('/top');
    expect(
      routePattern({ route: routeOf('/inner'), baseUrl: '/Client/Text', app: throwing }),
    ).toBeUndefined();
  });

  it('keeps a route given as a RegExp or an array as one key, and survives a router mounted in itself', () => {
    const odd = express();
    odd.get(/^\/re\/\d+$/, (_req, res) => void res.end());
    odd.get(['/a', '/b'], (_req, res) => void res.end());
    const loop = express.Router();
    loop.get('/leaf', (_req, res) => void res.end());
    loop.use('/again', loop);
    odd.use('/loop', loop);
    expect(routePattern({ route: routeOf(/^\/re\/\d+$/), baseUrl: '', app: odd })).toBe('/^\\/re\\/\\d+$/');
    expect(routePattern({ route: routeOf(['/a', '/b']), baseUrl: '', app: odd })).toBe('/a|/b');
    expect(routePattern({ route: routeOf('/leaf'), baseUrl: '/loop', app: odd })).toBe('/loop/leaf');
  });
});
