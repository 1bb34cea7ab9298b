/**
 * What `initBusinessMetrics({ cluster: true })` builds in a source (a node:cluster worker or a worker thread): the
 * source that answers the primary's collections, the fleet's exposition asked from the primary, and the handler
 * that serves it on the app's shared port.
 *
 * Owns: that wiring and the deadline of an exposition request. Must not touch: the transports (source.ts), which
 * other exporters exist (init.ts), recording.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import type { ClusterExtensions } from './extensions';
import type { ClusterOptions } from './options';
import { DEFAULT_CLUSTER_TIMEOUT_MS } from './primary';
import type { SourceTransport } from './role';
import { ClusterSource } from './source';
import { clusterMetricsHandler } from './worker-metrics-handler';

/** A worker's side of cluster mode, and how it serves the fleet's exposition on the app's shared port. */
export interface ClusterSourceWiring {
  readonly source: ClusterSource;
  /** The aggregate, asked from the primary (what `getMetrics()` returns in a worker). */
  exposition(): Promise<string>;
  /** `(req, res)` serving the aggregate: mount it as `/metrics` on the app's own server in every worker. */
  readonly metricsHandler: (request: IncomingMessage, response: ServerResponse) => void;
}

export function startClusterSource(
  transport: SourceTransport,
  options: ClusterOptions,
  collect: () => Promise<CollectionResult>,
  extensions: ClusterExtensions,
): ClusterSourceWiring {
  const source = new ClusterSource(collect, transport, extensions);
  // The primary needs up to its own deadline to collect, plus the time to serialise.
  const deadline = 2 * (options.timeoutMillis ?? DEFAULT_CLUSTER_TIMEOUT_MS) + 1000;
  const exposition = () => source.exposition(deadline);
  return { source, exposition, metricsHandler: clusterMetricsHandler(exposition) };
}
