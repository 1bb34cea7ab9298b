/**
 * src/support/optional-peer.ts: an optional package that is not installed is reported as such, with what to
 * install; one that is installed and fails to load (a dependency of its own missing, an exception at load, a bad
 * `main`) is reported as broken, with the cause kept, never as "not installed". Real packages on disk, resolved
 * by Node's own resolver.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOptionalPeer, optionalPeerInstalled, OptionalPeerError } from '../../src/support';

let root: string;

function writePackage(name: string, files: Record<string, string>, main = 'index.js'): void {
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'obm-optional-peer-'));
  writePackage('peer-ok', { 'index.js': 'exports.answer = 42;' });
  writePackage('peer-missing-dependency', { 'index.js': "require('dependency-nobody-installed');" });
  writePackage('peer-throws', { 'index.js': "throw new Error('needs Node 22');" });
  writePackage('peer-bad-main', {}, 'built/index.js');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const peer = (name: string) => ({
  name,
  neededBy: 'activeUsers.redis.url',
  install: `${name}@^1`,
  alternative: 'pass your own client',
  paths: [root],
});

function failure(name: string): OptionalPeerError {
  try {
    loadOptionalPeer(peer(name));
  } catch (error) {
    if (error instanceof OptionalPeerError) return error;
    throw error;
  }
  throw new Error(`${name} loaded`);
}

describe('loadOptionalPeer', () => {
  it('loads an installed package', () => {
    expect(loadOptionalPeer<{ answer: number }>(peer('peer-ok')).answer).toBe(42);
    expect(optionalPeerInstalled(peer('peer-ok'))).toBe(true);
  });

  it('says "not installed" only for a package that is not there, with what to install', () => {
    const error = failure('peer-nobody-installed');
    expect(error.problem).toBe('missing');
    expect(error.packageName).toBe('peer-nobody-installed');
    expect(error.message).toBe(
      'activeUsers.redis.url needs the optional package peer-nobody-installed, which is not installed: ' +
        'npm install peer-nobody-installed@^1; or pass your own client',
    );
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
    expect(optionalPeerInstalled(peer('peer-nobody-installed'))).toBe(false);
  });

  it.each([
    [
      'a dependency of its own is missing',
      'peer-missing-dependency',
      "Cannot find module 'dependency-nobody-installed'",
    ],
    ['it throws while loading', 'peer-throws', 'needs Node 22'],
    // Jest's resolver says "Cannot resolve module 'peer-bad-main'", Node's "Cannot find module '.../built/index.js'".
    ['its main file is missing', 'peer-bad-main', /Cannot (find|resolve) module/],
  ])('says "installed but failed to load" when %s, and keeps the cause', (_, name, cause) => {
    const error = failure(name);
    expect(error.problem).toBe('broken');
    expect(error.message).toContain(
      `needs the optional package ${name}, which is installed but failed to load (`,
    );
    expect(error.message).toMatch(cause);
    expect(error.message).toContain(`reinstall it (npm install ${name}@^1)`);
    expect(error.message).not.toContain('not installed');
    expect(error.message).not.toMatch(/\n/);
    expect(String((error.cause as Error).message)).toMatch(cause);
  });

  it('resolves a peer from this package when no folder is given (the real ioredis devDependency)', () => {
    expect(optionalPeerInstalled({ name: 'ioredis' })).toBe(true);
    expect(typeof loadOptionalPeer<{ default?: unknown }>({ name: 'ioredis', neededBy: 'test' })).toBe(
      'function',
    );
  });
});
