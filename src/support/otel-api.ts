/**
 * The OpenTelemetry API, loaded when first needed. Its 44 files were about 12 ms of a pull-only app's cold start
 * (docs/performance.md#cold-start), yet such an app, with no tracing and no diag logger in its process, needs
 * nothing from it: whether a context manager or a diag logger is registered can be read from the API's own
 * global registry, which every copy of the API 1.x in the process shares, without loading the API.
 *
 * Owns: loading @opentelemetry/api, reading its global registry. Must not touch: what is done with either.
 */
type OtelApi = typeof import('@opentelemetry/api');

/** Where API 1.x keeps what was registered with it (`registerGlobal` in the API's `internal/global-utils`). */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** What has been registered with the API in this process, by anyone: `undefined` for what was not. */
export interface RegisteredWithApi {
  readonly version?: string;
  /** The diag logger (`diag.setLogger`). */
  readonly diag?: unknown;
  /** The context manager (`context.setGlobalContextManager`, which a trace SDK's `register()` calls). */
  readonly context?: unknown;
}

let api: OtelApi | undefined;

/** The API, loaded on the first call (synchronously: it is a required peer dependency, installed beside the package). */
export function otelApi(): OtelApi {
  return (api ??= require('@opentelemetry/api') as OtelApi);
}

/** What was registered with the API so far, read without loading it; `undefined` when nothing ever was. */
export function registeredWithApi(): RegisteredWithApi | undefined {
  return (globalThis as Record<symbol, RegisteredWithApi | undefined>)[API_GLOBAL];
}
