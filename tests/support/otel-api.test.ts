/**
 * src/support/otel-api.ts: what is registered with the API is read from the API's own global registry, as the API
 * itself reads it; the API loaded on demand is the package's @opentelemetry/api; the lazy no-op Meter is the API's
 * no-op Meter once used.
 */
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { lazyNoopMeter, otelApi, registeredWithApi } from '../../src/support';

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

  it("a lazy no-op Meter: each method is the API's no-op", () => {
    const meter = lazyNoopMeter();
    const counter = meter.createCounter('c');
    expect(() => counter.add(1)).not.toThrow();
    expect(counter).toBe(api.createNoopMeter().createCounter('c'));
    const methods = Object.keys(meter).sort();
    const noopMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(api.createNoopMeter()));
    expect(methods).toEqual(noopMethods.filter((name) => name !== 'constructor').sort());
  });
});
