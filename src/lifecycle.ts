/**
 * Opt-in process signal handling: flush metrics on SIGTERM/SIGINT, then let the process end as it would have.
 *
 * Owns: signal listeners it installs (and only those). Must not touch: other listeners, exit codes of an app
 * that handles the signal itself.
 */
import type { BusinessMetricsHandle } from './init';

export interface ShutdownHookOptions {
  /** Default ['SIGTERM', 'SIGINT']. */
  signals?: NodeJS.Signals[];
  /** Deadline for the final flush. Default 5000 ms. */
  timeoutMillis?: number;
}

/**
 * On the first of `signals`, flush and shut down `handle`, then: if no other listener handles that signal,
 * re-raise it so the process terminates exactly as it would have without this hook (exit by signal); if the app
 * has its own listeners, leave the exit to them. Returns a function that removes the hooks.
 */
export function installShutdownHooks(
  handle: BusinessMetricsHandle,
  options: ShutdownHookOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMillis = options.timeoutMillis ?? 5000;
  const uninstall = () => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    // Decided now, while every listener of the app is still there: one added with `process.once` is gone by the
    // time the flush ends, and re-raising the signal then would kill the app in the middle of its own shutdown.
    const appListens = process.listenerCount(signal) > 1;
    uninstall();
    void handle.shutdown({ timeoutMillis }).finally(() => {
      if (!appListens) process.kill(process.pid, signal);
    });
  }
  // First in line, so the app's `once` listeners added before this are still registered when it runs.
  for (const signal of signals) process.prependListener(signal, onSignal);
  return uninstall;
}
