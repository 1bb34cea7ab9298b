// The package is compiled once, to CommonJS. ESM users get thin wrappers that re-export the same module,
// so `import` and `require` share one `businessMetrics` singleton (no dual-package hazard).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object') continue;
  const cjs = target.require.default; // e.g. ./dist/index.js
  const base = cjs.replace(/\.js$/, '');
  const file = base.split('/').pop();
  // A subpath whose compiled module is missing (a typo, or a folder tsc did not build) fails the build here,
  // not in a user's install.
  if (!existsSync(join(root, cjs))) throw new Error(`exports["${subpath}"]: ${cjs} was not built`);
  writeFileSync(join(root, `${base}.mjs`), `export * from './${file}.js';\n`);
  writeFileSync(join(root, `${base}.d.mts`), `export * from './${file}.js';\n`);
  if (!target.import.default.endsWith(`${file}.mjs`))
    throw new Error(`exports["${subpath}"] import path mismatch`);
}
