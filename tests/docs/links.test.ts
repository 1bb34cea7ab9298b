/**
 * Every relative link in README.md and docs/*.md resolves: the file exists and, for `#anchor`, the target
 * Markdown file has a heading with that GitHub slug. The README's docs map links every docs/*.md file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { docFiles, readDoc, ROOT } from './docs-files';

/** GitHub's heading anchor: lowercase, inline markup and punctuation removed, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Text outside fenced code blocks (links and headings inside them are not links and headings). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative link targets of a Markdown text (external URLs left out). */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The links of `file` (relative to the repository root) that do not resolve, with the reason. */
function brokenLinks(file: string, markdown: string, read: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const link of relativeLinks(markdown)) {
    const [path, anchor] = link.split('#', 2);
    const target = path ? normalize(join(dirname(file), decodeURI(path))) : file;
    const text = read(target);
    if (text === undefined) broken.push(`${link}: ${target} does not exist`);
    else if (anchor !== undefined && target.endsWith('.md') && !anchors(text).has(anchor))
      broken.push(`${link}: ${target} has no heading #${anchor}`);
  }
  return broken;
}

const readRepoFile = (path: string): string | undefined => {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  return path.endsWith('.md') ? readFileSync(full, 'utf8') : '';
};

describe('links in README.md and docs/', () => {
  it('finds broken files and anchors (checked on a sample)', () => {
    const sample = [
      '# Top `x` (y)',
      '[ok](#top-x-y) [ok](../README.md#install) [bad](missing.md) [bad](../README.md#nope)',
      '```md',
      '[inside a code block](ignored.md)',
      '```',
      '[web](https://example.com/x.md)',
    ].join('\n');
    const read = (path: string) =>
      path === 'docs/sample.md' ? sample : path === 'README.md' ? '## Install\n' : undefined;
    expect(brokenLinks('docs/sample.md', sample, read)).toEqual([
      'missing.md: docs/missing.md does not exist',
      '../README.md#nope: README.md has no heading #nope',
    ]);
  });

  it.each(docFiles())('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file, readDoc(file), readRepoFile)).toEqual([]);
  });

  it('the README links every docs/*.md file', () => {
    const linked = new Set(relativeLinks(readDoc('README.md')).map((link) => link.split('#')[0]));
    const docs = docFiles().filter((file) => file !== 'README.md');
    expect(docs.length).toBeGreaterThanOrEqual(10);
    expect(docs.filter((file) => !linked.has(file))).toEqual([]);
  });
});
