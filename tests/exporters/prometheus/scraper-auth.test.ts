/**
 * One scraper-auth behaviour on both `/metrics` endpoints: the standalone server (PrometheusPullReader) and the
 * Express mount (metricsMiddleware). The same table of headers runs against both, over real sockets.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { PrometheusPullReader } from '../../../src/exporters/prometheus';
import {
  isLoopbackHost,
  scraperAuth,
  warnIfExposed,
  type ScraperCredentials,
} from '../../../src/exporters/prometheus/scraper-auth';
import { metricsMiddleware } from '../../../src/integrations/express';
import { basicAuth, httpRequest } from '../../support/http';

interface Endpoint {
  readonly url: string;
  close(): Promise<void>;
}

async function standalone(auth: ScraperCredentials): Promise<Endpoint> {
  const reader = new PrometheusPullReader({ port: 0, auth });
  const provider = new MeterProvider({ readers: [reader] });
  await reader.ready;
  return { url: reader.url!, close: () => provider.shutdown() };
}

async function expressMount(auth: ScraperCredentials): Promise<Endpoint> {
  const reader = new PrometheusPullReader({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader] });
  const app = express();
  app.get('/metrics', metricsMiddleware(reader.metricsHandler, { auth }));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await provider.shutdown();
    },
  };
}

const TABLE: Array<{ auth: ScraperCredentials; accepted: string[]; refused: string[] }> = [
  {
    auth: { bearerToken: 'tok-3n' },
    accepted: ['Bearer tok-3n', 'bearer tok-3n', 'BEARER tok-3n', 'Bearer   tok-3n  ', '  Bearer\ttok-3n'],
    refused: [
      'Bearer tok-3N',
      'Bearer tok-3n-x',
      'Bearer',
      'Bearer ',
      'tok-3n',
      'Basic dG9rLTNu',
      'Bearertok-3n',
    ],
  },
  {
    // RFC 7617: the user-id cannot contain ":", the password can (split at the first colon).
    auth: { username: 'prom', password: 'p:w ä' },
    accepted: [basicAuth('prom', 'p:w ä'), basicAuth('prom', 'p:w ä').replace('Basic', 'basic')],
    refused: [
      basicAuth('prom', 'p:w'),
      basicAuth('prom', 'p:w ä '),
      basicAuth('Prom', 'p:w ä'),
      'Bearer prom:p:w ä',
      'Basic',
    ],
  },
];

describe.each([
  ['standalone server', standalone],
  ['Express mount', expressMount],
])('scraper auth on the %s', (_name, start) => {
  it.each(TABLE)(
    'accepts exactly the configured credentials ($auth)',
    async ({ auth, accepted, refused }) => {
      const endpoint = await start(auth);
      try {
        const challenge =
          'bearerToken' in auth ? 'Bearer realm="metrics"' : 'Basic realm="metrics", charset="UTF-8"';
        for (const header of accepted) {
          const answer = await httpRequest(endpoint.url, { headers: { authorization: header } });
          expect([header, answer.status]).toEqual([header, 200]);
          expect(answer.body).toContain('target_info');
        }
        for (const header of [...refused, undefined]) {
          const answer = await httpRequest(
            endpoint.url,
            header === undefined ? {} : { headers: { authorization: header } },
          );
          expect([header, answer.status, answer.headers['www-authenticate']]).toEqual([
            header,
            401,
            challenge,
          ]);
          expect(answer.body).not.toContain('target_info');
        }
      } finally {
        await endpoint.close();
      }
    },
  );

  it.each([
    [{ bearerToken: '' }, /non-empty/],
    [{ bearerToken: ' padded' }, /whitespace/],
    [{ bearerToken: 'padded\n' }, /whitespace/],
    [{ bearerToken: 'two words' }, /without spaces/],
    [{ bearerToken: 'tökén' }, /visible ASCII/],
    [{ username: 'a:b', password: 'x' }, /without ":"/],
    [{ username: ' a', password: 'x' }, /whitespace/],
    [{ username: 'a', password: '' }, /password/],
    [{ username: 'a', password: 'x\r\ny' }, /control/],
  ])('refuses %j at configuration time', async (auth, message) => {
    await expect(start(auth as ScraperCredentials)).rejects.toThrow(message);
  });
});

/** Routes OpenTelemetry diag warnings into the returned array (the test calls diag.disable() when done). */
function captureDiagWarnings(): string[] {
  const warnings: string[] = [];
  diag.setLogger(
    {
      ...console,
      warn: (message: string) => void warnings.push(message),
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  return warnings;
}
describe('scraper auth helpers', () => {
  it('compares in constant time through digests (different lengths do not throw)', () => {
    const check = scraperAuth({ bearerToken: 'short' }, 'test');
    expect(check.isAuthorized(`Bearer ${'x'.repeat(10_000)}`)).toBe(false);
    expect(check.isAuthorized('Bearer short')).toBe(true);
    expect(check.isAuthorized(undefined)).toBe(false);
  });

  it('knows loopback addresses and warns only for an open endpoint on another address', () => {
    expect(
      ['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(isLoopbackHost),
    ).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', undefined].some(isLoopbackHost)).toBe(
      false,
    );
    const warnings = captureDiagWarnings();
    try {
      expect(warnIfExposed('Prometheus exporter', '0.0.0.0', false)).toBe(true);
      expect(warnIfExposed('Prometheus exporter', '0.0.0.0', true)).toBe(false);
      expect(warnIfExposed('Prometheus exporter', '127.0.0.1', false)).toBe(false);
    } finally {
      diag.disable();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/without credentials on 0\.0\.0\.0.*business metrics/);
  });

  it('warns once when the Express mount answers a request that arrived on a non-loopback address', () => {
    const warnings = captureDiagWarnings();
    try {
      const handler = metricsMiddleware((_req, res) => void res.end('ok'));
      // The address a request arrived on is what the middleware sees; tests may only listen on loopback, so this
      // one request object stands in for one that reached 0.0.0.0 through 10.0.0.5.
      const req = { method: 'GET', socket: { localAddress: '10.0.0.5' }, headers: {} };
      const res = { end: () => undefined };
      for (let i = 0; i < 3; i++) handler(req as never, res as never, () => undefined);
    } finally {
      diag.disable();
    }
    expect(warnings).toEqual([expect.stringMatching(/^metricsMiddleware: .*10\.0\.0\.5/)]);
  });
});
