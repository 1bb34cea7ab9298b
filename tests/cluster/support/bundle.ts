/**
 * Bundles a tests/cluster/fixtures/<name>.ts app with esbuild (src/ included, so the test runs the current
 * source without a fresh `npm run build`), to run with plain Node as an app would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const outDir = mkdtempSync(join(tmpdir(), 'obm-cluster-'));

export function bundle(name: string): string {
  const path = join(outDir, `${name}.js`);
  buildSync({
    entryPoints: [join(__dirname, '..', 'fixtures', `${name}.ts`)],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  return path;
}

export function cleanUpBundles(): void {
  rmSync(outDir, { recursive: true, force: true });
}
