/**
 * The machine-checkable half of the file headers: a `Must not import:` sentence in a header lists, in backticks,
 * what the files it speaks for must not import. tests/docs/architecture.test.ts applies every such sentence to
 * the sources under src/.
 *
 * Owns: reading the sentences, reading a file's imports (with the TypeScript parser), matching them, and the
 * failure message. Must not touch: the rules themselves (they live in the headers).
 *
 * The grammar, as docs/architecture.md states it:
 * - `Must not import: `a`, `b`, `c`.` anywhere in a file's first comment; the tokens are the backticked words up to
 *   the sentence's end. In the folder's header file (the one docs/architecture.md names) it applies to every
 *   source file directly in that folder; in any other file, to that file alone.
 * - `src/x/` a folder of src/ and everything below it; `src/x/y.ts` one file; `src/*` every src/ file outside
 *   the file's own folder; `node:*` Node's built-in modules; `pkg` or `@scope/pkg` a package (and its subpaths);
 *   `@scope/*` every package of a scope.
 * - Only imports that load code count: `import type`, `export type` and imports whose every name is a type
 *   compile away (a type names a shape; it runs nothing and loads nothing).
 */
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import * as ts from 'typescript';

/** One import that loads code: the specifier as written, and what it is (`src/a/b.ts`, `node:fs`, `express`). */
export interface CodeImport {
  readonly specifier: string;
  readonly target: string;
}

/** Every source file under `dir` (relative to `root`), as `src/a/b.ts`. */
export function sourceFiles(root: string, dir = 'src'): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(root, `${dir}/${entry.name}`)
      : /\.tsx?$/.test(entry.name)
        ? [`${dir}/${entry.name}`]
        : [],
  );
}

/** The first block comment of a source file (after an optional shebang). */
export function leadingComment(text: string): string {
  return /^\s*\/\*\*?([\s\S]*?)\*\//.exec(text.replace(/^#![^\n]*\n/, ''))?.[1] ?? '';
}

/**
 * The tokens of the `Must not import:` sentence of a header comment, or undefined without one. The sentence ends
 * at the first `.` outside backticks that ends a sentence (followed by a space, a line end or the comment's end).
 */
export function mustNotImport(comment: string): string[] | undefined {
  const flat = comment.replace(/\n\s*\*\s?/g, ' ');
  const start = flat.search(/Must not import:/);
  if (start < 0) return undefined;
  let sentence = '';
  let inTicks = false;
  for (let i = start + 'Must not import:'.length; i < flat.length; i++) {
    const ch = flat[i];
    if (ch === '`') inTicks = !inTicks;
    if (!inTicks && ch === '.' && (i + 1 === flat.length || /\s/.test(flat[i + 1]))) break;
    sentence += ch;
  }
  return [...sentence.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
}

/** The imports of a source file that load code, resolved (relative ones to `src/...` paths). */
export function codeImports(root: string, file: string): CodeImport[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TSX);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!isTypeOnlyImport(node)) specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!isTypeOnlyExport(node)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (!node.isTypeOnly && ts.isStringLiteral(expression)) specifiers.push(expression.text);
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length > 0 &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isDynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      if (isRequire || isDynamicImport) specifiers.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node)) {
      return; // `typeof import('x')` in a type position loads nothing
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.map((specifier) => ({ specifier, target: resolveTarget(root, file, specifier) }));
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false; // `import './side-effect'` runs code
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return (
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return (
    clause !== undefined &&
    ts.isNamedExports(clause) &&
    clause.elements.length > 0 &&
    clause.elements.every((element) => element.isTypeOnly)
  );
}

/** `src/a/b.ts` for a relative specifier, `node:x` for a built-in, the package name otherwise. */
function resolveTarget(root: string, file: string, specifier: string): string {
  if (specifier.startsWith('.')) {
    const base = normalize(join(dirname(file), specifier));
    for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`]) {
      if (/\.tsx?$/.test(candidate) && existsSync(join(root, candidate)))
        return relative(root, join(root, candidate));
    }
    return base;
  }
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  if (specifier.startsWith('node:') || builtinModules.includes(bare.split('/')[0])) return `node:${bare}`;
  return specifier;
}

/** Whether `target` (imported by `file`) is something `token` forbids. */
export function forbids(token: string, target: string, file: string): boolean {
  if (token === 'node:*') return target.startsWith('node:');
  if (token === 'src/*') return target.startsWith('src/') && dirname(target) !== dirname(file);
  if (token.startsWith('src/') && token.endsWith('/')) return target.startsWith(token);
  if (token.startsWith('src/')) return target === token;
  if (token.endsWith('/*')) return target.startsWith(token.slice(0, -1));
  return target === token || target.startsWith(`${token}/`);
}

/** A header's rule: which files it speaks for, where it is written, and its tokens. */
export interface ImportRule {
  /** `src/x/y.ts` of the header that states it. */
  readonly header: string;
  readonly tokens: readonly string[];
  /** Whether it speaks for its whole folder (the folder's header file) or for its own file only. */
  readonly folder: boolean;
}

/** A broken rule, with the message that says what to fix. */
export interface Violation {
  readonly file: string;
  readonly message: string;
}

/**
 * Every import that breaks a rule. `folderHeaders` maps a folder (`src/x/`) to its header file (`src/x/h.ts`), as
 * docs/architecture.md names them.
 */
export function importViolations(root: string, folderHeaders: ReadonlyMap<string, string>): Violation[] {
  const files = sourceFiles(root);
  const rules = new Map<string, ImportRule[]>();
  const add = (file: string, rule: ImportRule) => rules.set(file, [...(rules.get(file) ?? []), rule]);
  for (const header of files) {
    const tokens = mustNotImport(leadingComment(readFileSync(join(root, header), 'utf8')));
    if (tokens === undefined) continue;
    const folder = `${dirname(header)}/`;
    if (folderHeaders.get(folder) === header) {
      for (const file of files)
        if (`${dirname(file)}/` === folder) add(file, { header, tokens, folder: true });
    } else {
      add(header, { header, tokens, folder: false });
    }
  }
  const violations: Violation[] = [];
  for (const file of files) {
    for (const { specifier, target } of codeImports(root, file)) {
      for (const rule of rules.get(file) ?? []) {
        const token = rule.tokens.find((t) => forbids(t, target, file));
        if (token === undefined) continue;
        const whose = rule.folder ? `the header of ${dirname(file)}/ (${rule.header})` : 'its own header';
        violations.push({
          file,
          message:
            `${file} imports '${specifier}' (${target}), which ${whose} forbids with \`${token}\` in its ` +
            '"Must not import:" sentence. Move that code to the room that owns it (or reach it through that ' +
            "room's port), or import only its types (`import type`); if the rule itself is wrong, change the " +
            `sentence in ${rule.header}${rule.folder ? ` and the row of ${dirname(file)}/ in docs/architecture.md` : ''}.`,
        });
      }
    }
  }
  return violations;
}
