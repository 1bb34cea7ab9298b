/**
 * The correlation client and CLI against a hostile (or broken) server posing as Prometheus, over a real socket:
 * answers too large to read, more points than a range query can return, control characters in error text, and
 * credentials in a malformed URL. No Prometheus is needed: these are the client's own limits.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CorrelationError } from '../../src/analysis/errors';
import { PrometheusRangeClient } from '../../src/analysis/prometheus-client';
import { resolveQueryWindow } from '../../src/analysis/duration';
import { main } from '../../src/cli/main';

// Controls a terminal would act on (tab and newline excepted: the CLI's own message ends with one).
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/;

describe('correlation client and CLI against a hostile server', () => {
  let server: Server;
  let base: string;
  let respond: (res: ServerResponse) => void = () => undefined;
  let bytesSent = 0;
  const window = resolveQueryWindow({
    start: '2026-11-20T00:00:00Z',
    end: '2026-11-20T01:00:00Z',
    step: '5m',
  });
  const matrix = (points: number) =>
    JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { job: 'x' },
            values: Array.from({ length: points }, (_, i) => [window.start + i * 300, String(i)]),
          },
        ],
      },
    });

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => respond(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };

  it.each([
    ['announced', true],
    ['streamed without a length', false],
  ])('refuses an answer over maxResponseBytes (%s) and stops reading it', async (_what, announce) => {
    bytesSent = 0;
    let closed: Promise<unknown> | undefined;
    respond = (res) => {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const total = 8 * 1024 * 1024;
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(announce ? { 'content-length': String(total) } : {}),
      });
      const write = () => {
        while (bytesSent < total) {
          bytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      closed = new Promise((resolve) => res.once('close', resolve));
      write();
    };
    const client = new PrometheusRangeClient({ url: base, maxResponseBytes: 1024 * 1024 });
    const error = await client.queryRange('up', window).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorrelationError);
    expect((error as CorrelationError).code).toBe('PROMETHEUS_BAD_RESPONSE');
    expect((error as Error).message).toMatch(/exceeds 1048576 bytes/);
    // The transfer was abandoned (the connection closed) well before the 8 MiB the server meant to send; a client
    // that kept reading would have let the server write it all first.
    await closed;
    expect(bytesSent).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses more points per series than the range and step allow', async () => {
    const allowed = (window.end - window.start) / window.step + 1;
    respond = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(matrix(allowed));
    const client = new PrometheusRangeClient({ url: base });
    expect((await client.queryRange('up', window)).series[0]!.samples).toHaveLength(allowed);
    respond = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(matrix(allowed * 100));
    await expect(client.queryRange('up', window)).rejects.toThrow(
      new RegExp(`returned ${allowed * 100} points .* more than the ${allowed}`),
    );
  });

  it('strips control characters from server text it prints', async () => {
    const hostile = 'bad\u001b[2J\u001b[31m\rforged line\u0007\u202e';
    respond = (res) =>
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: hostile, warnings: [hostile] }));
    const result = await run(['correlate', '--prometheus', base, '--technical', 'up', '--business', 'up']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('forged line');
    expect(result.stderr).not.toMatch(TERMINAL_CONTROLS);

    respond = (res) => res.writeHead(502, { 'content-type': 'text/html' }).end(`<h1>${hostile}</h1>`);
    const proxy = await run(['correlate', '--prometheus', base, '--technical', 'up', '--business', 'up']);
    expect(proxy.stderr).toMatch(/HTTP 502/);
    expect(proxy.stderr).not.toMatch(TERMINAL_CONTROLS);
  });

  it.each([
    'http://admin:s3cr3t-pw@[not-a-host',
    'ftp://admin:s3cr3t-pw@example.com/',
    'admin:s3cr3t-pw@localhost:9090',
    'http://admin:s3cr3t-pw@ex ample.com/',
  ])('never prints the credentials of a malformed URL (%s)', async (url) => {
    expect(() => new PrometheusRangeClient({ url })).toThrow(CorrelationError);
    try {
      new PrometheusRangeClient({ url });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t');
    }
    const result = await run(['correlate', '--prometheus', url, '--technical', 'up', '--business', 'up']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Prometheus URL/);
    expect(result.stderr + result.stdout).not.toContain('s3cr3t');
  });

  it('sends URL credentials as a header and keeps them out of unreachable-server messages', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const result = await run([
      'correlate',
      '--prometheus',
      `http://admin:s3cr3t-pw@127.0.0.1:${closed}`,
      '--technical',
      'up',
      '--business',
      'up',
    ]);
    expect(result.stderr).toMatch(/PROMETHEUS_UNREACHABLE/);
    expect(result.stderr).not.toContain('s3cr3t');
  });
});
