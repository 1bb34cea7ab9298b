/**
 * Every fenced code block of README.md and docs/*.md, with the marker comment on the line before it (if any), and
 * the examples the tests run as written. tests/docs/code-blocks.test.ts decides for each block how it is run or
 * checked; the convention it enforces is in docs/architecture.md ("Code blocks in the docs").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docFiles, readDoc, ROOT } from './docs-files';

export interface CodeBlock {
  /** Doc file, relative to the repository root, and the 1-based line of the opening fence. */
  readonly file: string;
  readonly line: number;
  /** The info string's first word ('' when none). */
  readonly language: string;
  readonly body: string;
  /** `<!-- block: KIND ... -->` on the line right before the fence: the kind and what follows it. */
  readonly marker?: { readonly kind: string; readonly detail: string };
}

/** `file:line`, how failures name a block. */
export const where = (block: CodeBlock): string => `${block.file}:${block.line}`;

export function codeBlocks(): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const file of docFiles()) {
    const lines = readDoc(file).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
      if (!open) continue;
      let close = i + 1;
      while (close < lines.length && !lines[close].trim().startsWith(open[2])) close++;
      if (close === lines.length) throw new Error(`${file}:${i + 1}: code block never closed`);
      const marker = /^<!-- block: (\S+)\s*(.*?)\s*-->$/.exec(lines[i - 1] ?? '');
      blocks.push({
        file,
        line: i + 1,
        language: open[3],
        body: lines
          .slice(i + 1, close)
          .map((line) => line.slice(open[1].length))
          .join('\n'),
        marker: marker ? { kind: marker[1], detail: marker[2] } : undefined,
      });
      i = close;
    }
  }
  return blocks;
}

export interface MarkedExample {
  /** The test file, relative to tests/. */
  readonly file: string;
  readonly code: string;
}

/**
 * Every block between `// --- README example ... ---` (or `// --- docs example ... ---`) and `// --- end ---`
 * markers in the test files, dedented: code a test runs, which must appear verbatim in the docs.
 */
export function markedExamples(): MarkedExample[] {
  const files = readdirSync(join(ROOT, 'tests'), { recursive: true, encoding: 'utf8' }).filter((file) =>
    /\.test\.tsx?$/.test(file),
  );
  const examples: MarkedExample[] = [];
  for (const file of files) {
    const source = readFileSync(join(ROOT, 'tests', file), 'utf8');
    for (const [, body] of source.matchAll(
      /\/\/ --- (?:README|docs) example[^\n]*---\n([\s\S]*?)\n\s*\/\/ --- (?:(?:README|docs) example )?end ---/g,
    )) {
      const lines = body.split('\n');
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      examples.push({ file, code: lines.map((l) => l.slice(indent)).join('\n') });
    }
  }
  return examples;
}

/**
 * The example programs under examples/ (a test runs each: the quick start, the framework apps, the Next.js app),
 * by path relative to the repository root.
 */
export function examplePrograms(): Map<string, string> {
  const programs = new Map<string, string>();
  for (const file of readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })) {
    if (file.includes('node_modules') || !/\.(m?js|m?tsx?)$/.test(file)) continue;
    programs.set(`examples/${file}`, readFileSync(join(ROOT, 'examples', file), 'utf8'));
  }
  return programs;
}

/**
 * The test that runs a block as written, if one does: a block holding (or held in) a marked example, or an
 * examples/ program verbatim; undefined when none does (a marker comment is the other way, read by the caller).
 */
export function runBy(
  block: CodeBlock,
  examples: readonly MarkedExample[],
  programs: ReadonlyMap<string, string>,
): string | undefined {
  const body = block.body.trim();
  const example = examples.find(({ code }) => body.includes(code.trim()) || code.includes(body));
  if (example) return `tests/${example.file}`;
  for (const [path, source] of programs) if (source.trim() === body) return path;
  return undefined;
}
