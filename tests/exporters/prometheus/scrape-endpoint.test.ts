/**
 * The one scrape path as a function: the order of its checks, its refusals, and the negotiated answer. Every
 * `/metrics` endpoint (standalone server, mounted handler, cluster worker, each framework adapter) answers through
 * it; tests/integrations/scenarios runs the same table over real sockets against each of them.
 */
import { captureDiag } from '../../support/diag-messages';
import { gunzipSync } from 'node:zlib';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import {
  ExpositionUnavailable,
  scrapeEndpoint,
  type ScrapeRequest,
} from '../../../src/exporters/prometheus/scrape-endpoint';

const TEXT = '# HELP up x\n# TYPE up gauge\nup 1\n';
const OPENMETRICS = '# TYPE up gauge\nup 1\n# EOF\n';

function request(method: string, headers: Record<string, string> = {}, localAddress?: string): ScrapeRequest {
  return { method, header: (name) => headers[name], localAddress };
}

const source = async (format: string) => (format === 'openmetrics' ? OPENMETRICS : TEXT);

describe('scrape endpoint', () => {
  it('checks credentials before the method, so an anonymous client learns nothing', async () => {
    const endpoint = scrapeEndpoint({ source, auth: { bearerToken: 'tok' }, where: 'test' });
    const anonymousPost = await endpoint.answer(request('POST'), undefined);
    expect([anonymousPost.status, anonymousPost.headers['www-authenticate']]).toEqual([
      401,
      'Bearer realm="metrics"',
    ]);
    expect(anonymousPost.body).toBe('metrics require authentication\n');
    const authorizedPost = await endpoint.answer(request('POST', { authorization: 'Bearer tok' }), undefined);
    expect([authorizedPost.status, authorizedPost.headers.allow]).toEqual([405, 'GET, HEAD']);
    const ok = await endpoint.answer(request('GET', { authorization: 'Bearer tok' }), undefined);
    expect([ok.status, ok.body]).toEqual([200, TEXT]);
  });

  it('negotiates OpenMetrics and gzip, and always says Vary', async () => {
    const endpoint = scrapeEndpoint({ source, where: 'test' });
    const prometheus = await endpoint.answer(
      request('GET', {
        accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        'accept-encoding': 'gzip',
      }),
      undefined,
    );
    expect(prometheus.headers).toEqual({
      'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      'content-encoding': 'gzip',
      vary: 'Accept, Accept-Encoding',
      'content-length': String((prometheus.body as Buffer).length),
    });
    expect(gunzipSync(prometheus.body as Buffer).toString()).toBe(OPENMETRICS);
    const curl = await endpoint.answer(request('GET'), undefined);
    expect(curl.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(curl.headers.vary).toBe('Accept, Accept-Encoding');
    expect(curl.headers['content-encoding']).toBeUndefined();
  });

  it('answers 503 without a source or when the source is unavailable, 500 when collection fails', async () => {
    diag.setLogger({ error() {}, warn() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.ERROR);
    try {
      const none = await scrapeEndpoint({ source: undefined, where: 'test' }).answer(
        request('GET'),
        undefined,
      );
      expect([none.status, none.body]).toEqual([503, expect.stringMatching(/prometheus exporter/)]);
      const unavailable = await scrapeEndpoint({
        source: () => Promise.reject(new ExpositionUnavailable('the cluster primary did not answer')),
        where: 'test',
      }).answer(request('GET'), undefined);
      expect([unavailable.status, unavailable.body]).toEqual([503, '# the cluster primary did not answer\n']);
      const failing = await scrapeEndpoint({
        source: () => Promise.reject(new Error('boom')),
        where: 'test',
      }).answer(request('GET'), undefined);
      expect([failing.status, failing.body]).toEqual([500, '# metrics collection failed\n']);
    } finally {
      diag.disable();
    }
  });

  it('denies when an auth function throws or returns anything but true', async () => {
    const throwing = scrapeEndpoint<{ ok: unknown }>({
      source,
      where: 'test',
      auth: (raw) => {
        if (raw.ok === 'throw') throw new Error('broken check');
        return raw.ok as boolean;
      },
    });
    const statusFor = async (ok: unknown) => (await throwing.answer(request('GET'), { ok })).status;
    expect(await Promise.all(['throw', 'yes', 1, false, true].map(statusFor))).toEqual([
      401, 401, 401, 401, 200,
    ]);
  });

  it('refuses credentials that could never match when it is built', () => {
    expect(() => scrapeEndpoint({ source, where: 'mount', auth: { bearerToken: ' padded' } })).toThrow(
      /^mount: auth\.bearerToken/,
    );
  });

  it('warns once when an open mount answers a request that reached a non-loopback address', async () => {
    const warnings: string[] = [];
    diag.setLogger(
      { error() {}, warn: (m: string) => warnings.push(m), info() {}, debug() {}, verbose() {} },
      DiagLogLevel.WARN,
    );
    try {
      const endpoint = scrapeEndpoint({ source, where: 'mount', warnWhenOpen: true });
      for (let i = 0; i < 3; i++) await endpoint.answer(request('GET', {}, '10.0.0.5'), undefined);
    } finally {
      diag.disable();
    }
    expect(warnings).toEqual([expect.stringMatching(/^mount: .*10\.0\.0\.5/)]);
  });

  it('still warns when loopback requests came first (a server on 0.0.0.0 answers both)', async () => {
    const diagnostics = captureDiag();
    try {
      const endpoint = scrapeEndpoint({ source, where: 'mount', warnWhenOpen: true });
      await endpoint.answer(request('GET', {}, '127.0.0.1'), undefined);
      await endpoint.answer(request('GET', {}, '::1'), undefined);
      expect(diagnostics.warnings).toEqual([]);
      for (let i = 0; i < 2; i++) await endpoint.answer(request('GET', {}, '203.0.113.5'), undefined);
    } finally {
      diagnostics.stop();
    }
    expect(diagnostics.warnings).toEqual([expect.stringMatching(/^mount: .*203\.0\.113\.5/)]);
  });
});
