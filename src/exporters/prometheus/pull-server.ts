/**
 * The Prometheus pull endpoint without the SDK: the standalone `/metrics` server and the mountable handler over any
 * collection function. The SDK's `MetricReader` (pull-reader.ts) serves through it, and so does a pull-only app,
 * which collects the local store itself and never loads @opentelemetry/sdk-metrics (docs/performance.md#cold-start).
 *
 * Owns: the standalone `/metrics` server (binding, routing: 401 before 404, shutdown including keep-alive
 * connections, after the final scrape's hand-over of final-scrape.ts), the `ready` promise and the real port, a
 * port passing from a shutting-down endpoint to a new one of the same process (it listens once the old one has
 * closed), and the mountable `metricsHandler`; every answer to a scrape (auth, 405, negotiation, gzip) comes from the one scrape
 * path, scrape-endpoint.ts. Must not touch: instruments, views, the catalog, environment variables (the package's
 * init reads `OTEL_EXPORTER_PROMETHEUS_*`), what a collection holds.
 * Must not import: `@opentelemetry/sdk-metrics` (but its types), `@opentelemetry/core`, `@opentelemetry/resources`.
 *
 * Never hurts the host: the server and its connections are unref'd (they never keep the process alive on their
 * own), a failed listen only rejects `ready` (which carries a no-op catch, so an un-awaited rejection cannot
 * crash the process), and a failed collection answers 500 and logs through `diag`.
 *
 * Never hangs a scrape: each collection has a deadline (`scrapeTimeoutMillis`, shortened by the scraper's own
 * `X-Prometheus-Scrape-Timeout-Seconds`). The SDK is given most of it as its `timeoutMillis`, so an observable
 * callback that never settles is left out (a collection error, logged) and the rest is served; whatever else never
 * finishes answers 503 at the deadline (support's withTimeout). At most two collections run at once, and a hung
 * one is abandoned in time (collection-slots.ts), so hung collections never pile up yet a scrape can recover once
 * the hang clears. Every answer comes from a collection that started after the request came (a cluster primary's
 * collection may share a round already under way: cluster/primary.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { diag, RateLimitedWarnings, TimeoutError, withTimeout } from '../../support';
import type { MetricCollectOptions, CollectionResult } from '@opentelemetry/sdk-metrics';
import type { PrometheusMetricNaming } from '../../catalog/prometheus-naming';
import { collectionBudgetMillis, MAX_TIMER_MILLIS, PROMETHEUS_DEFAULTS } from '../../config/defaults';
import {
  ExpositionUnavailable,
  nodeScrapeHandler,
  type ScrapeHints,
  nodeScrapeRequest,
  scrapeEndpoint,
  writeNodeAnswer,
  type ScrapeEndpoint,
} from './scrape-endpoint';
import { CollectionSlots } from './collection-slots';
import { FinalScrape } from './final-scrape';
import { serializePrometheus, type ExpositionFormat, type PrometheusSerializerOptions } from './serializer';
import { warnIfExposed, type ScraperCredentials } from './scraper-auth';

/** Credentials the standalone server requires: a bearer token, or HTTP basic username and password. */
export type PrometheusAuth = ScraperCredentials;

/** Options of {@link PrometheusPullServer}: every option of the pull reader but the SDK's. */
export interface PrometheusPullServerOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only: the exposition contains revenue). */
  readonly host?: string;
  /** Port to bind. Default 9464; `0` binds a real ephemeral port (read it from `port` after `ready`). */
  readonly port?: number;
  /** Path of the exposition on the standalone server. Default `/metrics`. */
  readonly endpoint?: string;
  /** Do not start the standalone server; serve through `metricsHandler` on the app's own server instead. */
  readonly preventServerStart?: boolean;
  /**
   * Require credentials on the standalone server (every path). Credentials travel in clear text over plain
   * HTTP: keep the default loopback binding or put TLS in front. `metricsHandler` has no auth of its own.
   */
  readonly auth?: PrometheusAuth;
  /**
   * At shutdown, keep serving until one scrape has read the final values, for at most this long (ms), once the
   * endpoint has been scraped: what was recorded since the last scrape is otherwise lost. Default: twice the
   * interval between the last two scrapes, counted from the last one, between 1 and 30 s (no wait when the
   * endpoint was scraped less than twice). `0` turns the hand-over off. `handle.shutdown({ timeoutMillis })`
   * bounds it too.
   */
  readonly finalScrapeTimeoutMillis?: number;
  /**
   * The longest a scrape may take (ms): past it, the scrape is answered 503 whatever still runs. Default 5000; a
   * scraper's `X-Prometheus-Scrape-Timeout-Seconds` shortens it (to 90% of that, never below 100 ms; a header that
   * is no positive number of seconds is ignored). Observable callbacks get 80% of
   * it: one that has not settled by then is left out of the scrape, which serves the rest.
   */
  readonly scrapeTimeoutMillis?: number;
  /** Omit the `otel_scope_*` labels. */
  readonly withoutScopeInfo?: boolean;
  /** Omit the `target_info` family. */
  readonly withoutTargetInfo?: boolean;
  /** Family naming: `'collector'` (default, unit suffixes as an OTel Collector) or `'upstream'`. */
  readonly metricNaming?: PrometheusMetricNaming;
}

/** Human words for the listen errors a user can act on. */
const LISTEN_ERROR_WORDS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  if (url.startsWith('/')) {
    const query = url.indexOf('?');
    return query < 0 ? url : url.slice(0, query);
  }
  try {
    return new URL(url).pathname; // absolute-form request target
  } catch {
    return undefined;
  }
}

/**
 * The SDK's timeout of an observable callback (its `TimeoutError`, not exported, named `Error`), or support's (the
 * app's part of a pull-only collection, series/local-store.ts).
 */
function isCallbackTimeout(error: unknown): boolean {
  return (
    error instanceof TimeoutError || (error instanceof Error && error.message === 'Operation timed out.')
  );
}

function validateScrapeTimeout(millis: number): number {
  if (!Number.isInteger(millis) || millis < 1 || millis > MAX_TIMER_MILLIS) {
    throw new RangeError(
      `Prometheus exporter scrapeTimeoutMillis must be an integer number of milliseconds from 1 to ${MAX_TIMER_MILLIS}, got ${String(millis)}`,
    );
  }
  return millis;
}

function validatePort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`Prometheus exporter port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

/**
 * Standalone servers of this process handing over at shutdown, by port: until one has closed, a new endpoint on
 * the same port (an app initialising again right after `shutdown()`) waits for it instead of failing with
 * EADDRINUSE, and the old one serves its final values meanwhile. The new one's own shutdown ends its wait.
 */
const closingPorts = new Map<string, { readonly closed: Promise<void>; readonly withinMillis: number }>();
/** What a closing server may take beyond its hand-over to close, before a new one tries its port anyway. */
const CLOSING_GRACE_MILLIS = 10_000;

// By port alone: `0.0.0.0` and `127.0.0.1` (or `::` and `localhost`) of one port refuse each other all the same.
function portKey(port: number): string {
  return String(port);
}

/** The standalone servers built inside {@link listeningAfter}'s `build`, waiting for it to return. */
let held: { start(): void; abandon(): void }[] | undefined;

/**
 * Runs `build` with every standalone server it creates held back from listening: they all start listening when
 * `build` returns, and none ever listens if it throws. An init that builds a pull endpoint and then fails on a
 * later part (an exporter, an option checked by its owner) must leave no port behind: a listening server nobody
 * holds a handle to could never be closed, and the app's corrected retry would fail with EADDRINUSE.
 */
export function listeningAfter<T>(build: () => T): T {
  const outer = held;
  const mine: NonNullable<typeof held> = [];
  held = mine;
  let value: T;
  try {
    value = build();
  } catch (error) {
    held = outer;
    for (const server of mine) server.abandon();
    throw error;
  }
  held = outer;
  for (const server of mine) server.start();
  return value;
}

/**
 * The pull endpoint over `collect`: `new PrometheusPullServer({ port: 0 }, collect)`, then `await server.ready`.
 */
export class PrometheusPullServer {
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
  /**
   * @internal A scrape answered by a framework's own route (the adapters' `/metrics`, through the handle): the
   * exposition within the scraper's deadline too (`hints.timeoutMillis`, when shorter than `scrapeTimeoutMillis`),
   * and, unlike {@link getMetrics}, seen by the final-scrape hand-over as the mounted handler's scrapes are. The
   * app's server writes the answer, so its collection is what hands the final values over.
   */
  readonly scrape: (format: ExpositionFormat, hints?: ScrapeHints) => Promise<string>;

  private readonly serializerOptions: PrometheusSerializerOptions;
  /** The standalone server's endpoint (with its credentials); the mounted handler has its own, without. */
  private readonly endpointAnswer: ScrapeEndpoint<IncomingMessage>;
  private readonly hasCredentials: boolean;
  private readonly server: Server | undefined;
  private readonly finalScrape: FinalScrape;
  private actualPort: number;
  private shutDown = false;
  /** Ends this server's mark in {@link closingPorts} once it has closed. */
  private releasePort: (() => void) | undefined;
  /** Set once shutdown has begun ({@link shutdownBegins}). */
  private shutdownRequested = false;
  /** Ends the wait for a previous endpoint on this port ({@link listen}). */
  private stopWaitingForPort: (() => void) | undefined;
  private readonly scrapeTimeoutMillis: number;
  /** Every scrape's collection, each given most of the scrape's deadline for its observable callbacks. */
  private readonly slots: CollectionSlots<CollectionResult>;
  private readonly warnings = new RateLimitedWarnings();

  constructor(
    options: PrometheusPullServerOptions,
    /**
     * One collection of everything the exposition shows. `timeoutMillis` is the SDK's: how long an observable
     * callback may take before it is left out (and reported in `errors`).
     */
    private readonly collect: (options: MetricCollectOptions) => Promise<CollectionResult>,
  ) {
    this.host = options.host ?? PROMETHEUS_DEFAULTS.host;
    if (typeof this.host !== 'string' || this.host === '') {
      throw new TypeError('Prometheus exporter host must be a non-empty string');
    }
    this.actualPort = validatePort(options.port ?? PROMETHEUS_DEFAULTS.port);
    const endpoint = options.endpoint ?? PROMETHEUS_DEFAULTS.endpoint;
    this.endpoint = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
    this.finalScrape = new FinalScrape(options.finalScrapeTimeoutMillis);
    this.scrapeTimeoutMillis = validateScrapeTimeout(
      options.scrapeTimeoutMillis ?? PROMETHEUS_DEFAULTS.scrapeTimeoutMillis,
    );
    this.slots = new CollectionSlots(
      (budgetMillis) =>
        this.collect({
          timeoutMillis: collectionBudgetMillis(budgetMillis),
        }),
      {
        where: 'Prometheus exporter',
        whileHung:
          'scrapes answer 503 until one ends or the process restarts (docs/prometheus.md#a-scrape-always-gets-an-answer)',
      },
    );
    // Every scrape (standalone, mounted, or a framework adapter's through the handle) collects through here, so
    // the hand-over sees it.
    const source = async (format: ExpositionFormat, hints?: ScrapeHints) => {
      const collected = this.finalScrape.collecting();
      const body = await this.exposition(format, hints?.timeoutMillis);
      collected();
      return body;
    };
    this.scrape = source;
    this.endpointAnswer = scrapeEndpoint({
      source,
      auth: options.auth,
      where: 'Prometheus exporter',
      authOption: 'Prometheus exporter auth',
    });
    this.hasCredentials = options.auth !== undefined;
    this.serializerOptions = {
      withoutScopeInfo: options.withoutScopeInfo,
      withoutTargetInfo: options.withoutTargetInfo,
      metricNaming: options.metricNaming,
    };
    const mounted = nodeScrapeHandler(scrapeEndpoint({ source, where: 'metricsHandler' }));
    this.metricsHandler = (request, response) => {
      this.finalScrape.answering(response);
      mounted(request, response);
    };

    if (options.preventServerStart) {
      this.ready = Promise.resolve();
      return;
    }
    const server = createServer((request, response) => this.handleRequest(request, response));
    this.server = server;
    server.unref();
    // A keep-alive scraper must not keep an otherwise finished process alive either.
    server.on('connection', (socket: Socket) => socket.unref());
    if (held === undefined) {
      this.ready = this.listen(server);
    } else {
      let start!: () => void;
      let abandon!: () => void;
      this.ready = new Promise<void>((resolve, reject) => {
        start = () => this.listen(server).then(resolve, reject);
        abandon = () => {
          this.shutDown = true;
          reject(
            new Error('Prometheus exporter never listened: initBusinessMetrics threw before it started'),
          );
        };
      });
      held.push({ start, abandon });
    }
    // Un-awaited, a rejection would be an unhandledRejection (fatal by default): it is logged instead.
    this.ready.catch(() => undefined);
  }

  /** The port the standalone server listens on (the ephemeral one once `ready` resolved, if 0 was asked). */
  get port(): number {
    return this.actualPort;
  }

  /**
   * True while the standalone server listens: false before `ready` resolved, after it rejected, after shutdown,
   * and always with `preventServerStart`. Report `url` to users only when this is true.
   */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** The exposition URL of the standalone server. */
  get url(): string {
    return `http://${hostForUrl(this.host)}:${this.actualPort}${this.endpoint}`;
  }

  /**
   * Collects now and returns the exposition text: 0.0.4 (default), or OpenMetrics 1.0 with exemplars. Rejects
   * (`ExpositionUnavailable`) once shutdown() has finished its hand-over, and (support's `TimeoutError`) when the
   * collection has not finished within `scrapeTimeoutMillis`, or within `hints.timeoutMillis` when shorter (a
   * scraper's own deadline, which the framework adapters' `/metrics` pass on). Unlike the endpoints' scrapes, it is
   * not seen by the final-scrape hand-over.
   */
  async getMetrics(format: ExpositionFormat = 'prometheus', hints?: ScrapeHints): Promise<string> {
    return this.exposition(format, hints?.timeoutMillis);
  }

  /**
   * One exposition within the scrape's deadline (the configured one, or the scraper's when shorter). Rejects with
   * support's `TimeoutError` past it (the scrape path answers 503).
   */
  private async exposition(format: ExpositionFormat, scraperMillis: number | undefined): Promise<string> {
    // After shutdown, on every path alike (the SDK reader would reject, a pull-only store would keep answering):
    // a mounted endpoint answers 503 with this reason.
    if (this.shutDown) throw new ExpositionUnavailable('the metrics were shut down (shutdown() was called)');
    const deadline = Math.min(this.scrapeTimeoutMillis, scraperMillis ?? Infinity);
    // Each caller leaves at its own deadline: nothing stays attached to a collection that never ends.
    let leave!: () => void;
    const collected = new Promise<CollectionResult>((resolve, reject) => {
      ({ leave } = this.slots.join(deadline, { deadlineAt: Date.now() + deadline, resolve, reject }));
    });
    let result: CollectionResult;
    try {
      result = await withTimeout(
        collected,
        deadline,
        "the metrics collection (prometheus.scrapeTimeoutMillis, or the scraper's own deadline when shorter)",
      );
    } finally {
      leave();
    }
    const { resourceMetrics, errors } = result;
    this.reportErrors(errors);
    return serializePrometheus(resourceMetrics, { ...this.serializerOptions, format });
  }

  private reportErrors(errors: readonly unknown[]): void {
    if (errors.length === 0) return;
    const late = errors.filter(isCallbackTimeout);
    if (late.length > 0) {
      this.warnings.warn(
        'callback-timeout',
        () =>
          `otel-business-metrics: Prometheus exporter: ${late.length} observable callback(s) (or the app's ` +
          "MeterProvider's collection) did not finish within the collection deadline and were left out of the " +
          'scrape (the rest was served; docs/prometheus.md#a-scrape-always-gets-an-answer)',
      );
    }
    const others = late.length === 0 ? errors : errors.filter((error) => !isCallbackTimeout(error));
    if (others.length > 0) diag.error('Prometheus exporter: errors while collecting metrics', ...others);
  }

  /**
   * How long a shutdown would now wait for a final scrape (0: the hand-over is off, or nobody is known to scrape
   * this endpoint). See {@link PrometheusPullServerOptions.finalScrapeTimeoutMillis}.
   */
  finalScrapeBudgetMillis(): number {
    return this.finalScrape.budgetMillis();
  }

  /**
   * The hand-over: keep serving until a scrape that collected after this call has been written out, for at most
   * `timeoutMillis` (default: {@link finalScrapeBudgetMillis}). Resolves true when the final values were scraped;
   * false (and a `diag` warning naming what is lost) when none came in time. Shutdown calls it; later calls return
   * the first outcome. Values recorded after the call are not guaranteed to be in the final scrape.
   */
  async handOverFinalValues(timeoutMillis = this.finalScrape.budgetMillis()): Promise<boolean> {
    const handedOver = await this.finalScrape.handOver(timeoutMillis);
    if (!handedOver && timeoutMillis > 0) {
      diag.warn(
        `Prometheus exporter: no scrape read the final values within ${timeoutMillis} ms of shutdown; what was ` +
          `recorded since the last scrape (${new Date(this.finalScrape.lastScrape).toISOString()}) is lost`,
      );
    }
    return handedOver;
  }

  /** Stops serving: after the hand-over (mounted endpoints too), closes the standalone server. */
  async shutdown(): Promise<void> {
    this.shutdownBegins();
    try {
      // Mounted endpoints too: the app's server may still be serving (it decides when to close).
      await this.handOverFinalValues();
      this.shutDown = true;
      const server = this.server;
      if (server === undefined) return;
      await this.ready.catch(() => undefined);
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() drops idle keep-alive sockets but waits for busy or stuck ones (headers timeout: 60 s).
        server.closeAllConnections();
      });
    } finally {
      this.releasePort?.();
    }
  }

  /**
   * @internal Shutdown has begun (a handle's `shutdown()` says so at once, before the hand-over): from now until
   * this server has closed, a new endpoint of this process on its port waits for it ({@link closingPorts}); a wait
   * of this server's own for a previous endpoint ends (`ready` rejects: it never listened).
   */
  shutdownBegins(): void {
    this.shutdownRequested = true;
    this.stopWaitingForPort?.();
    const key = portKey(this.actualPort);
    if (this.releasePort !== undefined || this.server?.listening !== true || closingPorts.has(key)) return;
    let release!: () => void;
    const closing = {
      closed: new Promise<void>((resolve) => (release = resolve)),
      withinMillis: this.finalScrape.budgetMillis() + CLOSING_GRACE_MILLIS,
    };
    closingPorts.set(key, closing);
    this.releasePort = () => {
      if (closingPorts.get(key) === closing) closingPorts.delete(key);
      release();
    };
  }

  private async listen(server: Server): Promise<void> {
    const closing = this.actualPort === 0 ? undefined : closingPorts.get(portKey(this.actualPort));
    if (closing !== undefined) {
      diag.debug(`Prometheus exporter: ${this.url} listens once the previous endpoint there has handed over`);
      // Bounded: a shutdown that never gets to close its server must not keep this one from saying EADDRINUSE.
      // Its own shutdown ends the wait at once.
      const stopped = new Promise<void>((resolve) => (this.stopWaitingForPort = resolve));
      await Promise.race([
        withTimeout(closing.closed, closing.withinMillis, 'the previous endpoint').catch(() => undefined),
        stopped,
      ]);
      this.stopWaitingForPort = undefined;
    }
    if (this.shutdownRequested) {
      // Shut down before it could listen: shutdown() finds nothing to close.
      throw new Error(
        `Prometheus exporter never listened on ${hostForUrl(this.host)}:${this.actualPort}: shut down while the ` +
          'previous endpoint there was still handing over',
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const code = error.code ?? 'unknown error';
        const words = LISTEN_ERROR_WORDS[code] ?? error.message;
        // What to change, for the ones a setting fixes. Logged here as well as rejected: `ready` may never be
        // awaited (the app keeps running without its endpoint, and someone must hear about it).
        const hint =
          code === 'EADDRINUSE' || code === 'EACCES'
            ? '; choose another port (initBusinessMetrics: prometheus.port or OTEL_EXPORTER_PROMETHEUS_PORT, ' +
              'PrometheusPullReader: port; 0 picks a free one) or stop what listens there'
            : '';
        const failure = new Error(
          `Prometheus exporter could not listen on ${hostForUrl(this.host)}:${this.actualPort}: ${words} (${code})${hint}`,
          { cause: error },
        );
        diag.error(`otel-business-metrics: ${failure.message}`);
        reject(failure);
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: this.actualPort }, () => {
        server.off('error', onError);
        // Errors after listening (rare, e.g. EMFILE on accept) must be logged, not crash the process.
        server.on('error', (error) => diag.error('Prometheus exporter server error', error));
        const address = server.address();
        if (address !== null && typeof address === 'object') this.actualPort = address.port;
        diag.debug(`Prometheus exporter listening on ${this.url}`);
        warnIfExposed('Prometheus exporter', this.host, this.hasCredentials);
        resolve();
      });
    });
  }

  private handleRequest(request: IncomingMessage, response: ServerResponse): void {
    // Authenticate before routing, so an unauthenticated client learns nothing about the paths.
    const scrape = nodeScrapeRequest(request);
    const denied = this.endpointAnswer.deny(scrape, request);
    if (denied) return writeNodeAnswer(response, denied);
    if (pathOf(request.url) !== this.endpoint) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Not Found\n');
      return;
    }
    this.finalScrape.answering(response);
    void this.endpointAnswer.answer(scrape, request).then((answer) => writeNodeAnswer(response, answer));
  }
}
