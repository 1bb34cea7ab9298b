/**
 * Options over environment: OTEL_* variables configure everything, explicit options win, and a malformed value
 * is an Error naming the variable.
 */
import { resolveConfig, toInitOptions } from '../../src/config/options';
import { initBusinessMetrics, businessMetrics } from '../../src';

describe('configuration from options and OTEL_* environment', () => {
  it('defaults to OTLP on localhost:4318 as the OpenTelemetry spec says', () => {
    const config = resolveConfig({ env: {} });
    expect(config.exporters).toEqual(['otlp']);
    expect(config.otlp).toMatchObject({
      url: 'http://localhost:4318/v1/metrics',
      exportIntervalMillis: 60000,
      exportTimeoutMillis: 30000,
      temporality: 'cumulative',
      compression: 'none',
    });
    expect(config.prometheus).toMatchObject({ host: '127.0.0.1', port: 9464, endpoint: '/metrics' });
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
      url: 'http://collector:4318/v1/metrics',
      headers: { authorization: 'Bearer abc', 'x-tenant': 'metrics' },
      exportIntervalMillis: 15000,
      exportTimeoutMillis: 15000, // never longer than the interval
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
      exporters: ['console'],
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
    expect(config.exporters).toEqual(['console']);
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
    [
      'OTEL_METRICS_EXPORTER',
      'prometheus,zipkin',
      /OTEL_METRICS_EXPORTER="prometheus,zipkin" is not valid: "zipkin"/,
    ],
    ['OTEL_METRICS_EXPORTER', 'none,otlp', /OTEL_METRICS_EXPORTER.*"none" cannot be combined/],
    [
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      '94x64',
      /OTEL_EXPORTER_PROMETHEUS_PORT="94x64" is not valid: expected an integer/,
    ],
    ['OTEL_EXPORTER_PROMETHEUS_PORT', '70000', /OTEL_EXPORTER_PROMETHEUS_PORT="70000".*0 to 65535/],
    ['OTEL_METRIC_EXPORT_INTERVAL', '-5', /OTEL_METRIC_EXPORT_INTERVAL="-5" is not valid/],
    ['OTEL_METRIC_EXPORT_TIMEOUT', '1.5', /OTEL_METRIC_EXPORT_TIMEOUT="1.5" is not valid/],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'collector:4318',
      /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not valid/,
    ],
    [
      'OTEL_EXPORTER_OTLP_COMPRESSION',
      'zstd',
      /OTEL_EXPORTER_OTLP_COMPRESSION="zstd" is not valid: expected one of gzip, none/,
    ],
    ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'sometimes', /TEMPORALITY_PREFERENCE="sometimes"/],
    [
      'OTEL_RESOURCE_ATTRIBUTES',
      'team',
      /OTEL_RESOURCE_ATTRIBUTES is not valid: "team" is not a key=value pair/,
    ],
    [
      'OTEL_RESOURCE_ATTRIBUTES',
      'team=%E0%A4%A',
      /OTEL_RESOURCE_ATTRIBUTES is not valid: .*percent-encoding/,
    ],
    ['OTEL_EXPORTER_OTLP_HEADERS', '=x', /OTEL_EXPORTER_OTLP_HEADERS is not valid/],
    ['OTEL_SDK_DISABLED', 'yes', /OTEL_SDK_DISABLED="yes" is not valid: expected true or false/],
    ['OTEL_LOG_LEVEL', 'loud', /OTEL_LOG_LEVEL="loud" is not valid/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /PROTOCOL=grpc is not supported/],
  ])('rejects malformed %s=%s with an error naming it', (name, value, message) => {
    expect(() => resolveConfig({ env: { [name]: value } })).toThrow(message);
    // and initBusinessMetrics surfaces the same error without leaving a live handle behind
    expect(() => initBusinessMetrics({ env: { [name]: value } })).toThrow(message);
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
