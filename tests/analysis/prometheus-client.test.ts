/**
 * The range client's handling of what sits in front of Prometheus in real deployments (auth proxies, path
 * prefixes, slow backends, HTML error pages), over a real HTTP socket. Prometheus's own answers (parse errors,
 * several series, no data) are covered against the real binary in prometheus.e2e.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusRangeClient } from '../../src/analysis/prometheus-client';
import { resolveQueryWindow } from '../../src/analysis/duration';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('PrometheusRangeClient over HTTP', () => {
  let server: Server;
  let base: string;
  let recorded: Recorded[] = [];
  let respond: (res: ServerResponse) => void = () => undefined;
  const window = resolveQueryWindow({
    start: '2026-11-20T00:00:00Z',
    end: '2026-11-20T01:00:00Z',
    step: '5m',
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        recorded.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        respond(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    recorded = [];
  });

  const json = (status: number, value: unknown) => (res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  it('POSTs the form to query_range under a path prefix, with the caller headers, and parses NaN/Inf', async () => {
    respond = json(200, {
      status: 'success',
      warnings: ['partial response'],
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { job: 'shop' },
            values: [
              [window.start, '1.5'],
              [window.start + 300, 'NaN'],
              [window.start + 600, '+Inf'],
              [window.start + 900, '-Inf'],
            ],
          },
        ],
      },
    });
    const client = new PrometheusRangeClient({
      url: `${base}/prometheus/`,
      headers: { Authorization: 'Bearer abc', 'X-Scope-OrgID': 'shop' },
    });
    const result = await client.queryRange('sum(rate(x[5m]))', window);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].method).toBe('POST');
    expect(recorded[0].url).toBe('/prometheus/api/v1/query_range');
    expect(recorded[0].headers.authorization).toBe('Bearer abc');
    expect(recorded[0].headers['x-scope-orgid']).toBe('shop');
    expect(recorded[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(recorded[0].body);
    expect(form.get('query')).toBe('sum(rate(x[5m]))');
    expect(Number(form.get('start'))).toBe(window.start);
    expect(Number(form.get('end'))).toBe(window.end);
    expect(form.get('step')).toBe('300');
    expect(result.warnings).toEqual(['partial response']);
    expect(result.series[0].labels).toEqual({ job: 'shop' });
    expect(result.series[0].samples.map((s) => s.value)).toEqual([1.5, NaN, Infinity, -Infinity]);
  });

  it('sends URL credentials as Basic auth and keeps the password out of messages', async () => {
    respond = (res) => {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden');
    };
    const withCredentials = base.replace('http://', 'http://grafana:s3cr%40t@');
    const client = new PrometheusRangeClient({ url: withCredentials });
    expect(client.url).toBe(base);
    const error = (await client.queryRange('up', window).catch((e: unknown) => e)) as Error;
    expect(recorded[0].headers.authorization).toBe(
      `Basic ${Buffer.from('grafana:s3cr@t').toString('base64')}`,
    );
    expect(error.message).toContain(`Prometheus at ${base} answered HTTP 403`);
    expect(error.message).not.toContain('s3cr');
  });

  it('uses GET with the parameters in the query string when asked', async () => {
    respond = json(200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    await new PrometheusRangeClient({ url: base, method: 'GET' }).queryRange('up', window);
    expect(recorded[0].method).toBe('GET');
    expect(new URL(recorded[0].url, base).searchParams.get('query')).toBe('up');
  });

  it('reports an auth proxy refusal with the status and a hint about headers', async () => {
    respond = (res) => {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
    };
    await expect(new PrometheusRangeClient({ url: base }).queryRange('up', window)).rejects.toMatchObject({
      code: 'PROMETHEUS_HTTP_ERROR',
      message: `Prometheus at ${base} answered HTTP 401 Unauthorized: Unauthorized (check the authentication headers)`,
    });
  });

  it("passes on Prometheus's own text for a query timeout (503)", async () => {
    respond = json(503, {
      status: 'error',
      errorType: 'timeout',
      error: 'query timed out in expression evaluation',
    });
    await expect(new PrometheusRangeClient({ url: base }).queryRange('up', window)).rejects.toMatchObject({
      code: 'PROMETHEUS_HTTP_ERROR',
      message: expect.stringContaining('(HTTP 503, timeout): query timed out in expression evaluation'),
    });
  });

  it('recognises a page that is not the Prometheus API', async () => {
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>Grafana</html>');
    };
    await expect(new PrometheusRangeClient({ url: base }).queryRange('up', window)).rejects.toMatchObject({
      code: 'PROMETHEUS_BAD_RESPONSE',
      message: expect.stringContaining(
        `did not return a Prometheus API response (is ${base} the Prometheus base URL?): <html>Grafana</html>`,
      ),
    });
  });

  it('gives up after the timeout and says so', async () => {
    respond = () => undefined; // never answers
    // Without the timeout the call would never settle (the test's own 60 s timeout would fail it).
    await expect(
      new PrometheusRangeClient({ url: base, timeoutMs: 300 }).queryRange('up', window),
    ).rejects.toMatchObject({
      code: 'PROMETHEUS_TIMEOUT',
      message: `Prometheus at ${base} did not answer within 300ms (query: up)`,
    });
  });

  it('rejects URLs that are not http(s)', () => {
    expect(() => new PrometheusRangeClient({ url: 'localhost:9090' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new PrometheusRangeClient({ url: 'not a url' })).toThrow(/Invalid Prometheus URL/);
  });
});
