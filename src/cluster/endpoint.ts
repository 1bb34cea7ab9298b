/**
 * What `initBusinessMetrics({ cluster: true })` builds in the primary (or main thread): the aggregate endpoint, a
 * Prometheus pull reader on a MeterProvider of its own whose only producer is the aggregate (so the primary's own
 * readers stay untouched), the push readers init.ts builds over the aggregate on that same provider (so the
 * primary pushes the fleet's numbers, the same ones its `/metrics` serves), the exposition workers ask for (through
 * the reader, within a worker's scrape's own deadline when it has one), and the watch on worker threads.
 *
 * Owns: the aggregate's provider and its readers' lifecycle (flush, and shutdown: the final push before the
 * primary stops asking the workers), what answers the workers' exposition requests, the live primary of this
 * process. Must not touch: the merge (aggregate.ts), collection rounds (primary.ts), which exporters exist
 * (init.ts), recording.
 */
import type { Resource } from '@opentelemetry/resources';
import {
  MeterProvider,
  type CollectionResult,
  type MetricCollectOptions,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import { PrometheusPullReader, type PrometheusPullReaderOptions } from '../exporters/prometheus';
import type { ColumnsLookup } from './encode';
import type { ClusterExtensions } from './extensions';
import type { ClusterOptions } from './options';
import { ClusterPrimary } from './primary';
import { collectionBudgetMillis, PROMETHEUS_DEFAULTS } from '../config/defaults';
import { setLivePrimary } from './thread-watch';

/** The primary's aggregate endpoint. */
export interface ClusterEndpoint {
  /** Serves the aggregate (standalone server and/or `metricsHandler`, as configured). */
  readonly reader: PrometheusPullReader;
  readonly primary: ClusterPrimary;
  /** Collects the aggregate and pushes it through every push reader now. */
  forceFlush(timeoutMillis: number): Promise<void>;
  shutdown(timeoutMillis: number): Promise<void>;
}

export function startClusterEndpoint(args: {
  readonly resource: Resource;
  readonly options: ClusterOptions;
  /** The primary's own collection (a reader of its MeterProvider). */
  readonly local: (options: MetricCollectOptions) => Promise<CollectionResult>;
  /** The local store's columns behind `local`'s collections (required: see startClusterSource). */
  readonly columnsOf: ColumnsLookup;
  readonly prometheus: PrometheusPullReaderOptions;
  readonly extensions: ClusterExtensions;
  /**
   * The readers that export the aggregate besides the Prometheus one (push exporters, an app's own reader), built
   * over the producer given: they join the aggregate's provider, never the primary's own (which would add the
   * primary's own metrics twice).
   */
  readonly readers?: (aggregate: MetricProducer) => MetricReader[];
}): ClusterEndpoint {
  const primary = new ClusterPrimary({
    resource: args.resource,
    timeoutMillis: args.options.timeoutMillis,
    // What the reader below hands the SDK for a scrape without a header (pull-server.ts): no deadline of its own.
    scrapeBudgetMillis: collectionBudgetMillis(
      args.prometheus.scrapeTimeoutMillis ?? PROMETHEUS_DEFAULTS.scrapeTimeoutMillis,
    ),
    gauges: args.options.gauges,
    local: args.local,
    columnsOf: args.columnsOf,
    extensions: args.extensions,
  });
  let readers: MetricReader[];
  try {
    readers = [new PrometheusPullReader({ ...args.prometheus, metricProducers: [primary] })];
    readers.push(...(args.readers?.(primary) ?? []));
  } catch (error) {
    primary.close();
    throw error;
  }
  const reader = readers[0] as PrometheusPullReader;
  // A provider of its own: the aggregate already contains the primary's own metrics (through `local`).
  const provider = new MeterProvider({ resource: args.resource, readers });
  // A worker's scrape with a deadline of its own: the reader's collection within it (the SDK hands the primary the
  // shorter budget, and collect() answers within it), not counted as a scrape of the primary's own endpoint.
  primary.serveExposition((format, hints) => reader.expositionWithin(format, hints));
  setLivePrimary(primary);
  return {
    reader,
    primary,
    forceFlush: (timeoutMillis) => provider.forceFlush({ timeoutMillis }),
    async shutdown(timeoutMillis) {
      setLivePrimary(undefined, primary);
      try {
        // The final pushes collect one last round while the workers still answer; then the primary stops asking.
        await provider.shutdown({ timeoutMillis });
      } finally {
        primary.close();
      }
    },
  };
}
