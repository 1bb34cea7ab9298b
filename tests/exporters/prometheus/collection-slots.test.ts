/**
 * src/exporters/prometheus/collection-slots.ts directly (the pull server's scrapes and a cluster worker's answers
 * collect through it; tests/exporters/prometheus/pull-server.test.ts and tests/cluster/source.test.ts run it
 * there): two collections run at once, whoever joins meanwhile shares the next one (told it is queued), given the
 * time of its waiter with the most left; a waiter that left is never called, and a queued collection nobody waits
 * for never starts; a collection hung past twice its deadline gives its slot back (at a join, or a reclaim() of a
 * caller sharing the queued collection), said once naming its owner, and its late result goes to nobody; a waiter
 * that throws is warned about and delays no one.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { CollectionSlots, type SlotWaiter } from '../../../src/exporters/prometheus/collection-slots';

const owner = { where: 'test endpoint', whileHung: 'callers wait' };

/** Collections that end when the test says, with the budget each was started with. */
function controlled() {
  const runs: Array<{ budget: number; finish: (value: number) => void }> = [];
  const slots = new CollectionSlots<number>(
    (budget) => new Promise((resolve) => runs.push({ budget, finish: resolve })),
    owner,
  );
  return { slots, runs };
}

/** A waiter that records what it got. */
function waiter(deadlineAt = Date.now() + 1000) {
  const got: unknown[] = [];
  const w: SlotWaiter<number> = {
    deadlineAt,
    resolve: (value) => got.push(value),
    reject: (error) => got.push(error),
  };
  return { w, got };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

it('runs two collections at once; who joins meanwhile shares the next, which starts when a slot frees', async () => {
  const { slots, runs } = controlled();
  const [a, b, c, d] = [waiter(), waiter(), waiter(Date.now() + 300), waiter(Date.now() + 5000)];
  expect(slots.join(1000, a.w).queued).toBe(false);
  expect(slots.join(1000, b.w).queued).toBe(false);
  expect(slots.join(300, c.w).queued).toBe(true);
  expect(slots.join(5000, d.w).queued).toBe(true);
  expect(runs).toHaveLength(2);
  runs[0].finish(1);
  await settle();
  expect(a.got).toEqual([1]);
  // The shared collection gets the time of its waiter with the most left, not of one about to give up.
  expect(runs).toHaveLength(3);
  expect(runs[2].budget).toBeGreaterThan(4000);
  expect(runs[2].budget).toBeLessThanOrEqual(5000);
  runs[2].finish(3);
  runs[1].finish(2);
  await settle();
  expect([b.got, c.got, d.got]).toEqual([[2], [3], [3]]);
});

it('never calls a waiter that left, and never starts a queued collection nobody waits for', async () => {
  const { slots, runs } = controlled();
  const [a, b, c] = [waiter(), waiter(), waiter()];
  slots.join(1000, a.w);
  const { leave } = slots.join(1000, b.w);
  const queued = slots.join(1000, c.w);
  leave();
  queued.leave();
  runs[1].finish(2);
  runs[0].finish(1);
  await settle();
  expect([a.got, b.got, c.got]).toEqual([[1], [], []]);
  expect(runs).toHaveLength(2);
});

it('gives back the slot of a collection hung past twice its deadline, says so naming its owner, and drops its late result', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  const warnings: string[] = [];
  diag.setLogger(
    {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  try {
    const { slots, runs } = controlled();
    const [a, b, c] = [waiter(), waiter(), waiter()];
    slots.join(100, a.w);
    slots.join(100, b.w);
    jest.advanceTimersByTime(199);
    expect(slots.join(100, c.w).queued).toBe(true);
    expect(runs).toHaveLength(2);
    jest.advanceTimersByTime(1);
    // Past twice its deadline: the first one's slot goes to the queued collection (the second's only past four
    // times, one abandoned collection being still pending).
    const d = waiter();
    expect(slots.join(100, d.w).queued).toBe(true);
    expect(runs).toHaveLength(3);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^otel-business-metrics: test endpoint: a metrics collection still running after 200 ms/,
      ),
    ]);
    runs[0].finish(-1);
    runs[2].finish(3);
    await settle();
    expect([a.got, c.got]).toEqual([[], [3]]);
  } finally {
    jest.useRealTimers();
    diag.disable();
  }
});

it('reclaim() abandons hung collections for a caller who shares the queued one without joining again, so it starts', () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  diag.setLogger(
    {
      error: () => undefined,
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  try {
    const { slots, runs } = controlled();
    slots.join(100, waiter().w);
    slots.join(100, waiter().w);
    expect(slots.join(100, waiter().w).queued).toBe(true);
    // Before either hung collection is past twice its deadline: nothing to give back.
    jest.advanceTimersByTime(199);
    slots.reclaim();
    expect(runs).toHaveLength(2);
    jest.advanceTimersByTime(1);
    slots.reclaim();
    expect(runs).toHaveLength(3);
  } finally {
    jest.useRealTimers();
    diag.disable();
  }
});

it('a waiter that throws is warned about, and keeps neither the other waiters nor the queued collection waiting', async () => {
  const warnings: string[] = [];
  diag.setLogger(
    {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { slots, runs } = controlled();
    const throwing: SlotWaiter<number> = {
      deadlineAt: Date.now() + 1000,
      resolve: () => {
        throw new Error('cannot encode');
      },
      reject: () => undefined,
    };
    const [other, queued] = [waiter(), waiter()];
    slots.join(1000, waiter().w);
    slots.join(1000, waiter().w);
    // The two share the next collection; once it runs, another caller queues behind it.
    slots.join(1000, throwing);
    slots.join(1000, other.w);
    runs[0].finish(1);
    await settle();
    expect(slots.join(1000, queued.w).queued).toBe(true);
    runs[2].finish(3);
    await settle();
    expect(other.got).toEqual([3]);
    expect(runs).toHaveLength(4);
    expect(warnings).toEqual([
      "otel-business-metrics: test endpoint: handling a metrics collection's result failed: Error: cannot encode",
    ]);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    diag.disable();
  }
});
