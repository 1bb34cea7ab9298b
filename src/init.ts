/**
 * initBusinessMetrics: options + environment -> the local series store and the readers that export it -> a
 * BusinessMetrics bound to the `businessMetrics` singleton, and the handle that owns the lifecycle (ready,
 * forceFlush, shutdown). A pull-only app (Prometheus and nothing else: no push exporter, no reader of its own, no
 * cluster mode, no runtime metrics) gets no SDK MeterProvider: its endpoint collects the store itself, and
 * @opentelemetry/sdk-metrics, core and resources load only if the app reads `handle.meterProvider`
 * (docs/performance.md#cold-start). Everything else runs on an SDK MeterProvider(resource, readers), loaded here.
 *
 * Owns: which readers exist, whether the SDK runs, the one live handle per process, shutdown deadlines (and telling
 * lifecycle.ts when a handle shuts down), undoing a half-built init that throws. Must not
 * touch: how measurements are recorded (metrics/), how they are serialised (exporters/).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiagLogLevel, Meter } from '@opentelemetry/api';
import type {
  MetricCollectOptions,
  CollectionResult,
  MeterProvider,
  MetricProducer,
  MetricReader,
  PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  resolveConfig,
  toInitOptions,
  type ExporterSpec,
  type InitOptions,
  type ResolvedConfig,
} from './config/options';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './config/defaults';
import { AttributesResource, resourceAttributesOf } from './config/resource';
import type { FailureCountingExporter } from './exporters/otlp';
import {
  PROMETHEUS_TEXT_CONTENT_TYPE,
  PrometheusPullServer,
  type PrometheusPullReader,
} from './exporters/prometheus';
// Not in the folder's index: holding servers back is init's business, not part of the pull path's surface.
import { listeningAfter } from './exporters/prometheus/pull-server';
import {
  BusinessMetrics,
  instrumentContextOf,
  withLocalStore,
  type BusinessMetricsRecorder,
  type ScrapeExposition,
} from './metrics/business-metrics';
import { registerProcessSelfMetrics, storeOnlyMeter } from './metrics/instruments';
import { bindBusinessMetrics, bindHandingOver, businessMetrics } from './metrics/singleton';
import { prepareRuntimeMetrics } from './runtime/node-runtime';
import { storeCollectionOf } from './series/collection';
import { LocalSeriesStore } from './series/local-store';
import { AggregationTemporality, InstrumentType } from './series/otel-enums';
import type { ClusterEndpoint } from './cluster/endpoint';
import type { ClusterSourceWiring } from './cluster/worker';
import { diag, otelApi, registeredWithApi, TimeoutError, withTimeout } from './support';
import { SCOPE_NAME, VERSION } from './version';

/** What forceFlush and shutdown allow beyond the SDK's own deadline, which they pass on, before giving up. */
const DEADLINE_GRACE_MS = 250;
/** Of an explicit shutdown deadline, what the pull endpoints' hand-over leaves for the final pushes and closing. */
const AFTER_HAND_OVER_MS = 1000;

/** Where the Prometheus pull endpoint listens, once `ready` has resolved. */
export interface PrometheusEndpoint {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/** What initBusinessMetrics returns: the recorder, the provider, and the lifecycle. */
export interface BusinessMetricsHandle {
  /** The recorder bound to `businessMetrics` (the same calls, without the forwarding). */
  readonly metrics: BusinessMetricsRecorder;
  /**
   * The SDK MeterProvider: use `getMeter()` for your technical metrics so they share readers and resource. In a
   * pull-only app it is created (and the SDK loaded) when first read; its instruments are then served on the same
   * Prometheus endpoint.
   */
  readonly meterProvider: MeterProvider;
  /** Resolves when every exporter is serving; rejects with a clear message (e.g. the port is in use). An
   * un-awaited rejection never crashes the process; it is also logged through `diag`. */
  readonly ready: Promise<void>;
  /** The first Prometheus pull endpoint's address, after `ready` (undefined without one, or before). */
  readonly prometheus: PrometheusEndpoint | undefined;
  /** `(req, res)` handler serving the Prometheus exposition, for mounting `/metrics` on your own server.
   * Present when a `prometheus` exporter is configured. It applies no authentication: your server's applies. With
   * OTEL_SDK_DISABLED=true it answers 200 with an empty exposition (one comment line saying metrics are off). */
  readonly metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /**
   * Collect and push now (OTLP, console, your push exporters; in cluster mode the primary pushes the aggregate,
   * and a worker or thread has nothing to push: its numbers go out with the primary's). Resolves when every export
   * of this flush succeeded; rejects with an Error naming the exporter, where it sends and the cause when one failed (the
   * periodic exports only warn through diag), or when one still runs at the deadline (default 5000 ms). A
   * `timeoutMillis` that is no number of milliseconds >= 0 (NaN, negative, Infinity) is said through diag at error
   * level and the default applies.
   */
  forceFlush(options?: { timeoutMillis?: number }): Promise<void>;
  /**
   * Flush and stop every exporter within `timeoutMillis`, even if a collector is unreachable. A Prometheus
   * endpoint that is being scraped first keeps serving until one scrape has read the final values (the hand-over:
   * `prometheus.finalScrapeTimeoutMillis`, by default about two scrape intervals, at most 30 s). Default deadline:
   * 5000 ms plus that hand-over; an explicit `timeoutMillis` bounds everything, the hand-over included (one that is
   * no number of milliseconds >= 0 is said through diag at error level, and the default applies).
   * `businessMetrics` becomes a no-op again and a new initBusinessMetrics is allowed. Never rejects: a final export
   * that failed is said through diag at warn level, a deadline passed at error level, naming the exporter and
   * where it sends.
   */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
}

let liveHandle: BusinessMetricsHandle | undefined;

/** What runs when a handle's shutdown() is first called (lifecycle.ts's signal hooks remove themselves). */
const shutdownWatchers = new WeakMap<BusinessMetricsHandle, Set<() => void>>();
/** Handles whose shutdown() was called. */
const shutDownHandles = new WeakSet<BusinessMetricsHandle>();

/**
 * Runs `callback` when `handle.shutdown()` is first called, or at once if it already was; returns a remover. For
 * the package's own use (lifecycle.ts): hooks of a handle that shut down must not act on a later signal.
 */
export function whenShutDown(handle: BusinessMetricsHandle, callback: () => void): () => void {
  if (shutDownHandles.has(handle)) {
    callback();
    return () => undefined;
  }
  let watchers = shutdownWatchers.get(handle);
  if (!watchers) shutdownWatchers.set(handle, (watchers = new Set()));
  const watcher = () => callback();
  watchers.add(watcher);
  return () => void watchers.delete(watcher);
}

function shuttingDown(handle: BusinessMetricsHandle): void {
  if (shutDownHandles.has(handle)) return;
  shutDownHandles.add(handle);
  const watchers = shutdownWatchers.get(handle);
  shutdownWatchers.delete(handle);
  for (const watcher of watchers ?? []) watcher();
}

/**
 * Start business metrics: call once at startup.
 *
 * @param arg an exporter kind (`'prometheus' | 'otlp' | 'console' | 'none'`), your own MetricReader or
 *   PushMetricExporter, or options. Without it, the OpenTelemetry environment variables decide
 *   (OTEL_METRICS_EXPORTER, default `otlp`).
 * @throws Error for malformed options or environment values (naming the variable), and when a handle from an
 *   earlier call is still live.
 */
export function initBusinessMetrics(arg?: ExporterSpec | InitOptions): BusinessMetricsHandle {
  if (liveHandle) {
    throw new Error(
      'initBusinessMetrics() was already called and its handle is live; call shutdown() on it first',
    );
  }
  const options = toInitOptions(arg);
  const config = resolveConfig(options);
  installDiagLogger(config.logLevel);
  if (config.disabled) return disabledHandle(config.exporters.includes('prometheus'));
  // Loaded and checked before any port opens, so a missing optional package fails init cleanly.
  const startRuntimeMetrics = options.runtimeMetrics
    ? prepareRuntimeMetrics(options.runtimeMetrics)
    : undefined;

  const attributes = resourceAttributesOf(config);
  // Every part is built before any endpoint listens: a part that throws (an exporter, an option its owner checks)
  // leaves no port open behind the error.
  return listeningAfter(() =>
    isPullOnly(config, options)
      ? initPullOnly(options, config, attributes)
      : initWithSdk(options, config, attributes, startRuntimeMetrics),
  );
}

/** Everything but a pull-only app: an SDK MeterProvider over the readers of `config` (see the file header). */
function initWithSdk(
  options: InitOptions,
  config: ResolvedConfig,
  attributes: ReturnType<typeof resourceAttributesOf>,
  startRuntimeMetrics: ReturnType<typeof prepareRuntimeMetrics> | undefined,
): BusinessMetricsHandle {
  // What was started before a later part threw, stopped before the error goes on to the app.
  const undo: (() => unknown)[] = [];
  try {
    return buildWithSdk(options, config, attributes, startRuntimeMetrics, undo);
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        void Promise.resolve(step()).catch(() => undefined);
      } catch {
        // The error that made init fail is the one to report.
      }
    }
    throw error;
  }
}

function buildWithSdk(
  options: InitOptions,
  config: ResolvedConfig,
  attributes: ReturnType<typeof resourceAttributesOf>,
  startRuntimeMetrics: ReturnType<typeof prepareRuntimeMetrics> | undefined,
  undo: (() => unknown)[],
): BusinessMetricsHandle {
  const sdk = loadSdk();
  const {
    MeterProvider,
    PeriodicExportingMetricReader,
    PrometheusPullReader,
    ClosableAgents,
    FailureCountingExporter,
    createOtlpExporter,
    describeFailedExports,
  } = sdk;
  const resource = sdk.resourceFromAttributes(attributes);
  const store = new LocalSeriesStore(resource, { name: SCOPE_NAME, version: VERSION });
  const failureCounting: FailureCountingExporter[] = [];
  const otlpAgents = new ClosableAgents();
  undo.push(() => otlpAgents.close());
  const pushReader = (
    producerOf: ProducerOf,
    exporter: PushMetricExporter,
    name: string,
    intervalMillis: number,
    timeoutMillis: number,
    own?: { destination: string; timeoutMillis: number },
  ) => {
    const counted = new FailureCountingExporter(exporter, name, own?.destination, own?.timeoutMillis);
    failureCounting.push(counted);
    return new PeriodicExportingMetricReader({
      exporter: counted,
      exportIntervalMillis: intervalMillis,
      exportTimeoutMillis: timeoutMillis,
      metricProducers: [producerOf(temporalitySelectorOf(counted))],
    });
  };

  const readers: MetricReader[] = [];
  const pullReaders: PrometheusPullReader[] = [];
  // Cluster mode's code is loaded only when it is configured (synchronously: init stays synchronous).
  const cluster = config.cluster ? loadClusterMode() : undefined;
  const clusterRole = cluster?.clusterRoleHere();
  // The state other parts ship with this init's cluster snapshots (the active-user sketches, added below).
  const clusterExtensions = cluster && clusterRole ? new cluster.ClusterExtensions() : undefined;
  let clusterEndpoint: ClusterEndpoint | undefined;
  let clusterSource: ClusterSourceWiring | undefined;
  // The readers that export (push exporters, the app's own readers), built over where their numbers come from:
  // this process's store, or in a cluster primary the aggregate (below).
  const exporting: Array<(producerOf: ProducerOf) => MetricReader> = [];
  for (const exporter of config.exporters) {
    if (exporter === 'none') continue;
    // Cluster mode: a worker or thread exports nothing itself. Its numbers reach the primary at each collection,
    // and the primary exports the exact aggregate through every exporter. A worker's own endpoint would answer
    // scrapes round-robin with one worker's numbers; its own pushes would write one worker's numbers, under the
    // primary's service.instance.id when that is fixed (counter resets to a backend), or as series of their own
    // that the primary's totals already hold.
    if (clusterRole?.kind === 'source') continue;
    // The primary serves the aggregate on the cluster endpoint (below).
    if (exporter === 'prometheus' && clusterRole !== undefined) continue;
    if (exporter === 'prometheus') {
      const reader = new PrometheusPullReader({
        ...config.prometheus,
        metricProducers: [store.createProducer(AggregationTemporality.CUMULATIVE)],
      });
      pullReaders.push(reader);
      readers.push(reader);
    } else if (exporter === 'otlp') {
      const { exportIntervalMillis, readerTimeoutMillis, exporterTimeoutMillis, url } = config.otlp;
      const otlp = createOtlpExporter(config.otlp, otlpAgents);
      exporting.push((producerOf) =>
        pushReader(producerOf, otlp, 'otlp', exportIntervalMillis, readerTimeoutMillis, {
          destination: url,
          timeoutMillis: exporterTimeoutMillis,
        }),
      );
    } else if (exporter === 'console') {
      const { exportIntervalMillis, exportTimeoutMillis } = config.otlp;
      exporting.push((producerOf) =>
        pushReader(
          producerOf,
          new sdk.ConsoleMetricExporter(),
          'console',
          exportIntervalMillis,
          exportTimeoutMillis,
        ),
      );
    } else if (
      exporter instanceof sdk.MetricReader ||
      typeof (exporter as unknown as MetricReader).collect === 'function'
    ) {
      const reader = exporter as MetricReader;
      const select = (type: InstrumentType) => reader.selectAggregationTemporality(type);
      exporting.push((producerOf) => new sdk.BridgeReader(reader, [producerOf(select)]));
    } else {
      const { exportIntervalMillis, exportTimeoutMillis } = config.otlp;
      const push = exporter as PushMetricExporter;
      // A class's name (`FlakyExporter`); a plain object's constructor is `Object`, which names nothing.
      const named = push.constructor?.name;
      const name = named && named !== 'Object' ? named : 'custom';
      exporting.push((producerOf) =>
        pushReader(producerOf, push, name, exportIntervalMillis, exportTimeoutMillis),
      );
    }
  }
  if (clusterRole?.kind !== 'primary') {
    // The store keeps counters and histograms, one temporality for both: the one asked for counters.
    for (const build of exporting) {
      readers.push(build((select) => store.createProducer(select(InstrumentType.COUNTER))));
    }
  }
  // getMetrics() must work whatever is configured: without a Prometheus exporter, a server-less pull reader
  // serves it. A reader costs nothing per measurement; it only collects when asked.
  if (clusterRole?.kind === 'primary') {
    // The primary's own numbers (its recordings, its self-metrics) join the aggregate like a worker's.
    const local = new PrometheusPullReader({
      preventServerStart: true,
      metricProducers: [store.createProducer(AggregationTemporality.CUMULATIVE)],
    });
    readers.push(local);
    const serves = config.exporters.includes('prometheus');
    clusterEndpoint = cluster!.startClusterEndpoint({
      resource,
      options: config.cluster!,
      local: (collection) => local.collect(collection),
      columnsOf: storeCollectionOf,
      // Without a prometheus exporter, getMetrics() and the workers still get the aggregate, within the scrape
      // deadline that follows a longer cluster.timeoutMillis (a 5 s default would answer 503 to every worker).
      prometheus: serves
        ? config.prometheus
        : { preventServerStart: true, scrapeTimeoutMillis: config.prometheus.scrapeTimeoutMillis },
      extensions: clusterExtensions!,
      // Every exporter pushes (or reads) the aggregate: the fleet's numbers, the primary's own among them.
      readers: (aggregate) =>
        exporting.map((build) => build((select) => cluster!.aggregateProducer(aggregate, select))),
    });
    const started = clusterEndpoint;
    undo.push(() => started.shutdown(0));
    if (serves) pullReaders.push(clusterEndpoint.reader);
  }
  const expositionReader =
    clusterEndpoint?.reader ??
    pullReaders[0] ??
    new PrometheusPullReader({
      preventServerStart: true,
      metricProducers: [store.createProducer(AggregationTemporality.CUMULATIVE)],
    });
  // The cluster endpoint's reader belongs to a MeterProvider of its own.
  if (!pullReaders.includes(expositionReader) && !clusterEndpoint) readers.push(expositionReader);
  if (clusterRole?.kind === 'source') {
    clusterSource = cluster!.startClusterSource(
      clusterRole.transport,
      config.cluster!,
      (collection) => expositionReader.collect(collection),
      clusterExtensions!,
      storeCollectionOf,
      resource,
    );
    const started = clusterSource;
    undo.push(() => started.close());
  }

  // One user-hash key for the whole cluster: drawn here in a primary (and handed to the workers it forks after
  // this call), received from the primary in a worker.
  const clusterKey = clusterRole ? cluster!.clusterHashKey(config.activeUsers, clusterRole.kind) : undefined;
  undo.push(() => clusterKey?.stopSharing?.());
  const meterProvider = new MeterProvider({ resource, readers });
  undo.push(() => meterProvider.shutdown({ timeoutMillis: 0 }));
  const meter = meterProvider.getMeter(SCOPE_NAME, VERSION);
  registerProcessSelfMetrics(meter, undefined, {
    exporters: failureCounting,
    // A cluster worker's relay counts what its threads' numbers missed, summed into the primary's tallies.
    cluster: clusterEndpoint?.primary ?? clusterSource?.relay,
  });
  const runtimeMetrics = startRuntimeMetrics?.(meterProvider);
  undo.push(() => runtimeMetrics?.stop());

  const metrics = recorderOf(
    meter,
    store,
    options,
    clusterKey?.activeUsers ?? config.activeUsers,
    // In a cluster worker, the fleet's numbers (asked from the primary in the format asked for; the adapters'
    // `/metrics` within the scraper's own deadline), as on every other endpoint.
    clusterSource
      ? { exposition: (format, hints) => clusterSource.exposition(format, hints) }
      : {
          exposition: (format) => expositionReader.getMetrics(format),
          scrape: (format, hints) => expositionReader.scrapeMetrics(format, hints),
        },
  );

  const unregisterActiveUsers = clusterRole
    ? clusterExtensions!.add(metrics.activeUsersClusterExtension(clusterRole.kind))
    : undefined;
  // The aggregate holds each family to this process's series cap, and its folds count as this process's own.
  const guard = instrumentContextOf(metrics)?.options;
  const aggregating = clusterEndpoint?.primary ?? clusterSource?.relay;
  if (aggregating && guard) {
    aggregating.aggregate.capSeries(guard.limits.maxSeriesPerMetric, (family, max) =>
      guard.reporter.seriesOverflow(family, max),
    );
  }

  return liveHandleOf({
    metrics,
    meterProvider: () => meterProvider,
    pullEndpoints: pullReaders,
    metricsHandler: clusterSource?.metricsHandler ?? pullReaders[0]?.metricsHandler,
    exporters: failureCounting,
    describeFailedExports,
    flush: async (timeoutMillis) => {
      await Promise.all([
        meterProvider.forceFlush({ timeoutMillis }),
        clusterEndpoint?.forceFlush(timeoutMillis),
      ]);
    },
    stopAtOnce() {
      runtimeMetrics?.stop();
      clusterKey?.stopSharing?.();
    },
    // A worker's last word first: what it recorded since the last scrape reaches the primary.
    beforeHandOver: () => clusterSource?.close(),
    async afterHandOver(timeoutMillis) {
      unregisterActiveUsers?.();
      await clusterEndpoint?.shutdown(timeoutMillis);
    },
    shutdownProvider: (timeoutMillis) => meterProvider.shutdown({ timeoutMillis }),
    // Whatever is still in flight now would only hold the process open past the deadline.
    afterShutdown: () => otlpAgents.close(),
  });
}

/**
 * The recorder of an init: its options, recording into `store`; `getMetrics()` reads `exposition`, the adapters'
 * `/metrics` read `scrape` (seen by the final-scrape hand-over, as the endpoints' scrapes are).
 */
function recorderOf(
  meter: Meter,
  store: LocalSeriesStore,
  options: InitOptions,
  activeUsers: ResolvedConfig['activeUsers'],
  { exposition, scrape }: { exposition: ScrapeExposition; scrape?: ScrapeExposition },
): BusinessMetrics {
  return new BusinessMetrics(
    meter,
    withLocalStore(
      {
        strict: options.strict,
        limits: options.limits,
        money: options.money,
        activeUsers,
        exposition,
        scrape,
      },
      store,
    ),
  );
}

/** Prometheus and nothing else: served from the store without an SDK MeterProvider (see the file header). */
function isPullOnly(config: ResolvedConfig, options: InitOptions): boolean {
  return (
    !options.runtimeMetrics &&
    !config.cluster &&
    config.exporters.every((exporter) => exporter === 'prometheus' || exporter === 'none')
  );
}

/**
 * A pull-only app: the store collects itself (its counters and histograms, and the package's observable
 * instruments, which it observes as the SDK would: series/observed.ts) for each Prometheus endpoint, so the SDK is
 * not loaded. Reading `handle.meterProvider` creates an SDK MeterProvider whose reader's collection joins every
 * scrape, so the app's own instruments appear on the same endpoint.
 */
function initPullOnly(
  options: InitOptions,
  config: ResolvedConfig,
  attributes: ReturnType<typeof resourceAttributesOf>,
): BusinessMetricsHandle {
  const store = new LocalSeriesStore(
    new AttributesResource(attributes),
    { name: SCOPE_NAME, version: VERSION },
    { observesInstruments: true },
  );
  let app: { provider: MeterProvider; reader: PrometheusPullReader } | undefined;
  const collect = (collection: MetricCollectOptions): Promise<CollectionResult> => {
    const reader = app?.reader;
    return store.collectPull(reader && ((bounded) => reader.collect(bounded)), collection);
  };
  const servers = config.exporters
    .filter((exporter) => exporter === 'prometheus')
    .map(() => new PrometheusPullServer(config.prometheus, collect));
  // getMetrics() works whatever is configured: without a Prometheus exporter, a server-less endpoint serves it.
  const exposition = servers[0] ?? new PrometheusPullServer({ preventServerStart: true }, collect);
  const meter = storeOnlyMeter();
  registerProcessSelfMetrics(meter, store, { exporters: [] });
  const metrics = recorderOf(meter, store, options, config.activeUsers, {
    exposition: (format) => exposition.getMetrics(format),
    scrape: exposition.scrape,
  });
  const appProvider = (): MeterProvider => {
    if (app === undefined) {
      const sdk = loadSdk();
      const reader = new sdk.PrometheusPullReader({ preventServerStart: true });
      const provider = new sdk.MeterProvider({
        resource: sdk.resourceFromAttributes(attributes),
        readers: [reader],
      });
      app = { provider, reader };
    }
    return app.provider;
  };
  return liveHandleOf({
    metrics,
    meterProvider: appProvider,
    pullEndpoints: servers,
    metricsHandler: servers[0]?.metricsHandler,
    exporters: [],
    describeFailedExports: () => undefined,
    flush: (timeoutMillis) => app?.provider.forceFlush({ timeoutMillis }) ?? Promise.resolve(),
    stopAtOnce() {},
    shutdownProvider: async (timeoutMillis) => {
      await Promise.all([
        ...servers.map((server) => server.shutdown()),
        app?.provider.shutdown({ timeoutMillis }),
      ]);
    },
  });
}

/** A Prometheus pull endpoint as the handle uses it: the SDK's reader, or the pull-only app's server. */
type PullEndpoint = Pick<
  PrometheusPullServer,
  | 'ready'
  | 'listening'
  | 'host'
  | 'port'
  | 'url'
  | 'metricsHandler'
  | 'finalScrapeBudgetMillis'
  | 'handOverFinalValues'
  | 'shutdownBegins'
>;

/** What a handle is made of, with or without an SDK MeterProvider. */
interface HandleParts {
  readonly metrics: BusinessMetrics;
  readonly meterProvider: () => MeterProvider;
  /** The Prometheus endpoints that listen or are mounted (the first one is `handle.prometheus`). */
  readonly pullEndpoints: readonly PullEndpoint[];
  readonly metricsHandler: BusinessMetricsHandle['metricsHandler'];
  /** The push exporters whose failures forceFlush and shutdown name. */
  readonly exporters: readonly FailureCountingExporter[];
  readonly describeFailedExports: typeof import('./exporters/otlp').describeFailedExports;
  flush(timeoutMillis: number): Promise<void>;
  /** What stops as soon as shutdown begins. */
  stopAtOnce(): void;
  beforeHandOver?(): Promise<void> | undefined;
  afterHandOver?(timeoutMillis: number): Promise<void>;
  /** Stops the readers and exporters (the final pushes) within the deadline. */
  shutdownProvider(timeoutMillis: number): Promise<void>;
  afterShutdown?(): void;
}

/** The handle over `parts`, made the live one and bound to the `businessMetrics` singleton. */
function liveHandleOf(parts: HandleParts): BusinessMetricsHandle {
  const { metrics, pullEndpoints: pullReaders, exporters: failureCounting, describeFailedExports } = parts;
  const ready = Promise.all(pullReaders.map((reader) => reader.ready)).then(() => undefined);
  ready.catch(() => {
    // Reported by the reader through diag; marking the promise handled keeps an un-awaited rejection from
    // crashing the host process. `await handle.ready` still rejects.
  });

  let shutdownPromise: Promise<void> | undefined;
  const handle: BusinessMetricsHandle = {
    metrics,
    get meterProvider() {
      return parts.meterProvider();
    },
    ready,
    get prometheus() {
      const reader = pullReaders[0];
      return reader?.listening ? { host: reader.host, port: reader.port, url: reader.url } : undefined;
    },
    metricsHandler: parts.metricsHandler,
    forceFlush: (options) => {
      // `null` is no options, as `undefined` is: destructured as it came, it threw instead of rejecting.
      const timeoutMillis = requestedDeadline(options, 'forceFlush') ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
      return flushNaming(
        failureCounting,
        describeFailedExports,
        () => parts.flush(timeoutMillis),
        timeoutMillis,
      );
    },
    shutdown(options) {
      // Read once, before anything is stopped: `null.timeoutMillis` threw with the handle half shut down (unbound,
      // its endpoint still open, and a later shutdown() starting over). `null` is no options, as `undefined` is.
      const requested = shutdownPromise ? undefined : requestedDeadline(options, 'shutdown');
      if (!shutdownPromise) {
        shuttingDown(handle);
        if (liveHandle === handle) {
          liveHandle = undefined;
          bindBusinessMetrics(undefined);
        }
        parts.stopAtOnce();
        // Now, not when the hand-over starts: an app initialising again at once on the same port waits for it.
        pullReaders.forEach((reader) => reader.shutdownBegins());
        // What a pull endpoint would wait for its final scrape (0 when nobody is known to scrape it).
        const handOver = Math.max(0, ...pullReaders.map((reader) => reader.finalScrapeBudgetMillis()));
        // The adapters' /metrics given no handle scrape the live one, which this handle stopped being above: they
        // read this one until its hand-over ends, or the scrape it waits for could never come.
        const handedOver = handOver > 0 ? bindHandingOver(metrics) : () => undefined;
        const timeoutMillis = requested ?? DEFAULT_SHUTDOWN_TIMEOUT_MS + handOver;
        const handOverWithin =
          requested === undefined
            ? handOver
            : Math.min(handOver, Math.max(0, requested - AFTER_HAND_OVER_MS));
        const started = Date.now();
        // One deadline for every step: each gets what the steps before it left. A step given more would still
        // run when the outer deadline below ends the wait, and say after shutdown() returned what it had said.
        const remaining = () => Math.max(0, timeoutMillis - (Date.now() - started));
        const stopping = async () => {
          try {
            await parts.beforeHandOver?.();
            // Pull: what was recorded since the last scrape is only here; serve until a scrape has read it.
            const handOverFor = Math.min(handOverWithin, remaining());
            await Promise.all(pullReaders.map((reader) => reader.handOverFinalValues(handOverFor)));
          } finally {
            handedOver();
          }
          // From here on every final push is watched: a cluster primary's exporters push the aggregate's final
          // numbers in afterHandOver (the aggregate's provider), the others in shutdownProvider.
          const watches = failureCounting.map((exporter) => exporter.watchFailures());
          try {
            await parts.afterHandOver?.(remaining());
            // The active users' last Redis flush runs beside the final export, under the same deadline.
            const left = remaining();
            await Promise.all([metrics.close({ timeoutMillis: left }), parts.shutdownProvider(left)]);
          } finally {
            watches.forEach((watch) => watch.stop());
          }
          const failed = describeFailedExports(watches);
          if (failed) {
            diag.warn(
              `otel-business-metrics: shutdown: the final export failed: ${failed}; ` +
                'what was recorded since its last successful export did not reach it',
            );
          }
        };
        shutdownPromise = withTimeout(stopping(), timeoutMillis + DEADLINE_GRACE_MS, 'shutdown')
          .catch((error: unknown) => {
            const named = timedOut(error)
              ? `shutdown did not finish within ${timeoutMillis} ms${stillWaiting(failureCounting)}`
              : String(error);
            diag.error(`otel-business-metrics: shutdown did not complete cleanly: ${named}`);
          })
          .finally(() => {
            failureCounting.forEach((exporter) => exporter.stopWarnings());
            parts.afterShutdown?.();
          });
      }
      return shutdownPromise;
    },
  };
  liveHandle = handle;
  bindBusinessMetrics(metrics);
  return handle;
}

/**
 * What runs only on an SDK MeterProvider, required when one is made (synchronously: init stays synchronous), as
 * cluster mode's modules are: the SDK, its resources, the OTLP exporters' wiring, the bridge for an app's readers
 * and the SDK pull reader. A pull-only app never loads them, unless it reads `handle.meterProvider`.
 */
function loadSdk() {
  return {
    ...(require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics')),
    ...(require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')),
    ...(require('./exporters/otlp') as typeof import('./exporters/otlp')),
    ...(require('./exporters/bridge-reader') as typeof import('./exporters/bridge-reader')),
    PrometheusPullReader: (require('./exporters/prometheus') as typeof import('./exporters/prometheus'))
      .PrometheusPullReader,
  };
}

/** Where an exporting reader's producer comes from, for the temporality it asks. */
/** A reader's producer, given what the reader asks for each instrument type (its temporality selector). */
type ProducerOf = (select: (type: InstrumentType) => AggregationTemporality) => MetricProducer;

function temporalitySelectorOf(
  exporter: PushMetricExporter,
): (type: InstrumentType) => AggregationTemporality {
  return (type) => exporter.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE;
}

/**
 * The deadline asked of `forceFlush()` or `shutdown()`, or undefined for their default. One that is no number of
 * milliseconds >= 0 (NaN, -1, Infinity, '500') is said at error level and the default applies: taken as it came it
 * cut the final push at once (NaN and negative numbers) or never fired, and an app calling shutdown on its way out
 * is better served by its default deadline than by a rejection that skips the flush.
 */
function requestedDeadline(
  options: { readonly timeoutMillis?: number } | null | undefined,
  where: 'forceFlush' | 'shutdown',
): number | undefined {
  const value: unknown = options?.timeoutMillis;
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const shown =
    typeof value === 'number'
      ? String(value)
      : typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value;
  diag.error(
    `otel-business-metrics: ${where}: timeoutMillis must be a number of milliseconds >= 0 (got ${shown}); ` +
      'the default deadline applies',
  );
  return undefined;
}

/** The diag logger this package registered (OTEL_LOG_LEVEL), as the API's registry holds it. */
let ownDiagLogger: unknown;

/**
 * OTEL_LOG_LEVEL set: a console logger at that level, as the OpenTelemetry SDKs do, unless the app registered a
 * diag logger of its own: that one stays, with the level the app gave it (replacing it would send the app's own
 * messages to the console). Unset: nothing is installed; the package's own start-up and export messages still
 * reach stderr (support/diag.ts), so a failed listen or the first failed export is seen without any setting, and
 * OTEL_LOG_LEVEL=error or =none, or the app's own diag logger, quiets them.
 */
function installDiagLogger(level: string | undefined): void {
  if (!level) return;
  const registered = registeredWithApi()?.diag;
  if (registered !== undefined && registered !== ownDiagLogger) return;
  const api = otelApi();
  api.diag.setLogger(new api.DiagConsoleLogger(), {
    logLevel: api.DiagLogLevel[level as keyof typeof DiagLogLevel],
    suppressOverrideMessage: true,
  });
  ownDiagLogger = registeredWithApi()?.diag;
}

/** `: still waiting for the otlp exporter (http://...)`, naming the push exporters whose export is in flight. */
function stillWaiting(exporters: readonly FailureCountingExporter[]): string {
  const pending = exporters.filter((exporter) => exporter.exporting).map((exporter) => exporter.description);
  return pending.length > 0 ? `: still waiting for the ${pending.join(', the ')}` : '';
}

/** A deadline passed: ours ("did not finish within") or the SDK's ("Operation timed out."). */
function timedOut(error: unknown): boolean {
  return (
    error instanceof TimeoutError || (error instanceof Error && error.message === 'Operation timed out.')
  );
}

/**
 * handle.forceFlush: collect and push now. Rejects, naming the exporter, where it sends and the cause, when an
 * export that started during the flush failed (the periodic path only warns: see FailureCountingExporter), or
 * when one is still running at the deadline (the SDK's own rejection is a bare "Operation timed out.").
 */
async function flushNaming(
  exporters: readonly FailureCountingExporter[],
  describeFailedExports: HandleParts['describeFailedExports'],
  flush: () => Promise<void>,
  timeoutMillis: number,
): Promise<void> {
  const watches = exporters.map((exporter) => exporter.watchFailures());
  try {
    await withTimeout(flush(), timeoutMillis + DEADLINE_GRACE_MS, 'forceFlush');
  } catch (error) {
    throw new Error(
      timedOut(error)
        ? `otel-business-metrics: forceFlush did not finish within ${timeoutMillis} ms${stillWaiting(exporters)}`
        : `otel-business-metrics: forceFlush failed: ${String(error)}`,
      { cause: error },
    );
  } finally {
    for (const watch of watches) watch.stop();
  }
  const failed = describeFailedExports(watches);
  if (failed) {
    const errors = watches.flatMap((watch) => watch.failures.map((failure) => failure.error));
    throw new Error(`otel-business-metrics: forceFlush: ${failed}`, {
      cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
    });
  }
}

/**
 * The disabled handle's `/metrics`: an app that mounts `handle.metricsHandler` (the README's pattern) must not
 * throw on every request because metrics are off. 200 with an empty exposition, not 503: the app is healthy and
 * metrics are off on purpose, so the target should not read as down; the comment line (ignored by parsers) says why
 * to whoever looks.
 */
function disabledMetricsHandler(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { 'content-type': PROMETHEUS_TEXT_CONTENT_TYPE });
  response.end('# otel-business-metrics: disabled by OTEL_SDK_DISABLED=true; nothing is recorded\n');
}

function disabledHandle(servesPrometheus: boolean): BusinessMetricsHandle {
  // OTEL_SDK_DISABLED=true: nothing is created; businessMetrics stays a no-op (a deliberate one: no before-init
  // warning for the app's calls).
  bindBusinessMetrics(undefined);
  // A provider without readers, made (and the SDK loaded) only if the app reads it.
  let meterProvider: MeterProvider | undefined;
  const handle: BusinessMetricsHandle = {
    metrics: businessMetrics,
    get meterProvider() {
      const sdk = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
      return (meterProvider ??= new sdk.MeterProvider());
    },
    ready: Promise.resolve(),
    prometheus: undefined,
    metricsHandler: servesPrometheus ? disabledMetricsHandler : undefined,
    forceFlush: () => Promise.resolve(),
    shutdown: () => {
      shuttingDown(handle);
      return meterProvider?.shutdown() ?? Promise.resolve();
    },
  };
  return handle;
}

/** Cluster mode's modules, required when `cluster` is configured (an app without it never loads them). */
function loadClusterMode() {
  return {
    ...(require('./cluster/delta') as typeof import('./cluster/delta')),
    ...(require('./cluster/endpoint') as typeof import('./cluster/endpoint')),
    ...(require('./cluster/extensions') as typeof import('./cluster/extensions')),
    ...(require('./cluster/role') as typeof import('./cluster/role')),
    ...(require('./cluster/worker') as typeof import('./cluster/worker')),
    ...(require('./cluster/worker-key') as typeof import('./cluster/worker-key')),
  };
}
