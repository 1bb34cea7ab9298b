/**
 * The active-users hash key a cluster primary hands to its workers when the app configured none: every worker
 * must hash a user id to the same digest, or the merged sketches count one user once per worker.
 *
 * Owns: how the key travels (a node:cluster worker's own environment, given at `cluster.fork`; a worker thread's
 * environment data, given by `setEnvironmentData` in the primary, or in the cluster worker that started it) and
 * taking it back at shutdown. Must not touch: hashing with
 * the key, the primary's `process.env` (every child process of the app would inherit the secret from it).
 *
 * Why not `process.env` of the primary (as before): `child_process` calls inherit it, it outlived `shutdown()`,
 * and it was written even for apps that never track a user. Node's `cluster.setupPrimary()` has no `env`
 * setting (Node 20: `cluster.settings.env` is ignored), so the key goes into the `env` of each `cluster.fork()`
 * while cluster mode is live. A worker reads it once and removes it from its own environment, so its children do
 * not inherit it either.
 */
import type { Cluster } from 'node:cluster';
import { nodeCluster } from './node-cluster';
import { randomBytes } from 'node:crypto';
import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import { diag } from '../support';
import type { ActiveUsersOptions } from '../active-users/tracker';

/** Set by a primary in the environment of the workers it forks; not an option of yours. */
export const WORKER_KEY_ENV = 'OTEL_BUSINESS_METRICS_CLUSTER_HASH_KEY';
/** The environment-data key worker threads read it from. */
const THREAD_KEY = 'otel-business-metrics/cluster-hash-key';

/** The active-users options of a process in cluster mode, with the key it shares or received. */
export interface ClusterHashKey {
  readonly activeUsers: ActiveUsersOptions;
  /** Primary: stop handing the key to new workers (at shutdown). */
  readonly stopSharing?: () => void;
}

/**
 * Cluster mode needs one user-hash key in every process. A configured key (`activeUsers.hashKey` or
 * `OTEL_BUSINESS_METRICS_USER_HASH_KEY`) is used as is; otherwise the primary draws one and shares it with the
 * workers and threads it starts afterwards, and a worker uses the one it received (and hands it to its own threads).
 */
export function clusterHashKey(activeUsers: ActiveUsersOptions, role: 'primary' | 'source'): ClusterHashKey {
  if (activeUsers.hashKey !== undefined) return { activeUsers };
  if (role === 'source') {
    const key = keyFromPrimary();
    if (key === undefined) {
      diag.warn(
        'otel-business-metrics: cluster worker without a user-hash key from its primary: call initBusinessMetrics in ' +
          'the primary before forking (or set OTEL_BUSINESS_METRICS_USER_HASH_KEY), or active users are counted ' +
          'once per worker',
      );
      return { activeUsers };
    }
    // A node:cluster worker relays its own threads (worker.ts): they must hash as the whole cluster does.
    const stopSharing = isMainThread ? shareKeyWithThreads(key) : undefined;
    return { activeUsers: { ...activeUsers, hashKey: key }, stopSharing };
  }
  const key = randomBytes(32).toString('hex');
  return { activeUsers: { ...activeUsers, hashKey: key }, stopSharing: shareKeyWithWorkers(key) };
}

/**
 * Primary: workers forked and threads started from now on receive `key`. Returns the function that stops it
 * (and removes the key from the environment data); idempotent.
 */
export function shareKeyWithWorkers(key: string): () => void {
  // node:cluster only where cluster mode runs.
  const cluster = nodeCluster();
  const fork = cluster.fork;
  let sharing = true;
  const forkWithKey: Cluster['fork'] = function (this: Cluster, env?: NodeJS.ProcessEnv) {
    return fork.call(this, sharing ? { [WORKER_KEY_ENV]: key, ...env } : env);
  };
  cluster.fork = forkWithKey;
  const stopThreads = shareKeyWithThreads(key);
  return () => {
    if (!sharing) return;
    sharing = false;
    // Someone may have wrapped fork after us: then ours stays in their chain, passing calls through unchanged.
    if (cluster.fork === forkWithKey) cluster.fork = fork;
    stopThreads();
  };
}

/** Threads started from now on receive `key`. Returns the function that stops it; idempotent. */
function shareKeyWithThreads(key: string): () => void {
  let sharing = true;
  setEnvironmentData(THREAD_KEY, key);
  return () => {
    if (!sharing) return;
    sharing = false;
    setEnvironmentData(THREAD_KEY, undefined);
  };
}

let received: string | undefined;

/** Worker or thread: the key its primary shared, if any. Removes it from this process's environment. */
export function keyFromPrimary(): string | undefined {
  const fromEnv = process.env[WORKER_KEY_ENV];
  if (fromEnv !== undefined) {
    received = fromEnv;
    delete process.env[WORKER_KEY_ENV];
  }
  if (received === undefined && !isMainThread) {
    const data = getEnvironmentData(THREAD_KEY);
    if (typeof data === 'string') received = data;
  }
  return received;
}
