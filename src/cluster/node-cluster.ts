/**
 * `node:cluster`, loaded the first time cluster mode needs it, never at import: some process managers provide
 * their own clustering and shim the module with a warning when it is required (Phusion Passenger prints a trace
 * for every require of it; prom-client loads it lazily for that reason, siimon/prom-client#293), and an app that
 * never asks for cluster mode should not pay for it either.
 *
 * Owns: that one lazy require. Must not touch: what cluster mode does with the module (role.ts, primary.ts).
 */
import type { Cluster } from 'node:cluster';

let loaded: Cluster | undefined;

/** The `node:cluster` module (required on the first call). */
export function nodeCluster(): Cluster {
  // require, not import: an import would load it with this file, for every app.
  return (loaded ??= require('node:cluster') as Cluster);
}
