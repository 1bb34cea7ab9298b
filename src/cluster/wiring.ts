/**
 * What `initBusinessMetrics({ cluster: true })` builds, per role: in a node:cluster worker or a worker thread
 * a source that answers collections; in the primary (or main thread) the aggregate endpoint.
 *
 * Owns: the cluster options, role detection, the primary's endpoint (a Prometheus pull reader on a MeterProvider
 * of its own whose only producer is the aggregate, so the primary's own readers stay untouched), the cluster
 * self-metrics. Must not touch: which other exporters exist (init.ts), recording.
 */
import type { Meter } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type CollectionResult } from '@opentelemetry/sdk-metrics';
import { SELF_METRICS } from '../catalog/metrics';
import { PrometheusPullReader, type PrometheusPullReaderOptions } from '../exporters/prometheus';
import type { GaugeRule } from './aggregate';
import { ClusterPrimary } from './primary';
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
  return {
    reader,
    primary,
    async shutdown(timeoutMillis) {
      primary.close();
      await provider.shutdown({ timeoutMillis });
    },
  };
}

export function startClusterSource(
  transport: SourceTransport,
  collect: () => Promise<CollectionResult>,
): ClusterSource {
  return new ClusterSource(collect, transport);
}

/** The primary's self-metrics: collections that went without a worker's numbers, and the workers it knows. */
export function registerClusterSelfMetrics(meter: Meter, primary: ClusterPrimary): void {
  const failures = SELF_METRICS.clusterCollectionFailures;
  meter
    .createObservableCounter(failures.name, { description: failures.description, unit: failures.unit })
    .addCallback((result) =>
      primary.aggregate.forEachFailure((reason, count) => result.observe(count, { reason })),
    );
  const sources = SELF_METRICS.clusterSources;
  meter
    .createObservableGauge(sources.name, { description: sources.description, unit: sources.unit })
    .addCallback((result) => result.observe(primary.sources));
}
