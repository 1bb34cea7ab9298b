/**
 * What initBusinessMetrics accepts, and how options and the OpenTelemetry environment variables combine into
 * one resolved configuration. Explicit options win over the environment. A wrong option passed in code throws;
 * an OTEL_* value the package cannot honour never does (platforms set those cluster-wide): it is warned about
 * once per process, naming the variable and what is used instead, as the OpenTelemetry SDKs do. The one exception
 * is a too-short OTEL_BUSINESS_METRICS_USER_HASH_KEY, refused naming it: a random key instead would silently stop
 * the processes sharing it from merging their counts (docs/configuration.md).
 *
 * Owns: option types and env parsing (default values live in config/defaults.ts). Must not touch: the SDK's objects (readers, providers).
 * Must not import: `@opentelemetry/sdk-metrics`, `src/metrics/`, `src/series/`, `src/exporters/prometheus/`.
 */
import type { Attributes } from '@opentelemetry/api';
import type { MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { PrometheusAuth } from '../exporters/prometheus';
import type { ActiveUsersOptions } from '../active-users/tracker';
import type { BusinessMetricsLimits } from '../metrics/recorder';
import type { MoneyConfig } from '../money/money';
import type { RuntimeMetricsOptions } from '../runtime/node-runtime';
import { EXPORT_DEADLINE_MARGIN_MS, MAX_TIMER_MILLIS, OTLP_DEFAULTS, PROMETHEUS_DEFAULTS } from './defaults';
import { MIN_HASH_KEY_BYTES } from '../active-users/user-hash';
import { GRPC_EXPORTER_PACKAGE, grpcExporterAvailable } from '../exporters/otlp-grpc';
import { validateClusterOptions, type ClusterOptions } from '../cluster/options';
import { describe } from '../support/describe';
import { checkOptionKeys, checkUnselectedExporterOptions, isPlainObject } from './validate';

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
  /**
   * At shutdown, keep serving until one scrape has read the final values, at most this long (ms), once the
   * endpoint has been scraped. Default: about two scrape intervals (1 to 30 s); `0` turns it off. See
   * docs/prometheus.md#shutdown-the-final-scrape.
   */
  finalScrapeTimeoutMillis?: number;
  /**
   * The longest a scrape may take (ms) before it is answered 503, whatever hangs in the collection. Default 5000;
   * a scraper that sends its own deadline (Prometheus's `X-Prometheus-Scrape-Timeout-Seconds`) gets the shorter
   * (90% of the header, never below 100 ms).
   * In cluster mode it must exceed `cluster.timeoutMillis` (left to its default, it becomes one second more than a
   * longer `cluster.timeoutMillis`). See docs/prometheus.md#a-scrape-always-gets-an-answer.
   */
  scrapeTimeoutMillis?: number;
}

/** OTLP wire protocols (the OpenTelemetry spec's names). */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

export interface OtlpOptions {
  /** Wire protocol. Default `http/protobuf`, the spec's default (env OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, then
   * OTEL_EXPORTER_OTLP_PROTOCOL). `grpc` needs the optional package `@opentelemetry/exporter-metrics-otlp-grpc`. */
  protocol?: OtlpProtocol;
  /** Full URL of the metrics endpoint. Default `http://localhost:4318/v1/metrics` over HTTP,
   * `http://localhost:4317` over gRPC (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is, or
   * OTEL_EXPORTER_OTLP_ENDPOINT, + `/v1/metrics` over HTTP). */
  url?: string;
  /** Extra HTTP headers, e.g. authentication (env OTEL_EXPORTER_OTLP_[METRICS_]HEADERS). */
  headers?: Record<string, string>;
  /** Push interval. Default 60000 (env OTEL_METRIC_EXPORT_INTERVAL). */
  exportIntervalMillis?: number;
  /**
   * Per-export timeout, at most the interval. Default 30000 (env OTEL_METRIC_EXPORT_TIMEOUT). Given here, it is
   * also the OTLP exporter's own timeout; otherwise that one is env OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, then
   * OTEL_EXPORTER_OTLP_TIMEOUT, default 10000, never more than this one.
   */
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
  /** Currencies, refunds' default currency, an optional reporting currency with exchange rates
   * (docs/money.md). Default: USD for calls without a currency, every ISO 4217 code accepted. */
  money?: MoneyConfig;
  /** Distinct active users (`trackActiveUser`): sketch precision, the id hash key
   * (env OTEL_BUSINESS_METRICS_USER_HASH_KEY), the Redis store. See docs/active-users.md. */
  activeUsers?: ActiveUsersOptions;
  /**
   * Node.js runtime metrics (event-loop delay and utilization, GC duration, heap) from the optional dependency
   * `@opentelemetry/instrumentation-runtime-node` 0.36.x, exported beside the business metrics. Default off.
   */
  runtimeMetrics?: boolean | RuntimeMetricsOptions;
  /** Environment to read instead of `process.env` (tests). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Several processes or threads, one truth: in node:cluster workers and worker threads, record locally and
   * answer the primary; in the primary (or main thread), serve the exact aggregate. The same call everywhere.
   * See docs/several-processes.md.
   */
  cluster?: boolean | ClusterOptions;
}

export interface ResolvedConfig {
  disabled: boolean;
  exporters: ExporterSpec[];
  serviceName: string | undefined;
  resourceAttributes: Attributes;
  prometheus: Required<Omit<PrometheusOptions, 'auth' | 'finalScrapeTimeoutMillis'>> & {
    auth?: PrometheusAuth;
    finalScrapeTimeoutMillis?: number;
  };
  otlp: Required<Omit<OtlpOptions, 'temporality'>> & {
    temporality: 'cumulative' | 'delta';
    /** The OTLP exporter's own deadline for one export, retries included (at most `exportTimeoutMillis`). */
    exporterTimeoutMillis: number;
    /**
     * The OTLP reader's deadline for one export: `exportTimeoutMillis`, or a margin past `exporterTimeoutMillis`
     * when that is as long, never past the interval (the exporter's is then shortened to keep the margin).
     */
    readerTimeoutMillis: number;
  };
  logLevel: string | undefined;
  /** OTEL_* values that could not be honoured, each saying what is used instead (already warned about). */
  warnings: string[];
  /** `activeUsers` with the hash key from the environment when the options give none. */
  activeUsers: ActiveUsersOptions;
  cluster: ClusterOptions | undefined;
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
  checkOptionKeys(options);
  checkOptionValues(options);
  const env = new EnvReader(options.env ?? process.env);
  const fromEnv = options.exporters ? undefined : env.exporterList('OTEL_METRICS_EXPORTER', EXPORTER_KINDS);
  const exporters = options.exporters ?? fromEnv ?? ['otlp'];
  const exportersFrom = options.exporters
    ? 'the exporters option'
    : fromEnv
      ? 'from OTEL_METRICS_EXPORTER'
      : 'the default, as neither the exporters option nor OTEL_METRICS_EXPORTER is set';
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
  checkDuplicateExporters(exporters);
  checkUnselectedExporterOptions(
    options,
    exporters,
    exportersFrom,
    fromEnv ? (message) => env.warn(message) : undefined,
  );
  const otlp = resolveOtlp(options.otlp ?? {}, env, exporters.includes('otlp'));

  const codeServiceName = options.resourceAttributes?.['service.name'];
  const cluster = resolveCluster(options.cluster);
  const config: ResolvedConfig = {
    disabled: env.boolean('OTEL_SDK_DISABLED', false) ?? false,
    exporters,
    // Code wins over the environment, `service.name` in code's resourceAttributes too: OTEL_SERVICE_NAME is often
    // set platform-wide, and must not rename a service that names itself.
    serviceName:
      options.serviceName ??
      (codeServiceName != null ? String(codeServiceName) : env.string('OTEL_SERVICE_NAME')),
    resourceAttributes: {
      ...env.keyValues('OTEL_RESOURCE_ATTRIBUTES'),
      ...(options.resourceAttributes ?? {}),
    },
    prometheus: {
      host:
        options.prometheus?.host ?? env.string('OTEL_EXPORTER_PROMETHEUS_HOST') ?? PROMETHEUS_DEFAULTS.host,
      port:
        checkPort(options.prometheus?.port) ??
        env.integer('OTEL_EXPORTER_PROMETHEUS_PORT', 0, 65535, String(PROMETHEUS_DEFAULTS.port)) ??
        PROMETHEUS_DEFAULTS.port,
      endpoint: options.prometheus?.endpoint ?? PROMETHEUS_DEFAULTS.endpoint,
      preventServerStart: options.prometheus?.preventServerStart ?? false,
      auth: options.prometheus?.auth,
      finalScrapeTimeoutMillis: options.prometheus?.finalScrapeTimeoutMillis,
      scrapeTimeoutMillis: scrapeDeadline(options.prometheus?.scrapeTimeoutMillis, cluster),
    },
    otlp,
    logLevel: env.oneOf(
      'OTEL_LOG_LEVEL',
      ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'],
      'no diagnostic logger',
      true,
    ),
    warnings: env.warnings,
    activeUsers: {
      ...options.activeUsers,
      hashKey: options.activeUsers?.hashKey ?? envHashKey(env),
    },
    cluster,
  };
  for (const warning of config.warnings) warnOnce(warning);
  return config;
}

/**
 * OTEL_BUSINESS_METRICS_USER_HASH_KEY, checked here so that a short one is refused naming the variable (the
 * hasher's own error names `activeUsers.hashKey`, which the app never set). A deliberate secret of this package,
 * shared by the processes that merge counts: a wrong one is not replaced by a random key, which would silently stop
 * them from merging.
 */
function envHashKey(env: EnvReader): string | undefined {
  const key = env.string('OTEL_BUSINESS_METRICS_USER_HASH_KEY');
  if (key !== undefined && Buffer.byteLength(key, 'utf8') < MIN_HASH_KEY_BYTES) {
    throw new TypeError(
      `OTEL_BUSINESS_METRICS_USER_HASH_KEY must be at least ${MIN_HASH_KEY_BYTES} bytes (got ` +
        `${Buffer.byteLength(key, 'utf8')}); use e.g. \`openssl rand -hex 32\``,
    );
  }
  return key;
}

function resolveCluster(cluster: InitOptions['cluster']): ClusterOptions | undefined {
  if (cluster === undefined || cluster === false) return undefined;
  if (cluster === true) return {};
  if (typeof cluster !== 'object' || cluster === null) {
    throw new TypeError(`cluster must be true, false or an options object (got ${String(cluster)})`);
  }
  validateClusterOptions(cluster);
  return cluster;
}

/**
 * The scrape deadline. The primary waits up to `cluster.timeoutMillis` for the workers at each collection: a
 * deadline no longer than that would answer 503 whenever one worker is slow, instead of serving its previous
 * numbers. A deadline the app left to its default follows a longer worker wait (one second past it), so a
 * configuration that worked before the scrape deadline existed still does; one the app set itself below the wait is
 * a contradiction, refused.
 */
function scrapeDeadline(given: number | undefined, cluster: ResolvedConfig['cluster']): number {
  const workers = cluster?.timeoutMillis;
  if (given === undefined) {
    const deadline = PROMETHEUS_DEFAULTS.scrapeTimeoutMillis;
    return workers === undefined || workers < deadline
      ? deadline
      : Math.min(workers + 1000, MAX_TIMER_MILLIS);
  }
  if (workers !== undefined && workers >= given) {
    throw new RangeError(
      `cluster.timeoutMillis (${workers} ms) must be below prometheus.scrapeTimeoutMillis (${given} ms): the ` +
        'primary waits that long for the workers before a scrape is answered; raise prometheus.scrapeTimeoutMillis ' +
        "(and keep it under Prometheus's scrape_timeout) or lower cluster.timeoutMillis",
    );
  }
  return given;
}

/** The spec's default endpoints: HTTP on 4318 with the signal path, gRPC on 4317. */
function defaultOtlpUrl(protocol: OtlpProtocol): string {
  return protocol === 'grpc'
    ? OTLP_DEFAULTS.grpcEndpoint
    : `${OTLP_DEFAULTS.httpEndpoint}${OTLP_DEFAULTS.httpMetricsPath}`;
}

function resolveOtlp(options: OtlpOptions, env: EnvReader, used: boolean): ResolvedConfig['otlp'] {
  if (options.protocol !== undefined && !OTLP_PROTOCOLS.includes(options.protocol)) {
    throw new TypeError(
      `otlp.protocol must be one of ${OTLP_PROTOCOLS.join(', ')} (got ${JSON.stringify(options.protocol)})`,
    );
  }
  const envProtocol =
    env.oneOf(
      'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
      OTLP_PROTOCOLS,
      'OTEL_EXPORTER_OTLP_PROTOCOL or http/protobuf',
    ) ?? env.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, OTLP_DEFAULTS.protocol);
  let protocol: OtlpProtocol = options.protocol ?? envProtocol ?? OTLP_DEFAULTS.protocol;
  if (used && options.protocol === undefined && protocol === 'grpc' && !grpcExporterAvailable()) {
    // Set for the whole cluster (often for traces): the app must still start. In code it is an error (init throws).
    env.warn(
      `OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL=grpc needs the optional package ${GRPC_EXPORTER_PACKAGE}, which is ` +
        'not installed; using http/protobuf instead (install it to send over gRPC)',
    );
    protocol = 'http/protobuf';
  }

  checkMillis('otlp.exportIntervalMillis', options.exportIntervalMillis);
  checkMillis('otlp.exportTimeoutMillis', options.exportTimeoutMillis);
  const interval =
    options.exportIntervalMillis ??
    env.integer('OTEL_METRIC_EXPORT_INTERVAL', 1, MAX_TIMER_MILLIS) ??
    OTLP_DEFAULTS.exportIntervalMillis;
  const timeout =
    options.exportTimeoutMillis ??
    env.integer('OTEL_METRIC_EXPORT_TIMEOUT', 1, MAX_TIMER_MILLIS) ??
    OTLP_DEFAULTS.exportTimeoutMillis;
  // The spec's precedence for the exporter's own timeout: code, then the signal's variable, then the generic one.
  // Always passed to the transport, which would otherwise read process.env itself (not `options.env`).
  const exporterTimeout =
    options.exportTimeoutMillis ??
    env.integer(
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      1,
      MAX_TIMER_MILLIS,
      'OTEL_EXPORTER_OTLP_TIMEOUT or the default',
    ) ??
    env.integer('OTEL_EXPORTER_OTLP_TIMEOUT', 1, MAX_TIMER_MILLIS) ??
    OTLP_DEFAULTS.exporterTimeoutMillis;
  const readerTimeout = Math.min(timeout, interval);
  // The exporter's deadline must end a hung export before the reader's: the exporter's failure is counted and
  // warned about, the reader's own timeout only says "metrics export timed out" through diag.error. Never past the
  // interval (the SDK refuses a timeout longer than it), so a short interval shortens the exporter's instead.
  const margin = Math.min(EXPORT_DEADLINE_MARGIN_MS, Math.floor(interval / 2));
  const exporterWanted = Math.min(exporterTimeout, readerTimeout);
  const otlpReaderTimeout = Math.min(Math.max(readerTimeout, exporterWanted + margin), interval);
  const temporality =
    options.temporality ??
    env.oneOf(
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      ['cumulative', 'delta', 'lowmemory'],
      OTLP_DEFAULTS.temporality,
    ) ??
    OTLP_DEFAULTS.temporality;
  if (options.url !== undefined) checkUrl('otlp.url', options.url);
  const signalEndpoint = env.url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const genericEndpoint = env.url('OTEL_EXPORTER_OTLP_ENDPOINT');
  const url =
    options.url ??
    signalEndpoint ??
    (genericEndpoint === undefined
      ? defaultOtlpUrl(protocol)
      : protocol === 'grpc'
        ? genericEndpoint
        : `${genericEndpoint.replace(/\/+$/, '')}${OTLP_DEFAULTS.httpMetricsPath}`);
  return {
    protocol,
    url,
    headers: options.headers ?? {
      ...env.keyValues('OTEL_EXPORTER_OTLP_HEADERS'),
      ...env.keyValues('OTEL_EXPORTER_OTLP_METRICS_HEADERS'),
    },
    exportIntervalMillis: interval,
    // The SDK refuses a timeout longer than the interval; an export cannot outlive its slot anyway.
    exportTimeoutMillis: readerTimeout,
    // Nor can the exporter's: past the reader's deadline its result is no longer awaited.
    exporterTimeoutMillis: Math.min(exporterWanted, otlpReaderTimeout - margin),
    readerTimeoutMillis: otlpReaderTimeout,
    temporality: temporality === 'cumulative' ? 'cumulative' : 'delta',
    compression:
      options.compression ??
      env.oneOf(
        'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION',
        ['gzip', 'none'],
        'OTEL_EXPORTER_OTLP_COMPRESSION or none',
      ) ??
      env.oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', ['gzip', 'none'], OTLP_DEFAULTS.compression) ??
      OTLP_DEFAULTS.compression,
  };
}

/** The rule OTEL_EXPORTER_OTLP_*ENDPOINT values follow, for the same value given in code: an http(s) URL. */
function checkUrl(name: string, value: unknown): void {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(
      `${name} must be an http:// or https:// URL, e.g. http://localhost:4318/v1/metrics (got ${JSON.stringify(value)})`,
    );
  }
}

/**
 * The same exporter twice: two Prometheus endpoints on one port (the second fails with EADDRINUSE against the
 * first), two OTLP exporters sending every point twice, one reader registered twice with the SDK.
 */
function checkDuplicateExporters(exporters: readonly ExporterSpec[]): void {
  const seen = new Set<ExporterSpec>();
  for (const exporter of exporters) {
    if (seen.has(exporter)) {
      const named = typeof exporter === 'string' ? `"${exporter}"` : 'the same reader or exporter instance';
      throw new TypeError(`initBusinessMetrics: exporters lists ${named} twice; list each exporter once`);
    }
    seen.add(exporter);
  }
}

const TEMPORALITIES: readonly string[] = ['cumulative', 'delta'];
const COMPRESSIONS: readonly string[] = ['gzip', 'none'];

function checkType(name: string, value: unknown, type: 'string' | 'boolean'): void {
  if (value !== undefined && typeof value !== type) {
    throw new TypeError(`${name} must be a ${type} (got ${typeof value} ${describe(value)})`);
  }
}

function checkOneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    throw new TypeError(`${name} must be one of ${allowed.join(', ')} (got ${describe(value)})`);
  }
}

/** `otlp.headers`: each value goes out as is; a string here would be sent as headers named 0, 1, 2... */
function checkStringMap(name: string, value: unknown, example: string): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    throw new TypeError(`${name} must be an object of strings, e.g. ${example} (got ${describe(value)})`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new TypeError(`${name}["${key}"] must be a string (got ${typeof item} ${describe(item)})`);
    }
  }
}

/** An attribute value as the OpenTelemetry API takes it: a string, number or boolean, or an array of those (null and
 * undefined are dropped, as the SDK drops them). */
function isAttributeValue(value: unknown): boolean {
  const scalar = (item: unknown) =>
    typeof item === 'string' ||
    typeof item === 'boolean' ||
    (typeof item === 'number' && Number.isFinite(item));
  return scalar(value) || (Array.isArray(value) && value.every((item) => item == null || scalar(item)));
}

/**
 * The values TypeScript would refuse and JavaScript passes silently: a typo in an enum used to become the other
 * value (`temporality: 'cumulitive'` exported delta, `compression: 'GZIP'` sent uncompressed), a string where an
 * object or a boolean is expected did something else (`preventServerStart: 'false'` prevented the server).
 */
function checkOptionValues(options: InitOptions): void {
  checkType('serviceName', options.serviceName, 'string');
  checkType('strict', options.strict, 'boolean');
  if (options.resourceAttributes !== undefined) {
    const attributes: unknown = options.resourceAttributes;
    if (!isPlainObject(attributes)) {
      throw new TypeError(
        `resourceAttributes must be an object, e.g. { 'deployment.environment.name': 'prod' } (got ${describe(attributes)})`,
      );
    }
    for (const [key, value] of Object.entries(attributes)) {
      if (value != null && !isAttributeValue(value)) {
        throw new TypeError(
          `resourceAttributes["${key}"] must be a string, number or boolean, or an array of those (got ${describe(value)})`,
        );
      }
    }
  }
  const prometheus: unknown = options.prometheus;
  if (prometheus !== undefined && !isPlainObject(prometheus)) {
    throw new TypeError(`prometheus must be an options object (got ${describe(prometheus)})`);
  }
  checkType('prometheus.host', options.prometheus?.host, 'string');
  checkType('prometheus.endpoint', options.prometheus?.endpoint, 'string');
  checkType('prometheus.preventServerStart', options.prometheus?.preventServerStart, 'boolean');
  checkMillis('prometheus.scrapeTimeoutMillis', options.prometheus?.scrapeTimeoutMillis);
  const otlp: unknown = options.otlp;
  if (otlp !== undefined && !isPlainObject(otlp)) {
    throw new TypeError(`otlp must be an options object (got ${describe(otlp)})`);
  }
  checkOneOf('otlp.temporality', options.otlp?.temporality, TEMPORALITIES);
  checkOneOf('otlp.compression', options.otlp?.compression, COMPRESSIONS);
  checkStringMap('otlp.headers', options.otlp?.headers, "{ authorization: 'Bearer ...' }");
}

/**
 * The push timings, checked here rather than left to the SDK's reader: its error names its own `timeoutMillis`,
 * and it is built after other parts of init (docs/configuration.md: errors before any port opens).
 */
function checkMillis(name: string, value: unknown): void {
  if (value === undefined) return;
  const expected = `an integer number of milliseconds from 1 to ${MAX_TIMER_MILLIS}`;
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be ${expected} (got ${typeof value} ${JSON.stringify(value)})`);
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_MILLIS) {
    throw new RangeError(`${name} must be ${expected} (got ${String(value)})`);
  }
}

function checkPort(port: number | undefined): number | undefined {
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`prometheus.port must be an integer from 0 to 65535 (got ${String(port)})`);
  }
  return port;
}

const warned = new Set<string>();

/**
 * Once per process per message: init may run again after shutdown (tests, hot reload) and the environment has not
 * changed. process.emitWarning, not diag: no diag logger is set by default and this must be seen at deploy time.
 */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(`otel-business-metrics: ${message}`, { code: 'OTEL_BUSINESS_METRICS_CONFIG' });
}

/**
 * Reads OTEL_* variables. A value it cannot honour is never an error: it is recorded as a warning that names the
 * variable, what it expects and what is used instead, and the variable counts as unset.
 */
class EnvReader {
  readonly warnings: string[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  warn(message: string): void {
    this.warnings.push(message);
  }

  private invalid(name: string, raw: string, expected: string, fallback: string): undefined {
    this.warn(`${name}="${raw}" is not valid (expected ${expected}); using ${fallback} instead`);
    return undefined;
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  integer(
    name: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    fallback = 'the default',
  ): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      return this.invalid(name, text, `an integer from ${min} to ${max}`, fallback);
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean | undefined {
    const text = this.string(name)?.toLowerCase();
    if (text === undefined) return undefined;
    if (text !== 'true' && text !== 'false')
      return this.invalid(name, text, 'true or false', String(fallback));
    return text === 'true';
  }

  oneOf<T extends string>(
    name: string,
    allowed: readonly T[],
    fallback: string,
    upperCase = false,
  ): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const text = upperCase ? raw.toUpperCase() : raw.toLowerCase();
    if (!allowed.includes(text as T))
      return this.invalid(name, raw, `one of ${allowed.join(', ')}`, fallback);
    return text as T;
  }

  /** Unknown entries are left out; `none` beside others is ignored; nothing valid left means the default. */
  exporterList<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const items = [...new Set(raw.split(',').map((item) => item.trim().toLowerCase()))].filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item as T));
    let known = items.filter((item) => allowed.includes(item as T)) as T[];
    if (known.includes('none' as T) && known.length > 1) {
      known = known.filter((item) => item !== 'none');
      this.warn(`${name}="${raw}": "none" cannot be combined with other exporters; ignoring "none"`);
    }
    if (unknown.length > 0) {
      this.warn(
        `${name}="${raw}": ${unknown.map((item) => `"${item}"`).join(', ')} not supported (expected ` +
          `${allowed.join(', ')}); using ${known.length > 0 ? known.join(',') : 'otlp, the default,'} instead`,
      );
    }
    return known.length > 0 ? known : undefined;
  }

  url(name: string): string | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      return this.invalid(
        name,
        text,
        'an http:// or https:// URL',
        'the next endpoint setting or the default',
      );
    }
    return text;
  }

  /**
   * W3C-baggage-like `key=value,key2=value2` with percent-encoding, as OTEL_RESOURCE_ATTRIBUTES and headers use.
   * A malformed pair is left out; the well-formed ones are kept.
   */
  keyValues(name: string): Record<string, string> {
    const raw = this.string(name);
    const result: Record<string, string> = {};
    if (raw === undefined) return result;
    for (const pair of raw.split(',')) {
      if (pair.trim() === '') continue;
      const equals = pair.indexOf('=');
      const key = equals > 0 ? pair.slice(0, equals).trim() : '';
      if (!key) {
        this.warn(`${name}: "${pair.trim()}" is not a key=value pair; leaving it out`);
        continue;
      }
      try {
        result[decodeURIComponent(key)] = decodeURIComponent(pair.slice(equals + 1).trim());
      } catch {
        this.warn(`${name}: "${pair.trim()}" has a malformed percent-encoding; leaving it out`);
      }
    }
    return result;
  }
}
