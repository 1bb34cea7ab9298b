/**
 * Every fenced code block of README.md and docs/*.md is run or checked by a test, or marked as what it is, so a
 * reader can copy any of them (docs/architecture.md, "Code blocks in the docs", has the convention):
 * - run: the block holds (or is held in) an example a test runs between `docs example` markers, or it is an
 *   examples/ program a test runs, or its marker `<!-- block: run by tests/... -->` names the test that reads it
 *   from this doc and runs it;
 * - checked here, by language: TypeScript/JavaScript compiled with tsc against the built package (for blocks that
 *   need a browser); shell commands of this repository (npm scripts, `npx otel-business-metrics` commands and
 *   their options, repository scripts and paths, the build script's `--help`); PromQL parsed by Prometheus 3's
 *   promtool, and an expression shown under its rule's name equal to that rule in the rule files; YAML parsed, and
 *   Prometheus configurations checked by promtool;
 * - marked `<!-- block: output -->`, `excerpt` or `figure` on the line before the fence: shown for reading.
 * A block that is none of these fails, naming the file and line.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { requireGoBinary } from '../support/go-binaries';
import { codeBlocks, examplePrograms, markedExamples, runBy, where, type CodeBlock } from './code-blocks';
import { ROOT } from './docs-files';

const run = promisify(execFile);
const promtool = requireGoBinary('promtool');
const itWithPromtool = promtool ? it : it.skip;

const MARKED_KINDS = ['output', 'excerpt', 'figure'] as const;
const TYPESCRIPT = ['ts', 'tsx', 'js', 'mjs', 'javascript', 'typescript'];

type Verdict =
  | { how: 'run'; by: string }
  | { how: 'marked'; kind: string }
  | { how: 'checked'; as: 'typescript' | 'shell' | 'promql' | 'yaml' };

/** How a block is covered, or why it is not (a string). */
function verdict(
  block: CodeBlock,
  examples: ReturnType<typeof markedExamples>,
  programs: Map<string, string>,
): Verdict | string {
  if (block.marker) {
    const { kind, detail } = block.marker;
    if ((MARKED_KINDS as readonly string[]).includes(kind)) return { how: 'marked', kind };
    if (kind === 'run') {
      const test = /^by (tests\/\S+\.test\.tsx?)$/.exec(detail)?.[1];
      if (!test) return `marker "run ${detail}" must read "run by tests/<file>.test.ts"`;
      if (!existsSync(join(ROOT, test))) return `marker names ${test}, which does not exist`;
      if (!readFileSync(join(ROOT, test), 'utf8').includes(block.file))
        return `marker names ${test}, which never mentions ${block.file}`;
      return { how: 'run', by: test };
    }
    return `unknown marker kind "${kind}" (one of ${[...MARKED_KINDS, 'run by'].join(', ')})`;
  }
  const by = runBy(block, examples, programs);
  if (by) return { how: 'run', by };
  if (TYPESCRIPT.includes(block.language)) return { how: 'checked', as: 'typescript' };
  if (block.language === 'sh' || block.language === 'bash') return { how: 'checked', as: 'shell' };
  if (block.language === 'promql') return { how: 'checked', as: 'promql' };
  if (block.language === 'yaml') return { how: 'checked', as: 'yaml' };
  return `a ${block.language || 'plain'} block no test runs or checks: run it in a test, or mark it (<!-- block: output|excerpt|figure -->)`;
}

const blocks = codeBlocks();
const verdicts = new Map<CodeBlock, Verdict | string>();
{
  const examples = markedExamples();
  const programs = examplePrograms();
  for (const block of blocks) verdicts.set(block, verdict(block, examples, programs));
}
const checkedAs = (as: string) =>
  blocks.filter((block) => {
    const v = verdicts.get(block)!;
    return typeof v !== 'string' && v.how === 'checked' && v.as === as;
  });

// ---------------------------------------------------------------------------------------------------- shell

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
};
/** Tools of others the docs show commands of: their options are theirs; the PromQL a curl sends is checked. */
const OTHER_TOOLS = ['curl', 'docker', 'prometheus'];

/** Shell words of one command line: quotes group, `$(...)` stays one word. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The commands of a shell block: continuations joined, comments dropped, split on `&&`, `;` and `|`. */
function commands(body: string): string[][] {
  return body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#(?=(?:[^']*'[^']*')*[^']*$).*$/, ''))
    .flatMap((line) => line.split(/(?:&&|;|\|)(?=(?:[^']*'[^']*')*[^']*$)/))
    .map((line) =>
      words(line.trim()).filter((word, i, all) => !all.slice(0, i + 1).every((w) => /^[A-Z_]+=/.test(w))),
    )
    .filter((command) => command.length > 0);
}

const helpOf = new Map<string, string>();
function help(args: string[]): string {
  const key = args.join(' ');
  if (!helpOf.has(key))
    helpOf.set(key, execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }));
  return helpOf.get(key)!;
}

/** What is wrong with one command ('' when it is right): `cwd` follows `cd`. */
function checkCommand(command: string[], cwd: { dir: string }, promql: string[]): string {
  const [name, ...args] = command;
  const flags = (list: string[]) =>
    list.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0]);
  switch (name) {
    case 'cd':
      cwd.dir = join(cwd.dir, args[0]);
      return existsSync(cwd.dir) ? '' : `no directory ${args[0]}`;
    case 'npm': {
      if (args[0] === 'install' || args[0] === 'ci') {
        const unknown = args.slice(1).filter((p) => p !== PACKAGE.name && !(p in PACKAGE.peerDependencies));
        return unknown.length ? `npm install of ${unknown.join(', ')}: neither this package nor a peer` : '';
      }
      const script = args[0] === 'run' ? args[1] : args[0];
      if (!(script in PACKAGE.scripts)) return `no npm script "${script}"`;
      const passed = args.slice(args.indexOf('--') + 1);
      if (!args.includes('--')) return '';
      if (script === 'test:only') {
        const missing = passed.filter((arg) => !arg.startsWith('-') && !existsSync(join(ROOT, arg)));
        return missing.length ? `npm run test:only of missing paths ${missing.join(', ')}` : '';
      }
      if (script.startsWith('bench')) {
        const documented = readFileSync(join(ROOT, 'bench/run.mjs'), 'utf8');
        const unknown = flags(passed).filter((flag) => !documented.includes(flag));
        if (unknown.length) return `bench options not in bench/run.mjs's header: ${unknown.join(', ')}`;
        // --only=a,b names rows: each must be a row id of bench/run.mjs.
        const rows = passed
          .filter((arg) => arg.startsWith('--only='))
          .flatMap((arg) => arg.slice('--only='.length).split(','));
        const missing = rows.filter((row) => !documented.includes(`id: '${row}'`));
        return missing.length ? `bench has no rows ${missing.join(', ')} (ids in bench/run.mjs)` : '';
      }
      return `arguments to npm run ${script} are not checked: add a rule here`;
    }
    case 'npx': {
      if (args[0] !== PACKAGE.name) return `npx of ${args[0]}, not this package`;
      const cli = PACKAGE.bin[PACKAGE.name];
      const commandHelp = help([cli, args[1], '--help']);
      const unknown = flags(args.slice(2)).filter(
        (flag) => !commandHelp.includes(`${flag} `) && !commandHelp.includes(`${flag},`),
      );
      return unknown.length ? `${args[1]} has no options ${unknown.join(', ')} (its --help)` : '';
    }
    case 'node': {
      const script = args.find((arg) => !arg.startsWith('--'));
      if (!script || !existsSync(join(cwd.dir, script)))
        return `node of ${script}, not a file of this repository`;
      const rest = args.slice(args.indexOf(script) + 1);
      if (script === 'otel-collector/build/build-binaries.mjs') {
        const usage = help([script, '--help']);
        const unknown = flags(rest).filter((flag) => !usage.includes(flag));
        return unknown.length ? `build-binaries.mjs has no options ${unknown.join(', ')}` : '';
      }
      const missing = rest.filter((arg) => !arg.startsWith('-') && !existsSync(join(cwd.dir, arg)));
      return missing.length ? `node ${script} of missing paths ${missing.join(', ')}` : '';
    }
    default:
      if (!OTHER_TOOLS.includes(name))
        return `${name} is neither a command of this repository nor a known tool`;
      if (name === 'docker')
        return existsSync(join(cwd.dir, 'docker-compose.yml'))
          ? ''
          : `docker compose without a compose file in ${cwd.dir}`;
      for (const arg of args) if (arg.startsWith('query=')) promql.push(arg.slice('query='.length));
      return '';
  }
}

// ---------------------------------------------------------------------------------------------------- PromQL

/** The expressions of a PromQL block: `# comment` lines separate them; the comment right above names a rule. */
function expressions(body: string): Array<{ expr: string; comment: string }> {
  const found: Array<{ expr: string; comment: string }> = [];
  let comment = '';
  let lines: string[] = [];
  const flush = () => {
    if (lines.length) found.push({ expr: lines.join('\n'), comment });
    lines = [];
  };
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) {
      flush();
      comment = line.slice(1).trim();
    } else if (line.trim()) lines.push(line);
    else flush();
  }
  flush();
  return found;
}

/** Every recording rule of otel-collector/prometheus/rules, by name. */
function recordingRules(): Map<string, string> {
  const rules = new Map<string, string>();
  const dir = join(ROOT, 'otel-collector/prometheus/rules');
  for (const file of readdirSync(dir).filter(
    (name) => name.endsWith('.yml') && !name.endsWith('.test.yml'),
  )) {
    const parsed = parseYaml(readFileSync(join(dir, file), 'utf8')) as {
      groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
    };
    for (const group of parsed.groups)
      for (const rule of group.rules) if (rule.record) rules.set(rule.record, rule.expr);
  }
  return rules;
}

const squeeze = (expr: string) => expr.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();

/** promtool check rules on one file of recording rules, one per expression ('' when all parse). */
async function promtoolParses(exprs: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'obm-doc-promql-'));
  try {
    const file = join(dir, 'doc-blocks.yml');
    const rules = exprs.map((expr, i) => ({ record: `doc_block:expression_${i}`, expr }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'doc-blocks', rules }] }));
    await run(promtool!, ['check', 'rules', '--lint=none', file], { encoding: 'utf8' });
    return '';
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------- TypeScript

/**
 * A block without import lines continues the page's setup: it gets the main entry's names it uses, imported as
 * the page's first block does (`import { initBusinessMetrics } from 'otel-business-metrics'`).
 */
function withImports(body: string): string {
  if (/^import /m.test(body)) return body;
  const names = Object.keys(require(join(ROOT, 'dist/index.js')) as object);
  const used = names.filter((name) => new RegExp(`\\b${name}\\b`).test(body));
  return used.length ? `import { ${used.join(', ')} } from '${PACKAGE.name}';\n${body}` : body;
}

// ---------------------------------------------------------------------------------------------------- tests

describe('code blocks of README.md and docs/', () => {
  it('are all run, checked or marked', () => {
    const uncovered = blocks.flatMap((block) => {
      const v = verdicts.get(block)!;
      return typeof v === 'string' ? [`${where(block)}: ${v}`] : [];
    });
    expect(uncovered).toEqual([]);
    // The parser finds the blocks (a broken one would find none and pass the line above).
    expect(blocks.length).toBeGreaterThanOrEqual(70);
  });

  it('use every kind of coverage, and the markers sit where the convention says', () => {
    const counts: Record<string, number> = {};
    for (const v of verdicts.values())
      if (typeof v !== 'string') {
        const key = v.how === 'checked' ? `checked ${v.as}` : v.how === 'marked' ? `marked ${v.kind}` : 'run';
        counts[key] = (counts[key] ?? 0) + 1;
      }
    expect(Object.keys(counts).sort()).toEqual(
      [
        'checked promql',
        'checked shell',
        'checked typescript',
        'checked yaml',
        'marked excerpt',
        'marked figure',
        'marked output',
        'run',
      ].sort(),
    );
    // A marker not followed by a fence would mark nothing: every marker line is right above a block.
    const markerLines = blocks.filter((block) => block.marker).length;
    const written = blocks
      .map((block) => block.file)
      .filter((file, i, all) => all.indexOf(file) === i)
      .reduce(
        (n, file) => n + (readFileSync(join(ROOT, file), 'utf8').match(/^<!-- block: /gm) ?? []).length,
        0,
      );
    expect(written).toBe(markerLines);
  });

  it('show only commands of this repository that exist, with options they accept', () => {
    const problems: string[] = [];
    const promql: string[] = [];
    for (const block of checkedAs('shell')) {
      const cwd = { dir: ROOT };
      for (const command of commands(block.body)) {
        const problem = checkCommand(command, cwd, promql);
        if (problem) problems.push(`${where(block)}: ${command.join(' ')}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("run the build script's --help and --paths as shown, building nothing", () => {
    const usage = help(['otel-collector/build/build-binaries.mjs', '--help']);
    expect(usage).toMatch(/^Usage: node otel-collector\/build\/build-binaries\.mjs/);
    const paths = JSON.parse(help(['otel-collector/build/build-binaries.mjs', '--paths'])) as Record<
      string,
      unknown
    >;
    expect(Object.keys(paths).sort()).toEqual(['cacheRoot', 'otelcol', 'prometheus', 'promtool', 'thanos']);
  });

  it('show each rule under its name as the rule files record it', () => {
    const rules = recordingRules();
    const shown = checkedAs('promql').flatMap((block) =>
      expressions(block.body).flatMap(({ expr, comment }) => {
        const rule = /^([a-z_]+:[a-z0-9_:]+)(?: \(.*\))?$/.exec(comment)?.[1];
        return rule ? [{ block: where(block), rule, expr: squeeze(expr) }] : [];
      }),
    );
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const { block, rule, expr } of shown)
      expect({ block, rule, expr }).toEqual({
        block,
        rule,
        expr: squeeze(rules.get(rule) ?? '(no such rule)'),
      });
  });

  itWithPromtool('hold PromQL that Prometheus 3 parses (promtool check rules)', async () => {
    const exprs = checkedAs('promql').flatMap((block) => expressions(block.body).map(({ expr }) => expr));
    const promql: string[] = [];
    for (const block of checkedAs('shell'))
      for (const command of commands(block.body)) checkCommand(command, { dir: ROOT }, promql);
    expect(promql.length).toBeGreaterThanOrEqual(2);
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    expect(await promtoolParses([...exprs, ...promql])).toBe('');
    // The check can fail: a broken expression is refused.
    expect(await promtoolParses(['sum by (currency (rate(x[5m]))'])).toContain('parse error');
  });

  itWithPromtool('hold YAML that parses, and Prometheus configurations promtool accepts', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'obm-doc-yaml-'));
    try {
      const checked: string[] = [];
      for (const block of checkedAs('yaml')) {
        const parsed = parseYaml(block.body) as Record<string, unknown>;
        // A Prometheus configuration, on its own or as the Collector's prometheus receiver's `config`.
        const receiver = (parsed.receivers as { prometheus?: { config?: unknown } } | undefined)?.prometheus;
        const config = parsed.scrape_configs ? parsed : receiver?.config;
        expect({ block: where(block), prometheusConfig: config !== undefined }).toEqual({
          block: where(block),
          prometheusConfig: true,
        });
        const file = join(scratch, `${checked.length}.yml`);
        writeFileSync(file, JSON.stringify(config));
        const result = await run(promtool!, ['check', 'config', '--syntax-only', file], {
          encoding: 'utf8',
        }).then(
          () => '',
          (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
        );
        expect({ block: where(block), result }).toEqual({ block: where(block), result: '' });
        checked.push(where(block));
      }
      expect(checked.length).toBeGreaterThanOrEqual(2);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('hold TypeScript that compiles against the built package (strict, the blocks no test runs)', async () => {
    if (!existsSync(join(ROOT, 'dist/index.d.ts')))
      throw new Error('dist/ is missing: run `npm run build` first');
    const sources = checkedAs('typescript');
    expect(sources.length).toBeGreaterThanOrEqual(1);
    // A consumer app: the package installed by name (a link to this repository, whose package.json exports point
    // into dist/), beside this repository's installed packages.
    const app = mkdtempSync(join(tmpdir(), 'obm-doc-ts-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      for (const name of readdirSync(join(ROOT, 'node_modules')))
        if (!name.startsWith('.'))
          symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), 'dir');
      symlinkSync(ROOT, join(app, 'node_modules', PACKAGE.name), 'dir');
      writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
      const files = sources.map((block, i) => {
        const name = `block-${i}.${block.language === 'tsx' ? 'tsx' : 'ts'}`;
        writeFileSync(join(app, name), `// ${where(block)}\n${withImports(block.body)}\nexport {};\n`);
        return name;
      });
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2022', 'dom'],
            jsx: 'react-jsx',
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files,
        }),
      );
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      const output = await run(process.execPath, [tsc, '-p', app], { encoding: 'utf8' }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      // Name the doc block in each error instead of the scratch file.
      const named = output.replace(/block-(\d+)\.tsx?/g, (_, i: string) => where(sources[Number(i)]));
      expect(named).toBe('');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 120_000);
});
