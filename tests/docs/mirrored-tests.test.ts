/**
 * Tests mirror src/: every `src/<path>.ts` has `tests/<path>.test.ts` (or `.test.tsx`), the direct test of that
 * module, or is in NOT_MIRRORED below with the tests that exercise it and why it has no direct test yet. The list
 * may only shrink: an entry whose module is gone, whose mirror test now exists, or whose named tests are missing
 * fails here, as does a new module without either (docs/architecture.md, "Tests mirror src/").
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './docs-files';

/**
 * Modules without a mirroring test: the value names (as `tests/...` paths) the tests that exercise the module,
 * then, after ` - `, why that is enough for now or what kind of module it is. Write the direct test and remove
 * the entry rather than adding one.
 */
const NOT_MIRRORED: Record<string, string> = {};

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
  const files = sourceFiles();

  it('every module has tests/<same path>.test.ts, or an entry in NOT_MIRRORED', () => {
    const missing = files.filter((file) => !mirror(file) && !(file in NOT_MIRRORED));
    expect(missing).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });

  it('NOT_MIRRORED only lists modules that exist and have no mirror test yet', () => {
    const stale = Object.keys(NOT_MIRRORED).filter((file) => !files.includes(file) || mirror(file));
    expect(stale).toEqual([]);
  });

  it('each NOT_MIRRORED entry names existing tests, then why', () => {
    const wrong = Object.entries(NOT_MIRRORED).flatMap(([file, value]) => {
      const [tests, why] = value.split(' - ');
      const named = tests.split(' ').filter(Boolean);
      const problems = [
        ...named.filter((test) => !/^tests\/\S+\.test\.tsx?$/.test(test) || !existsSync(join(ROOT, test))),
        ...(named.length === 0 || !why?.trim() ? ['(needs "tests/... - why")'] : []),
      ];
      return problems.map((problem) => `${file}: ${problem}`);
    });
    expect(wrong).toEqual([]);
  });

  it('counts the mirrored modules (for the record: most modules, and more over time)', () => {
    const mirrored = files.filter((file) => mirror(file));
    expect(mirrored.length + Object.keys(NOT_MIRRORED).length).toBe(files.length);
    expect(mirrored.length).toBeGreaterThanOrEqual(132);
  });
});
