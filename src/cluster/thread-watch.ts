/**
 * The public `watchWorkerThread` and the cluster primary it reaches, kept apart from the primary's code so that
 * importing the package (which exports the function) does not load cluster mode: endpoint.ts registers the live
 * primary here when cluster mode starts in this thread, and worker.ts registers a node:cluster worker's relay (the
 * primary of its own threads).
 *
 * Owns: which primary is live in this thread. Must not touch: the primary's work (primary.ts).
 */
import type { Worker as ThreadWorker } from 'node:worker_threads';

/** What the watch needs of the primary. */
export interface ThreadWatcher {
  watchThread(worker: ThreadWorker): void;
}

let livePrimary: ThreadWatcher | undefined;

/**
 * @internal endpoint.ts and worker.ts: the primary (or a worker's relay) started in this thread (undefined when it
 * stops, if it is still this one).
 */
export function setLivePrimary(primary: ThreadWatcher | undefined, ifCurrent?: ThreadWatcher): void {
  if (ifCurrent === undefined || livePrimary === ifCurrent) livePrimary = primary;
}

/**
 * In the main thread of a cluster-mode app (a primary, or a node:cluster worker, which relays its own threads): know a
 * worker thread started before `initBusinessMetrics`, and retire
 * its numbers into the totals as soon as it exits (threads started afterwards are watched without this call). A
 * thread that ends by `worker.terminate()` (or crashes) cannot send its final snapshot; without the watch the
 * primary keeps its last numbers anyway but counts it as `timeout` at every scrape. A no-op when cluster mode is
 * not initialised in this thread.
 *
 * ```ts
 * const worker = new Worker('./worker.js');
 * watchWorkerThread(worker);
 * ```
 */
export function watchWorkerThread(worker: ThreadWorker): void {
  livePrimary?.watchThread(worker);
}
