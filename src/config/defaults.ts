/**
 * Every default the package applies, in one place: where the exporters listen or send, how often they push,
 * how long shutdown may take, and the limits that bound what bad input can cost.
 *
 * Owns: default values only (and the generated default of `service.instance.id`), and the bound every timing option is
 * checked against (`MAX_TIMER_MILLIS`). Must not touch: parsing (config/options.ts), the SDK, I/O. Every other module
 * imports its defaults from here, and the docs tables are checked against these constants.
 */
import { randomUUID } from 'node:crypto';

/** Defaults of the Prometheus pull endpoint. The host is loopback (not the spec's `localhost`): the exposition
 * contains revenue, and `localhost` may resolve to IPv6 only. */
export const PROMETHEUS_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 9464,
  endpoint: '/metrics',
  /**
   * The longest a scrape may take before it is answered 503: well under Prometheus's default 10 s scrape timeout,
   * so a target whose collection hangs (an observable callback awaiting a database that never answers) is told
   * why instead of timing out. A scrape that says its own deadline (`X-Prometheus-Scrape-Timeout-Seconds`) gets
   * the shorter of the two (the header's never below `minScrapeDeadlineMillis`).
   */
  scrapeTimeoutMillis: 5000,
  /** Of the scraper's own deadline (that header), what the scrape uses: the rest is left for the answer's trip. */
  scrapeHeaderShare: 0.9,
  /**
   * The shortest deadline a scraper's header can impose (ms), however small the header: anyone who reaches
   * `/metrics` sends it, and a deadline no collection can meet would only buy 503s and wasted collections.
   */
  minScrapeDeadlineMillis: 100,
  /**
   * Of a scrape's deadline, what the collection gives each observable callback (the SDK's `timeoutMillis`): one
   * that times out is left out and counted as a collection error, and the rest is still served in time.
   */
  collectionShare: 0.8,
  /**
   * At most this many collections run at once per endpoint: who comes while they all run waits for (and shares)
   * the next one, so collections that never end (a metric producer that ignores its deadline) cannot pile up.
   */
  maxRunningCollections: 2,
  /**
   * A collection still running after this many times its deadline (doubled for each abandoned one still pending)
   * is abandoned: its slot is given back, so a scrape can succeed again once whatever hung it clears.
   */
  abandonAfterDeadlines: 2,
  /**
   * Abandoned collections still pending, at most: past them, no slot is given back and scrapes answer 503 until
   * one of them ends (or the process restarts). Bounds the work that never ends at 2 + 8 collections.
   */
  maxAbandonedCollections: 8,
});

/** Defaults of the OTLP push path, as the OpenTelemetry specification gives them. */
export const OTLP_DEFAULTS = Object.freeze({
  /** The spec's default protocol. */
  protocol: 'http/protobuf' as 'http/protobuf' | 'http/json' | 'grpc',
  /** OTLP/HTTP base endpoint; the metrics path is appended per the spec's per-signal rules. */
  httpEndpoint: 'http://localhost:4318',
  httpMetricsPath: '/v1/metrics',
  /** OTLP/gRPC endpoint (no path). */
  grpcEndpoint: 'http://localhost:4317',
  exportIntervalMillis: 60_000,
  /** The periodic reader's deadline for one export (OTEL_METRIC_EXPORT_TIMEOUT). */
  exportTimeoutMillis: 30_000,
  /** The OTLP exporter's own deadline for one export, its retries included (OTEL_EXPORTER_OTLP_TIMEOUT). */
  exporterTimeoutMillis: 10_000,
  temporality: 'cumulative' as 'cumulative' | 'delta',
  compression: 'none' as 'gzip' | 'none',
});

/**
 * `service.instance.id` when neither OTEL_RESOURCE_ATTRIBUTES nor `resourceAttributes` gives one: a random UUID
 * per process (or worker thread), as the OpenTelemetry semantic conventions recommend, so instances pushing to
 * one Collector never merge into one series.
 */
export function defaultServiceInstanceId(): string {
  return randomUUID();
}

/**
 * The longest delay, in ms, any timing option may ask for: Node's timers fire at once for a delay above this
 * (TimeoutOverflowWarning), so a huge interval or deadline would be 1 ms.
 */
/**
 * What a collection with `deadlineMillis` to take hands the SDK as its `timeoutMillis` (each observable callback's,
 * and every producer's budget): the `collectionShare` of it. One function, so a cluster primary can tell the budget
 * of a scrape without a deadline of its own from a shorter one by equality with what the pull server passed.
 */
export function collectionBudgetMillis(deadlineMillis: number): number {
  return Math.max(1, Math.floor(deadlineMillis * PROMETHEUS_DEFAULTS.collectionShare));
}

export const MAX_TIMER_MILLIS = 2_147_483_647;

/** How long `shutdown()` and `forceFlush()` may take when the caller gives no deadline. */
/**
 * How long a cluster worker or thread waits for its primary's first collection before it warns that nothing
 * collects its numbers (cluster mode without a primary running the package, as under PM2's cluster mode). A primary
 * collects at every scrape and push, so minutes without one mean nothing exports this source's numbers.
 */
export const CLUSTER_UNCLAIMED_WARNING_MS = 5 * 60_000;

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * How much longer than the OTLP exporter's own timeout the periodic reader waits for one export (less when the
 * interval leaves no room): the exporter's deadline ends a hung export, counted in the failures self-metric and
 * warned about once a minute, before the reader's own gives up on it with an uncounted `diag.error`.
 */
export const EXPORT_DEADLINE_MARGIN_MS = 100;

/** Resolved defaults of every limit (see docs/safety.md). */
export const DEFAULT_LIMITS = Object.freeze({
  /** Lifetime cap on series per metric. */
  maxSeriesPerMetric: 2000,
  /** Longest label value kept (UTF-16 code units). */
  maxLabelLength: 64,
  /**
   * Largest single money amount accepted, in minor units of its currency: 10^12, a guard against a value that is
   * no amount (an epoch-milliseconds timestamp, 1.7e12, is refused), not a business limit. One cap serves every
   * currency, so it is set for the one whose minor unit is smallest at the default exponents: about 600,000 USD of
   * rupiah in hundredths (IDR, exponent 2), 10 billion USD in cents. Far below 2^53, so one amount is always exact
   * (docs/money.md, "How large an amount").
   */
  maxAmountCents: 1_000_000_000_000,
  /** Longest session or time-to-conversion accepted, in seconds (30 days). */
  maxDurationSeconds: 30 * 24 * 3600,
  /** Largest active-user count accepted. */
  maxActiveUsers: 10_000_000_000,
});
