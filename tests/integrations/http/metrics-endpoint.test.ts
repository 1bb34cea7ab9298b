/**
 * src/integrations/http/metrics-endpoint.ts directly: which exposition an adapter's `/metrics` serves, and the
 * answers of the one scrape path for Node and Web requests alike. A handle with a Prometheus exporter is served
 * (0.0.4 text, OpenMetrics and gzip when asked, `Vary` always); a handle without one, or a bare `(req, res)`
 * handler asked to answer a Web request, gets 503 with the reason; without a source the live handle is served,
 * 503 naming the adapter until `initBusinessMetrics` ran. Credentials are checked first (an auth function gets
 * the framework's request; one that throws denies), then the method. `serveNode` writes refusals itself and hands
 * an authorised scrape to the handle's own handler (the cluster worker's path), on a real Node server. A scraper's
 * `X-Prometheus-Scrape-Timeout-Seconds` reaches the handle's collection, from the handle or the live one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  initBusinessMetrics,
  PrometheusPullReader,
  type BusinessMetricsHandle,
  type InitOptions,
} from '../../../src';
import { metricsEndpoint, type MetricsSource } from '../../../src/integrations/http/metrics-endpoint';
import {
  appServedHandle,
  HALF_SECOND_SCRAPER,
  handleWithHungGauge,
  quietPushExporter,
} from '../../support/handles';
import { captureDiag, type DiagMessages } from '../../support/diag-messages';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const UNAVAILABLE = 'metrics unavailable: initialise otel-business-metrics with the prometheus exporter\n';

const node = (headers: Record<string, string> = {}, method = 'GET', localAddress = '127.0.0.1') => ({
  method,
  url: '/metrics',
  headers,
  socket: { localAddress },
});
const web = (headers: Record<string, string> = {}, method = 'GET') =>
  new Request('http://127.0.0.1/metrics', { method, headers });
const text = (body: string | Buffer) => (typeof body === 'string' ? body : gunzipSync(body).toString());

let diag: DiagMessages;
beforeEach(() => (diag = captureDiag()));
afterEach(() => diag.stop());

describe('a handle as the source', () => {
  let telemetry: BusinessMetricsHandle;
  beforeEach(() => {
    telemetry = appServedHandle();
    telemetry.metrics.recordFunnelStep('cart_view', { source: 'google', deviceType: 'mobile' });
  });
  afterEach(() => telemetry.shutdown({ timeoutMillis: 2000 }));

  it('serves 0.0.4 text to a bare client, Node or Web request alike', async () => {
    const endpoint = metricsEndpoint(telemetry, {}, 'testAdapter');
    for (const request of [node(), web()]) {
      const answer = await endpoint.answer(request, {});
      expect(answer.status).toBe(200);
      expect(answer.headers).toMatchObject({
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        vary: 'Accept, Accept-Encoding',
      });
      expect(answer.headers).not.toHaveProperty('content-encoding');
      expect(text(answer.body)).toMatch(/^business_funnel_step_total\{.*step="cart_view".*\} 1$/m);
    }
  });

  it('negotiates OpenMetrics and gzip from the headers of either request shape', async () => {
    const endpoint = metricsEndpoint(telemetry, {}, 'testAdapter');
    for (const request of [
      node({ accept: OPENMETRICS, 'accept-encoding': 'gzip' }),
      web({ accept: OPENMETRICS, 'accept-encoding': 'gzip' }),
    ]) {
      const answer = await endpoint.answer(request, {});
      expect(answer.headers).toMatchObject({
        'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
        'content-encoding': 'gzip',
        vary: 'Accept, Accept-Encoding',
      });
      expect(Buffer.isBuffer(answer.body)).toBe(true);
      expect(text(answer.body)).toMatch(/# EOF\n$/);
    }
  });

  it('checks credentials first, then the method; an auth function gets the framework request', async () => {
    const raws: unknown[] = [];
    const bearer = metricsEndpoint(telemetry, { auth: { bearerToken: 's3cret' } }, 'testAdapter');
    const anonymous = await bearer.answer(web({}, 'POST'), {});
    expect([anonymous.status, anonymous.headers['www-authenticate'], anonymous.body]).toEqual([
      401,
      'Bearer realm="metrics"',
      'metrics require authentication\n',
    ]);
    const post = await bearer.answer(node({ authorization: 'Bearer s3cret' }, 'POST'), {});
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await bearer.answer(web({ authorization: 'Bearer s3cret' }), {})).status).toBe(200);

    const own = metricsEndpoint<{ role: string }>(
      telemetry,
      {
        auth: (raw) => {
          raws.push(raw);
          if (raw.role === 'broken') throw new Error('auth store down');
          return raw.role === 'scraper';
        },
      },
      'testAdapter',
    );
    expect((await own.answer(node(), { role: 'scraper' })).status).toBe(200);
    expect((await own.answer(node(), { role: 'visitor' })).status).toBe(401);
    expect((await own.answer(node(), { role: 'broken' })).status).toBe(401);
    expect(raws).toEqual([{ role: 'scraper' }, { role: 'visitor' }, { role: 'broken' }]);
  });

  it('refuses credentials that could never match when it is built, naming the adapter', () => {
    expect(() => metricsEndpoint(telemetry, { auth: { bearerToken: ' padded ' } }, 'metricsHandler')).toThrow(
      /^metricsHandler: auth\.bearerToken must be visible ASCII without spaces/,
    );
  });

  it('warns once when an open endpoint answers on an address other machines can reach', async () => {
    const endpoint = metricsEndpoint(telemetry, {}, 'testAdapter');
    await endpoint.answer(node({}, 'GET', '10.0.0.5'), {});
    await endpoint.answer(node({}, 'GET', '10.0.0.5'), {});
    expect(diag.warnings).toEqual([
      expect.stringMatching(/^testAdapter: \/metrics answers without credentials on 10\.0\.0\.5/),
    ]);
  });
});

describe("the scraper's own deadline", () => {
  it.each([
    ['pull-only', false],
    ['SDK', true],
  ])(
    "%s: reaches the handle's collection from either request shape (Fastify and NestJS pass Node ones)",
    async (_, withSdk) => {
      const telemetry = handleWithHungGauge(
        withSdk ? ['prometheus', new PrometheusPullReader({ preventServerStart: true })] : ['prometheus'],
      );
      try {
        const headers = HALF_SECOND_SCRAPER;
        const started = Date.now();
        const answers = await Promise.all([
          metricsEndpoint(telemetry, {}, 'testAdapter').answer(node(headers), {}),
          metricsEndpoint(undefined, {}, 'testAdapter').answer(web(headers), {}),
        ]);
        // Answered, not hung (generous: the scraper said 0.5 s; the configured deadline would leave the callback 16 s).
        expect(Date.now() - started).toBeLessThan(5000);
        for (const answer of answers) {
          expect(answer.status).toBe(200);
          expect(text(answer.body)).toMatch(/^app_requests_total\{otel_scope_name="app"\} 2$/m);
          expect(text(answer.body)).not.toMatch(/app_db_rows/);
        }
      } finally {
        await telemetry.shutdown({ timeoutMillis: 2000 });
      }
    },
  );
});

describe('sources that cannot be served', () => {
  it('answers 503 for a handle without a Prometheus exporter, after the credentials', async () => {
    const telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      const open = await metricsEndpoint(telemetry, {}, 'testAdapter').answer(web(), {});
      expect([open.status, open.body]).toEqual([503, UNAVAILABLE]);
      const guarded = metricsEndpoint(telemetry, { auth: { bearerToken: 't' } }, 'testAdapter');
      expect((await guarded.answer(web(), {})).status).toBe(401);
    } finally {
      await telemetry.shutdown({ timeoutMillis: 2000 });
    }
  });

  it('answers 503 saying why when a (req, res) handler is asked to answer a Web request', async () => {
    const handler: MetricsSource = (_req, res) => res.end('never called');
    const answer = await metricsEndpoint(handler, {}, 'metricsHandler').answer(web(), {});
    expect([answer.status, answer.body]).toEqual([
      503,
      'metrics unavailable: metricsHandler was given a (req, res) handler, which cannot answer a Web Request; ' +
        'pass the initBusinessMetrics handle\n',
    ]);
  });

  it('serves the live handle without a source: 503 naming the adapter before init, its exposition after', async () => {
    const endpoint = metricsEndpoint(undefined, {}, 'metricsHandler');
    const before = await endpoint.answer(web(), {});
    expect([before.status, before.body]).toEqual([
      503,
      '# metricsHandler: otel-business-metrics is not initialised (call initBusinessMetrics at start-up, e.g. in ' +
        'instrumentation.ts)\n',
    ]);
    const telemetry = initBusinessMetrics({ exporters: ['none'], env: {} });
    try {
      telemetry.metrics.recordFeatureUsage('search', { userTier: 'pro', isNewUser: false });
      const after = await endpoint.answer(web(), {});
      expect(after.status).toBe(200);
      expect(text(after.body)).toMatch(/^business_feature_usage_total\{.*feature_name="search".*\} 1$/m);
    } finally {
      await telemetry.shutdown({ timeoutMillis: 2000 });
    }
  });
});

describe("an adapter's scrapes and the final-scrape hand-over", () => {
  it.each<[string, () => InitOptions['exporters']]>([
    ['with an SDK MeterProvider', () => ['prometheus', quietPushExporter()]],
    ['pull-only', () => ['prometheus']],
  ])(
    '%s: shutdown() waits for the next scrape through the adapter, which reads the final values',
    async (_, exporters) => {
      const telemetry = initBusinessMetrics({
        exporters: exporters(),
        prometheus: { preventServerStart: true, finalScrapeTimeoutMillis: 20_000 },
        env: {},
      });
      const endpoint = metricsEndpoint(telemetry, {}, 'testAdapter');
      expect((await endpoint.answer(web(), {})).status).toBe(200);
      telemetry.metrics.recordFunnelStep('purchase', { source: 'google', deviceType: 'mobile' });
      const closing = telemetry.shutdown();
      let closed = false;
      void closing.then(() => (closed = true));
      // Scraped through the adapter before, so the hand-over waits for one more scrape (it did not see adapters:
      // shutdown ended at once and what was recorded since the last scrape was lost).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(closed).toBe(false);
      const final = await endpoint.answer(web(), {});
      expect(final.status).toBe(200);
      expect(text(final.body)).toMatch(/^business_funnel_step_total\{.*step="purchase".*\} 1$/m);
      await closing;
      expect(diag.warnings.filter((message) => message.includes('no scrape read the final values'))).toEqual(
        [],
      );
    },
  );
});

describe('the live handle as the source, during its hand-over', () => {
  it('keeps serving the handle that is shutting down until a scrape has read its final values, then says it is not initialised', async () => {
    // Next.js's route handlers and the Express middleware given no handle serve the live one; shutdown() unbinds it
    // at once, and its hand-over waits for the next scrape: that scrape must reach it, or the wait is in vain.
    const telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true, finalScrapeTimeoutMillis: 20_000 },
      env: {},
    });
    const endpoint = metricsEndpoint(undefined, {}, 'metricsHandler');
    expect((await endpoint.answer(web(), {})).status).toBe(200);
    telemetry.metrics.recordFunnelStep('purchase', { source: 'google', deviceType: 'mobile' });
    const closing = telemetry.shutdown();
    // The hand-over begins once shutdown's first steps (microtasks) have run: the next scrape is the final one.
    await new Promise((resolve) => setImmediate(resolve));
    const final = await endpoint.answer(web(), {});
    expect(final.status).toBe(200);
    expect(text(final.body)).toMatch(/^business_funnel_step_total\{.*step="purchase".*\} 1$/m);
    await closing;
    expect(diag.warnings.filter((message) => message.includes('no scrape read the final values'))).toEqual(
      [],
    );
    const after = await endpoint.answer(web(), {});
    expect([after.status, after.body]).toEqual([
      503,
      '# metricsHandler: otel-business-metrics is not initialised (call initBusinessMetrics at start-up, e.g. in ' +
        'instrumentation.ts)\n',
    ]);
  });
});

describe('serveNode on a real Node server', () => {
  let server: Server;
  let base: string;

  afterEach(() => new Promise((resolve) => server.close(resolve)));

  async function listen(source: MetricsSource, auth?: { bearerToken: string }): Promise<void> {
    const endpoint = metricsEndpoint(source, { auth }, 'testAdapter');
    server = createServer((req, res) => endpoint.serveNode(req, res, req));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("writes refusals itself and hands an authorised scrape to the handle's own handler", async () => {
    const handled: string[] = [];
    await listen(
      {
        metricsHandler: (req, res) => {
          handled.push(req.headers.authorization ?? '');
          res.end('from the handle');
        },
        metrics: { getMetrics: () => Promise.reject(new Error('not this path')) },
      },
      { bearerToken: 'tok' },
    );
    const anonymous = await fetch(`${base}/metrics`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="metrics"',
    ]);
    const post = await fetch(`${base}/metrics`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const allowed = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok' } });
    expect([allowed.status, await allowed.text()]).toEqual([200, 'from the handle']);
    expect(handled).toEqual(['Bearer tok']);
  });

  it('writes the answer itself for a source without a handler', async () => {
    await listen({ metrics: { getMetrics: () => Promise.resolve('# nothing\n') } });
    const answer = await fetch(`${base}/metrics`);
    expect([answer.status, await answer.text()]).toEqual([503, UNAVAILABLE]);
  });
});
