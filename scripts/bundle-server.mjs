// The server entry points (the root, express, fastify, nestjs, fetch) load from one file, dist/bundle.js, instead
// of the ~66 modules tsc writes for them: each CommonJS module Node loads costs its resolution, read, compile and
// wrapper, and a pull-only cold start paid ~8 ms wall and ~13 ms CPU of it (docs/performance.md#cold-start).
//
// Why one bundle for all five, not one per entry point: they share state (the `businessMetrics` singleton, the live
// handle, the recorders' instrument contexts), so each module must exist once in a process whichever entry points
// it loads. esbuild keeps every tsc module in the bundle as a wrapper run on its first `require`, so what a
// process evaluates is what it evaluated before (a pull-only app still runs no OTLP or cluster code); only the
// parse of the file is shared. The @opentelemetry packages and the optional frameworks stay outside (`packages:
// 'external'`), loaded from node_modules as before. The browser, react, analysis and insights entry points share
// no state with these (the few constant modules they use load as copies of their own) and stay as tsc wrote them,
// as does the CLI.
//
// Each entry file is then replaced by a line that returns its part of the bundle, with its export names listed in
// the form Node's CommonJS lexer reads, so the ESM wrappers' `export * from './index.js'` keeps every named export.
// tsc's per-module files stay in dist/ beside the bundle (their .d.ts are the types; nothing of the package loads
// their .js at run time, except the CLI and the tests that load one module on its own).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The entry points in the bundle, by their `exports` subpath. */
export const BUNDLED = ['.', './express', './fastify', './nestjs', './fetch'];
const BUNDLE = join(dist, 'bundle.js');

const SHIM_MARK = "// This entry point's part of";
const entries = BUNDLED.map((subpath, index) => {
  const target = pkg.exports[subpath];
  if (typeof target !== 'object') throw new Error(`exports["${subpath}"] is missing from package.json`);
  const file = join(root, target.require.default);
  // Bundling a shim would wrap the last bundle in the new one: the entries must be tsc's (npm run build).
  if (readFileSync(file, 'utf8').includes(SHIM_MARK))
    throw new Error(`${target.require.default} is already bundled: run tsc first (npm run build)`);
  return { subpath, key: `e${index}`, file };
});

await build({
  stdin: {
    contents: entries
      .map(
        ({ key, file }) => `exports.${key} = () => require(${JSON.stringify('./' + relative(dist, file))});`,
      )
      .join('\n'),
    resolveDir: dist,
    sourcefile: 'bundle-entries.js',
    loader: 'js',
  },
  // Module paths in the bundle are relative to this directory: `dist/exporters/otlp.js`, the names tests read.
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  outfile: BUNDLE,
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: {
    js: '// otel-business-metrics: the server entry points in one file (scripts/bundle-server.mjs); types: the .d.ts files.',
  },
});

// Every entry's export names, read from the bundle itself before any entry file is replaced.
const require = createRequire(import.meta.url);
const bundle = require(BUNDLE);
for (const { subpath, key, file } of entries) {
  const names = Object.keys(bundle[key]()).filter((name) => name !== '__esModule' && name !== 'default');
  if (names.length === 0) throw new Error(`exports["${subpath}"]: the bundle's entry exports nothing`);
  for (const name of names)
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`exports["${subpath}"]: export name ${name}`);
  const fromEntry = relative(dirname(file), BUNDLE);
  const toBundle = fromEntry.startsWith('.') ? fromEntry : `./${fromEntry}`;
  writeFileSync(
    file,
    `"use strict";\n` +
      `${SHIM_MARK} ${relative(dist, BUNDLE)} (scripts/bundle-server.mjs).\n` +
      `module.exports = require(${JSON.stringify(toBundle)}).${key}();\n` +
      `// Its names, for Node's ESM import of this CommonJS file (never run).\n` +
      `0 && (module.exports = { ${names.join(', ')} });\n`,
  );
  // tsc's map describes the file just replaced.
  rmSync(`${file}.map`, { force: true });
}
