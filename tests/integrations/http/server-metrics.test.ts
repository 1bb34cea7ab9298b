/**
 * src/integrations/http/server-metrics.ts directly. `nodeRequestObserver`, on a real Node HTTP server on a loopback
 * port: a request is recorded once, when its response closes, with the status when the response finished and
 * none (aborted) when the client went away first; the route and scheme are read when the request ends (after the
 * framework routed it), and a framework getter that throws costs the route, never the measurement or the app's
 * event loop. `liveHttpServerMetrics`: a malformed cap is refused at once; it records nothing before
 * `initBusinessMetrics`, into the live handle after it, nothing after its shutdown, and into the next handle.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initBusinessMetrics, type BusinessMetricsHandle } from '../../../src';
import {
  liveHttpServerMetrics,
  nodeRequestObserver,
  type ServerRequestRecorder,
} from '../../../src/integrations/http/server-metrics';
import { parseExposition } from '../../support/exposition';

const COUNT = 'http_server_request_duration_seconds_count';

type Recorded = [
  method: string | undefined,
  route: string | undefined,
  status: number | undefined,
  https: boolean,
];

/** A recorder that keeps what it is given and tells when the next request was recorded. */
function recorder() {
  const records: Recorded[] = [];
  const seconds: number[] = [];
  let wake: () => void = () => undefined;
  const recorded = () => new Promise<void>((resolve) => (wake = resolve));
  const target: ServerRequestRecorder = {
    record(method, route, status, https, duration) {
      records.push([method, route, status, https]);
      seconds.push(duration);
      wake();
    },
  };
  return { target, records, seconds, recorded };
}

type RoutedRequest = IncomingMessage & { route?: string };

describe('nodeRequestObserver on a real Node server', () => {
  let server: Server;
  let base: string;
  let handle: (req: RoutedRequest, res: ServerResponse) => void;
  const metrics = recorder();
  const observe = nodeRequestObserver<RoutedRequest>(
    metrics.target,
    (req) => {
      if (req.route === 'throw') throw new Error('a framework getter broke');
      return req.route;
    },
    (req) => req.headers['x-forwarded-proto'] === 'https',
  );

  beforeAll(async () => {
    server = createServer((req, res) => {
      const routed = req as RoutedRequest;
      observe(routed, res);
      handle(routed, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    metrics.records.length = 0;
    metrics.seconds.length = 0;
  });

  it('records a finished request once, with the route the app set after observing it began', async () => {
    handle = (req, res) => {
      req.route = '/product/:id';
      res.statusCode = 404;
      res.end('no such product');
    };
    const recorded = metrics.recorded();
    const answer = await fetch(`${base}/product/42`, {
      method: 'DELETE',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(answer.status).toBe(404);
    await recorded;
    expect(metrics.records).toEqual([['DELETE', '/product/:id', 404, true]]);
    expect(metrics.seconds[0]).toBeGreaterThanOrEqual(0);
  });

  it('records a request whose client went away before the answer as aborted (no status)', async () => {
    let arrived: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => (arrived = resolve));
    handle = (req) => {
      req.route = '/hang';
      arrived();
    };
    const recorded = metrics.recorded();
    const client = request(`${base}/hang`);
    client.on('error', () => undefined);
    client.end();
    await hanging;
    client.destroy();
    await recorded;
    expect(metrics.records).toEqual([['GET', '/hang', undefined, false]]);
  });

  it('records without a route when the route getter throws, and the app still answers', async () => {
    handle = (req, res) => {
      req.route = 'throw';
      res.end('ok');
    };
    const recorded = metrics.recorded();
    expect(await (await fetch(`${base}/x`)).text()).toBe('ok');
    await recorded;
    expect(metrics.records).toEqual([['GET', undefined, 200, false]]);
  });
});

describe('liveHttpServerMetrics', () => {
  const count = async (handle: BusinessMetricsHandle, route: string) =>
    parseExposition(await handle.metrics.getMetrics())
      .find(COUNT, { http_route: route })
      .reduce((sum, sample) => sum + sample.value, 0);

  it('refuses a malformed maxRoutes at once, naming the caller', () => {
    expect(() => liveHttpServerMetrics(-1, 'withHttpMetrics')).toThrow(
      new RangeError('withHttpMetrics: maxRoutes must be an integer >= 0 (got -1)'),
    );
    expect(() => liveHttpServerMetrics(Number.NaN, 'httpMetricsMiddleware')).toThrow(/maxRoutes/);
  });

  it('records into whichever handle is live: none before init and after shutdown, the next one after it', async () => {
    const live = liveHttpServerMetrics(undefined, 'withHttpMetrics');
    expect(() => live.record('GET', '/before', 200, false, 0.01)).not.toThrow();

    const first = initBusinessMetrics({ exporters: ['none'], env: {} });
    live.record('GET', '/first', 200, false, 0.01);
    live.record('GET', '/first', 500, false, 0.01);
    expect(await count(first, '/first')).toBe(2);
    expect(await count(first, '/before')).toBe(0);
    await first.shutdown({ timeoutMillis: 2000 });
    expect(() => live.record('GET', '/between', 200, false, 0.01)).not.toThrow();

    const second = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      live.record('GET', '/second', 200, false, 0.01);
      expect(await count(second, '/second')).toBe(1);
      expect(await count(second, '/first')).toBe(0);
      expect(await count(second, '/between')).toBe(0);
    } finally {
      await second.shutdown({ timeoutMillis: 2000 });
    }
  });
});
