/**
 * What initBusinessMetrics accepts, and how options and the OpenTelemetry environment variables combine into
 * one resolved configuration. Explicit options win over the environment; a malformed environment value is an
 * Error naming the variable.
 *
 * Owns: option types, defaults, env parsing. Must not touch: the SDK's objects (readers, providers).
 */
import type { Attributes } from '@opentelemetry/api';
import type { MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { PrometheusAuth } from '../exporters/prometheus';
import type { BusinessMetricsLimits } from '../metrics/business-metrics';

/** A built-in exporter. `none` records nothing outside the process (getMetrics() still works). */
export type ExporterKind = 'prometheus' | 'otlp' | 'console' | 'none';

/** An exporter: a built-in kind, or your own MetricReader / PushMetricExporter instance. */
export type ExporterSpec = ExporterKind | MetricReader | PushMetricExporter;

export interface PrometheusOptions {
  /** Interface to bind. Default `127.0.0.1` (env OTEL_EXPORTER_PROMETHEUS_HOST); use `0.0.0.0` to be scraped
   * from other hosts. */
  host?: string;
  /** Port; 0 picks a free one (see `handle.prometheus.port`). Default 9464 (env OTEL_EXPORTER_PROMETHEUS_PORT). */
  port?: number;
  /** Path of the standalone endpoint. Default `/metrics`. */
  endpoint?: string;
  /** Do not start a server; mount `handle.metricsHandler` on your own. */
  preventServerStart?: boolean;
  /** Require a bearer token or basic credentials on the standalone endpoint (revenue is sensitive). */
  auth?: PrometheusAuth;
}

export interface OtlpOptions {
  /** Full URL of the metrics endpoint. Default `http://localhost:4318/v1/metrics`
   * (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics`). */
  url?: string;
  /** Extra HTTP headers, e.g. authentication (env OTEL_EXPORTER_OTLP_[METRICS_]HEADERS). */
  headers?: Record<string, string>;
  /** Push interval. Default 60000 (env OTEL_METRIC_EXPORT_INTERVAL). */
  exportIntervalMillis?: number;
  /** Per-export timeout, at most the interval. Default 30000 (env OTEL_METRIC_EXPORT_TIMEOUT). */
  exportTimeoutMillis?: number;
  /** Default `cumulative` (env OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE; `lowmemory` means delta here). */
  temporality?: 'cumulative' | 'delta';
  /** Default `none` (env OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION). */
  compression?: 'gzip' | 'none';
}

export interface InitOptions {
  /** Default: env OTEL_METRICS_EXPORTER (comma list), else `otlp` as the OpenTelemetry spec says. */
  exporters?: ExporterSpec[];
  /** `service.name` (env OTEL_SERVICE_NAME). */
  serviceName?: string;
  /** Extra resource attributes (env OTEL_RESOURCE_ATTRIBUTES). */
  resourceAttributes?: Attributes;
  prometheus?: PrometheusOptions;
  otlp?: OtlpOptions;
  /** Throw on bad input instead of dropping and counting (tests, development). */
  strict?: boolean;
  /** Bounds on labels, series and values; see docs/safety.md. */
  limits?: BusinessMetricsLimits;
  /** Environment to read instead of `process.env` (tests). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedConfig {
  disabled: boolean;
  exporters: ExporterSpec[];
  serviceName: string | undefined;
  resourceAttributes: Attributes;
  prometheus: Required<Omit<PrometheusOptions, 'auth'>> & { auth?: PrometheusAuth };
  otlp: Required<Omit<OtlpOptions, 'temporality'>> & { temporality: 'cumulative' | 'delta' };
  logLevel: string | undefined;
}

const EXPORTER_KINDS: readonly ExporterKind[] = ['prometheus', 'otlp', 'console', 'none'];

/** Turns the argument of initBusinessMetrics into options. */
export function toInitOptions(arg: ExporterSpec | InitOptions | undefined): InitOptions {
  if (arg === undefined) return {};
  if (typeof arg === 'string') {
    if (!EXPORTER_KINDS.includes(arg)) {
      throw new TypeError(
        `initBusinessMetrics: unknown exporter "${arg}" (expected ${EXPORTER_KINDS.join(', ')})`,
      );
    }
    return { exporters: [arg] };
  }
  if (isReaderOrExporter(arg)) return { exporters: [arg] };
  if (typeof arg !== 'object' || arg === null) {
    throw new TypeError(
      'initBusinessMetrics: expected an exporter kind, a MetricReader, a PushMetricExporter or options',
    );
  }
  return arg;
}

export function isReaderOrExporter(value: unknown): value is MetricReader | PushMetricExporter {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<MetricReader & PushMetricExporter>;
  return typeof candidate.collect === 'function' || typeof candidate.export === 'function';
}

export function resolveConfig(options: InitOptions): ResolvedConfig {
  const env = new EnvReader(options.env ?? process.env);
  const exporters = options.exporters ?? env.list('OTEL_METRICS_EXPORTER', EXPORTER_KINDS) ?? ['otlp'];
  for (const exporter of exporters) {
    if (typeof exporter === 'string' && !EXPORTER_KINDS.includes(exporter)) {
      throw new TypeError(
        `initBusinessMetrics: unknown exporter "${exporter}" (expected ${EXPORTER_KINDS.join(', ')})`,
      );
    }
    if (typeof exporter !== 'string' && !isReaderOrExporter(exporter)) {
      throw new TypeError(
        'initBusinessMetrics: exporters[] entries must be a kind, a MetricReader or a PushMetricExporter',
      );
    }
  }
  const protocol =
    env.oneOf('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', ['http/json', 'http/protobuf', 'grpc']) ??
    env.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', ['http/json', 'http/protobuf', 'grpc']);
  if (exporters.includes('otlp') && protocol !== undefined && protocol !== 'http/json') {
    throw new Error(
      `OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL=${protocol} is not supported: otel-business-metrics sends OTLP/HTTP ` +
        'JSON, which every OTLP/HTTP receiver (Collector, Prometheus) accepts. Unset it or set http/json.',
    );
  }

  const interval =
    options.otlp?.exportIntervalMillis ?? env.integer('OTEL_METRIC_EXPORT_INTERVAL', 1) ?? 60_000;
  const timeout = options.otlp?.exportTimeoutMillis ?? env.integer('OTEL_METRIC_EXPORT_TIMEOUT', 1) ?? 30_000;
  const genericEndpoint = env.url('OTEL_EXPORTER_OTLP_ENDPOINT');
  const temporality =
    options.otlp?.temporality ??
    env.oneOf('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', ['cumulative', 'delta', 'lowmemory']) ??
    'cumulative';

  return {
    disabled: env.boolean('OTEL_SDK_DISABLED') ?? false,
    exporters,
    serviceName: options.serviceName ?? env.string('OTEL_SERVICE_NAME'),
    resourceAttributes: {
      ...env.keyValues('OTEL_RESOURCE_ATTRIBUTES'),
      ...(options.resourceAttributes ?? {}),
    },
    prometheus: {
      host: options.prometheus?.host ?? env.string('OTEL_EXPORTER_PROMETHEUS_HOST') ?? '127.0.0.1',
      port:
        checkPort(options.prometheus?.port) ?? env.integer('OTEL_EXPORTER_PROMETHEUS_PORT', 0, 65535) ?? 9464,
      endpoint: options.prometheus?.endpoint ?? '/metrics',
      preventServerStart: options.prometheus?.preventServerStart ?? false,
      auth: options.prometheus?.auth,
    },
    otlp: {
      url:
        options.otlp?.url ??
        env.url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') ??
        (genericEndpoint
          ? `${genericEndpoint.replace(/\/+$/, '')}/v1/metrics`
          : 'http://localhost:4318/v1/metrics'),
      headers: options.otlp?.headers ?? {
        ...env.keyValues('OTEL_EXPORTER_OTLP_HEADERS'),
        ...env.keyValues('OTEL_EXPORTER_OTLP_METRICS_HEADERS'),
      },
      exportIntervalMillis: interval,
      // The SDK refuses a timeout longer than the interval; an export cannot outlive its slot anyway.
      exportTimeoutMillis: Math.min(timeout, interval),
      temporality: temporality === 'cumulative' ? 'cumulative' : 'delta',
      compression:
        options.otlp?.compression ??
        env.oneOf('OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', ['gzip', 'none']) ??
        env.oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', ['gzip', 'none']) ??
        'none',
    },
    logLevel: env.oneOf('OTEL_LOG_LEVEL', ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'], true),
  };
}

function checkPort(port: number | undefined): number | undefined {
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`prometheus.port must be an integer from 0 to 65535 (got ${String(port)})`);
  }
  return port;
}

/** Reads OTEL_* variables; every malformed value is an Error that names the variable and what it expects. */
class EnvReader {
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new Error(`${name}="${text}" is not valid: expected an integer from ${min} to ${max}`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const text = this.string(name)?.toLowerCase();
    if (text === undefined) return undefined;
    if (text !== 'true' && text !== 'false')
      throw new Error(`${name}="${text}" is not valid: expected true or false`);
    return text === 'true';
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], upperCase = false): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const text = upperCase ? raw.toUpperCase() : raw.toLowerCase();
    if (!allowed.includes(text as T)) {
      throw new Error(`${name}="${raw}" is not valid: expected one of ${allowed.join(', ')}`);
    }
    return text as T;
  }

  list<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const items = raw.split(',').map((item) => item.trim().toLowerCase());
    for (const item of items) {
      if (!allowed.includes(item as T)) {
        throw new Error(`${name}="${raw}" is not valid: "${item}" is not one of ${allowed.join(', ')}`);
      }
    }
    if (items.includes('none' as T) && items.length > 1) {
      throw new Error(`${name}="${raw}" is not valid: "none" cannot be combined with other exporters`);
    }
    return [...new Set(items)] as T[];
  }

  url(name: string): string | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new Error(`${name}="${text}" is not valid: expected an http:// or https:// URL`);
    }
    return text;
  }

  /** W3C-baggage-like `key=value,key2=value2` with percent-encoding, as OTEL_RESOURCE_ATTRIBUTES and headers use. */
  keyValues(name: string): Record<string, string> {
    const raw = this.string(name);
    const result: Record<string, string> = {};
    if (raw === undefined) return result;
    for (const pair of raw.split(',')) {
      if (pair.trim() === '') continue;
      const equals = pair.indexOf('=');
      const key = equals > 0 ? pair.slice(0, equals).trim() : '';
      if (!key) throw new Error(`${name} is not valid: "${pair.trim()}" is not a key=value pair`);
      try {
        result[decodeURIComponent(key)] = decodeURIComponent(pair.slice(equals + 1).trim());
      } catch {
        throw new Error(`${name} is not valid: "${pair.trim()}" has a malformed percent-encoding`);
      }
    }
    return result;
  }
}
