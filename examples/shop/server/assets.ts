/**
 * Builds the shop's browser scripts with esbuild at startup (in memory), so `npm start` needs no separate step
 * and tests serve exactly what users get.
 *
 * Owns: the browser bundles (`shop.js`: the engagement client wiring; `dashboard.js`: the uPlot charts) and the
 * location of static files. Must not touch: the server bundle or the package build.
 */
import { join } from 'node:path';
// esbuild is a devDependency: the shop is a development example, not part of the published package.
import * as esbuild from 'esbuild';

export interface ShopAssets {
  /** Bundle name (`shop.js`, `dashboard.js`) -> JavaScript source. */
  readonly scripts: ReadonlyMap<string, string>;
  /** Directory of the static CSS. */
  readonly publicDir: string;
  /** uPlot's browser build and stylesheet, served from node_modules. */
  readonly uplotScript: string;
  readonly uplotStyles: string;
}

/** Bundle the browser scripts under `shopDir/client` (`shopDir` is `examples/shop`). */
export async function buildShopAssets(shopDir: string): Promise<ShopAssets> {
  const result = await esbuild.build({
    entryPoints: {
      shop: join(shopDir, 'client', 'shop.ts'),
      dashboard: join(shopDir, 'client', 'dashboard.ts'),
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    outdir: join(shopDir, 'out'),
    logLevel: 'silent',
  });
  const scripts = new Map<string, string>();
  for (const file of result.outputFiles)
    scripts.set(file.path.slice(file.path.lastIndexOf('/') + 1), file.text);
  return {
    scripts,
    publicDir: join(shopDir, 'public'),
    uplotScript: require.resolve('uplot/dist/uPlot.iife.min.js'),
    uplotStyles: require.resolve('uplot/dist/uPlot.min.css'),
  };
}
