/**
 * The package's `diag` messages, captured for a test that asserts what a person is told (a warning once, an error
 * without the app's secrets).
 *
 * Owns: installing and removing a capturing `diag` logger. Must not touch: assertions.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';

export interface DiagMessages {
  readonly warnings: string[];
  readonly errors: string[];
  /** Forget what was captured so far. */
  clear(): void;
  /** Remove the logger (`diag.disable()`). */
  stop(): void;
}

/**
 * Capture warnings and errors from now until `stop()`. A logger left by an earlier test (an `OTEL_LOG_LEVEL` the
 * package installed, another capture not stopped) is removed first: replacing it would make the API warn both loggers
 * ("Current logger will overwrite one already registered"), a warning the test would then read as the package's.
 */
export function captureDiag(): DiagMessages {
  const warnings: string[] = [];
  const errors: string[] = [];
  const ignore = () => undefined;
  diag.disable();
  diag.setLogger(
    {
      error: (message: string) => errors.push(message),
      warn: (message: string) => warnings.push(message),
      info: ignore,
      debug: ignore,
      verbose: ignore,
    },
    DiagLogLevel.WARN,
  );
  return {
    warnings,
    errors,
    clear() {
      warnings.length = 0;
      errors.length = 0;
    },
    stop: () => diag.disable(),
  };
}
