/**
 * The browser client and the React hook stay small and free of the server side, as a user's bundler takes them
 * from the package: esbuild bundles the built entry points (dist/, what npm ships) for the browser, minified. Their
 * inputs are the browser files alone (no SDK, no Node module, no integration or metrics code, whatever the web
 * framework entry points add), and the bytes stay within a budget, so growth is a decision, not an accident.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

const ROOT = join(__dirname, '..', '..');
// Measured 2026-12-03: 3,932 bytes minified, 1,602 gzipped (the ESM entry wraps the CommonJS build, which costs a
// bundler's CommonJS shims); the budgets leave room for a small change, not for a dependency.
// 2026-12-04: 4,755 and 1,973 once the client checks names and session context against the router's patterns
// and says once, in the console, what it dropped or replaced (+200 and +100 on the budgets); 5,253 and 2,241 once
// the fetch fallback reads the answer and puts failed events back until Retry-After (+500 and +300); 5,361 and
// 2,285 once a full batch's flush waits for the end of the task and packs 50 events per request (+100); 5,549 and
// 2,354 once every public method and listener catches what it throws and non-DOM windows are told apart (+200, +100).
// 2026-12-04: 5,596 and 2,397 once the fetch fallback counts the events of an accepted batch the endpoint refused
// (paid for inside the budget: the protocol limits read once, `globalThis.navigator`, no rounding of Date.now()).
const BROWSER_BUDGET = { minified: 5_600, gzipped: 2_400 };

function bundle(entry: string, external: string[] = []) {
  if (!existsSync(join(ROOT, 'dist', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const result = buildSync({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    inputs: Object.keys(result.metafile.inputs).map((file) => relative(ROOT, join(process.cwd(), file))),
    minified: code.length,
    gzipped: gzipSync(code).length,
  };
}

describe('the browser entry points, as a bundler takes them from the package', () => {
  it('otel-business-metrics/browser bundles from its own files only, within its byte budget', () => {
    const { inputs, minified, gzipped } = bundle('dist/browser/index.mjs');
    expect(inputs.filter((file) => !file.startsWith('dist/browser/'))).toEqual([]);
    expect(inputs).toContain('dist/browser/client.js');
    expect(minified).toBeLessThanOrEqual(BROWSER_BUDGET.minified);
    expect(gzipped).toBeLessThanOrEqual(BROWSER_BUDGET.gzipped);
  });

  it('otel-business-metrics/react adds only the hook to the browser client (React stays external)', () => {
    const { inputs } = bundle('dist/react/index.mjs', ['react']);
    expect(inputs.filter((file) => !/^dist\/(react|browser)\//.test(file))).toEqual([]);
    expect(inputs).toEqual(expect.arrayContaining(['dist/react/index.js', 'dist/browser/client.js']));
  });
});
