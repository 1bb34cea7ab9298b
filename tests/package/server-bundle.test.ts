/**
 * dist/bundle.js holds the five server entry points (scripts/bundle-server.mjs), so whatever one of them requires
 * literally, an app that bundles its server (esbuild, ncc, webpack) must resolve, whichever entry point it uses.
 * No optional framework may be required literally there: each adapter loads its framework through
 * `loadOptionalPeer` when it is used. Checked on the built files with esbuild's own list of what a bundle reaches.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '../..');
const ENTRIES = [
  'index.js',
  ...['express', 'fastify', 'nestjs', 'fetch'].map((name) => `integrations/${name}/index.js`),
];
const FRAMEWORK = /^(express|fastify|hono|next|react|react-dom|@nestjs\/[^/]+|@hono\/[^/]+)(\/|$)/;

/** The packages outside the bundle that `stdin`, or the file at `entry`, reaches by a literal require or import. */
async function externalPackages(entry: { file: string } | { stdin: string }): Promise<string[]> {
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.stdin, resolveDir: ROOT, loader: 'js' } }),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const reached = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((imported) => imported.external).map((imported) => imported.path),
  );
  return [...new Set(reached)].filter((path) => !path.startsWith('node:')).sort();
}

describe('the server bundle', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'bundle.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
  });

  it.each(ENTRIES)('%s reaches no web framework by a literal require', async (entry) => {
    const reached = await externalPackages({ file: join(ROOT, 'dist', entry) });
    // The check sees what it should: the OpenTelemetry packages the bundle does require.
    expect(reached).toContain('@opentelemetry/sdk-metrics');
    expect(reached.filter((path) => FRAMEWORK.test(path))).toEqual([]);
  });

  it('would see one', async () => {
    expect(await externalPackages({ stdin: "require('express'); require('@nestjs/core');" })).toEqual([
      '@nestjs/core',
      'express',
    ]);
  });
});
