/**
 * A class loaded on first use: a stand-in that is the class for every purpose (`new`, `extends`, `instanceof`,
 * statics, `prototype`) but requires the module that defines it only when one of those is first used. The package
 * exports `PrometheusPullReader` this way: its base class is the SDK's `MetricReader`, and an app that never
 * constructs one must not load @opentelemetry/sdk-metrics for it (docs/performance.md#cold-start). A plain `export`
 * keeps working in every toolchain (CommonJS, the ESM wrapper, bundlers), unlike a getter on `exports`.
 *
 * Owns: the stand-in. Must not touch: what the loaded module does. Must not import: `src/*`.
 */

/** `load()` is called once, on first use; the stand-in then forwards everything to the class it returned. */
export function lazyClass<C extends abstract new (...args: never[]) => unknown>(load: () => C): C {
  let loaded: C | undefined;
  const target = (): C => (loaded ??= load());
  // A function target, so `new` and `extends` are allowed; every trap reads the real class.
  const standIn: C = new Proxy(function lazyClass() {} as unknown as C, {
    construct: (_, args, newTarget) =>
      Reflect.construct(target() as never, args, newTarget === standIn ? target() : newTarget) as object,
    get: (_, key) => Reflect.get(target(), key) as unknown,
    has: (_, key) => Reflect.has(target(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  });
  return standIn;
}
