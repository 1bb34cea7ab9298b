/**
 * src/support/timeout.ts: the one deadline on a promise settles as the work does, or rejects with a TimeoutError
 * that names what ran late, and never holds the process open.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TimeoutError, withTimeout } from '../../src/support';

describe('withTimeout', () => {
  it('passes the result or the rejection of work that finishes in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'answer')).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused');
  });

  it('rejects with a TimeoutError naming the work and its deadline', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, 20, 'Redis flush').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ what: 'Redis flush', millis: 20 });
    expect((error as Error).message).toBe('Redis flush did not finish within 20 ms');
  });

  it('keeps no process alive: a pending deadline of an hour does not delay exit', () => {
    // The built file, in a child: if the timer were ref'd, the child would wait an hour and be killed at 30 s.
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const { withTimeout } = require(${JSON.stringify(join(__dirname, '../../dist/support/timeout.js'))});
         withTimeout(new Promise(() => {}), 3_600_000, 'forever').catch(() => {});
         console.log('scheduled');`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect({ stdout: result.stdout.trim(), status: result.status, signal: result.signal }).toEqual({
      stdout: 'scheduled',
      status: 0,
      signal: null,
    });
  });
});
