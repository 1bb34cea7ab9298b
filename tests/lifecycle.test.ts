/**
 * src/lifecycle.ts: installShutdownHooks. On the first of its signals it shuts the handle down with its deadline,
 * once, and removes its own listeners (and only those); then the process ends exactly as it would have without
 * the hook: by that signal when nothing else listens, by the app's own hand when the app listens too. The
 * listeners and the hand-over to an app listener are checked in this process (signals emitted, none sent); the
 * exits, and that everything recorded was flushed first, on real child processes killed by real signals.
 */
import { initBusinessMetrics, installShutdownHooks, type BusinessMetricsHandle } from '../src';
import { startChild } from './safety/support/child';
import { expectEveryValue, useRecorderChild } from './safety/support/recorder-child';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGUSR2'] as const;
const listenerCounts = () => SIGNALS.map((signal) => process.listenerCount(signal));

describe('installShutdownHooks in this process', () => {
  let handle: BusinessMetricsHandle;
  beforeEach(() => {
    handle = initBusinessMetrics({ exporters: ['none'], env: {} });
  });
  afterEach(() => handle.shutdown());

  it('listens on SIGTERM and SIGINT by default, on the given signals otherwise, and its remover takes exactly those away', () => {
    const [term, int, usr2] = listenerCounts();
    const removeDefault = installShutdownHooks(handle);
    expect(listenerCounts()).toEqual([term + 1, int + 1, usr2]);
    const removeUsr2 = installShutdownHooks(handle, { signals: ['SIGUSR2'] });
    expect(listenerCounts()).toEqual([term + 1, int + 1, usr2 + 1]);
    removeDefault();
    expect(listenerCounts()).toEqual([term, int, usr2 + 1]);
    removeUsr2();
    removeUsr2(); // twice is harmless
    expect(listenerCounts()).toEqual([term, int, usr2]);
  });

  it('on its signal shuts the handle down once with its deadline, removes itself, and leaves the exit to the app listening too', async () => {
    const shutdown = jest.spyOn(handle, 'shutdown');
    let appSaw = 0;
    const appListener = () => void appSaw++;
    // The app's listener is there before and after, so the hook never re-raises the signal in this process.
    process.on('SIGUSR2', appListener);
    try {
      const [term, int, usr2] = listenerCounts();
      installShutdownHooks(handle, { signals: ['SIGUSR2', 'SIGTERM'], timeoutMillis: 1234 });
      expect(listenerCounts()).toEqual([term + 1, int, usr2 + 1]);
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(shutdown.mock.calls).toEqual([[{ timeoutMillis: 1234 }]]);
      // Every signal's listener is gone at the first signal, not only the one that came.
      expect(listenerCounts()).toEqual([term, int, usr2]);
      await shutdown.mock.results[0].value;
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(shutdown).toHaveBeenCalledTimes(1);
      expect(appSaw).toBe(2);
    } finally {
      await handle.shutdown(); // settled before the app's listener goes, or the hook would re-raise the signal
      process.removeListener('SIGUSR2', appListener);
    }
  });

  it('leaves the exit to an app listening with process.once, added before the hook or after it', async () => {
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
    const shutdown = jest.spyOn(handle, 'shutdown');
    let appSaw = 0;
    try {
      process.once('SIGUSR2', () => void appSaw++);
      installShutdownHooks(handle, { signals: ['SIGUSR2'] });
      process.once('SIGUSR2', () => void appSaw++);
      process.emit('SIGUSR2', 'SIGUSR2');
      await shutdown.mock.results[0]!.value;
      await new Promise((resolve) => setImmediate(resolve));
      expect(appSaw).toBe(2);
      // Both once-listeners are gone by now; the app had listened, so the hook does not re-raise the signal.
      expect(kill).not.toHaveBeenCalled();
      // Without any listener of the app's, it does (mocked here: a real one would end this process).
      const alone = initBusinessMetrics({ exporters: ['none'], env: {} });
      const aloneShutdown = jest.spyOn(alone, 'shutdown');
      installShutdownHooks(alone, { signals: ['SIGUSR2'] });
      process.emit('SIGUSR2', 'SIGUSR2');
      await aloneShutdown.mock.results[0]!.value;
      await new Promise((resolve) => setImmediate(resolve));
      expect(kill.mock.calls).toEqual([[process.pid, 'SIGUSR2']]);
    } finally {
      kill.mockRestore();
    }
  });

  it("removes a handle's hooks when that handle shuts down, and installs none on a handle already shut down", async () => {
    const [term, int, usr2] = listenerCounts();
    const removers = [installShutdownHooks(handle), installShutdownHooks(handle, { signals: ['SIGUSR2'] })];
    try {
      expect(listenerCounts()).toEqual([term + 1, int + 1, usr2 + 1]);
      await handle.shutdown();
      expect(listenerCounts()).toEqual([term, int, usr2]);
      removers.push(installShutdownHooks(handle));
      expect(listenerCounts()).toEqual([term, int, usr2]);
    } finally {
      // Left behind, a hook of this shut-down handle would re-raise a later test's signal and end this process.
      for (const remove of removers) remove();
    }
  });

  it("re-raises the signal once, after the flush, when only the package's own hooks listen", async () => {
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
    try {
      const shutdown = jest.spyOn(handle, 'shutdown');
      installShutdownHooks(handle, { signals: ['SIGUSR2'] });
      installShutdownHooks(handle, { signals: ['SIGUSR2', 'SIGTERM'] });
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(shutdown).toHaveBeenCalledTimes(1);
      expect(kill).not.toHaveBeenCalled();
      await shutdown.mock.results[0]!.value;
      await new Promise((resolve) => setImmediate(resolve));
      expect(kill.mock.calls).toEqual([[process.pid, 'SIGUSR2']]);
    } finally {
      // Mocked until every hook has acted: a real re-raise would end this process.
      await handle.shutdown();
      await new Promise((resolve) => setImmediate(resolve));
      kill.mockRestore();
    }
  });

  it.each<[string, unknown, unknown, string]>([
    [
      'signals as a string (was hooked as S, I, G...)',
      'handle',
      { signals: 'SIGTERM' },
      'installShutdownHooks: signals must be an array of signal names',
    ],
    ['a misspelt signal', 'handle', { signals: ['SIGTERMX'] }, '"SIGTERMX" is not a signal name'],
    ['a timeout as a string', 'handle', { timeoutMillis: '5s' }, 'timeoutMillis must be a whole number'],
    ['a negative timeout', 'handle', { timeoutMillis: -1 }, 'timeoutMillis must be a whole number'],
    ['no handle', undefined, {}, 'the first argument must be the handle initBusinessMetrics() returned'],
  ])('refuses %s at install with a TypeError, hooking nothing', (_, which, options, message) => {
    const before = listenerCounts();
    const install = () =>
      installShutdownHooks((which === 'handle' ? handle : which) as BusinessMetricsHandle, options as never);
    expect(install).toThrow(TypeError);
    expect(install).toThrow(message);
    expect(listenerCounts()).toEqual(before);
    expect(process.listenerCount('S')).toBe(0);
  });

  it('gives the flush 5000 ms unless told otherwise', async () => {
    const shutdown = jest.spyOn(handle, 'shutdown');
    const appListener = () => undefined;
    process.on('SIGUSR2', appListener);
    try {
      installShutdownHooks(handle, { signals: ['SIGUSR2'] });
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(shutdown.mock.calls).toEqual([[{ timeoutMillis: 5000 }]]);
    } finally {
      await handle.shutdown(); // settled before the app's listener goes, or the hook would re-raise the signal
      process.removeListener('SIGUSR2', appListener);
    }
  });
});

describe('installShutdownHooks in a child process sent real signals', () => {
  const setup = useRecorderChild();

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s flushes every value and then the process dies by that signal, as without the hook',
    async (signal) => {
      const child = startChild(setup.recorder, ['sigterm', setup.receiver.url]);
      await child.waitForLine(/^READY$/);
      child.process.kill(signal);
      const result = await child.exited;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: null, signal });
      expectEveryValue(setup.receiver);
    },
  );

  it("after a re-init, the shut-down handle's hooks are gone: the new handle's final flush completes before the process dies by the signal", async () => {
    const child = startChild(setup.recorder, ['sigterm-after-reinit', setup.receiver.url]);
    await child.waitForLine(/^READY$/);
    child.process.kill('SIGTERM');
    const result = await child.exited;
    expect({ code: result.code, signal: result.signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expectEveryValue(setup.receiver, 'safety-child-reinit');
  });

  it('leaves the exit to the app when the app listens for SIGTERM itself (and still flushes)', async () => {
    const child = startChild(setup.recorder, ['sigterm-app-listener', setup.receiver.url]);
    await child.waitForLine(/^READY$/);
    child.process.kill('SIGTERM');
    const result = await child.exited;
    expect(result.stdout).toContain('APP-SIGTERM');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expectEveryValue(setup.receiver);
  });
});
