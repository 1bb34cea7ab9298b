/**
 * Opt-in process signal handling: flush metrics on SIGTERM/SIGINT, then let the process end as it would have.
 *
 * Owns: signal listeners it installs (and only those). Must not touch: other listeners, exit codes of an app
 * that handles the signal itself.
 */
import { constants as osConstants } from 'node:os';
import { whenShutDown, type BusinessMetricsHandle } from './init';

/** The listeners installed here, whichever handle they are for: never the app's own. */
const ownListeners = new Set<unknown>();

export interface ShutdownHookOptions {
  /** Default ['SIGTERM', 'SIGINT']. */
  signals?: NodeJS.Signals[];
  /** Deadline for the final flush. Default 5000 ms. */
  timeoutMillis?: number;
}

/**
 * What a JavaScript caller can get wrong and would otherwise learn only at the signal, if ever: a string for
 * `signals` hooked 'S', 'I', 'G'..., a misspelt signal never fires, an undefined handle threw in the listener.
 */
function checkHookArguments(handle: unknown, options: unknown): void {
  if (typeof (handle as Partial<BusinessMetricsHandle> | null)?.shutdown !== 'function') {
    throw new TypeError(
      'installShutdownHooks: the first argument must be the handle initBusinessMetrics() returned ' +
        `(got ${handle === null ? 'null' : typeof handle})`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError("installShutdownHooks: options must be an object, e.g. { signals: ['SIGTERM'] }");
  }
  const { signals, timeoutMillis } = options as ShutdownHookOptions;
  if (signals !== undefined) {
    if (!Array.isArray(signals)) {
      throw new TypeError(
        `installShutdownHooks: signals must be an array of signal names, e.g. ['SIGTERM'] (got ${JSON.stringify(signals)})`,
      );
    }
    for (const signal of signals) {
      if (typeof signal !== 'string' || !Object.hasOwn(osConstants.signals, signal)) {
        throw new TypeError(
          `installShutdownHooks: ${JSON.stringify(signal)} is not a signal name (e.g. 'SIGTERM', 'SIGINT')`,
        );
      }
    }
  }
  if (
    timeoutMillis !== undefined &&
    (typeof timeoutMillis !== 'number' || !Number.isInteger(timeoutMillis) || timeoutMillis < 0)
  ) {
    throw new TypeError(
      `installShutdownHooks: timeoutMillis must be a whole number of milliseconds >= 0 (got ${JSON.stringify(timeoutMillis)})`,
    );
  }
}

/**
 * On the first of `signals`, flush and shut down `handle`, then: if no other listener handles that signal,
 * re-raise it so the process terminates exactly as it would have without this hook (exit by signal); if the app
 * has its own listeners (the hooks installed here are never counted as the app's), leave the exit to them. The
 * hooks are removed when `handle` shuts down, by a signal or otherwise (none are installed on a handle that already
 * has). Returns a function that removes the hooks.
 *
 * @throws TypeError when `handle` is not a handle, `signals` is not an array of signal names, or `timeoutMillis`
 *   is not a whole number >= 0.
 */
export function installShutdownHooks(
  handle: BusinessMetricsHandle,
  options: ShutdownHookOptions = {},
): () => void {
  checkHookArguments(handle, options);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMillis = options.timeoutMillis ?? 5000;
  let installed = true;
  let stopWatching = (): void => undefined;
  const uninstall = () => {
    installed = false;
    ownListeners.delete(onSignal);
    stopWatching();
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    // Removed while this signal was being delivered (its handle shut down by another hook): that hook decides.
    if (!installed) return;
    // Decided now, while every listener of the app is still there: one added with `process.once` is gone by the
    // time the flush ends, and re-raising the signal then would kill the app in the middle of its own shutdown.
    // Hooks installed here (for this handle or another) are not the app's: they would leave the exit to nobody.
    const appListens = process.listeners(signal).some((listener) => !ownListeners.has(listener));
    uninstall();
    void handle.shutdown({ timeoutMillis }).finally(() => {
      if (!appListens) process.kill(process.pid, signal);
    });
  }
  // A handle that shut down (a hot reload, a test, the app's own shutdown) has nothing left to flush: its hooks
  // go, or a later signal would re-raise at once and kill the process before the next handle's final flush.
  stopWatching = whenShutDown(handle, () => uninstall());
  if (!installed) return uninstall;
  ownListeners.add(onSignal);
  // First in line, so the app's `once` listeners added before this are still registered when it runs.
  for (const signal of signals) process.prependListener(signal, onSignal);
  return uninstall;
}
