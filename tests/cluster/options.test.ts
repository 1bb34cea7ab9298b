/**
 * src/cluster/options.ts directly: `cluster.timeoutMillis` must be a positive finite number and each gauge rule one
 * of the known rules; a malformed value throws a TypeError naming the option and what it got, a valid one passes.
 */
import { validateClusterOptions } from '../../src/cluster/options';
import { GAUGE_RULE_NAMES } from '../../src/cluster/rules';

it('accepts no options, a positive timeout and the known gauge rules', () => {
  expect(() => validateClusterOptions({})).not.toThrow();
  expect(() => validateClusterOptions({ timeoutMillis: 250 })).not.toThrow();
  expect(() => validateClusterOptions({ timeoutMillis: 0.5 })).not.toThrow();
  expect(GAUGE_RULE_NAMES).toEqual(expect.arrayContaining(['sum', 'latest', 'max', 'min']));
  for (const rule of GAUGE_RULE_NAMES)
    expect(() => validateClusterOptions({ gauges: { queue_depth: rule } })).not.toThrow();
});

it.each([0, -1, Number.NaN, Infinity, '1000', null])(
  'refuses timeoutMillis %p, naming it',
  (timeoutMillis) => {
    expect(() => validateClusterOptions({ timeoutMillis: timeoutMillis as number })).toThrow(
      new TypeError(`cluster.timeoutMillis must be a positive number (got ${String(timeoutMillis)})`),
    );
  },
);

it('refuses an unknown gauge rule, naming the gauge, the rules and what it got', () => {
  expect(() => validateClusterOptions({ gauges: { queue_depth: 'average' as never } })).toThrow(TypeError);
  expect(() => validateClusterOptions({ gauges: { queue_depth: 'average' as never } })).toThrow(
    /^cluster\.gauges\.queue_depth must be one of 'sum', .* \(got average\)$/,
  );
});
