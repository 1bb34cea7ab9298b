/** The package version, reported as the instrumentation scope version (a test keeps it equal to package.json). */
export const VERSION = '0.1.0';
/** The instrumentation scope name of everything the package records. */
export const SCOPE_NAME = 'otel-business-metrics';
