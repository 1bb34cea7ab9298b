/**
 * src/support/otel-api.ts: what is registered with the API is read from the API's own global registry, as the API
 * itself reads it; the API loaded on demand is the package's @opentelemetry/api.
 */
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { otelApi, registeredWithApi } from '../../src/support';

describe('the OpenTelemetry API, loaded when needed', () => {
  afterEach(() => {
    api.diag.disable();
    api.context.disable();
  });

  it('sees a diag logger and a context manager registered by the app, and their removal', () => {
    expect(registeredWithApi()?.diag).toBeUndefined();
    expect(registeredWithApi()?.context).toBeUndefined();
    api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.ERROR);
    const manager = new AsyncLocalStorageContextManager().enable();
    expect(api.context.setGlobalContextManager(manager)).toBe(true);
    expect(registeredWithApi()?.diag).toBeDefined();
    expect(registeredWithApi()?.context).toBe(manager);
    expect(registeredWithApi()?.version).toMatch(/^1\.\d+\.\d+/);
    api.diag.disable();
    api.context.disable();
    expect(registeredWithApi()?.diag).toBeUndefined();
    expect(registeredWithApi()?.context).toBeUndefined();
  });

  it('loads the same @opentelemetry/api the package depends on', () => {
    expect(otelApi().diag).toBe(api.diag);
    expect(otelApi().context).toBe(api.context);
  });
});
