/**
 * Cluster mode (`initBusinessMetrics({ cluster: true })`): node:cluster workers and worker threads record
 * locally; the primary answers with the exact aggregate. protocol.ts: message shapes; extensions.ts: extra state
 * a snapshot carries (one registry per init); encode.ts: a worker's collection -> snapshot (with the exemplars that
 * changed); aggregate.ts: the merge, retired totals and the latest exemplar per series and bucket; primary.ts / source.ts: the two sides of each transport; role.ts: which side this
 * process is; endpoint.ts / worker.ts: what init builds in the primary / a worker (a worker's `/metrics` answers
 * through the one scrape path, within its scraper's deadline, the primary answering from its round under way; the primary's
 * exporters push the aggregate, a worker's none); delta.ts: the
 * aggregate for an exporter that asks for delta temporality; options.ts: the options; rules.ts: the package's gauge rules; node-cluster.ts:
 * node:cluster loaded only when cluster mode is used; thread-watch.ts: the worker-thread watch, apart so that
 * importing the package loads no cluster code (init.ts loads the rest only for `cluster`); validate.ts: the rules
 * every message from a peer passes before use; worker-key.ts: the active-users hash key a primary hands to its
 * workers. This file: the public surface (options, gauge rules, the worker-thread
 * watch, the extension contract).
 *
 * Owns: cluster mode, end to end. Must not touch: recording (workers record exactly as a single process does),
 * the serializer's internals, the SDK's private state.
 * Must not import: `src/metrics/`, `src/series/`, `src/exporters/prometheus/serializer.ts`.
 */
export { watchWorkerThread } from './thread-watch';
export type { ClusterOptions } from './options';
export type { ClusterFailureReason } from './aggregate';
export type { GaugeRule } from './rules';
export type { ClusterExtensions, ClusterExtension } from './extensions';
