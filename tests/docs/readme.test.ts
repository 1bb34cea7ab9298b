/**
 * README.md and docs/*.md are the manual: every example a test runs appears in one of them verbatim, their
 * generated tables match the catalog and limits, and the README's quick start is the example file, run here for
 * real. `UPDATE_README=1` rewrites the generated tables wherever they live.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition } from '../support/exposition';
import { freePort } from '../support/prometheus-server';
import { markedExamples } from './code-blocks';
import { docFiles, readDoc, ROOT } from './docs-files';
import { GENERATED_TABLES } from './readme-tables';

const README = join(ROOT, 'README.md');

function section(text: string, name: string): { start: number; end: number } | undefined {
  const open = `<!-- generated:${name} -->\n`;
  const close = `\n<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) return undefined;
  return { start: start + open.length, end };
}

/** The one doc file holding the generated:<name> block. */
function fileWithTable(name: string): string {
  const holders = docFiles().filter((file) => section(readDoc(file), name) !== undefined);
  if (holders.length !== 1)
    throw new Error(
      `expected one doc file with a generated:${name} block, found: ${holders.join(', ') || 'none'}`,
    );
  return holders[0];
}

describe('README and docs/', () => {
  it('contain, verbatim, every example the tests run as README or docs examples', () => {
    const docs = docFiles().map(readDoc);
    const examples = markedExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const { file, code } of examples)
      expect({ file, inDocs: docs.some((doc) => doc.includes(code)) }).toEqual({ file, inDocs: true });
  });

  it.each(Object.keys(GENERATED_TABLES))('have the %s table as the source of truth renders it', (name) => {
    const file = join(ROOT, fileWithTable(name));
    const expected = GENERATED_TABLES[name]();
    if (process.env.UPDATE_README === '1') {
      const text = readFileSync(file, 'utf8');
      const { start, end } = section(text, name)!;
      writeFileSync(file, text.slice(0, start) + expected + text.slice(end));
    }
    const text = readFileSync(file, 'utf8');
    const { start, end } = section(text, name)!;
    expect(text.slice(start, end)).toBe(expected);
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
