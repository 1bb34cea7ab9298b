import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { buildSync } from 'esbuild';
import { PrometheusPullReader } from '../../../src/exporters/prometheus';
import { parseExposition } from '../../support/exposition';
import { freePort } from '../../support/prometheus-server';
import { createQueueDepthProducer, createWorkload, METER_NAME } from './fixture';
import { basicAuth, httpRequest } from '../../support/http';
import { promtool, PromtoolChecks } from '../../support/promtool';
import { captureDiag } from '../../support/diag-messages';

const itWithPromtool = promtool ? it : it.skip;
const forPromtool = new PromtoolChecks();

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function captureDiagErrors(): { errors: string[]; restore(): void } {
  const errors: string[] = [];
  const push = (message: string, ...args: unknown[]) => errors.push([message, ...args.map(String)].join(' '));
  diag.setLogger(
    {
      error: push,
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.ERROR,
  );
  return { errors, restore: () => diag.disable() };
}

function listenOn(server: NetServer | Server, port: number): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
}

function closeServer(server: NetServer | Server): Promise<void> {
  return new Promise((resolveClose) => server.close(() => resolveClose()));
}

describe('PrometheusPullReader standalone server', () => {
  it('listens on a real ephemeral port for port 0 and serves the workload with the 0.0.4 content type', async () => {
    const reader = new PrometheusPullReader({
      port: 0,
      metricProducers: [createQueueDepthProducer(() => 11)],
    });
    const workload = createWorkload([reader]);
    expect(reader.listening).toBe(false);
    await reader.ready;
    expect(reader.listening).toBe(true);
    expect(reader.port).toBeGreaterThan(0);
    expect(reader.port).not.toBe(9464);
    expect(reader.host).toBe('127.0.0.1');
    expect(reader.url).toBe(`http://127.0.0.1:${reader.port}/metrics`);
    workload.record(2);

    const response = await httpRequest(reader.url);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(CONTENT_TYPE);
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    const scrape = parseExposition(response.body);
    expect([...scrape.families.keys()]).toEqual([
      'target_info',
      'http_server_requests_total',
      'http_server_request_duration_seconds',
      'queue_active_jobs',
      'process_memory_usage_bytes',
      'queue_depth',
    ]);
    expect(
      scrape.value('http_server_requests_total', { http_route: '/a', otel_scope_name: METER_NAME }),
    ).toBe(6);
    expect(scrape.value('http_server_request_duration_seconds_bucket', { le: '+Inf' })).toBe(10);
    expect(scrape.value('queue_depth', { queue: 'orders', otel_scope_name: 'queue-bridge' })).toBe(11);
    forPromtool.add('standalone server', response.body);

    // Query strings do not matter; HEAD gets the headers only.
    expect((await httpRequest(`${reader.url}?debug=1`)).status).toBe(200);
    const head = await httpRequest(reader.url, { method: 'HEAD' });
    expect([head.status, head.body, head.headers['content-type']]).toEqual([200, '', CONTENT_TYPE]);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    await workload.shutdown();
  });

  it('gives two readers on port 0 two different ports', async () => {
    const first = new PrometheusPullReader({ port: 0 });
    const second = new PrometheusPullReader({ port: 0 });
    const providers = [new MeterProvider({ readers: [first] }), new MeterProvider({ readers: [second] })];
    await Promise.all([first.ready, second.ready]);
    expect(first.port).not.toBe(second.port);
    expect((await httpRequest(first.url)).status).toBe(200);
    expect((await httpRequest(second.url)).status).toBe(200);
    await Promise.all(providers.map((provider) => provider.shutdown()));
  });

  it('brackets an IPv6 host in its url and error messages', async () => {
    const reader = new PrometheusPullReader({ host: '::1', port: 0 });
    const provider = new MeterProvider({ readers: [reader] });
    const listening = await reader.ready.then(
      () => true,
      (error: Error) => {
        // Hosts without IPv6 loopback (some CI containers): the message must still bracket the address.
        expect(error.message).toBe(
          'Prometheus exporter could not listen on [::1]:0: address not available on this host (EADDRNOTAVAIL)',
        );
        return false;
      },
    );
    if (listening) {
      expect(reader.url).toBe(`http://[::1]:${reader.port}/metrics`);
      expect((await httpRequest(reader.url)).status).toBe(200);
      const clash = new PrometheusPullReader({ host: '::1', port: reader.port });
      const clashProvider = new MeterProvider({ readers: [clash] });
      await expect(clash.ready).rejects.toThrow(
        `could not listen on [::1]:${reader.port}: address already in use`,
      );
      await clashProvider.shutdown();
    }
    await provider.shutdown();
  });

  it('answers 404 on other paths, 405 on other methods, and serves a custom endpoint', async () => {
    const reader = new PrometheusPullReader({ port: 0, endpoint: 'internal/metrics' });
    const provider = new MeterProvider({ readers: [reader] });
    await reader.ready;
    expect(reader.url).toBe(`http://127.0.0.1:${reader.port}/internal/metrics`);
    const base = `http://127.0.0.1:${reader.port}`;
    expect((await httpRequest(`${base}/metrics`)).status).toBe(404);
    expect((await httpRequest(`${base}/`)).status).toBe(404);
    expect((await httpRequest(`${base}/internal/metrics/x`)).status).toBe(404);
    const post = await httpRequest(reader.url, { method: 'POST' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await httpRequest(reader.url)).status).toBe(200);
    await provider.shutdown();
  });

  it('rejects ready with host, port and cause when the port is in use, and the process keeps running', async () => {
    const diagCapture = captureDiagErrors();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const port = await freePort();
    const blocker = createNetServer();
    await listenOn(blocker, port);
    try {
      const reader = new PrometheusPullReader({ port });
      const provider = new MeterProvider({ readers: [reader] });
      const expected =
        `Prometheus exporter could not listen on 127.0.0.1:${port}: address already in use (EADDRINUSE); choose ` +
        'another port (initBusinessMetrics: prometheus.port or OTEL_EXPORTER_PROMETHEUS_PORT, PrometheusPullReader: ' +
        'port; 0 picks a free one) or stop what listens there';
      await expect(reader.ready).rejects.toThrow(expected);
      await expect(reader.ready).rejects.toMatchObject({ cause: { code: 'EADDRINUSE' } });
      expect(reader.listening).toBe(false);
      // Nobody awaits this one: it must not surface as an unhandled rejection.
      const ignored = new PrometheusPullReader({ port });
      const ignoredProvider = new MeterProvider({ readers: [ignored] });
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
      expect(unhandled).toEqual([]);
      // Said through diag too, whether or not anyone awaits ready.
      const logged = diagCapture.errors.filter((message) => message === `otel-business-metrics: ${expected}`);
      expect(logged).toHaveLength(2);
      // The reader still works as a collector (e.g. through metricsHandler), and shuts down cleanly.
      expect(await reader.getMetrics()).toContain('target_info');
      await Promise.all([provider.shutdown(), ignoredProvider.shutdown()]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      diagCapture.restore();
      await closeServer(blocker);
    }
  });

  it('validates its options with clear errors', () => {
    expect(() => new PrometheusPullReader({ port: 70000 })).toThrow(
      'Prometheus exporter port must be an integer from 0 to 65535, got 70000',
    );
    expect(() => new PrometheusPullReader({ port: 1.5 })).toThrow(TypeError);
    expect(() => new PrometheusPullReader({ host: '' })).toThrow('host must be a non-empty string');
    expect(() => new PrometheusPullReader({ auth: { bearerToken: '' } })).toThrow('bearerToken');
    expect(() => new PrometheusPullReader({ auth: { username: 'a:b', password: 'x' } })).toThrow(
      'without ":"',
    );
    expect(() => new PrometheusPullReader({ auth: { username: 'a', password: '' } })).toThrow('password');
  });

  describe('authentication', () => {
    const cases = [
      {
        name: 'bearer token',
        auth: { bearerToken: 's3cr3t-token' },
        good: 'Bearer s3cr3t-token',
        bad: [
          'Bearer s3cr3t-tokeN',
          'Bearer s3cr3t-token-longer',
          'Basic czNjcjN0LXRva2Vu',
          'Bearer',
          's3cr3t-token',
        ],
        challenge: 'Bearer realm="metrics"',
      },
      {
        name: 'basic',
        auth: { username: 'prometheus', password: 'pä:ss"word' },
        good: basicAuth('prometheus', 'pä:ss"word'),
        bad: [
          basicAuth('prometheus', 'pä:ss"wor'),
          basicAuth('Prometheus', 'pä:ss"word'),
          'Bearer pä:ss"word',
        ],
        challenge: 'Basic realm="metrics", charset="UTF-8"',
      },
    ];
    for (const { name, auth, good, bad, challenge } of cases) {
      it(`${name}: 401 with WWW-Authenticate without or with wrong credentials, 200 with the right ones`, async () => {
        const reader = new PrometheusPullReader({ port: 0, auth });
        const provider = new MeterProvider({ readers: [reader] });
        await reader.ready;
        const missing = await httpRequest(reader.url);
        expect([missing.status, missing.headers['www-authenticate']]).toEqual([401, challenge]);
        expect(missing.body).not.toContain('target_info');
        for (const header of bad) {
          const wrong = await httpRequest(reader.url, { headers: { authorization: header } });
          expect([header, wrong.status, wrong.headers['www-authenticate']]).toEqual([header, 401, challenge]);
        }
        const right = await httpRequest(reader.url, { headers: { authorization: good } });
        expect(right.status).toBe(200);
        expect(parseExposition(right.body).family('target_info').type).toBe('gauge');
        // Unauthenticated clients learn nothing about other paths; authenticated ones get a 404.
        const other = `http://127.0.0.1:${reader.port}/other`;
        expect((await httpRequest(other)).status).toBe(401);
        expect((await httpRequest(other, { headers: { authorization: good } })).status).toBe(404);
        await provider.shutdown();
      });
    }
  });

  it('answers 500 and logs when collection fails, without an unhandled rejection, and keeps serving', async () => {
    const diagCapture = captureDiagErrors();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let fail = true;
    const flaky: MetricProducer = {
      collect: async () => {
        if (fail) throw new Error('bridge exploded');
        return createQueueDepthProducer(() => 1).collect();
      },
    };
    const reader = new PrometheusPullReader({ port: 0, metricProducers: [flaky] });
    const provider = new MeterProvider({ readers: [reader] });
    // A throwing observable callback is a partial failure: still 200, logged.
    provider
      .getMeter('m')
      .createObservableGauge('broken')
      .addCallback(() => {
        throw new Error('callback exploded');
      });
    try {
      await reader.ready;
      const failed = await httpRequest(reader.url);
      expect(failed.status).toBe(500);
      expect(failed.body).not.toContain('bridge exploded');
      expect(diagCapture.errors.some((message) => message.includes('bridge exploded'))).toBe(true);
      fail = false;
      const recovered = await httpRequest(reader.url);
      expect(recovered.status).toBe(200);
      expect(parseExposition(recovered.body).value('queue_depth')).toBe(1);
      expect(diagCapture.errors.some((message) => message.includes('callback exploded'))).toBe(true);
      await new Promise((resolveLater) => setTimeout(resolveLater, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      diagCapture.restore();
      await provider.shutdown();
    }
  });

  it('shutdown closes the server, keep-alive and stuck connections at once: refused afterwards', async () => {
    const reader = new PrometheusPullReader({ port: 0 });
    const provider = new MeterProvider({ readers: [reader] });
    await reader.ready;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets: Socket[] = [];
    agent.on('free', (socket: Socket) => {
      if (!sockets.includes(socket)) sockets.push(socket);
    });
    expect((await httpRequest(reader.url, { agent })).status).toBe(200);
    expect((await httpRequest(reader.url, { agent })).status).toBe(200);
    expect(sockets).toHaveLength(1); // one reused keep-alive connection
    // A client stuck mid-request: server.close() alone would wait for it (headers timeout: 60 s).
    const stuck = connect(reader.port, '127.0.0.1');
    await new Promise<void>((resolveConnect) => stuck.once('connect', () => resolveConnect()));
    stuck.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    const closed = Promise.all(
      [sockets[0], stuck].map(
        (socket) => new Promise<void>((resolveClosed) => socket.once('close', () => resolveClosed())),
      ),
    );
    // Left to itself the stuck connection lasts Node's 60 s headers timeout, twice this test's timeout: shutdown
    // and the closes below must not wait for it. (No wall-clock bound: load only slows a close, never a timeout.)
    await provider.shutdown();
    await closed;
    expect(reader.listening).toBe(false);
    await expect(httpRequest(reader.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    agent.destroy();
  }, 30_000);
});

describe('PrometheusPullReader.metricsHandler', () => {
  it("serves the exposition on the app's own server at any path, with preventServerStart", async () => {
    const reader = new PrometheusPullReader({
      preventServerStart: true,
      auth: { bearerToken: 'not-used-here' },
    });
    const workload = createWorkload([reader]);
    await reader.ready; // resolves at once
    expect(reader.listening).toBe(false);
    workload.record(1);
    const app = createServer((request, response) => {
      if (request.url === '/internal/stats') return reader.metricsHandler(request, response);
      response.writeHead(404).end();
    });
    const port = await freePort();
    await listenOn(app, port);
    try {
      const response = await httpRequest(`http://127.0.0.1:${port}/internal/stats`);
      expect([response.status, response.headers['content-type']]).toEqual([200, CONTENT_TYPE]);
      expect(parseExposition(response.body).value('http_server_requests_total', { http_route: '/b' })).toBe(
        2,
      );
    } finally {
      await closeServer(app);
      await workload.shutdown();
    }
  });
});

describe('PrometheusPullReader next to the upstream PrometheusExporter on the same provider', () => {
  it('serves the same families, samples and values over HTTP (byte-identical with upstream naming)', async () => {
    const upstreamPort = await freePort();
    const upstream = new PrometheusExporter({ host: '127.0.0.1', port: upstreamPort });
    const sameNames = new PrometheusPullReader({ port: 0, metricNaming: 'upstream' });
    const collectorNames = new PrometheusPullReader({ port: 0 });
    const workload = createWorkload([upstream, sameNames, collectorNames]);
    await Promise.all([upstream.startServer(), sameNames.ready, collectorNames.ready]);
    workload.record(3);
    const [theirs, ours, oursCollector] = await Promise.all([
      httpRequest(`http://127.0.0.1:${upstreamPort}/metrics`),
      httpRequest(sameNames.url),
      httpRequest(collectorNames.url),
    ]);
    expect(ours.body).toBe(theirs.body);
    // Differences by design: the content type names the format version; unit words are in the family names.
    expect([theirs.headers['content-type'], ours.headers['content-type']]).toEqual([
      'text/plain',
      CONTENT_TYPE,
    ]);
    const upstreamScrape = parseExposition(theirs.body);
    const collectorScrape = parseExposition(oursCollector.body);
    const unitSuffixed = (name: string) =>
      ({
        http_server_request_duration: 'http_server_request_duration_seconds',
        process_memory_usage: 'process_memory_usage_bytes',
      })[name] ?? name;
    expect([...collectorScrape.families.keys()]).toEqual(
      [...upstreamScrape.families.keys()].map(unitSuffixed),
    );
    expect(collectorScrape.samples.map((s) => [s.labels, s.value])).toEqual(
      upstreamScrape.samples.map((s) => [s.labels, s.value]),
    );
    await workload.shutdown();
  });
});

describe('PrometheusPullReader in a real process', () => {
  let bundleDir: string;
  let bundle: string;
  beforeAll(() => {
    bundleDir = mkdtempSync(join(tmpdir(), 'obm-prom-reader-'));
    bundle = join(bundleDir, 'reader.cjs');
    buildSync({
      entryPoints: [resolve(__dirname, '../../../src/exporters/prometheus/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      outfile: bundle,
      logLevel: 'error',
    });
  });
  afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

  it('survives an un-awaited port conflict and exits by itself despite a keep-alive scraper and a stuck client', async () => {
    const busyPort = await freePort();
    const blocker = createNetServer();
    await listenOn(blocker, busyPort);
    const script = `
      const { MeterProvider } = require('@opentelemetry/sdk-metrics');
      const { PrometheusPullReader } = require(${JSON.stringify(bundle)});
      const clash = new PrometheusPullReader({ port: ${busyPort} });      // never awaited
      const reader = new PrometheusPullReader({ port: 0 });
      const provider = new MeterProvider({ readers: [clash, reader] });
      provider.getMeter('child').createCounter('child.events').add(4);
      reader.ready.then(() => process.stdout.write(reader.url + '\\n'));
      // Only stdin keeps the process alive; once the parent closes it, nothing of ours may.
      process.stdin.resume();
      process.stdin.on('end', () => { process.stdin.pause(); process.stdout.write('stdin closed\\n'); });
    `;
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_PATH: resolve(__dirname, '../../../node_modules') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    const agent = new Agent({ keepAlive: true });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const line = stdout.split('\n')[0];
          if (stdout.includes('\n')) resolveUrl(line);
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
      });
      const response = await httpRequest(url, { agent });
      expect(response.status).toBe(200);
      expect(parseExposition(response.body).value('child_events_total')).toBe(4);
      forPromtool.add('server in a child process', response.body);
      // And a client stuck mid-request, which Node's server would keep for its 60 s headers timeout, twice this
      // test's timeout: the process must exit with both connections open. (No wall-clock bound of ours.)
      const stuck = connect(Number(new URL(url).port), '127.0.0.1');
      await new Promise<void>((resolveConnect) => stuck.once('connect', () => resolveConnect()));
      stuck.on('error', () => undefined); // reset when the child exits
      stuck.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      child.stdin.end();
      const code = await exited;
      expect(code).toBe(0);
      expect(stdout).toContain('stdin closed\n');
      // The conflict is said once, as the package's own error on stderr (no diag logger in that process), and
      // nothing else: no unhandled rejection.
      expect(stderr.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^otel-business-metrics: Prometheus exporter could not listen on .*:${busyPort}: address already in use`,
          ),
        ),
      ]);
      stuck.destroy();
    } finally {
      agent.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
      await closeServer(blocker);
    }
  }, 30_000);
});

describe('PrometheusPullReader with an observable callback that never settles', () => {
  it("serves the rest within the scraper's deadline, leaving the hung instrument out and saying so once", async () => {
    const messages = captureDiag();
    const reader = new PrometheusPullReader({ port: 0, finalScrapeTimeoutMillis: 0 });
    const provider = new MeterProvider({ readers: [reader] });
    const mounted = createServer(reader.metricsHandler);
    try {
      await reader.ready;
      await new Promise<void>((resolveListen) => mounted.listen(0, '127.0.0.1', resolveListen));
      const meter = provider.getMeter('app');
      meter.createCounter('orders').add(2);
      // A database query that never answers.
      meter.createObservableGauge('db_rows').addCallback(() => new Promise<void>(() => undefined));
      const { port } = mounted.address() as { port: number };
      const started = Date.now();
      const answers = await Promise.all(
        [reader.url, reader.url, `http://127.0.0.1:${port}/metrics`].map((url) =>
          httpRequest(url, { headers: { 'x-prometheus-scrape-timeout-seconds': '0.5' } }),
        ),
      );
      // Answered, not hung (generous: Prometheus said 0.5 s).
      expect(Date.now() - started).toBeLessThan(4000);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        const scrape = parseExposition(answer.body);
        expect(scrape.value('orders_total', { otel_scope_name: 'app' })).toBe(2);
        expect(scrape.families.has('db_rows')).toBe(false);
      }
      expect(messages.warnings.filter((w) => w.includes('observable callback(s)'))).toEqual([
        expect.stringContaining('left out of the scrape (the rest was served'),
      ]);
      expect(messages.errors).toEqual([]);
    } finally {
      messages.stop();
      await new Promise<void>((resolveClose) => {
        mounted.close(() => resolveClose());
        mounted.closeAllConnections();
      });
      await provider.shutdown();
    }
  });

  it('answers getMetrics() too, within the configured deadline', async () => {
    const messages = captureDiag();
    const reader = new PrometheusPullReader({ preventServerStart: true, scrapeTimeoutMillis: 300 });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const meter = provider.getMeter('app');
      meter.createCounter('orders').add(1);
      meter.createObservableGauge('db_rows').addCallback(() => new Promise<void>(() => undefined));
      expect(
        parseExposition(await reader.getMetrics()).value('orders_total', { otel_scope_name: 'app' }),
      ).toBe(1);
    } finally {
      messages.stop();
      await provider.shutdown();
    }
  });
});

describe('PrometheusPullReader expositions, checked by promtool', () => {
  itWithPromtool('every exposition the tests above scraped passes promtool check metrics', () => {
    forPromtool.expectClean(['standalone server', 'server in a child process']);
  });
});
