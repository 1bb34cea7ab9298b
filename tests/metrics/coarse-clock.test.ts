/**
 * The stamp clock: one reading of Date.now() serves at most MAX_STAMP_USES calls and MAX_STAMP_AGE_MILLIS of
 * event-loop time; an injected clock and a faked Date.now are read on every call.
 */
import {
  CoarseClock,
  MAX_STAMP_AGE_MILLIS,
  MAX_STAMP_USES,
  stampClock,
} from '../../src/metrics/coarse-clock';

/** Spin (no await) until the real clock has moved past `millis`. */
function spinPast(millis: number): void {
  while (Date.now() <= millis) {
    // busy: the expiry timer cannot run, as in a blocked event loop
  }
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

describe('CoarseClock', () => {
  afterEach(() => jest.useRealTimers());

  it('reuses one reading for at most MAX_STAMP_USES calls while the event loop is blocked, then reads again', () => {
    const { now } = new CoarseClock();
    const before = Date.now();
    const first = now();
    // A fresh reading: between the clock's neighbours, however long the machine took between them.
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    spinPast(first + 2);
    for (let call = 2; call <= MAX_STAMP_USES; call++) expect(now()).toBe(first);
    const next = now();
    expect(next).toBeGreaterThanOrEqual(first + 3);
    expect(next).toBeLessThanOrEqual(Date.now());
  });

  it('reads again once MAX_STAMP_AGE_MILLIS of event-loop time have passed, however few the calls', async () => {
    const { now } = new CoarseClock();
    const first = now();
    await sleep(MAX_STAMP_AGE_MILLIS + 30);
    const second = now();
    expect(second).toBeGreaterThanOrEqual(first + MAX_STAMP_AGE_MILLIS);
    expect(second).toBeLessThanOrEqual(Date.now());
  });

  it('reads a faked Date.now on every call, also when the fake is installed after a reading was cached', () => {
    const { now } = new CoarseClock();
    const real = now();
    jest.useFakeTimers({ now: new Date('2026-03-01T00:00:00Z') });
    expect(now()).toBe(Date.UTC(2026, 2, 1));
    jest.setSystemTime(new Date('2026-03-01T23:59:59.950Z'));
    expect(now()).toBe(Date.UTC(2026, 2, 1, 23, 59, 59, 950));
    jest.setSystemTime(new Date('2026-03-02T00:00:00.010Z'));
    expect(now()).toBe(Date.UTC(2026, 2, 2, 0, 0, 0, 10));
    // No expiry timer is armed for a faked clock.
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
    expect(now()).toBeGreaterThanOrEqual(real);
  });

  it('stampClock keeps an injected clock as it is, so a test that moves it sees every move', () => {
    let clock = 1_000;
    const injected = () => clock;
    const stamp = stampClock(injected);
    expect(stamp).toBe(injected);
    clock = 2_000;
    expect(stamp()).toBe(2_000);
    expect(typeof stampClock(undefined)()).toBe('number');
  });
});
