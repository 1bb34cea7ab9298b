/**
 * Cluster mode (`initBusinessMetrics({ cluster: true })`): node:cluster workers and worker threads record
 * locally; the primary answers with the exact aggregate. protocol.ts: messages and the compact snapshot;
 * encode.ts: a worker's collection -> snapshot; aggregate.ts: the merge and retired totals; primary.ts /
 * source.ts: the two sides of each transport; wiring.ts: what init builds per role; rules.ts: the package's
 * gauge rules. This file: the public surface (options, gauge rules, the worker-thread watch, the extension hook).
 *
 * Owns: cluster mode, end to end. Must not touch: recording (workers record exactly as a single process does),
 * the serializer's internals, the SDK's private state.
 */
export { watchWorkerThread, type ClusterOptions } from './wiring';
export type { GaugeRule, ClusterFailureReason } from './aggregate';
export { registerClusterExtension, type ClusterExtension } from './protocol';
