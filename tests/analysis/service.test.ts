/**
 * src/analysis/service.ts without a Prometheus server: every request error is reported with its code before any
 * query is sent, and an unreachable server is named. Checked against a loopback port nothing listens on, so a
 * request that reached the network would fail as PROMETHEUS_UNREACHABLE instead. The analyses against a real
 * Prometheus are in prometheus.e2e.test.ts.
 */
import { isCorrelationError } from '../../src/analysis/errors';
import { analyzeCorrelation, MetricCorrelationService } from '../../src/analysis/service';
import { freePort } from '../support/prometheus-server';

describe('MetricCorrelationService without Prometheus', () => {
  let url = '';
  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
  });

  it.each([
    [
      'an empty technical expression',
      { technical: '  ' },
      'INVALID_ARGUMENT',
      /technical PromQL expression is empty/,
    ],
    [
      'an empty business expression',
      { business: '' },
      'INVALID_ARGUMENT',
      /business PromQL expression is empty/,
    ],
    ['a bad step', { step: 'five minutes' }, 'INVALID_ARGUMENT', /Invalid step "five minutes"/],
    ['a bad range', { range: 'a week' }, 'INVALID_ARGUMENT', /Invalid range "a week"/],
    [
      'too many points',
      { range: '7d', step: '1s' },
      'TOO_MANY_POINTS',
      /A 7d range at a 1s step is 604801 points per series/,
    ],
  ])('rejects %s before querying (%s)', async (_name, change, code, message) => {
    const request = { technical: 'up', business: 'up', range: '1h', step: '5m', ...change };
    const error = await new MetricCorrelationService({ url }).correlate(request).catch((e: unknown) => e);
    expect(isCorrelationError(error, code as never)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('names the URL when Prometheus is unreachable, in the class and the functional form', async () => {
    const request = { technical: 'up', business: 'up', range: '1h', step: '5m' };
    for (const attempt of [
      new MetricCorrelationService({ url }).correlate(request),
      analyzeCorrelation({ ...request, prometheus: { url } }),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(isCorrelationError(error, 'PROMETHEUS_UNREACHABLE')).toBe(true);
      expect((error as Error).message).toContain(`Cannot reach Prometheus at ${url}: connect ECONNREFUSED`);
    }
  });
});
