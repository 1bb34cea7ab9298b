/**
 * tests/support/wait.ts: a wait returns as soon as its event has happened, and fails at its deadline with a message
 * that names what it waited for and what was still missing.
 */
import { waitUntil } from './wait';

describe('waitUntil', () => {
  it('returns once the check holds, having checked until then', async () => {
    let checks = 0;
    await waitUntil('the third check', () => (++checks === 3 ? undefined : `check ${checks}`), {
      intervalMillis: 1,
    });
    expect(checks).toBe(3);
    let ready = false;
    setImmediate(() => (ready = true));
    await waitUntil('a flag', async () => ready, { intervalMillis: 1 });
    expect(ready).toBe(true);
  });

  it('fails at the deadline naming what it waited for and what was missing', async () => {
    await expect(
      waitUntil('the answer', () => 'still 41', { timeoutMillis: 20, intervalMillis: 5 }),
    ).rejects.toThrow('not within 20 ms: the answer (still 41)');
    await expect(
      waitUntil('a flag', () => false, {
        timeoutMillis: 0,
        context: (missing) => `${missing}; log: nothing`,
      }),
    ).rejects.toThrow('not within 0 ms: a flag (not yet; log: nothing)');
  });

  it('does not hide an error of the check', async () => {
    await expect(
      waitUntil('a broken check', () => {
        throw new Error('connection refused');
      }),
    ).rejects.toThrow('connection refused');
  });
});
