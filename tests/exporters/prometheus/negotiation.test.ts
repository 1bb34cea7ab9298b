/**
 * src/exporters/prometheus/negotiation.ts directly (pure functions, client_golang's shape): the format an `Accept`
 * header gets (OpenMetrics when ranked at least as high as any format the package serves, formats it does not serve
 * being no competitors), whether `Accept-Encoding` allows gzip, both from a request's headers, each format's
 * Content-Type, and the scrape's own deadline from `X-Prometheus-Scrape-Timeout-Seconds` (90% of it, at least 100 ms). On the endpoints: openmetrics.test.ts, scrape-endpoint.test.ts, tests/integrations/scenarios.test.ts.
 */
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE } from '../../../src/exporters/prometheus';
import {
  acceptsGzip,
  chooseFormat,
  contentTypeOf,
  negotiate,
  scrapeDeadlineMillis,
} from '../../../src/exporters/prometheus/negotiation';
import { PROMETHEUS_ACCEPT, PROMETHEUS_CT_ACCEPT } from './fixture';

describe('content negotiation', () => {
  it.each([
    [PROMETHEUS_ACCEPT, 'openmetrics'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=0.0.1', 'openmetrics'],
    ['application/openmetrics-text; version=2.0.0', 'prometheus'],
    ['application/openmetrics-text;q=0.2,text/plain;q=0.9', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['*/*', 'prometheus'],
    [undefined, 'prometheus'],
    // Prometheus 3.16 with --enable-feature=created-timestamp-zero-ingestion: protobuf first, which is not served.
    [PROMETHEUS_CT_ACCEPT, 'openmetrics'],
    [
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
      'prometheus',
    ],
    ['text/plain;version=1.0.0;q=0.9,application/openmetrics-text;q=0.5', 'openmetrics'],
  ])('Accept %j -> %s', (accept, format) => {
    expect(chooseFormat(accept)).toBe(format);
  });

  it('does not parse an oversized Accept header (5,000 characters): 0.0.4 text', () => {
    expect(chooseFormat('x'.repeat(5000) + ',application/openmetrics-text')).toBe('prometheus');
    expect(chooseFormat('text/plain;q=0.1,application/openmetrics-text')).toBe('openmetrics');
  });

  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['GZIP;q=0.5', true],
    ['*', true],
    ['gzip;q=0', false],
    ['*, gzip;q=0', false],
    ['identity', false],
    [undefined, false],
  ])('Accept-Encoding %j -> gzip %s', (encoding, gzip) => {
    expect(acceptsGzip(encoding)).toBe(gzip);
  });

  it('takes repeated headers as one list, and negotiates both from request headers', () => {
    expect(chooseFormat(['text/plain;q=0.5', 'application/openmetrics-text;q=0.6'])).toBe('openmetrics');
    expect(acceptsGzip(['identity', 'gzip'])).toBe(true);
    expect(negotiate({ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' })).toEqual({
      format: 'openmetrics',
      gzip: true,
    });
    expect(negotiate({})).toEqual({ format: 'prometheus', gzip: false });
  });

  it('gives each format its Content-Type', () => {
    expect(contentTypeOf('openmetrics')).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(contentTypeOf('prometheus')).toBe(PROMETHEUS_TEXT_CONTENT_TYPE);
    expect(OPENMETRICS_CONTENT_TYPE).toMatch(
      /^application\/openmetrics-text; version=1\.0\.0; charset=utf-8$/,
    );
    expect(PROMETHEUS_TEXT_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  });

  it.each([
    ['10', 9000],
    ['0.5', 450],
    ['  2.5 ', 2250],
    ['.5', 450],
    [['3', '4'], undefined], // two values: no deadline rather than a guess
    ['0', undefined],
    // Anyone who reaches /metrics sends what they like: a deadline no scrape could meet is honoured as 100 ms.
    ['0.2', 180],
    ['0.1', 100],
    ['0.002', 100],
    ['0.0001', 100],
    ['-1', undefined],
    ['1e3', undefined],
    ['ten', undefined],
    ['Infinity', undefined],
    ['9'.repeat(400), undefined],
    ['', undefined],
    [undefined, undefined],
  ])('takes the scrape deadline of X-Prometheus-Scrape-Timeout-Seconds %j as %j ms', (header, millis) => {
    expect(scrapeDeadlineMillis(header)).toBe(millis);
  });
});
