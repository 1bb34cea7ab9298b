/**
 * What `initBusinessMetrics({ cluster: true })` builds in the primary (or main thread): the aggregate endpoint, a
 * Prometheus pull reader on a MeterProvider of its own whose only producer is the aggregate (so the primary's own
 * readers stay untouched), and the watch on worker threads.
 *
 * Owns: the endpoint's reader and provider, the live primary of this process. Must not touch: the merge
 * (aggregate.ts), collection rounds (primary.ts), which other exporters exist (init.ts), recording.
 */
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type CollectionResult } from '@opentelemetry/sdk-metrics';
import { PrometheusPullReader, type PrometheusPullReaderOptions } from '../exporters/prometheus';
import type { ColumnsLookup } from './encode';
import type { ClusterExtensions } from './extensions';
import type { ClusterOptions } from './options';
import { ClusterPrimary } from './primary';
import { setLivePrimary } from './thread-watch';

/** The primary's aggregate endpoint. */
export interface ClusterEndpoint {
  /** Serves the aggregate (standalone server and/or `metricsHandler`, as configured). */
  readonly reader: PrometheusPullReader;
  readonly primary: ClusterPrimary;
  shutdown(timeoutMillis: number): Promise<void>;
}

export function startClusterEndpoint(args: {
  readonly resource: Resource;
  readonly options: ClusterOptions;
  /** The primary's own collection (a reader of its MeterProvider). */
  readonly local: () => Promise<CollectionResult>;
  /** The local store's columns behind `local`'s collections (required: see startClusterSource). */
  readonly columnsOf: ColumnsLookup;
  readonly prometheus: PrometheusPullReaderOptions;
  readonly extensions: ClusterExtensions;
}): ClusterEndpoint {
  const primary = new ClusterPrimary({
    resource: args.resource,
    timeoutMillis: args.options.timeoutMillis,
    gauges: args.options.gauges,
    local: args.local,
    columnsOf: args.columnsOf,
    extensions: args.extensions,
  });
  const reader = new PrometheusPullReader({ ...args.prometheus, metricProducers: [primary] });
  // A provider of its own: the aggregate already contains the primary's own metrics (through `local`).
  const provider = new MeterProvider({ resource: args.resource, readers: [reader] });
  primary.serveExposition((format) => reader.getMetrics(format));
  setLivePrimary(primary);
  return {
    reader,
    primary,
    async shutdown(timeoutMillis) {
      setLivePrimary(undefined, primary);
      primary.close();
      await provider.shutdown({ timeoutMillis });
    },
  };
}
