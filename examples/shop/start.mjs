// `npm start` entry point (after `npm run build`): bundles the shop's TypeScript server with esbuild and runs it.
//
// The shop imports the package from ../../src; this bundle rewrites every such import to the matching file in
// dist/, so the running shop uses the package exactly as built (one copy, one `businessMetrics` singleton), and
// fails loudly if dist/ is missing. The bundle goes to node_modules/.cache, which git, eslint and prettier ignore.
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const shopDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(shopDir, '..', '..');
const srcDir = join(repoRoot, 'src');
const distDir = join(repoRoot, 'dist');
const outDir = join(repoRoot, 'node_modules', '.cache', 'otel-business-metrics-shop');
const outFile = join(outDir, 'server.cjs');

if (!existsSync(join(distDir, 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first (`npm start` does both).');
  process.exit(1);
}

/** Resolve imports that land in src/ to the compiled file in dist/, and keep them external. */
const useBuiltPackage = {
  name: 'use-built-package',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (!target.startsWith(srcDir + '/') && target !== srcDir) return undefined;
      const rel = relative(srcDir, target);
      const candidates = [join(distDir, `${rel}.js`), join(distDir, rel, 'index.js')];
      const built = candidates.find((file) => existsSync(file));
      if (!built)
        return { errors: [{ text: `no compiled file for src/${rel} in dist/; run npm run build` }] };
      return { path: built, external: true };
    });
  },
};

mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: [join(shopDir, 'server', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  outfile: outFile,
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [useBuiltPackage],
});

const require = createRequire(import.meta.url);
const { main } = require(outFile);
try {
  await main({ shopDir });
} catch (error) {
  console.error(`The shop could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
