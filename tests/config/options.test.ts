/**
 * src/config/options.ts, options over environment: OTEL_* variables configure everything, explicit options win, a
 * malformed OTEL_* value is warned about once (naming it and what is used instead) and never throws, also when
 * initBusinessMetrics reads it; a wrong option in code throws; the argument forms of initBusinessMetrics.
 */
import { EXPORT_DEADLINE_MARGIN_MS, MAX_TIMER_MILLIS } from '../../src/config/defaults';
import { resolveConfig, toInitOptions } from '../../src/config/options';
import { resourceAttributesOf } from '../../src/config/resource';
import { initBusinessMetrics, businessMetrics } from '../../src';

describe('configuration from options and OTEL_* environment', () => {
  it('defaults to OTLP on localhost:4318 as the OpenTelemetry spec says', () => {
    const config = resolveConfig({ env: {} });
    expect(config.exporters).toEqual(['otlp']);
    expect(config.otlp).toMatchObject({
      url: 'http://localhost:4318/v1/metrics',
      exportIntervalMillis: 60000,
      exportTimeoutMillis: 30000,
      exporterTimeoutMillis: 10000,
      temporality: 'cumulative',
      compression: 'none',
    });
    expect(config.prometheus).toMatchObject({ host: '127.0.0.1', port: 9464, endpoint: '/metrics' });
  });

  it('times the OTLP exporter as the spec says: code, then OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, then OTEL_EXPORTER_OTLP_TIMEOUT, then 10000', () => {
    const timeoutOf = (otlp: { exportTimeoutMillis?: number }, env: Record<string, string>) =>
      resolveConfig({ otlp, env }).otlp.exporterTimeoutMillis;
    const both = { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_TIMEOUT: '3000' };
    expect(timeoutOf({ exportTimeoutMillis: 1000 }, both)).toBe(1000);
    expect(timeoutOf({}, both)).toBe(2000);
    expect(timeoutOf({}, { OTEL_EXPORTER_OTLP_TIMEOUT: '3000' })).toBe(3000);
    expect(timeoutOf({}, {})).toBe(10000);
    // Never past the reader's deadline for the same export, from the option or OTEL_METRIC_EXPORT_TIMEOUT.
    expect(timeoutOf({}, { OTEL_EXPORTER_OTLP_TIMEOUT: '45000' })).toBe(30000);
    expect(timeoutOf({}, { OTEL_METRIC_EXPORT_TIMEOUT: '5000' })).toBe(5000);
    // An interval shorter than both leaves the reader no room past the exporter: the exporter's gives way.
    expect(timeoutOf({}, { OTEL_METRIC_EXPORT_INTERVAL: '4000' })).toBe(4000 - EXPORT_DEADLINE_MARGIN_MS);
    // The reader's own timeout does not follow the exporter's variables.
    expect(resolveConfig({ env: both }).otlp.exportTimeoutMillis).toBe(30000);
  });

  it("gives the OTLP reader a deadline past the exporter's, so the exporter's ends an export first", () => {
    const deadlines = (otlp: { exportTimeoutMillis?: number; exportIntervalMillis?: number }, env = {}) => {
      const resolved = resolveConfig({ otlp, env }).otlp;
      return [resolved.exporterTimeoutMillis, resolved.readerTimeoutMillis];
    };
    const margin = EXPORT_DEADLINE_MARGIN_MS;
    // Already apart: both as configured.
    expect(deadlines({})).toEqual([10000, 30000]);
    // One timeout in code is both the exporter's and the reader's: the reader waits a margin longer.
    expect(deadlines({ exportTimeoutMillis: 300 })).toEqual([300, 300 + margin]);
    // The same from the environment, where the exporter's is clamped to the reader's.
    const env = { OTEL_METRIC_EXPORT_TIMEOUT: '300', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '600000' };
    expect(deadlines({}, env)).toEqual([300, 300 + margin]);
    // Never past the interval, nor Node's timer limit: the exporter's is shortened instead.
    expect(deadlines({ exportTimeoutMillis: 1000, exportIntervalMillis: 1000 })).toEqual([
      1000 - margin,
      1000,
    ]);
    expect(
      deadlines({ exportTimeoutMillis: MAX_TIMER_MILLIS, exportIntervalMillis: MAX_TIMER_MILLIS }),
    ).toEqual([MAX_TIMER_MILLIS - margin, MAX_TIMER_MILLIS]);
    // An interval too short for the whole margin keeps half of it for the exporter; 1 ms has none to share.
    expect(deadlines({ exportIntervalMillis: 100 })).toEqual([50, 100]);
    expect(deadlines({ exportIntervalMillis: 1 })).toEqual([1, 1]);
    // Console and your own push exporters keep the reader's timeout as configured.
    expect(resolveConfig({ otlp: { exportTimeoutMillis: 300 }, env: {} }).otlp.exportTimeoutMillis).toBe(300);
  });

  it('an invalid OTEL_EXPORTER_OTLP_METRICS_TIMEOUT falls back to OTEL_EXPORTER_OTLP_TIMEOUT, warned about', () => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const config = resolveConfig({
        env: { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon', OTEL_EXPORTER_OTLP_TIMEOUT: '3000' },
      });
      expect(config.otlp.exporterTimeoutMillis).toBe(3000);
      expect(config.warnings).toEqual([
        'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT="soon" is not valid (expected an integer from 1 to 2147483647); ' +
          'using OTEL_EXPORTER_OTLP_TIMEOUT or the default instead',
      ]);
    } finally {
      emitted.mockRestore();
    }
  });

  it('reads every supported variable', () => {
    const config = resolveConfig({
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus, otlp',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9999',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=shop',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=metrics',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
        OTEL_METRIC_EXPORT_INTERVAL: '15000',
        OTEL_METRIC_EXPORT_TIMEOUT: '20000',
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=growth%2Cretention',
        OTEL_LOG_LEVEL: 'warn',
      },
    });
    expect(config.exporters).toEqual(['prometheus', 'otlp']);
    expect(config.prometheus).toMatchObject({ host: '0.0.0.0', port: 9999 });
    expect(config.otlp).toEqual({
      protocol: 'http/protobuf',
      url: 'http://collector:4318/v1/metrics',
      headers: { authorization: 'Bearer abc', 'x-tenant': 'metrics' },
      exportIntervalMillis: 15000,
      exportTimeoutMillis: 15000, // never longer than the interval
      exporterTimeoutMillis: 10000, // the OTLP exporter's own: OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT
      readerTimeoutMillis: 15000, // the OTLP reader's: the export timeout, already past the exporter's
      temporality: 'delta',
      compression: 'gzip',
    });
    expect(config.serviceName).toBe('checkout');
    expect(config.resourceAttributes).toEqual({
      'deployment.environment.name': 'prod',
      team: 'growth,retention',
    });
    expect(config.logLevel).toBe('WARN');
    expect(
      resolveConfig({ env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://x.example/custom' } }).otlp.url,
    ).toBe('https://x.example/custom');
    expect(resolveConfig({ env: { OTEL_SDK_DISABLED: 'TRUE' } }).disabled).toBe(true);
  });

  it('lets explicit options win over the environment', () => {
    const config = resolveConfig({
      exporters: ['prometheus', 'otlp'],
      serviceName: 'explicit',
      prometheus: { port: 0, host: '::1' },
      otlp: {
        url: 'http://127.0.0.1:1/v1/metrics',
        temporality: 'cumulative',
        compression: 'none',
        headers: {},
      },
      resourceAttributes: { team: 'explicit' },
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_SERVICE_NAME: 'env',
        OTEL_EXPORTER_PROMETHEUS_PORT: '1234',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_HEADERS: 'a=b',
        OTEL_RESOURCE_ATTRIBUTES: 'team=env,region=eu',
      },
    });
    expect(config.exporters).toEqual(['prometheus', 'otlp']);
    expect(config.serviceName).toBe('explicit');
    expect(config.prometheus).toMatchObject({ port: 0, host: '::1' });
    expect(config.otlp).toMatchObject({
      url: 'http://127.0.0.1:1/v1/metrics',
      temporality: 'cumulative',
      compression: 'none',
      headers: {},
    });
    expect(config.resourceAttributes).toEqual({ team: 'explicit', region: 'eu' });
  });

  it.each([
    ['OTEL_METRICS_EXPORTER', 'prometheus,zipkin', /"zipkin" not supported.*using prometheus instead/],
    ['OTEL_METRICS_EXPORTER', 'zipkin', /"zipkin" not supported.*using otlp, the default, instead/],
    ['OTEL_METRICS_EXPORTER', 'none,otlp', /"none" cannot be combined.*ignoring "none"/],
    ['OTEL_EXPORTER_PROMETHEUS_PORT', '94x64', /PORT="94x64" is not valid \(expected an integer.*using 9464/],
    ['OTEL_EXPORTER_PROMETHEUS_PORT', '70000', /PORT="70000".*0 to 65535.*using 9464 instead/],
    ['OTEL_METRIC_EXPORT_INTERVAL', '-5', /OTEL_METRIC_EXPORT_INTERVAL="-5" is not valid.*using the default/],
    ['OTEL_METRIC_EXPORT_TIMEOUT', '1.5', /OTEL_METRIC_EXPORT_TIMEOUT="1.5" is not valid/],
    // Past Node's longest timer (2^31-1 ms) setInterval fires after 1 ms: an export every millisecond.
    [
      'OTEL_METRIC_EXPORT_INTERVAL',
      '2147483648',
      /OTEL_METRIC_EXPORT_INTERVAL="2147483648" is not valid \(expected an integer from 1 to 2147483647/,
    ],
    [
      'OTEL_METRIC_EXPORT_TIMEOUT',
      '9007199254740991',
      /OTEL_METRIC_EXPORT_TIMEOUT="9007199254740991" is not valid \(expected an integer from 1 to 2147483647/,
    ],
    [
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      '-300',
      /OTEL_EXPORTER_OTLP_TIMEOUT="-300" is not valid.*using the default/,
    ],
    [
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      '0',
      /OTEL_EXPORTER_OTLP_TIMEOUT="0" is not valid \(expected an integer from 1/,
    ],
    [
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      '10s',
      /METRICS_TIMEOUT="10s" is not valid.*using OTEL_EXPORTER_OTLP_TIMEOUT or the default instead/,
    ],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /ENDPOINT="collector:4318" is not valid.*using/],
    [
      'OTEL_EXPORTER_OTLP_COMPRESSION',
      'zstd',
      /COMPRESSION="zstd" is not valid \(expected one of gzip, none\)/,
    ],
    ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'sometimes', /"sometimes".*using cumulative/],
    ['OTEL_RESOURCE_ATTRIBUTES', 'team', /OTEL_RESOURCE_ATTRIBUTES: "team" is not a key=value pair; leaving/],
    [
      'OTEL_RESOURCE_ATTRIBUTES',
      'team=%E0%A4%A',
      /OTEL_RESOURCE_ATTRIBUTES: .*percent-encoding; leaving it out/,
    ],
    ['OTEL_EXPORTER_OTLP_HEADERS', '=x', /OTEL_EXPORTER_OTLP_HEADERS: "=x" is not a key=value pair/],
    [
      'OTEL_SDK_DISABLED',
      'yes',
      /OTEL_SDK_DISABLED="yes" is not valid \(expected true or false\); using false/,
    ],
    ['OTEL_LOG_LEVEL', 'loud', /OTEL_LOG_LEVEL="loud" is not valid.*using no diagnostic logger/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/thrift', /PROTOCOL="http\/thrift".*using http\/protobuf instead/],
  ])('never throws on %s=%s: warns once, naming it and what is used instead', (name, value, message) => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const config = resolveConfig({ env: { [name]: value } });
      expect(config.warnings).toHaveLength(1);
      expect(config.warnings[0]).toMatch(message);
      expect(config.warnings[0]).toContain(name);
      // Platforms set these cluster-wide: initBusinessMetrics starts anyway, and the warning is not repeated.
      const handle = initBusinessMetrics({ exporters: ['none'], env: { [name]: value } });
      void handle.shutdown();
      const ours = emitted.mock.calls.filter(([text]) => String(text).includes(config.warnings[0]));
      expect(ours).toHaveLength(1);
    } finally {
      emitted.mockRestore();
    }
  });

  it('keeps the well-formed parts of a partly malformed value and the defaults for the rest', () => {
    const config = resolveConfig({
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,zipkin',
        OTEL_RESOURCE_ATTRIBUTES: 'team=growth,broken,region=eu',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      },
    });
    expect(config.exporters).toEqual(['prometheus']);
    expect(config.resourceAttributes).toEqual({ team: 'growth', region: 'eu' });
    expect(config.otlp.url).toBe('http://collector:4318/v1/metrics');
    expect(config.warnings).toHaveLength(3);
  });

  it.each(['none', 'prometheus', 'console'])(
    'OTEL_METRICS_EXPORTER=%s with otlp options in code: warns once and starts without them (the exporters option in code still throws)',
    async (value) => {
      const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const printed = jest.spyOn(console, 'dir').mockImplementation(() => undefined); // the console exporter's
      try {
        const options = {
          otlp: { url: 'http://collector:4318/v1/metrics' },
          serviceName: 'checkout',
          env: { OTEL_METRICS_EXPORTER: value, OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
        };
        const handle = initBusinessMetrics(options);
        await handle.shutdown();
        const said = `otlp.url is given, but the exporters are ${value} (from OTEL_METRICS_EXPORTER), so nothing would be sent over OTLP; ignoring the otlp options (pass the exporters option to have this refused)`;
        const ours = emitted.mock.calls.filter(([text]) => String(text).includes(said));
        expect(ours).toHaveLength(1);
        expect(ours[0][1]).toEqual({ code: 'OTEL_BUSINESS_METRICS_CONFIG' });
        expect(() => initBusinessMetrics({ ...options, exporters: [value as 'none'] })).toThrow(
          new TypeError(
            `initBusinessMetrics: otlp.url is given, but the exporters are ${value} (the exporters option), so ` +
              "nothing would be sent over OTLP: add 'otlp' to exporters, or remove the otlp options",
          ),
        );
      } finally {
        emitted.mockRestore();
        printed.mockRestore();
      }
    },
  );

  it('OTEL_METRICS_EXPORTER without prometheus and prometheus options in code: warned about, not thrown', async () => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const handle = initBusinessMetrics({ prometheus: { port: 0 }, env: { OTEL_METRICS_EXPORTER: 'none' } });
      await handle.shutdown();
      expect(handle.prometheus).toBeUndefined();
      expect(emitted.mock.calls.map(([text]) => String(text))).toContain(
        'otel-business-metrics: prometheus options are given, but the exporters are none (from OTEL_METRICS_EXPORTER), ' +
          'so no Prometheus endpoint would start; ignoring the prometheus options (pass the exporters option to have this refused)',
      );
    } finally {
      emitted.mockRestore();
    }
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a temporality typo (was delta)',
      { otlp: { temporality: 'cumulitive' } },
      'otlp.temporality must be one of cumulative, delta (got "cumulitive")',
    ],
    [
      'compression in capitals (was sent uncompressed)',
      { otlp: { compression: 'GZIP' } },
      'otlp.compression must be one of gzip, none (got "GZIP")',
    ],
    [
      'headers as a string (were sent as headers named 0, 1, 2...)',
      { otlp: { headers: 'authorization=Bearer abc' } },
      'otlp.headers must be an object of strings',
    ],
    [
      'a header value that is not a string',
      { otlp: { headers: { 'x-tenant': 7 } } },
      'otlp.headers["x-tenant"] must be a string (got number 7)',
    ],
    [
      'resourceAttributes as a string',
      { resourceAttributes: 'team=checkout' },
      'resourceAttributes must be an object',
    ],
    [
      'a resource attribute that is an object',
      { resourceAttributes: { team: { name: 'checkout' } } },
      'resourceAttributes["team"] must be a string, number or boolean, or an array of those (got an object)',
    ],
    [
      'preventServerStart as a string (the string "false" prevented the server)',
      { exporters: ['prometheus'], prometheus: { preventServerStart: 'false' } },
      'prometheus.preventServerStart must be a boolean (got string "false")',
    ],
    [
      'a host that is a number',
      { exporters: ['prometheus'], prometheus: { host: 123 } },
      'prometheus.host must be a string',
    ],
    ['serviceName as a number', { serviceName: 42 }, 'serviceName must be a string (got number 42)'],
    ['strict as a string', { strict: 'false' }, 'strict must be a boolean (got string "false")'],
  ])('refuses %s with a TypeError naming the option', (_, options, message) => {
    const resolve = () => resolveConfig({ exporters: ['otlp'], env: {}, ...options } as never);
    expect(resolve).toThrow(TypeError);
    expect(resolve).toThrow(message);
  });

  it('bounds a scrape: prometheus.scrapeTimeoutMillis (default 5000) is checked, and must exceed cluster.timeoutMillis', () => {
    expect(resolveConfig({ exporters: ['prometheus'], env: {} }).prometheus.scrapeTimeoutMillis).toBe(5000);
    expect(
      resolveConfig({ exporters: ['prometheus'], prometheus: { scrapeTimeoutMillis: 8000 }, env: {} })
        .prometheus.scrapeTimeoutMillis,
    ).toBe(8000);
    expect(() =>
      resolveConfig({
        exporters: ['prometheus'],
        prometheus: { scrapeTimeoutMillis: '5000' as never },
        env: {},
      }),
    ).toThrow(
      'prometheus.scrapeTimeoutMillis must be an integer number of milliseconds from 1 to 2147483647',
    );
    expect(() =>
      resolveConfig({ exporters: ['prometheus'], prometheus: { scrapeTimeoutMillis: 0 }, env: {} }),
    ).toThrow(RangeError);
    // The primary waits cluster.timeoutMillis for its workers before a scrape can be answered: a deadline left
    // to its default follows a longer wait; one set below it is refused.
    expect(
      resolveConfig({ exporters: ['prometheus'], cluster: { timeoutMillis: 5000 }, env: {} }).prometheus
        .scrapeTimeoutMillis,
    ).toBe(6000);
    expect(() =>
      resolveConfig({
        exporters: ['prometheus'],
        cluster: { timeoutMillis: 5000 },
        prometheus: { scrapeTimeoutMillis: 5000 },
        env: {},
      }),
    ).toThrow('cluster.timeoutMillis (5000 ms) must be below prometheus.scrapeTimeoutMillis (5000 ms)');
    expect(
      resolveConfig({
        exporters: ['prometheus'],
        cluster: { timeoutMillis: 5000 },
        prometheus: { scrapeTimeoutMillis: 9000 },
        env: {},
      }).cluster,
    ).toEqual({ timeoutMillis: 5000 });
  });

  it('accepts every value the types allow', () => {
    const config = resolveConfig({
      exporters: ['prometheus', 'otlp'],
      serviceName: 'checkout',
      strict: false,
      resourceAttributes: { team: 'checkout', shard: 3, canary: true, zones: ['a', 'b'] },
      prometheus: { host: '127.0.0.1', endpoint: '/metrics', preventServerStart: true },
      otlp: { temporality: 'delta', compression: 'gzip', headers: { authorization: 'Bearer abc' } },
      env: {},
    });
    expect(config.otlp).toMatchObject({ temporality: 'delta', compression: 'gzip' });
  });

  it("takes service.name from code over OTEL_SERVICE_NAME: serviceName, then resourceAttributes['service.name'], then the variable", () => {
    const env = {
      OTEL_SERVICE_NAME: 'cluster-wide-default',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-env-ra',
    };
    const named = (options: Parameters<typeof resolveConfig>[0]) =>
      resourceAttributesOf(resolveConfig({ exporters: ['none'], env, ...options }))['service.name'];
    expect(named({ resourceAttributes: { 'service.name': 'checkout-from-code' } })).toBe(
      'checkout-from-code',
    );
    expect(
      named({ serviceName: 'explicit', resourceAttributes: { 'service.name': 'checkout-from-code' } }),
    ).toBe('explicit');
    // Between the two variables, OTEL_SERVICE_NAME wins, as the OpenTelemetry spec says.
    expect(named({})).toBe('cluster-wide-default');
  });

  it('refuses an exporter listed twice (two endpoints on one port, every point sent twice)', () => {
    expect(() => resolveConfig({ exporters: ['prometheus', 'prometheus'], env: {} })).toThrow(
      new TypeError('initBusinessMetrics: exporters lists "prometheus" twice; list each exporter once'),
    );
    const reader = { collect: () => undefined } as never;
    expect(() => resolveConfig({ exporters: [reader, reader], env: {} })).toThrow(
      'exporters lists the same reader or exporter instance twice',
    );
    // The variable's list is de-duplicated, as every OTEL_* value never throws.
    expect(resolveConfig({ env: { OTEL_METRICS_EXPORTER: 'otlp,otlp' } }).exporters).toEqual(['otlp']);
  });

  it('names OTEL_BUSINESS_METRICS_USER_HASH_KEY when that key is too short, not the option the app never set', () => {
    expect(() => resolveConfig({ env: { OTEL_BUSINESS_METRICS_USER_HASH_KEY: 'short' } })).toThrow(
      new TypeError(
        'OTEL_BUSINESS_METRICS_USER_HASH_KEY must be at least 16 bytes (got 5); use e.g. `openssl rand -hex 32`',
      ),
    );
    // The option in code wins, and the variable is not read then.
    expect(
      resolveConfig({
        activeUsers: { hashKey: 'a-key-of-sixteen-bytes' },
        env: { OTEL_BUSINESS_METRICS_USER_HASH_KEY: 'short' },
      }).activeUsers.hashKey,
    ).toBe('a-key-of-sixteen-bytes');
  });

  it('still throws on wrong options passed in code', () => {
    expect(() => resolveConfig({ otlp: { protocol: 'thrift' as never }, env: {} })).toThrow(
      /otlp.protocol must be one of http\/protobuf, http\/json, grpc/,
    );
    expect(() => resolveConfig({ exporters: ['zipkin' as never], env: {} })).toThrow(/unknown exporter/);
    expect(() => resolveConfig({ exporters: ['prometheus'], prometheus: { port: 70000 }, env: {} })).toThrow(
      RangeError,
    );
  });

  it('chooses the protocol and its spec endpoints: http/protobuf by default, 4318 + /v1/metrics, gRPC on 4317', () => {
    expect(resolveConfig({ env: {} }).otlp).toMatchObject({
      protocol: 'http/protobuf',
      url: 'http://localhost:4318/v1/metrics',
    });
    expect(resolveConfig({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }).otlp).toMatchObject({
      protocol: 'grpc',
      url: 'http://localhost:4317',
    });
    expect(resolveConfig({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON' } }).otlp.protocol).toBe(
      'http/json',
    );
    // The per-signal variable wins over the generic one.
    expect(
      resolveConfig({
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      }).otlp.protocol,
    ).toBe('http/json');
    // Generic endpoint: HTTP appends the signal path, gRPC uses it as is; the per-signal endpoint is used as is.
    const generic = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4000/base/' };
    expect(resolveConfig({ env: generic }).otlp.url).toBe('http://collector:4000/base/v1/metrics');
    expect(resolveConfig({ env: { ...generic, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }).otlp.url).toBe(
      'http://collector:4000/base/',
    );
    expect(
      resolveConfig({
        env: { ...generic, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/custom' },
      }).otlp.url,
    ).toBe('http://metrics:4318/custom');
    // An explicit option wins over every variable.
    expect(
      resolveConfig({ otlp: { protocol: 'http/json' }, env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }).otlp,
    ).toMatchObject({ protocol: 'http/json', url: 'http://localhost:4318/v1/metrics' });
  });

  it('accepts the argument forms: a kind, an instance, or options', () => {
    expect(toInitOptions('prometheus')).toEqual({ exporters: ['prometheus'] });
    expect(toInitOptions(undefined)).toEqual({});
    expect(() => toInitOptions('statsd' as never)).toThrow(/unknown exporter "statsd"/);
    expect(() => toInitOptions(42 as never)).toThrow(/expected an exporter kind/);
  });

  it('does nothing at all when OTEL_SDK_DISABLED=true', async () => {
    const handle = initBusinessMetrics({ exporters: ['prometheus'], env: { OTEL_SDK_DISABLED: 'true' } });
    await handle.ready;
    expect(handle.prometheus).toBeUndefined();
    expect(handle.metrics).toBe(businessMetrics);
    businessMetrics.recordFunnelStep('cart_view', { source: 'direct', deviceType: 'web' });
    expect(await businessMetrics.getMetrics()).toBe('');
    await handle.shutdown();
  });
});
