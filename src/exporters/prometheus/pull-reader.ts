/**
 * The package's Prometheus pull exporter as an SDK `MetricReader`: it serves the text exposition over HTTP through
 * the pull endpoint of pull-server.ts, collecting through the SDK (the app's MeterProviders, its metric producers).
 *
 * Owns: the reader side (cumulative temporality, default aggregation, the SDK's collection and shutdown hooks).
 * Replaces @opentelemetry/exporter-prometheus at runtime, which turns `port: 0` into 9464, cannot restart, has no
 * auth and can crash the host on a serialization error. Must not touch: the server and the scrape path
 * (pull-server.ts, scrape-endpoint.ts), instruments, views, the catalog, environment variables (the package's init
 * reads `OTEL_EXPORTER_PROMETHEUS_*`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AggregationTemporality,
  AggregationType,
  MetricReader,
  type MetricProducer,
  type MetricReaderOptions,
} from '@opentelemetry/sdk-metrics';
import { PrometheusPullServer, type PrometheusPullServerOptions } from './pull-server';
import type { ExpositionFormat } from './serializer';
import type { ScrapeHints } from './scrape-endpoint';

export type { PrometheusAuth } from './pull-server';

/** Options of {@link PrometheusPullReader}. */
export interface PrometheusPullReaderOptions extends PrometheusPullServerOptions {
  /** Extra metric sources merged into every scrape. */
  readonly metricProducers?: MetricProducer[];
  /** Per-instrument-type cardinality limit passed to the SDK (its default is 2000 series per collection). */
  readonly cardinalitySelector?: MetricReaderOptions['cardinalitySelector'];
}

/**
 * A pull `MetricReader` for Prometheus (cumulative temporality, default aggregation) with its own HTTP server.
 *
 * ```ts
 * const reader = new PrometheusPullReader({ port: 0 });
 * const provider = new MeterProvider({ readers: [reader] });
 * await reader.ready;            // rejects with e.g. "... could not listen on 127.0.0.1:9464: address already in use (EADDRINUSE)"
 * console.log(reader.url);       // http://127.0.0.1:<ephemeral port>/metrics
 * ```
 */
export class PrometheusPullReader extends MetricReader {
  /** Resolves when the standalone server listens (at once with `preventServerStart`); rejects if it cannot. */
  readonly ready: Promise<void>;
  /** The interface the standalone server binds. */
  readonly host: string;
  /** The exposition path of the standalone server. */
  readonly endpoint: string;
  /**
   * Serves the current exposition on any request: for mounting on the app's own HTTP server (Express, Fastify,
   * `http.createServer`) at a path of its choosing. It does no authentication: the app's own auth applies.
   */
  readonly metricsHandler: (request: IncomingMessage, response: ServerResponse) => void;

  private readonly server: PrometheusPullServer;

  constructor(options: PrometheusPullReaderOptions = {}) {
    super({
      aggregationSelector: () => ({ type: AggregationType.DEFAULT }),
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
      cardinalitySelector: options.cardinalitySelector,
      metricProducers: options.metricProducers,
      otelComponentType: 'prometheus_http_text_metric_exporter',
    });
    // The scrape's deadline reaches the SDK: an observable callback that never settles is left out, not waited on.
    this.server = new PrometheusPullServer(options, (collection) => this.collect(collection));
    this.ready = this.server.ready;
    this.host = this.server.host;
    this.endpoint = this.server.endpoint;
    this.metricsHandler = this.server.metricsHandler;
  }

  /** The port the standalone server listens on (the ephemeral one once `ready` resolved, if 0 was asked). */
  get port(): number {
    return this.server.port;
  }

  /**
   * True while the standalone server listens: false before `ready` resolved, after it rejected, after shutdown,
   * and always with `preventServerStart`. Report `url` to users only when this is true.
   */
  get listening(): boolean {
    return this.server.listening;
  }

  /** The exposition URL of the standalone server. */
  get url(): string {
    return this.server.url;
  }

  /** Collects now and returns the exposition text: 0.0.4 (default), or OpenMetrics 1.0 with exemplars. */
  getMetrics(format: ExpositionFormat = 'prometheus'): Promise<string> {
    return this.server.getMetrics(format);
  }

  /**
   * @internal {@link getMetrics} within a scraper's own deadline too, never counted as a scrape of this endpoint:
   * what a cluster primary answers a worker's scrape with (the worker's endpoint is the one scraped).
   */
  expositionWithin(format: ExpositionFormat, hints: ScrapeHints | undefined): Promise<string> {
    return this.server.getMetrics(format, hints);
  }

  /**
   * @internal {@link getMetrics} within a scraper's own deadline too, when shorter than `scrapeTimeoutMillis`: what
   * initBusinessMetrics' handle answers the framework adapters' `/metrics` through.
   */
  scrapeMetrics(format: ExpositionFormat, hints: ScrapeHints | undefined): Promise<string> {
    return this.server.scrape(format, hints);
  }

  /**
   * How long a shutdown would now wait for a final scrape (0: the hand-over is off, or nobody is known to scrape
   * this endpoint). See {@link PrometheusPullReaderOptions.finalScrapeTimeoutMillis}.
   */
  finalScrapeBudgetMillis(): number {
    return this.server.finalScrapeBudgetMillis();
  }

  /**
   * The hand-over: keep serving until a scrape that collected after this call has been written out, for at most
   * `timeoutMillis` (default: {@link finalScrapeBudgetMillis}). Resolves true when the final values were scraped;
   * false (and a `diag` warning naming what is lost) when none came in time. Shutdown calls it; later calls return
   * the first outcome. Values recorded after the call are not guaranteed to be in the final scrape.
   */
  handOverFinalValues(timeoutMillis?: number): Promise<boolean> {
    return this.server.handOverFinalValues(timeoutMillis);
  }

  /** @internal See {@link PrometheusPullServer.shutdownBegins}: a handle's `shutdown()` calls it at once. */
  shutdownBegins(): void {
    this.server.shutdownBegins();
  }

  protected override async onForceFlush(): Promise<void> {
    // Pull exporter: nothing buffered to flush.
  }

  protected override onShutdown(): Promise<void> {
    return this.server.shutdown();
  }
}
