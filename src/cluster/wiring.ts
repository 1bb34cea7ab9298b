/**
 * What `initBusinessMetrics({ cluster: true })` builds, per role: in a node:cluster worker or a worker thread
 * a source that answers collections; in the primary (or main thread) the aggregate endpoint.
 *
 * Owns: the cluster options, role detection, the primary's endpoint (a Prometheus pull reader on a MeterProvider
 * of its own whose only producer is the aggregate, so the primary's own readers stay untouched). Must not touch: which other exporters exist (init.ts), recording.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type CollectionResult } from '@opentelemetry/sdk-metrics';
import {
  PROMETHEUS_TEXT_CONTENT_TYPE,
  PrometheusPullReader,
  type PrometheusPullReaderOptions,
} from '../exporters/prometheus';
import type { GaugeRule } from './aggregate';
import { ClusterPrimary, DEFAULT_CLUSTER_TIMEOUT_MS } from './primary';
import { ClusterSource, sourceTransportHere, type SourceTransport } from './source';

/** Options of cluster mode (`initBusinessMetrics({ cluster: { ... } })`). */
export interface ClusterOptions {
  /** How long the primary waits for each worker at a scrape before answering without it. Default 1000 ms. */
  timeoutMillis?: number;
  /**
   * Merge rule for gauges of your own (by instrument name): `sum`, `latest`, `max` or `min`. The package's
   * gauges have theirs (revenue minute: `sum`; active users: `latest`). Default for other gauges: `max`.
   */
  gauges?: Record<string, GaugeRule>;
}

/** Where this process or thread stands in cluster mode. */
export type ClusterRole =
  { readonly kind: 'primary' } | { readonly kind: 'source'; readonly transport: SourceTransport };

export function clusterRoleHere(): ClusterRole {
  const transport = sourceTransportHere();
  return transport === undefined ? { kind: 'primary' } : { kind: 'source', transport };
}

export function validateClusterOptions(options: ClusterOptions): void {
  const timeout = options.timeoutMillis;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))) {
    throw new TypeError(`cluster.timeoutMillis must be a positive number (got ${String(timeout)})`);
  }
  for (const [name, rule] of Object.entries(options.gauges ?? {})) {
    if (!['sum', 'latest', 'max', 'min'].includes(rule)) {
      throw new TypeError(
        `cluster.gauges.${name} must be 'sum', 'latest', 'max' or 'min' (got ${String(rule)})`,
      );
    }
  }
}

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
  readonly prometheus: PrometheusPullReaderOptions;
}): ClusterEndpoint {
  const primary = new ClusterPrimary({
    resource: args.resource,
    timeoutMillis: args.options.timeoutMillis,
    gauges: args.options.gauges,
    local: args.local,
  });
  const reader = new PrometheusPullReader({ ...args.prometheus, metricProducers: [primary] });
  // A provider of its own: the aggregate already contains the primary's own metrics (through `local`).
  const provider = new MeterProvider({ resource: args.resource, readers: [reader] });
  primary.serveExposition(() => reader.getMetrics());
  livePrimary = primary;
  return {
    reader,
    primary,
    async shutdown(timeoutMillis) {
      if (livePrimary === primary) livePrimary = undefined;
      primary.close();
      await provider.shutdown({ timeoutMillis });
    },
  };
}

let livePrimary: ClusterPrimary | undefined;

/**
 * In the main thread of a cluster-mode app: retire a worker thread's numbers into the totals as soon as it
 * exits. A thread that ends by `worker.terminate()` (or crashes) cannot send its final snapshot; without this
 * call the primary keeps its last numbers anyway but counts it as `timeout` at every scrape. A no-op when
 * cluster mode is not initialised in this thread.
 *
 * ```ts
 * const worker = new Worker('./worker.js');
 * watchWorkerThread(worker);
 * ```
 */
export function watchWorkerThread(worker: ThreadWorker): void {
  livePrimary?.watchThread(worker);
}

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
): ClusterSourceWiring {
  const source = new ClusterSource(collect, transport);
  // The primary needs up to its own deadline to collect, plus the time to serialise.
  const deadline = 2 * (options.timeoutMillis ?? DEFAULT_CLUSTER_TIMEOUT_MS) + 1000;
  const exposition = () => source.exposition(deadline);
  return {
    source,
    exposition,
    metricsHandler(_request, response) {
      exposition().then(
        (body) => {
          response.writeHead(200, {
            'content-type': PROMETHEUS_TEXT_CONTENT_TYPE,
            'content-length': Buffer.byteLength(body, 'utf8'),
          });
          response.end(body);
        },
        (error: unknown) => {
          diag.warn(`otel-business-metrics: cluster exposition unavailable: ${String(error)}`);
          if (!response.headersSent) response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('# the cluster primary did not answer\n');
        },
      );
    },
  };
}
