/**
 * Tests mirror src/: every `src/<path>.ts` has `tests/<path>.test.ts` (or `.test.tsx`), the direct test of that
 * module (docs/architecture.md, "Tests mirror src/"). There are no exceptions: a new module comes with its test.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './docs-files';

function sourceFiles(): string[] {
  return readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file) && !file.endsWith('.d.ts'))
    .sort();
}

const mirror = (file: string) =>
  ['.test.ts', '.test.tsx']
    .map((suffix) => `tests/${file.replace(/\.tsx?$/, '')}${suffix}`)
    .find((path) => existsSync(join(ROOT, path)));

describe('tests mirror src/', () => {
  it('every module has tests/<same path>.test.ts', () => {
    const files = sourceFiles();
    expect(files.filter((file) => !mirror(file))).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });
});
