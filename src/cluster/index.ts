/**
 * Cluster mode's public surface: options, gauge rules, and the worker-thread watch. The rest of src/cluster
 * is internal.
 *
 * Owns: re-exports only. Must not touch: anything else.
 */
export { watchWorkerThread, type ClusterOptions } from './wiring';
export type { GaugeRule, ClusterFailureReason } from './aggregate';
export { registerClusterExtension, type ClusterExtension } from './protocol';
