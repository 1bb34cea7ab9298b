/**
 * src/integrations/http/fastify-route.ts on a real Fastify 5 app (listening on loopback): the reader returns what `request.routeOptions.url`
 * returns (the pattern, with the prefix of the context that registered it; none for a 404), reading the route
 * context directly; and `routeOptions.url` for a request that carries no route context.
 */
import Fastify from 'fastify';
import { fastifyRouteReader } from '../../../src/integrations/http/fastify-route';

describe('fastifyRouteReader', () => {
  it('reads the pattern Fastify matched as routeOptions.url has it, without reading routeOptions', async () => {
    const app = Fastify();
    const read = fastifyRouteReader();
    const seen: Array<[string | undefined, string | undefined]> = [];
    let optionReads = 0;
    app.addHook('onResponse', (request, _reply, done) => {
      const expected = request.routeOptions.url;
      // Count what the reader itself reads of routeOptions from here on.
      const own = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(request) as object, 'routeOptions');
      Object.defineProperty(request, 'routeOptions', {
        get() {
          optionReads++;
          return own!.get!.call(this) as unknown;
        },
      });
      seen.push([read(request), expected]);
      done();
    });
    app.get('/product/:id', async () => 'ok');
    await app.register(
      async (shop) => {
        shop.post('/orders/:order/items', async () => 'ok');
      },
      { prefix: '/shop' },
    );
    // Over a real socket: Jest cannot load light-my-request (app.inject).
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(`${base}/product/42`)).status).toBe(200);
      expect((await fetch(`${base}/shop/orders/7/items`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${base}/no/such/page`)).status).toBe(404);
    } finally {
      await app.close();
    }
    expect(seen).toEqual([
      ['/product/:id', '/product/:id'],
      ['/shop/orders/:order/items', '/shop/orders/:order/items'],
      [undefined, undefined],
    ]);
    expect(optionReads).toBe(0);
  });

  it('reads routeOptions.url from a request without a route context', () => {
    const read = fastifyRouteReader();
    expect(read({ routeOptions: { url: '/cart' } })).toBe('/cart');
    expect(read({})).toBeUndefined();
  });
});
