/**
 * Folder src/support/: the plumbing every other room shares, so each job has one home: a deadline on a promise
 * (timeout.ts), loading an optional package with the cause kept (optional-peer.ts), a class loaded on first use
 * (lazy-class.ts), warnings at a bounded rate (warnings.ts), where the package's messages go (diag.ts), the
 * OpenTelemetry API loaded only when needed (otel-api.ts), and text about values and errors that is safe to log
 * (describe.ts). This file only re-exports.
 *
 * Owns: those jobs. Must not touch: anything of the package's own (catalog, instruments, recording,
 * exporters, cluster, money): the rest of the package imports support, never the other way round.
 * Must not import: `src/*`.
 */
export { TimeoutError, withTimeout } from './timeout';
export {
  loadOptionalPeer,
  optionalPeerInstalled,
  resolveOptionalPeer,
  OptionalPeerError,
  type OptionalPeer,
  type OptionalPeerProblem,
} from './optional-peer';
export { lazyClass } from './lazy-class';
export { RateLimitedWarnings } from './warnings';
export { diag, PACKAGE_MESSAGE_PREFIX } from './diag';
export { otelApi, registeredWithApi } from './otel-api';
export { describe, printable, safeMessage } from './describe';
