// `npm start` entry point (after `npm run build`): bundles the shop's TypeScript server with esbuild and runs it.
//
// The shop imports the package from ../../src; this bundle rewrites every such import to the matching file in
// dist/, so the running shop uses the package exactly as built (one copy, one `businessMetrics` singleton), and
// fails loudly if dist/ is missing. The bundle goes to node_modules/.cache, which git, eslint and prettier ignore.
import cluster from 'node:cluster';
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

// The package's public entry points (package.json "exports") as src/ paths -> their compiled files in dist/.
const ENTRY_POINTS = new Map([
  ['', 'index.js'],
  ['integrations/express', 'integrations/express/index.js'],
  ['insights', 'insights/index.js'],
]);

/** Resolve imports of the package's entry points in src/ to dist/ (external); refuse imports of its internals. */
const useBuiltPackage = {
  name: 'use-built-package',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (!target.startsWith(srcDir + '/') && target !== srcDir) return undefined;
      const entry = relative(srcDir, target).replace(/(^|\/)index(\.ts)?$/, '');
      const built = ENTRY_POINTS.get(entry);
      if (built === undefined) {
        const text = `${args.path}: the shop may only import the package's entry points (src, src/integrations/express, src/insights)`;
        return { errors: [{ text }] };
      }
      return { path: join(distDir, built), external: true };
    });
  },
};

// WORKERS > 1: node:cluster workers run this file again; the primary has built the bundle already.
if (!cluster.isWorker) {
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
}

const require = createRequire(import.meta.url);
const { main } = require(outFile);
try {
  await main({ shopDir });
} catch (error) {
  console.error(`The shop could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
