/**
 * The web framework sections of docs/integrations.md (Express, then Fastify, NestJS, Hono and Next.js) show only
 * code a test runs as written: each block is a marked example of a test or an examples/ program that
 * tests/integrations runs. tests/docs/code-blocks.test.ts lets a TypeScript block pass by compiling; framework
 * code must also run, since what it promises (routes, answers, the series it records) only shows on a server.
 */
import { readDoc } from '../docs/docs-files';
import { codeBlocks, examplePrograms, markedExamples, runBy, where } from '../docs/code-blocks';

const DOC = 'docs/integrations.md';
const FIRST = '## Express integration';
const AFTER = '## Browser client';

/** Line numbers of the framework sections: from the Express heading to the browser client's. */
function frameworkLines(): { from: number; to: number } {
  const lines = readDoc(DOC).split('\n');
  const from = lines.findIndex((line) => line.startsWith(FIRST)) + 1;
  const to = lines.findIndex((line) => line.startsWith(AFTER)) + 1;
  if (from === 0 || to === 0 || to < from) throw new Error(`${DOC}: headings "${FIRST}" / "${AFTER}" moved`);
  return { from, to };
}

describe('the framework sections of docs/integrations.md', () => {
  const { from, to } = frameworkLines();
  const blocks = codeBlocks().filter((block) => block.file === DOC && block.line > from && block.line < to);
  const examples = markedExamples();
  const programs = examplePrograms();

  it('show a block for each framework', () => {
    const shown = (pattern: RegExp) => blocks.some((block) => pattern.test(block.body));
    expect({
      express: shown(/from 'otel-business-metrics\/express'/),
      fastify: shown(/from 'otel-business-metrics\/fastify'/),
      nestjs: shown(/from 'otel-business-metrics\/nestjs'/),
      hono: shown(/from 'hono'/),
      next: shown(/export async function register\(\)/),
    }).toEqual({ express: true, fastify: true, nestjs: true, hono: true, next: true });
  });

  it('show only code a test runs as written', () => {
    const unrun = blocks.filter((block) => runBy(block, examples, programs) === undefined).map(where);
    expect(unrun).toEqual([]);
    expect(blocks.length).toBeGreaterThanOrEqual(10);
  });
});
