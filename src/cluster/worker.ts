/**
 * What `initBusinessMetrics({ cluster: true })` builds in a source (a node:cluster worker or a worker thread): the
 * source that answers the primary's collections, the fleet's exposition asked from the primary, and the handler
 * that serves it on the app's shared port. In a node:cluster worker, also the relay of its own worker threads: a
 * primary for them (primary.ts, threads only), whose aggregate (the worker's numbers and its threads') is what the
 * worker sends its primary, so a thread pool inside a cluster worker reaches the cluster's totals.
 *
 * Owns: that wiring, the relay's deadline within the primary's, and the deadline of an exposition request (a
 * scraper's own deadline, when shorter than the worker's usual wait, is the worker's, and the primary is told it). Must
 * not touch: the transports (source.ts), which other exporters exist (init.ts), recording, how a scrape is answered
 * (the one scrape path, exporters/prometheus/scrape-endpoint.ts: the same negotiation, gzip and `Vary` as every
 * other `/metrics`), the merge (primary.ts and aggregate.ts, which the relay reuses as they are).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Resource } from '@opentelemetry/resources';
import type { CollectionResult, MetricCollectOptions } from '@opentelemetry/sdk-metrics';
import { collectionBudgetMillis, PROMETHEUS_DEFAULTS } from '../config/defaults';
import {
  ExpositionUnavailable,
  nodeScrapeHandler,
  scrapeEndpoint,
  type ScrapeHints,
} from '../exporters/prometheus/scrape-endpoint';
import type { ExpositionFormat } from '../exporters/prometheus/serializer';
import { safeMessage } from '../support';
import type { ColumnsLookup } from './encode';
import type { ClusterExtensions } from './extensions';
import type { ClusterOptions } from './options';
import { ClusterPrimary, DEFAULT_CLUSTER_TIMEOUT_MS } from './primary';
import type { SourceTransport } from './role';
import { ClusterSource } from './source';
import { setLivePrimary } from './thread-watch';

/** A worker's side of cluster mode, and how it serves the fleet's exposition on the app's shared port. */
export interface ClusterSourceWiring {
  readonly source: ClusterSource;
  /**
   * The aggregate in a format, asked from the primary (what `getMetrics(format)` returns in a worker): within twice
   * `cluster.timeoutMillis` plus a second, or within a scrape's own deadline when `hints` give a shorter one.
   */
  exposition(format?: ExpositionFormat, hints?: ScrapeHints): Promise<string>;
  /** `(req, res)` serving the aggregate: mount it as `/metrics` on the app's own server in every worker. */
  readonly metricsHandler: (request: IncomingMessage, response: ServerResponse) => void;
  /** In a node:cluster worker, the primary of its worker threads (undefined in a thread). */
  readonly relay: ClusterPrimary | undefined;
  /** Sends the final snapshot (the threads' latest numbers in it), then stops relaying. Never rejects. */
  close(): Promise<void>;
}

export function startClusterSource(
  transport: SourceTransport,
  options: ClusterOptions,
  /** The worker's own collection; `timeoutMillis` is the SDK's, for each observable callback. */
  collect: (options: MetricCollectOptions) => Promise<CollectionResult>,
  extensions: ClusterExtensions,
  /** The local store's columns behind `collect`'s collections (required, so a caller cannot forget it and fall
   * back to building MetricData for every series at every scrape; `() => undefined` when there is no store). */
  columnsOf: ColumnsLookup,
  /** The worker's resource (what its relay's aggregate is rendered under; the snapshot does not carry it). */
  resource: Resource,
): ClusterSourceWiring {
  const timeoutMillis = options.timeoutMillis ?? DEFAULT_CLUSTER_TIMEOUT_MS;
  // An app's observable callback that never settles is left out (by the SDK) in time for the primary's deadline:
  // the worker's other numbers still reach it, and no collection stays pending per round.
  const callbacks = collectionBudgetMillis(timeoutMillis);
  const own = () => collect({ timeoutMillis: callbacks });
  // A node:cluster worker's threads talk to it over the thread channel, as a main thread's do outside a cluster;
  // nothing else would ever collect them (the cluster's primary hears processes only).
  const relay =
    transport === 'process'
      ? new ClusterPrimary({
          resource,
          // The relay waits for its threads, then collects the worker itself, each under its deadline: both
          // within the share of the primary's deadline a worker's collection gets.
          timeoutMillis: Math.max(1, Math.floor(callbacks / 2)),
          gauges: options.gauges,
          local: collect,
          columnsOf,
          extensions,
          processes: false,
        })
      : undefined;
  const source = new ClusterSource(
    // Until a thread has spoken the aggregate is the worker's own collection: the columns' fast path, no merge.
    relay === undefined ? own : relayedOnceHeard(relay, own),
    transport,
    extensions,
    columnsOf,
    undefined,
    timeoutMillis,
  );
  // The primary needs up to its own deadline to collect, plus the time to serialise.
  const deadline = 2 * timeoutMillis + 1000;
  const exposition = (format: ExpositionFormat = 'prometheus', hints?: ScrapeHints) => {
    const scraperMillis = hints?.timeoutMillis;
    if (scraperMillis === undefined || scraperMillis >= deadline) return source.exposition(deadline, format);
    // The scraper gives up first. Waiting longer would answer nobody, and the primary, told this scrape's deadline
    // (less a share for the answer's trip back), answers in time with the numbers it has (its round goes on).
    const primaryMillis = Math.max(1, Math.floor(scraperMillis * PROMETHEUS_DEFAULTS.scrapeHeaderShare));
    return source.exposition(scraperMillis, format, primaryMillis);
  };
  const served = scrapeEndpoint<IncomingMessage>({
    where: 'cluster worker metricsHandler',
    // A primary that does not answer is the scraper's business (503), not a failure of this process (500).
    source: (format, hints) =>
      exposition(format, hints).catch((error: unknown) => {
        throw new ExpositionUnavailable(`the cluster primary did not answer (${safeMessage(error)})`);
      }),
  });
  const metricsHandler: (request: IncomingMessage, response: ServerResponse) => void =
    nodeScrapeHandler(served);
  if (relay !== undefined) {
    // A thread's /metrics gets the cluster's aggregate, as its worker's does.
    relay.serveExposition(exposition);
    setLivePrimary(relay);
  }
  return {
    source,
    exposition,
    metricsHandler,
    relay,
    async close() {
      // The final snapshot's collection asks the threads once more; only then does the relay stop listening.
      await source.close();
      if (relay === undefined) return;
      setLivePrimary(undefined, relay);
      relay.close();
    },
  };
}

/**
 * @internal A worker's collection with a relay: its own until a thread has spoken (the columns' fast path, no merge),
 * then the relay's aggregate. Each own collection is offered to the relay as its seed (primary.ts, seedOwn), so the
 * series the worker sent its primary keep their labels there whatever comes first at the switch.
 */
export function relayedOnceHeard(
  relay: ClusterPrimary,
  own: () => Promise<CollectionResult>,
): () => Promise<CollectionResult> {
  let started = 0;
  let newest = -1;
  return async () => {
    if (relay.heardSources) return relay.collect();
    const order = started++;
    const result = await own();
    // An older collection that ends after a newer one must not replace it as the seed: the newer may hold a series
    // the primary got from it and the older lacks.
    if (order > newest) {
      newest = order;
      relay.seedOwn(result);
    }
    // The relay applied something while this collection ran (a thread's final snapshot): a series new in it may be
    // there under a thread's spelling already, so sent as the worker's own it would be counted twice.
    return relay.seeded ? relay.collect() : result;
  };
}
