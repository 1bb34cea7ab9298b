/**
 * /metrics exposes revenue: the standalone server binds loopback by default, bearer and basic auth protect it,
 * and `metricsHandler` mounts on the app's own server behind the app's own auth. Everything through
 * initBusinessMetrics, over real sockets.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../src';

const revenueMeta = { productCategory: 'books', paymentMethod: 'card', region: 'eu_west' };
const REVENUE_LINE = /^business_revenue_cents_total\{.*\} 4200$/m;

/** Whether a TCP connection to host:port succeeds. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function firstNonLoopbackIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}

describe('standalone /metrics server', () => {
  let handle: BusinessMetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMillis: 1000 });
    handle = undefined;
  });

  it('binds 127.0.0.1 by default: reachable on loopback, not from other interfaces', async () => {
    handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port: 0 }, env: {} });
    await handle.ready;
    const endpoint = handle.prometheus!;
    expect(endpoint.host).toBe('127.0.0.1');
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/metrics`);
    expect(await canConnect('127.0.0.1', endpoint.port)).toBe(true);
    // Another address of the host, without needing a network: on Linux all of 127.0.0.0/8 reaches this host,
    // so a server bound to 0.0.0.0 answers on 127.0.0.2 and one bound to 127.0.0.1 does not. The control server
    // shows 127.0.0.2 is reachable here, so the refusal below is the binding's doing.
    const control = createServer();
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.2', resolve));
    try {
      expect(await canConnect('127.0.0.2', (control.address() as { port: number }).port)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => control.close(() => resolve()));
    }
    expect(await canConnect('127.0.0.2', endpoint.port)).toBe(false);
    // And from a real interface too, where the host has one.
    const external = firstNonLoopbackIPv4();
    if (external) expect(await canConnect(external, endpoint.port)).toBe(false);
  });

  it('with a bearer token: 401 without or with a wrong token, the exposition with the right one', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { port: 0, auth: { bearerToken: 's3cret-token' } },
      env: {},
    });
    await handle.ready;
    handle.metrics.recordRevenue(4200, revenueMeta);
    const url = handle.prometheus!.url;

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await anonymous.text()).not.toMatch(/business_/);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Basic czNjcmV0LXRva2Vu' } })).status).toBe(401);
    const authorized = await fetch(url, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toMatch(REVENUE_LINE);
  });

  it('with basic auth: 401 without or with wrong credentials, the exposition with the right ones', async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { port: 0, auth: { username: 'prometheus', password: 'pa55:word' } },
      env: {},
    });
    await handle.ready;
    handle.metrics.recordRevenue(4200, revenueMeta);
    const url = handle.prometheus!.url;
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(url, { headers: basic('prometheus', 'wrong') })).status).toBe(401);
    expect((await fetch(url, { headers: basic('someone', 'pa55:word') })).status).toBe(401);
    const authorized = await fetch(url, { headers: basic('prometheus', 'pa55:word') });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toMatch(REVENUE_LINE);
  });
});

describe("metricsHandler on the app's own server, behind the app's auth", () => {
  let handle: BusinessMetricsHandle;
  let app: Server;
  let base: string;
  beforeAll(async () => {
    handle = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      env: {},
    });
    await handle.ready;
    // The app's own server: its auth (an API key here) guards /internal/metrics like any other private route.
    app = createServer((req, res) => {
      if (req.url === '/internal/metrics') {
        if (req.headers['x-api-key'] !== 'ops-key') {
          res.writeHead(403).end('forbidden');
          return;
        }
        handle.metricsHandler!(req, res);
        return;
      }
      res.writeHead(200).end('shop');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
    handle.metrics.recordRevenue(4200, revenueMeta);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => app.close(() => resolve()));
    await handle.shutdown({ timeoutMillis: 1000 });
  });

  it('serves the exposition only to requests that pass the app auth', async () => {
    const denied = await fetch(`${base}/internal/metrics`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe('forbidden');
    const allowed = await fetch(`${base}/internal/metrics`, { headers: { 'x-api-key': 'ops-key' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await allowed.text()).toMatch(REVENUE_LINE);
  });

  it('starts no standalone server, and reports no endpoint address', () => {
    expect(typeof handle.metricsHandler).toBe('function');
    // Documented: `prometheus` is undefined without a standalone endpoint. (It reported 127.0.0.1:9464, where
    // nothing of ours listens; see the report for the init.ts patch.)
    expect(handle.prometheus).toBeUndefined();
  });
});

describe('handle.prometheus reports only an endpoint that listens', () => {
  it('is undefined before ready and after ready rejected', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const handle = initBusinessMetrics({ exporters: ['prometheus'], prometheus: { port }, env: {} });
    try {
      expect(handle.prometheus).toBeUndefined();
      await expect(handle.ready).rejects.toThrow(/address already in use/);
      expect(handle.prometheus).toBeUndefined();
    } finally {
      await handle.shutdown({ timeoutMillis: 1000 });
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
