/**
 * otel-collector/build/build-binaries.mjs as a person first runs it: `--help` says what it does and builds
 * nothing (it used to start a full Go build); an unknown argument is refused before any build, with the usage.
 */
import { spawnSync } from 'node:child_process';
import { BUILD_SCRIPT } from '../support/go-binaries';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [BUILD_SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('build-binaries.mjs', () => {
  it.each(['--help', '-h'])('%s prints the usage and builds nothing', (flag) => {
    const result = run(flag);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: node otel-collector\/build\/build-binaries\.mjs /);
    for (const option of ['--paths', '--only NAME', '--help, -h', 'OBM_CACHE_DIR']) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stderr).toBe(''); // no "[build-binaries] $ go ..." line: nothing ran
  });

  it('refuses an unknown argument before building, with the usage (exit 2)', () => {
    const result = run('--bogus');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('FAILED: unknown argument "--bogus"');
    expect(result.stderr).toContain('Usage: node otel-collector/build/build-binaries.mjs');
    expect(result.stderr).not.toContain('$ go');
  });
});
