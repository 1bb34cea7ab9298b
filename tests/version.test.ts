/**
 * src/version.ts directly: the instrumentation scope the package records under is the package's own name and
 * version, kept equal to package.json (a release that bumps one without the other fails here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCOPE_NAME, VERSION } from '../src/version';

const manifest = JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as {
  name: string;
  version: string;
};

it('is the name and version of package.json', () => {
  expect({ SCOPE_NAME, VERSION }).toEqual({ SCOPE_NAME: manifest.name, VERSION: manifest.version });
  expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
});
