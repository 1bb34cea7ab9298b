/**
 * Where the package's messages go: the one `diag` every file of the package writes to. An app with a diag logger
 * (its own, or the console logger that OTEL_LOG_LEVEL makes init install) gets them through OpenTelemetry's
 * `diag`, filtered by that logger's level like the SDK's messages. An app without one gets the package's own
 * warnings and errors (they begin `otel-business-metrics:`) on stderr, and nothing else: the recording path's
 * rate-limited bad-input warnings stay quiet unless asked for (OTEL_LOG_LEVEL). So the package registers no logger
 * in the API's global of an app that chose none, and a process where nobody logs never loads the API (otel-api.ts).
 *
 * Owns: that routing and the prefix that marks the package's own messages. Must not touch: what a message says
 * (callers), their rate (warnings.ts), which logger OTEL_LOG_LEVEL installs (init.ts).
 */
import { otelApi, registeredWithApi } from './otel-api';

/** Every message the package says on its own account begins with this. */
export const PACKAGE_MESSAGE_PREFIX = 'otel-business-metrics:';

type Level = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

function send(level: Level, message: string, args: unknown[]): void {
  if (registeredWithApi()?.diag !== undefined) {
    try {
      otelApi().diag[level](message, ...args);
      return;
    } catch {
      // The package's own API copy cannot be loaded (a broken install): said on stderr below, never thrown.
    }
  }
  if (
    (level === 'error' || level === 'warn') &&
    typeof message === 'string' &&
    message.startsWith(PACKAGE_MESSAGE_PREFIX)
  )
    // eslint-disable-next-line no-console -- what DiagConsoleLogger would print, without registering it globally
    console[level](message, ...args);
}

/** The package's diag: OpenTelemetry's `diag` when a logger is registered, else stderr for its own warnings. */
export const diag = {
  error: (message: string, ...args: unknown[]): void => send('error', message, args),
  warn: (message: string, ...args: unknown[]): void => send('warn', message, args),
  info: (message: string, ...args: unknown[]): void => send('info', message, args),
  debug: (message: string, ...args: unknown[]): void => send('debug', message, args),
  verbose: (message: string, ...args: unknown[]): void => send('verbose', message, args),
};
