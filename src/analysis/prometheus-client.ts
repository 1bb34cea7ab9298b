/**
 * A small client for Prometheus's HTTP range-query API (`/api/v1/query_range`), built on Node's global fetch.
 *
 * Owns: HTTP, timeouts, the size and point limits on answers, and the translation of every Prometheus failure into
 * a {@link CorrelationError} that names what went wrong (the URL without credentials, the status, Prometheus's own
 * error text stripped of control characters, the labels that differ).
 * Must not touch: statistics, alignment, formatting of reports.
 */
import type { Sample } from './align';
import { formatDuration, type QueryWindow } from './duration';
import { CorrelationError } from './errors';
import { printable } from '../support/describe';

/** Connection settings for a Prometheus server (or anything serving its HTTP API: Thanos, Mimir, VictoriaMetrics). */
export interface PrometheusConnection {
  /**
   * Base URL, e.g. `http://localhost:9090` or `https://example.com/prometheus` (a path prefix is kept).
   * Credentials in the URL (`https://user:pass@host`) are sent as a Basic Authorization header.
   */
  url: string;
  /** Extra request headers, e.g. `{ Authorization: 'Bearer …' }` or a tenant header. */
  headers?: Readonly<Record<string, string>>;
  /** Per-request timeout in milliseconds. Default 30000. Also sent to Prometheus as its query `timeout`. */
  timeoutMs?: number;
  /** POST (form-encoded, no URL length limit; the default) or GET (for proxies that only allow GET). */
  method?: 'POST' | 'GET';
  /** fetch implementation, for environments without a global one. Default: global fetch. */
  fetch?: typeof fetch;
  /**
   * Largest answer read, in bytes (default 64 MiB): a bigger one is refused before it is parsed, so a wrong
   * expression or a hostile server cannot exhaust the memory of the process (200 MB of JSON takes ~3.4 GB parsed).
   */
  maxResponseBytes?: number;
}

/** Default {@link PrometheusConnection.maxResponseBytes}. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** `text` with the user-info part of every URL in it (`https://user:secret@host`) replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(/(\/\/)[^\s/?#]*@/g, '$1***@').replace(/^([^\s:/]+:[^\s/@]*)@/, '***@');
}

/** One series of a range query result. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: Sample[];
}

/** Result of a range query, with Prometheus's warnings (e.g. from partial responses of a federated backend). */
export interface RangeQueryResult {
  readonly series: RangeSeries[];
  readonly warnings: string[];
}

interface PrometheusEnvelope {
  status?: string;
  errorType?: string;
  error?: string;
  warnings?: string[];
  data?: { resultType?: string; result?: unknown };
}

function parseValue(text: unknown): number {
  // Prometheus encodes sample values as strings, including "NaN", "+Inf" and "-Inf".
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code)
    return cause.message && !cause.message.includes(cause.code)
      ? `${cause.code}: ${cause.message}`
      : (cause.message ?? cause.code);
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Runs range queries against one Prometheus server. */
export class PrometheusRangeClient {
  private readonly connection: Required<Omit<PrometheusConnection, 'headers' | 'maxResponseBytes'>> & {
    headers: Readonly<Record<string, string>>;
  };
  private readonly maxResponseBytes: number;

  constructor(connection: PrometheusConnection) {
    let parsed: URL;
    try {
      parsed = new URL(connection.url);
    } catch {
      throw new CorrelationError(
        'INVALID_ARGUMENT',
        `Invalid Prometheus URL "${printable(redactCredentials(String(connection.url)), 200)}"`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CorrelationError(
        'INVALID_ARGUMENT',
        `Prometheus URL must be http(s), got "${printable(redactCredentials(connection.url), 200)}"`,
      );
    }
    const fetchImplementation = connection.fetch ?? globalThis.fetch;
    if (typeof fetchImplementation !== 'function') {
      throw new CorrelationError(
        'INVALID_ARGUMENT',
        'No fetch implementation: use Node >= 18 or pass `fetch`',
      );
    }
    // fetch refuses URLs with credentials; turn `http://user:pass@host` into a Basic header, and keep the
    // password out of every message that names the URL.
    const headers: Record<string, string> = { ...connection.headers };
    if (parsed.username || parsed.password) {
      const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
      if (!hasAuthorization) {
        const user = decodeURIComponent(parsed.username);
        const password = decodeURIComponent(parsed.password);
        headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      }
      parsed.username = '';
      parsed.password = '';
    }
    if (connection.timeoutMs !== undefined && !(connection.timeoutMs > 0)) {
      throw new CorrelationError('INVALID_ARGUMENT', `timeoutMs must be > 0, got ${connection.timeoutMs}`);
    }
    const maxBytes = connection.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new CorrelationError(
        'INVALID_ARGUMENT',
        `maxResponseBytes must be an integer > 0, got ${maxBytes}`,
      );
    }
    this.maxResponseBytes = maxBytes;
    this.connection = {
      url: parsed.href.replace(/\/+$/, ''),
      headers,
      timeoutMs: connection.timeoutMs ?? 30000,
      method: connection.method ?? 'POST',
      fetch: fetchImplementation,
    };
  }

  /** The base URL this client talks to, without credentials and trailing slash. */
  get url(): string {
    return this.connection.url;
  }

  /**
   * Evaluate `expression` over the window. Returns every series; use {@link querySingleSeries} when exactly
   * one is needed.
   */
  async queryRange(expression: string, window: QueryWindow): Promise<RangeQueryResult> {
    const { url, headers, timeoutMs, method } = this.connection;
    const target = endpoint(url, '/api/v1/query_range');
    const parameters = new URLSearchParams({
      query: expression,
      start: String(window.start),
      end: String(window.end),
      step: String(window.step),
      timeout: `${Math.max(1, Math.floor(timeoutMs / 1000))}s`,
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    let bodyText: string;
    try {
      response = await this.connection.fetch(method === 'GET' ? `${target}?${parameters}` : target, {
        method,
        headers: {
          Accept: 'application/json',
          ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
          ...headers,
        },
        body: method === 'POST' ? parameters.toString() : undefined,
        signal: controller.signal,
      });
      bodyText = await readCapped(response, this.maxResponseBytes, controller);
    } catch (error) {
      if (error instanceof CorrelationError) throw error;
      if (controller.signal.aborted) {
        throw new CorrelationError(
          'PROMETHEUS_TIMEOUT',
          `Prometheus at ${url} did not answer within ${formatDuration(timeoutMs / 1000)} (query: ${expression})`,
          { cause: error },
        );
      }
      throw new CorrelationError(
        'PROMETHEUS_UNREACHABLE',
        `Cannot reach Prometheus at ${url}: ${describeCause(error)}`,
        {
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
    }

    let envelope: PrometheusEnvelope | undefined;
    try {
      envelope = JSON.parse(bodyText) as PrometheusEnvelope;
    } catch {
      envelope = undefined;
    }
    if (envelope?.status === 'error') {
      // bad_data is a PromQL parse/type error; execution errors (422) and timeouts (503) also carry Prometheus's text.
      const code =
        envelope.errorType === 'bad_data' || envelope.errorType === 'execution'
          ? 'PROMETHEUS_QUERY_ERROR'
          : 'PROMETHEUS_HTTP_ERROR';
      throw new CorrelationError(
        code,
        `Prometheus rejected the query ${JSON.stringify(expression)} (HTTP ${response.status}, ` +
          `${printable(String(envelope.errorType ?? 'error'), 40)}): ` +
          printable(String(envelope.error ?? 'no message')),
      );
    }
    if (!response.ok) {
      const snippet = printable(bodyText.trim().replace(/\s+/g, ' '), 300);
      const statusText = printable(response.statusText, 80);
      throw new CorrelationError(
        'PROMETHEUS_HTTP_ERROR',
        `Prometheus at ${url} answered HTTP ${response.status} ${statusText}${snippet ? `: ${snippet}` : ''}` +
          (response.status === 401 || response.status === 403 ? ' (check the authentication headers)' : ''),
      );
    }
    if (!envelope || envelope.status !== 'success' || !envelope.data) {
      throw new CorrelationError(
        'PROMETHEUS_BAD_RESPONSE',
        `${target} did not return a Prometheus API response (is ${url} the Prometheus base URL?): ` +
          printable(bodyText, 200),
      );
    }
    if (envelope.data.resultType !== 'matrix' || !Array.isArray(envelope.data.result)) {
      throw new CorrelationError(
        'PROMETHEUS_BAD_RESPONSE',
        `Expected a range vector (matrix) for ${JSON.stringify(expression)}, got ` +
          printable(String(envelope.data.resultType), 40),
      );
    }
    // A range query yields at most one point per step; more is not a Prometheus answer, and could be a flood.
    const maxPoints = Math.floor((window.end - window.start) / window.step) + 1;
    for (const entry of envelope.data.result as { values?: unknown }[]) {
      const count = Array.isArray(entry?.values) ? entry.values.length : 0;
      if (count > maxPoints) {
        throw new CorrelationError(
          'PROMETHEUS_BAD_RESPONSE',
          `${url} returned ${count} points for one series of ${JSON.stringify(expression)}, more than the ` +
            `${maxPoints} its range and step allow: refused`,
        );
      }
    }
    const series = (
      envelope.data.result as { metric?: Record<string, string>; values?: [number, string][] }[]
    ).map((entry) => ({
      labels: entry.metric ?? {},
      samples: (entry.values ?? []).map(([timestamp, value]) => ({
        timestamp: Number(timestamp),
        value: parseValue(value),
      })),
    }));
    const warnings = Array.isArray(envelope.warnings) ? envelope.warnings : [];
    return { series, warnings: warnings.slice(0, 20).map((w) => printable(String(w))) };
  }

  /**
   * Evaluate `expression` and require exactly one series. Throws `NO_DATA` for none (or only NaN/Inf values) and
   * `MULTIPLE_SERIES` for several, naming the labels whose values differ so the caller knows what to aggregate.
   */
  async querySingleSeries(
    expression: string,
    window: QueryWindow,
    role = 'query',
  ): Promise<RangeSeries & { warnings: string[] }> {
    const { series, warnings } = await this.queryRange(expression, window);
    const range = `${new Date(window.start * 1000).toISOString()} .. ${new Date(window.end * 1000).toISOString()}`;
    if (series.length === 0) {
      throw new CorrelationError(
        'NO_DATA',
        `The ${role} expression ${JSON.stringify(expression)} returned no data for ${range} at ${this.url}: ` +
          'check the metric name and label matchers, and that the range covers data.',
      );
    }
    if (series.length > 1) {
      throw new CorrelationError('MULTIPLE_SERIES', describeMultipleSeries(role, expression, series));
    }
    const [only] = series;
    if (!only.samples.some((s) => Number.isFinite(s.value))) {
      throw new CorrelationError(
        'NO_DATA',
        `The ${role} expression ${JSON.stringify(expression)} returned only NaN/Inf values for ${range} ` +
          '(e.g. a ratio of two zero rates): there is nothing to correlate.',
      );
    }
    return { ...only, warnings };
  }
}

/** Explain a multi-series result: which labels differ, with a few example values, and how to fix the query. */
export function describeMultipleSeries(
  role: string,
  expression: string,
  series: readonly RangeSeries[],
): string {
  const keys = new Set<string>();
  for (const s of series) for (const key of Object.keys(s.labels)) keys.add(key);
  const differing: string[] = [];
  for (const key of [...keys].sort()) {
    const values = new Set(series.map((s) => s.labels[key] ?? ''));
    if (values.size > 1) {
      const shown = [...values]
        .slice(0, 4)
        .map((v) => (v === '' ? '(absent)' : printable(JSON.stringify(v), 80)));
      differing.push(
        `${printable(key, 80)} (${shown.join(', ')}${values.size > 4 ? `, … ${values.size} values` : ''})`,
      );
    }
  }
  const differingKeys = differing.map((d) => d.split(' ')[0]);
  const hint =
    differingKeys.length > 0
      ? `Aggregate them, e.g. sum without (${differingKeys.join(', ')}) (...) or avg without (...), or select one series with a label matcher.`
      : 'Aggregate them (e.g. sum(...)) or select one series with a label matcher.';
  return (
    `The ${role} expression ${JSON.stringify(expression)} returned ${series.length} series, but the correlation needs ` +
    `exactly one. They differ in label${differing.length === 1 ? '' : 's'}: ${differing.join('; ')}. ${hint}`
  );
}

/**
 * The body of `response` as text, refusing (and aborting the transfer of) anything over `maxBytes`, whether the
 * server announces its size or not.
 */
async function readCapped(
  response: Response,
  maxBytes: number,
  controller: AbortController,
): Promise<string> {
  const tooLarge = () =>
    new CorrelationError(
      'PROMETHEUS_BAD_RESPONSE',
      `the Prometheus answer exceeds ${maxBytes} bytes (maxResponseBytes): refused. Narrow the expression ` +
        '(fewer series) or the range, or raise maxResponseBytes.',
    );
  const announced = Number(response.headers?.get?.('content-length'));
  if (Number.isFinite(announced) && announced > maxBytes) {
    controller.abort();
    throw tooLarge();
  }
  const body = response.body;
  if (!body) return response.text();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
