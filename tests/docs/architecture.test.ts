/**
 * docs/architecture.md is the map of the code: every folder under src/ has a row naming its header file, that
 * file opens with a comment stating what the folder owns and must not touch, and every top-level folder of the
 * repository has a row too. A new folder without its row or header fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDoc, ROOT } from './docs-files';

interface MapRow {
  folder: string;
  header?: string;
  cells: string[];
}

/** Rows of the map's tables whose first cell is a backticked folder path ending in `/` (code blocks aside). */
function mapRows(markdown: string): MapRow[] {
  const rows: MapRow[] = [];
  for (const line of markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '').split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((cell) => cell.trim());
    const folder = /^`([^`]+\/)`$/.exec(cells[0])?.[1];
    if (!folder) continue;
    const header = /^`([^`/]+)`$/.exec(cells[1] ?? '')?.[1];
    rows.push({ folder, header, cells });
  }
  return rows;
}

/** Every folder under src/ (src/ itself included), as `src/a/b/`. */
function sourceFolders(dir = 'src'): string[] {
  const sub = readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => sourceFolders(`${dir}/${entry.name}`));
  return [`${dir}/`, ...sub];
}

/** Every source file under src/, as `src/a/b.ts`. */
function sourceFiles(dir = 'src'): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(`${dir}/${entry.name}`)
      : /\.tsx?$/.test(entry.name)
        ? [`${dir}/${entry.name}`]
        : [],
  );
}

/** Whether the folder holds source files itself (not only subfolders). */
function hasSourceFiles(folder: string): boolean {
  return readdirSync(join(ROOT, folder)).some(
    (name) => /\.tsx?$/.test(name) && statSync(join(ROOT, folder, name)).isFile(),
  );
}

/** The first block comment of a source file (after an optional shebang). */
function leadingComment(path: string): string {
  const text = readFileSync(path, 'utf8').replace(/^#![^\n]*\n/, '');
  return /^\s*\/\*\*?([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
}

/** Folders the repository tracks at the top level (build output, dependencies and hidden folders aside). */
function topLevelFolders(): string[] {
  const untracked = new Set(['node_modules', 'dist', 'coverage', 'test-artifacts']);
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !untracked.has(entry.name))
    .map((entry) => `${entry.name}/`);
}

const rows = mapRows(readDoc('docs/architecture.md'));
const byFolder = new Map(rows.map((row) => [row.folder, row]));

describe('docs/architecture.md', () => {
  it('reads the map (the table format this test expects is still the one in the doc)', () => {
    expect(rows.filter((row) => row.folder.startsWith('src/')).length).toBeGreaterThanOrEqual(10);
    expect(new Set(rows.map((row) => row.folder)).size).toBe(rows.length);
  });

  it('has a row for every folder under src/', () => {
    expect(sourceFolders().filter((folder) => !byFolder.has(folder))).toEqual([]);
  });

  it('maps no src/ folder that does not exist', () => {
    const stale = rows.filter((row) => row.folder.startsWith('src/') && !existsSync(join(ROOT, row.folder)));
    expect(stale.map((row) => row.folder)).toEqual([]);
  });

  it.each(sourceFolders())(
    '%s: its row says what it owns and must not touch, and its header file says so too',
    (folder) => {
      const row = byFolder.get(folder);
      if (!row) throw new Error(`${folder} has no row in docs/architecture.md`);
      const [, , owns, mustNot] = row.cells;
      expect({ folder, owns: Boolean(owns), mustNotTouch: Boolean(mustNot) }).toEqual({
        folder,
        owns: true,
        mustNotTouch: true,
      });
      if (!hasSourceFiles(folder)) {
        expect(row.cells[1]).toBe('—');
        return;
      }
      if (!row.header)
        throw new Error(`${folder}: the header column must name one file of the folder, in backticks`);
      const path = join(ROOT, folder, row.header);
      if (!existsSync(path)) throw new Error(`${folder}: header file ${row.header} does not exist`);
      const comment = leadingComment(path);
      expect({
        file: `${folder}${row.header}`,
        owns: /Owns\b/.test(comment),
        mustNotTouch: /Must not touch\b/i.test(comment),
      }).toEqual({
        file: `${folder}${row.header}`,
        owns: true,
        mustNotTouch: true,
      });
    },
  );

  it("creates instruments in one place: only src/metrics/instruments.ts calls a Meter's create* methods", () => {
    const creates =
      /\.(createCounter|createUpDownCounter|createHistogram|createGauge|createObservable\w+)\(|\.addBatchObservableCallback\(/;
    const offenders = sourceFiles()
      .filter((file) => file !== 'src/metrics/instruments.ts')
      .filter((file) => creates.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('has a row for every top-level folder of the repository', () => {
    expect(topLevelFolders().filter((folder) => !byFolder.has(folder))).toEqual([]);
  });
});
