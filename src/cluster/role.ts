/**
 * Where this process or thread stands in cluster mode: a source (a node:cluster worker, or a worker thread) or the
 * primary (the cluster's primary process, or a main thread). A node:cluster worker is also the primary of its own
 * worker threads (worker.ts builds that relay; the role here stays `source`).
 *
 * Owns: role detection. Must not touch: what each role builds (endpoint.ts, worker.ts), transports.
 */
import { isMainThread } from 'node:worker_threads';
import { nodeCluster } from './node-cluster';

/** Which transport a source uses: `process` in a node:cluster worker, `thread` in a worker thread. */
export type SourceTransport = 'process' | 'thread';

/** Where this process or thread stands in cluster mode. */
export type ClusterRole =
  { readonly kind: 'primary' } | { readonly kind: 'source'; readonly transport: SourceTransport };

/** The role here. Loads node:cluster (only a cluster-mode init asks). */
export function clusterRoleHere(): ClusterRole {
  if (!isMainThread) return { kind: 'source', transport: 'thread' };
  if (nodeCluster().isWorker && typeof process.send === 'function')
    return { kind: 'source', transport: 'process' };
  return { kind: 'primary' };
}
