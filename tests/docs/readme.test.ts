/**
 * The README is the manual: its generated tables must match the catalog and limits, and its quick start is the
 * example file, run here for real. `UPDATE_README=1` rewrites the generated tables.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { GENERATED_TABLES } from './readme-tables';

const ROOT = join(__dirname, '../..');
const README = join(ROOT, 'README.md');

function section(readme: string, name: string): { start: number; end: number } {
  const open = `<!-- generated:${name} -->\n`;
  const close = `\n<!-- /generated:${name} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md has no generated:${name} block`);
  return { start: start + open.length, end };
}

/** Every block between `// --- README example ... ---` and `// --- end ---` markers in the test files, dedented. */
function markedExamples(): Array<{ file: string; code: string }> {
  const files = readdirSync(join(ROOT, 'tests'), { recursive: true, encoding: 'utf8' }).filter((file) =>
    /\.test\.tsx?$/.test(file),
  );
  const examples: Array<{ file: string; code: string }> = [];
  for (const file of files) {
    const source = readFileSync(join(ROOT, 'tests', file), 'utf8');
    for (const [, body] of source.matchAll(
      /\/\/ --- README example[^\n]*---\n([\s\S]*?)\n\s*\/\/ --- (?:README example )?end ---/g,
    )) {
      const lines = body.split('\n');
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      examples.push({ file, code: lines.map((l) => l.slice(indent)).join('\n') });
    }
  }
  return examples;
}

describe('README', () => {
  it('contains, verbatim, every example the tests run as README examples', () => {
    const readme = readFileSync(README, 'utf8');
    const examples = markedExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const { file, code } of examples)
      expect({ file, inReadme: readme.includes(code) }).toEqual({ file, inReadme: true });
  });

  it.each(Object.keys(GENERATED_TABLES))('has the %s table as the source of truth renders it', (name) => {
    let readme = readFileSync(README, 'utf8');
    const expected = GENERATED_TABLES[name]();
    const { start, end } = section(readme, name);
    if (process.env.UPDATE_README === '1') {
      readme = readme.slice(0, start) + expected + readme.slice(end);
      writeFileSync(README, readme);
    }
    expect(readFileSync(README, 'utf8').slice(start, start + expected.length)).toBe(expected);
    expect(section(readFileSync(README, 'utf8'), name).end - start).toBe(expected.length);
  });

  it('shows both top-level commands', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('quick start is examples/quick-start.mjs, and it runs: scrapeable, then exits on SIGTERM', async () => {
    const readme = readFileSync(README, 'utf8');
    const block = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const example = readFileSync(join(ROOT, 'examples/quick-start.mjs'), 'utf8');
    expect(block![1]).toBe(example);
    if (!existsSync(join(ROOT, 'dist/index.js')))
      throw new Error('dist/ is missing: run `npm run build` first');

    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'examples/quick-start.mjs')], {
      env: { ...process.env, OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Prometheus metrics at (\S+)/.exec(output);
          if (match) resolve(match[1]);
        });
        void exited.then((how) => reject(new Error(`quick start exited early (${String(how)}): ${output}`)));
      });
      expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
      const exposition = parseExposition(await (await fetch(url)).text());
      expect(exposition.value('business_revenue_cents_total', { region: 'eu_west' })).toBe(2599);
      expect(exposition.value('business_active_users', { window: 'daily', user_tier: 'pro' })).toBe(30);
      expect(exposition.find('target_info')[0].labels.service_name).toBe('quick-start');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    // installShutdownHooks flushed, then let SIGTERM end the process as it would have without the hook.
    expect(await exited).toBe('SIGTERM');
  });
});
