/**
 * The shared exposition parser (tests/support/exposition.ts) must be strict, or tests that rely on it to
 * validate scrapes would pass on broken output.
 */
import { parseExposition, parsePrometheusNumber } from '../../support/exposition';

describe('parseExposition', () => {
  const valid = [
    '# HELP req_total Requests \\\\ served\\nfast',
    '# UNIT req_total {request}',
    '# TYPE req_total counter',
    'req_total{route="/a",q="say \\"hi\\"\\n"} 3',
    'req_total 4 1700000000000',
    '# a free comment',
    '# TYPE lat histogram',
    'lat_bucket{le="1"} 1',
    'lat_bucket{le="+Inf"} 2',
    'lat_sum 3.5',
    'lat_count 2',
    'g NaN',
    'h{} -Inf',
    '',
  ].join('\n');

  it('reads families, help, unit, labels with escapes, values and timestamps', () => {
    const scrape = parseExposition(valid);
    const requests = scrape.family('req_total');
    expect([requests.type, requests.help, requests.unit]).toEqual([
      'counter',
      'Requests \\ served\nfast',
      '{request}',
    ]);
    expect(requests.samples[0]).toEqual({
      name: 'req_total',
      labels: { route: '/a', q: 'say "hi"\n' },
      value: 3,
    });
    expect(requests.samples[1]).toEqual({
      name: 'req_total',
      labels: {},
      value: 4,
      timestamp: 1700000000000,
    });
    expect(scrape.family('lat').samples.map((s) => s.name)).toEqual([
      'lat_bucket',
      'lat_bucket',
      'lat_sum',
      'lat_count',
    ]);
    expect(scrape.value('lat_bucket', { le: '+Inf' })).toBe(2);
    expect(scrape.value('g')).toBeNaN();
    expect(scrape.value('h')).toBe(-Infinity);
    expect(scrape.family('g').type).toBe('untyped');
    expect(() => scrape.value('req_total')).toThrow('found 2');
    expect(() => scrape.family('nope')).toThrow('no family nope');
  });

  it.each([
    ['a bad metric name', '1abc 1'],
    ['a bad label name', 'x{1a="b"} 1'],
    ['an unterminated label value', 'x{a="b} 1'],
    ['an invalid escape', 'x{a="\\t"} 1'],
    ['a duplicate label', 'x{a="1",a="2"} 1'],
    ['a missing value', 'x{a="1"}'],
    ['a non-number value', 'x 1,5'],
    ['garbage after the value', 'x 1 2 3'],
    ['a second TYPE', '# TYPE x gauge\n# TYPE x gauge\nx 1'],
    ['a second HELP', '# HELP x a\n# HELP x b\nx 1'],
    ['TYPE after samples', 'x 1\n# TYPE x gauge'],
    ['an unknown type', '# TYPE x thing\nx 1'],
    ['split samples of a family', 'x{a="1"} 1\ny 2\nx{a="2"} 3'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow(/^line \d+: /);
  });

  it('parses Prometheus numbers', () => {
    expect(['1', '-2.5', '1e+21', '5e-324', '.5', '+Inf', 'Inf', '-Inf'].map(parsePrometheusNumber)).toEqual([
      1,
      -2.5,
      1e21,
      5e-324,
      0.5,
      Infinity,
      Infinity,
      -Infinity,
    ]);
    expect(() => parsePrometheusNumber('0x10')).toThrow('not a number');
  });
});
