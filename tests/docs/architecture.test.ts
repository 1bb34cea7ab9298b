/**
 * docs/architecture.md is the map of the code: every folder under src/ has a row naming its header file, that
 * file opens with a comment stating what the folder owns and must not touch, and every top-level folder of the
 * repository has a row too. A new folder without its row or header fails here. The headers' "Must not import:"
 * sentences are held against the code: every import that loads code is checked against them (import-rules.ts).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readDoc, ROOT } from './docs-files';
import { importViolations, leadingComment, mustNotImport, sourceFiles } from './import-rules';

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

/** Whether the folder holds source files itself (not only subfolders). */
function hasSourceFiles(folder: string): boolean {
  return readdirSync(join(ROOT, folder)).some(
    (name) => /\.tsx?$/.test(name) && statSync(join(ROOT, folder, name)).isFile(),
  );
}

/** The first block comment of a file on disk. */
function headerComment(path: string): string {
  return leadingComment(readFileSync(path, 'utf8'));
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
      const comment = headerComment(path);
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
    const offenders = sourceFiles(ROOT)
      .filter((file) => file !== 'src/metrics/instruments.ts')
      .filter((file) => creates.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it("says things in one place: no source file but src/support/diag.ts writes to OpenTelemetry's diag", () => {
    const apiDiag = /import\s*\{[^}]*\bdiag\b[^}]*\}\s*from\s*'@opentelemetry\/api'|otelApi\(\)\.diag\b/;
    const offenders = sourceFiles(ROOT)
      .filter((file) => file !== 'src/support/diag.ts')
      .filter((file) => apiDiag.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
    // The rule can fail: the one file allowed to is caught by it.
    expect(apiDiag.test(readFileSync(join(ROOT, 'src/support/diag.ts'), 'utf8'))).toBe(true);
  });

  describe('"Must not import:" in the headers, held against the code', () => {
    /** Folder -> its header file, for every src/ folder with sources of its own. */
    const headers = new Map(
      sourceFolders()
        .filter((folder) => hasSourceFiles(folder) && byFolder.get(folder)?.header !== undefined)
        .map((folder) => [folder, `${folder}${byFolder.get(folder)!.header!}`]),
    );

    it.each([...headers])(
      '%s: its header %s says, in one sentence, what the folder must not import, and its row says the same',
      (folder, header) => {
        const tokens = mustNotImport(headerComment(join(ROOT, header)));
        if (tokens === undefined) {
          throw new Error(
            `${header} has no "Must not import:" sentence. Add one to its first comment listing, in backticks, what ` +
              `the files of ${folder} must not import (\`src/x/\` a folder, \`src/x/y.ts\` a file, \`src/*\` any other ` +
              `folder, \`node:*\`, a package), e.g. "Must not import: \`src/exporters/\`, \`node:*\`." (see ` +
              'docs/architecture.md, "Adding a folder?"), and the same backticked words to its row in docs/architecture.md.',
          );
        }
        const cell = byFolder.get(folder)!.cells[3] ?? '';
        const missing = tokens.filter((token) => !cell.includes(`\`${token}\``));
        expect({ row: folder, missingFromMustNotTouchCell: missing }).toEqual({
          row: folder,
          missingFromMustNotTouchCell: [],
        });
      },
    );

    it('no source file imports what its header forbids', () => {
      const violations = importViolations(ROOT, headers);
      if (violations.length > 0) throw new Error(violations.map((v) => v.message).join('\n\n'));
    });

    it('the check finds a forbidden import, names the file, the import and the sentence to change', () => {
      const root = mkdtempSync(join(tmpdir(), 'obm-import-rules-'));
      try {
        const write = (file: string, text: string) => {
          mkdirSync(dirname(join(root, file)), { recursive: true });
          writeFileSync(join(root, file), text);
        };
        write(
          'src/money/header.ts',
          '/**\n * Owns: money. Must not import: `src/metrics/`, `node:*`.\n */\nexport {};\n',
        );
        write(
          'src/money/ok.ts',
          "/** x */\nimport type { Meter } from '../metrics/meter';\nexport type M = Meter;\n",
        );
        write(
          'src/money/bad.ts',
          "/** x */\nimport { meter } from '../metrics/meter';\nimport { join } from 'path';\n",
        );
        write('src/metrics/meter.ts', '/** x */\nexport const meter = 1;\nexport type Meter = number;\n');
        const found = importViolations(root, new Map([['src/money/', 'src/money/header.ts']]));
        expect(found.map((v) => v.message)).toEqual([
          "src/money/bad.ts imports '../metrics/meter' (src/metrics/meter.ts), which the header of src/money/ " +
            '(src/money/header.ts) forbids with `src/metrics/` in its "Must not import:" sentence. Move that code ' +
            "to the room that owns it (or reach it through that room's port), or import only its types (`import " +
            'type`); if the rule itself is wrong, change the sentence in src/money/header.ts and the row of ' +
            'src/money/ in docs/architecture.md.',
          "src/money/bad.ts imports 'path' (node:path), which the header of src/money/ (src/money/header.ts) " +
            'forbids with `node:*` in its "Must not import:" sentence. Move that code to the room that owns it (or ' +
            "reach it through that room's port), or import only its types (`import type`); if the rule itself is " +
            'wrong, change the sentence in src/money/header.ts and the row of src/money/ in docs/architecture.md.',
        ]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });

  it('has a row for every top-level folder of the repository', () => {
    expect(topLevelFolders().filter((folder) => !byFolder.has(folder))).toEqual([]);
  });
});
