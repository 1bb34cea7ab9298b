/**
 * The shape of the integrations, held by their imports: the framework-neutral core (src/integrations/http/)
 * imports no framework, each adapter imports the core and its own framework only (never another adapter, never
 * the package's internals beside the core), and the main entry loads no adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const INTEGRATIONS = join(__dirname, '..', '..', 'src', 'integrations');
const FRAMEWORKS = /^(express|fastify|hono|next|@nestjs\/|@hono\/|react)(\/|$)/;

function importsOf(folder: string): Array<{ file: string; from: string }> {
  return readdirSync(join(INTEGRATIONS, folder))
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => {
      const source = readFileSync(join(INTEGRATIONS, folder, file), 'utf8');
      return [...source.matchAll(/(?:from|import\(|require\()\s*'([^']+)'/g)].map((m) => ({
        file,
        from: m[1]!,
      }));
    });
}

const ADAPTERS = readdirSync(INTEGRATIONS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'http')
  .map((entry) => entry.name);

describe('integrations layering', () => {
  it('finds the core and the adapters', () => {
    expect(ADAPTERS.sort()).toEqual(['express', 'fastify', 'fetch', 'nestjs']);
  });

  it('keeps every framework out of the core', () => {
    expect(importsOf('http').filter(({ from }) => FRAMEWORKS.test(from))).toEqual([]);
  });

  it.each(ADAPTERS)('lets the %s adapter reach the package only through the core', (adapter) => {
    const outside = importsOf(adapter).filter(
      ({ from }) =>
        from.startsWith('.') && !from.startsWith('./') && from !== '../http' && from !== '../http/public',
    );
    expect(outside).toEqual([]);
  });

  it.each(ADAPTERS)('loads no other adapter into the %s adapter', (adapter) => {
    expect(
      importsOf(adapter).filter(({ from }) => ADAPTERS.some((other) => from.includes(`/${other}`))),
    ).toEqual([]);
  });
});
