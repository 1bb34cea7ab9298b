/**
 * src/config/validate.ts: the key checks a JavaScript caller gets at init (TypeScript catches the same mistakes at
 * compile time): an unknown key throws with its path and the nearest known key, at any depth; options of an
 * exporter that is not selected throw, saying where the exporter list came from.
 */
import { PeriodicExportingMetricReader, ConsoleMetricExporter } from '@opentelemetry/sdk-metrics';
import type { InitOptions } from '../../src';
import { checkOptionKeys, checkUnselectedExporterOptions, nearest } from '../../src/config/validate';

const keysOf = (options: unknown) => () => checkOptionKeys(options as InitOptions);

describe('checkOptionKeys', () => {
  it('accepts every documented option, at every depth', () => {
    const everything: InitOptions = {
      exporters: ['prometheus', 'otlp'],
      serviceName: 'shop',
      resourceAttributes: { 'deployment.environment.name': 'prod', anyKey: 'is fine here' },
      prometheus: {
        host: '127.0.0.1',
        port: 0,
        endpoint: '/metrics',
        preventServerStart: true,
        auth: { bearerToken: 't' },
      },
      otlp: {
        protocol: 'http/protobuf',
        url: 'http://localhost:4318/v1/metrics',
        headers: { 'x-any-header': 'v' },
        exportIntervalMillis: 1000,
        exportTimeoutMillis: 500,
        temporality: 'delta',
        compression: 'gzip',
      },
      strict: true,
      limits: {
        maxSeriesPerMetric: 10,
        maxLabelLength: 10,
        maxAmountCents: 10,
        maxDurationSeconds: 10,
        maxActiveUsers: 10,
        labels: {
          source: { kind: 'capped', maxValues: 5, known: ['direct'] },
          device_type: { kind: 'allow', values: ['web'] },
        },
      },
      money: {
        defaultCurrency: 'EUR',
        currencies: ['EUR'],
        minorUnitExponents: { EUR: 2 },
        reporting: { currency: 'EUR', rates: new Map() },
      },
      activeUsers: {
        precision: 14,
        hashKey: 'a-key-of-16-bytes-or-more',
        maxUserIdLength: 64,
        redis: { url: 'redis://127.0.0.1', keyPrefix: 'x', flushIntervalMillis: 1, timeoutMillis: 1 },
      },
      runtimeMetrics: { monitoringPrecision: 10 },
      env: { ANY_VARIABLE: 'x' },
      cluster: { timeoutMillis: 100, gauges: { my_gauge: 'sum' } },
    };
    expect(keysOf(everything)).not.toThrow();
    expect(keysOf({ prometheus: { auth: { username: 'u', password: 'p' } } })).not.toThrow();
    expect(keysOf({ runtimeMetrics: true, cluster: true })).not.toThrow();
  });

  it.each([
    [{ exporter: ['prometheus'] }, 'unknown option "exporter"; did you mean "exporters"?'],
    [{ prometheus: { prot: 0 } }, 'unknown option "prometheus.prot"; did you mean "prometheus.port"?'],
    [{ otlp: { endpoint: 'http://x' } }, 'unknown option "otlp.endpoint"; did you mean "otlp.protocol"?'],
    [
      { otlp: { exportInterval: 5 } },
      'unknown option "otlp.exportInterval"; did you mean "otlp.exportIntervalMillis"?',
    ],
    [{ servicename: 'x' }, 'unknown option "servicename"; did you mean "serviceName"?'],
    [
      { activeUsers: { redis: { flushInterval: 5 } } },
      'unknown option "activeUsers.redis.flushInterval"; did you mean "activeUsers.redis.flushIntervalMillis"?',
    ],
    [
      { limits: { labels: { source: { kind: 'capped', maxValue: 5 } } } },
      'unknown option "limits.labels.source.maxValue"; did you mean "limits.labels.source.maxValues"?',
    ],
    [
      { limits: { maxSeries: 5 } },
      'unknown option "limits.maxSeries"; did you mean "limits.maxSeriesPerMetric"?',
    ],
    [
      { money: { currency: 'EUR' } },
      'unknown option "money.currency"; did you mean "money.defaultCurrency"?',
    ],
    [{ prometheus: { auth: { token: 't' } } }, 'unknown option "prometheus.auth.token"; did you mean'],
    [{ constructor: 1 }, 'unknown option "constructor"'],
  ])('refuses %j: %s', (options, message) => {
    expect(keysOf(options)).toThrow(TypeError);
    expect(keysOf(options)).toThrow(message);
  });

  it('lists what the object takes, so the right key is in the message even when the guess is wrong', () => {
    expect(keysOf({ prometheus: { xyz: 1 } })).toThrow(
      '(prometheus takes: host, port, endpoint, preventServerStart, auth, finalScrapeTimeoutMillis, scrapeTimeoutMillis)',
    );
  });

  it('nearest: edit distance, case-insensitive', () => {
    expect(nearest('EXPORTERS', ['serviceName', 'exporters'])).toBe('exporters');
    expect(nearest('prot', ['host', 'port', 'endpoint'])).toBe('port');
  });
});

describe('checkUnselectedExporterOptions', () => {
  const check =
    (options: InitOptions, exporters: InitOptions['exporters'], from = 'exporters') =>
    () =>
      checkUnselectedExporterOptions(options, exporters!, from);

  it('refuses prometheus options without a prometheus exporter, naming where the exporters came from', () => {
    expect(
      check({ prometheus: { port: 9483 } }, ['otlp'], 'the default: OTEL_METRICS_EXPORTER is not set'),
    ).toThrow(
      "initBusinessMetrics: prometheus options are given, but the exporters are otlp (the default: OTEL_METRICS_EXPORTER is not set), so no Prometheus endpoint would start: add 'prometheus' to exporters, or remove the prometheus options",
    );
    expect(check({ prometheus: { port: 9483 } }, ['prometheus'])).not.toThrow();
  });

  it('refuses OTLP options without an OTLP exporter; the push interval also times console and custom exporters', () => {
    expect(check({ otlp: { url: 'http://collector:4318/v1/metrics' } }, ['prometheus'])).toThrow(
      "initBusinessMetrics: otlp.url is given, but the exporters are prometheus (exporters), so nothing would be sent over OTLP: add 'otlp' to exporters, or remove the otlp options",
    );
    expect(check({ otlp: { exportIntervalMillis: 1000 } }, ['console'])).not.toThrow();
    const custom = new ConsoleMetricExporter();
    expect(check({ otlp: { exportIntervalMillis: 1000 } }, [custom])).not.toThrow();
    expect(check({ otlp: { exportIntervalMillis: 1000, url: 'http://x' } }, ['console'])).toThrow(
      'otlp.url is given',
    );
    const reader = new PeriodicExportingMetricReader({ exporter: custom });
    expect(check({ otlp: { exportIntervalMillis: 1000 } }, [reader])).toThrow(
      'otlp.exportIntervalMillis is given, but the exporters are PeriodicExportingMetricReader (exporters)',
    );
    expect(check({ otlp: {} }, ['prometheus'])).not.toThrow();
    expect(check({ otlp: { url: 'http://x' } }, ['otlp'])).not.toThrow();
  });
});
