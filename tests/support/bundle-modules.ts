/**
 * Which of the package's modules a process has evaluated, now that the server entry points load from one file
 * (dist/bundle.js, scripts/bundle-server.mjs), where `require.cache` only lists the bundle. Each tsc module is a
 * function in the bundle named after its path (`dist/exporters/otlp-wire/protobuf.js`), run on its first
 * `require`; V8's precise coverage counts its calls. The snippet goes at the top of a child process's script,
 * before anything loads the bundle; `loadedModules()` then returns `require.cache`'s files with the bundle's
 * evaluated modules in their place, as absolute paths under dist/ (so path checks read as they did before).
 *
 * Owns: that snippet. Must not touch: what a test asserts of the list.
 */

/** Defines `loadedModules(): string[]` in the child process (CommonJS script, node:inspector on the main thread). */
export const LOADED_MODULES_SNIPPET = `
const loadedModules = (() => {
  const inspector = require('node:inspector');
  const { dirname, join } = require('node:path');
  const { fileURLToPath } = require('node:url');
  const session = new inspector.Session();
  session.connect();
  // On the main thread the inspector answers synchronously: the callbacks run before post() returns.
  session.post('Profiler.enable');
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  const evaluated = new Set();
  return () => {
    // Counts restart at every take, so what ran is gathered across calls.
    session.post('Profiler.takePreciseCoverage', (error, coverage) => {
      if (error) throw error;
      for (const script of coverage.result) {
        if (!script.url.endsWith('/dist/bundle.js')) continue;
        const repo = dirname(dirname(fileURLToPath(script.url)));
        for (const fn of script.functions)
          if (fn.functionName.startsWith('dist/') && fn.ranges[0].count > 0) evaluated.add(join(repo, fn.functionName));
      }
    });
    const files = Object.keys(require.cache).filter((file) => !file.endsWith('/dist/bundle.js'));
    return [...files, ...evaluated];
  };
})();
`;
