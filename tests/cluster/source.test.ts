/**
 * src/cluster/source.ts directly, on the worker-thread transport (BroadcastChannel, which also works between
 * channels of one thread, so the test plays the primary): a source says hello, answers each collect request with a
 * snapshot of its own collection for that round, resolves an exposition request only with the answer addressed to
 * it, ignores (and warns once about) a malformed message, and on close sends a final snapshot and stops answering.
 * Its collections: two at once, later requests sharing the next; hung ones abandoned at a later request; a snapshot
 * it cannot encode warned about without holding the next collection back.
 * The process transport is run by tests/cluster/cluster.e2e.test.ts with real node:cluster workers.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
} from '@opentelemetry/sdk-metrics';
import { ClusterSource } from '../../src/cluster/source';
import {
  PROTOCOL_TAG,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  type ExpositionRequest,
  type HelloMessage,
  type SnapshotMessage,
} from '../../src/cluster/protocol';

type FromSource = HelloMessage | SnapshotMessage | ExpositionRequest;

/** The primary's side: what sources post, in order, and a way to wait for the next one of a type. */
class PrimarySide {
  readonly requests = new BroadcastChannel(THREAD_REQUEST_CHANNEL);
  private readonly responses = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
  readonly received: FromSource[] = [];
  private waiters: Array<{ type: string; resolve: (message: FromSource) => void }> = [];

  constructor() {
    this.responses.onmessage = (event: unknown) => {
      const message = (event as { data: FromSource }).data;
      this.received.push(message);
      const waiter = this.waiters.find((w) => w.type === message.type);
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    };
  }

  next<T extends FromSource>(type: T['type']): Promise<T> {
    return new Promise((resolve) => this.waiters.push({ type, resolve: resolve as (m: FromSource) => void }));
  }

  post(message: unknown): void {
    this.requests.postMessage(message);
  }

  close(): void {
    this.requests.close();
    this.responses.close();
  }
}

let primary: PrimarySide;
let provider: MeterProvider;
let reader: PeriodicExportingMetricReader;
let source: ClusterSource | undefined;
const warnings: string[] = [];

beforeEach(() => {
  warnings.length = 0;
  const logger: DiagLogger = {
    error: () => undefined,
    warn: (message: string) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  primary = new PrimarySide();
  reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  provider = new MeterProvider({ readers: [reader] });
});

afterEach(async () => {
  await source?.close();
  source = undefined;
  primary.close();
  await provider.shutdown();
  diag.disable();
});

/** The counter `orders` of a snapshot: its points (series id, value). */
function ordersPoints(snapshot: SnapshotMessage): unknown[] {
  const metric = snapshot.metrics.find((m) => m.name === 'orders');
  return metric ? metric.points : [];
}

it('says hello, then answers each collect round with a snapshot of its own collection', async () => {
  const hello = primary.next<HelloMessage>('hello');
  source = new ClusterSource(() => reader.collect(), 'thread');
  expect(await hello).toMatchObject({ tag: PROTOCOL_TAG, type: 'hello', version: 1, source: source.id });

  const counter = provider.getMeter('source-test').createCounter('orders');
  counter.add(3, { region: 'eu' });
  let snapshot = primary.next<SnapshotMessage>('snapshot');
  primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 7 });
  const first = await snapshot;
  expect(first).toMatchObject({ type: 'snapshot', source: source.id, round: 7 });
  expect(first.final).toBeUndefined();
  expect(ordersPoints(first)).toContain(3);

  counter.add(2, { region: 'eu' });
  snapshot = primary.next<SnapshotMessage>('snapshot');
  primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 8 });
  const second = await snapshot;
  expect(second.round).toBe(8);
  expect(ordersPoints(second)).toContain(5);
});

it('resolves an exposition only with the answer addressed to it, and times out without one', async () => {
  source = new ClusterSource(() => reader.collect(), 'thread');
  const request = primary.next<ExpositionRequest>('exposition-request');
  const answer = source.exposition(5_000, 'openmetrics');
  const { id, ...asked } = await request;
  expect(asked).toMatchObject({ source: source.id, format: 'openmetrics' });
  // An answer to another source, then one to us.
  primary.post({ tag: PROTOCOL_TAG, type: 'exposition', to: 'someone-else', id, text: 'not yours' });
  primary.post({ tag: PROTOCOL_TAG, type: 'exposition', to: source.id, id, text: 'business_x 1\n' });
  await expect(answer).resolves.toBe('business_x 1\n');

  // An error answer rejects with the primary's message.
  const request2 = primary.next<ExpositionRequest>('exposition-request');
  const failing = source.exposition(5_000);
  primary.post({
    tag: PROTOCOL_TAG,
    type: 'exposition',
    to: source.id,
    id: (await request2).id,
    error: 'no data',
  });
  await expect(failing).rejects.toThrow('no data');

  // Nobody answers: a clear timeout.
  await expect(source.exposition(50)).rejects.toThrow(/cluster primary's answer/);
});

it('ignores a malformed message with one warning, and keeps answering', async () => {
  source = new ClusterSource(() => reader.collect(), 'thread');
  primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: -1 });
  primary.post({ tag: PROTOCOL_TAG, type: 'launch-missiles' });
  const snapshot = primary.next<SnapshotMessage>('snapshot');
  primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 1 });
  expect((await snapshot).round).toBe(1);
  // Rate-limited: the two bad messages gave one warning, naming what was wrong.
  const ignored = warnings.filter((w) => w.includes('cluster message ignored by this worker'));
  expect(ignored).toHaveLength(1);
  // Only valid requests were answered.
  expect(
    primary.received.filter((m) => m.type === 'snapshot').map((m) => (m as SnapshotMessage).round),
  ).toEqual([1]);
});

it('runs at most two collections at once: requests that come meanwhile share the next, which answers the latest', async () => {
  const finishes: Array<() => void> = [];
  let onStart: (() => void) | undefined;
  let held = true;
  source = new ClusterSource(() => {
    onStart?.();
    // The final snapshot of close() (afterEach) is not held.
    if (!held) return reader.collect();
    return new Promise((resolve) => finishes.push(() => resolve(reader.collect())));
  }, 'thread');
  const orders = provider.getMeter('source-test').createCounter('orders');
  orders.add(1);
  // A malformed message after the requests is warned about once every request before it was read.
  const fenced = new Promise<void>((resolve) => {
    const logger: DiagLogger = {
      error: () => undefined,
      warn: (message: string) => (warnings.push(message), resolve()),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  for (let round = 1; round <= 6; round++) primary.post({ tag: PROTOCOL_TAG, type: 'collect', round });
  primary.post({ tag: PROTOCOL_TAG, type: 'fence' });
  await fenced;
  // Six requests, as a primary asking again and again of a slow worker sends them: two collections, not six.
  expect(finishes).toHaveLength(2);

  orders.add(10);
  let snapshot = primary.next<SnapshotMessage>('snapshot');
  finishes[0]();
  expect(await snapshot).toMatchObject({ round: 1 });
  // A slot freed: the next collection starts, for requests 3 to 6, after they came (it sees the 10 added).
  expect(finishes).toHaveLength(3);
  snapshot = primary.next<SnapshotMessage>('snapshot');
  finishes[2]();
  const shared = await snapshot;
  expect(shared.round).toBe(6);
  expect(ordersPoints(shared)).toContain(11);
  // The collection of request 2 ends last, with older numbers than the one already sent: not sent, since the
  // primary would refuse its counters as going backwards.
  snapshot = primary.next<SnapshotMessage>('snapshot');
  finishes[1]();
  // Both slots are free again: a new request starts a collection of its own at once.
  await new Promise<void>((resolve) => {
    onStart = resolve;
    primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 7 });
  });
  held = false;
  finishes[3]();
  expect((await snapshot).round).toBe(7);
  expect(
    primary.received.filter((m) => m.type === 'snapshot').map((m) => (m as SnapshotMessage).round),
  ).toEqual([1, 6, 7]);
});

/** A logger that records warnings and calls `onWarn` with each (replacing the one of beforeEach). */
function warnedWith(onWarn: (message: string) => void): void {
  const logger: DiagLogger = {
    error: () => undefined,
    warn: (message: string) => (warnings.push(message), onWarn(message)),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/** Resolves at the next warning that contains `text`. */
function nextWarning(text: string): Promise<void> {
  return new Promise((resolve) => warnedWith((message) => message.includes(text) && resolve()));
}

it('abandons a collection hung past twice its deadline when a later request comes, so the queued one starts', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  try {
    let started = 0;
    source = new ClusterSource(
      () => {
        started++;
        // The first two never end; the one queued behind them (and close()'s) do.
        return started <= 2 ? new Promise(() => undefined) : reader.collect();
      },
      'thread',
      undefined,
      undefined,
      undefined,
      100,
    );
    // Rounds 1 and 2 take both slots, round 3 waits for one; a malformed message after them is warned about once
    // all three were read.
    let fenced = nextWarning('cluster message ignored');
    for (let round = 1; round <= 3; round++) primary.post({ tag: PROTOCOL_TAG, type: 'collect', round });
    primary.post({ tag: PROTOCOL_TAG, type: 'fence' });
    await fenced;
    expect(started).toBe(2);
    // Long past twice the deadline (and past the once-a-minute limit of the fence's warning), another request:
    // it shares the queued collection, and it is what finds the hung ones.
    jest.advanceTimersByTime(61_000);
    const snapshot = primary.next<SnapshotMessage>('snapshot');
    fenced = nextWarning('cluster message ignored');
    primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 4 });
    primary.post({ tag: PROTOCOL_TAG, type: 'fence' });
    await fenced;
    expect(started).toBe(3);
    expect((await snapshot).round).toBe(4);
    expect(
      warnings.filter((w) => w.includes('cluster worker: a metrics collection still running')),
    ).toHaveLength(1);
  } finally {
    jest.useRealTimers();
  }
});

it('warns about a snapshot it cannot encode, and still starts the queued collection at once', async () => {
  const finishes: Array<(result: CollectionResult) => void> = [];
  let started = 0;
  source = new ClusterSource(() => {
    started++;
    // The first two end when the test says; the queued one (and close()'s) at once.
    if (finishes.length >= 2) return reader.collect();
    return new Promise((resolve) => finishes.push(resolve));
  }, 'thread');
  const fenced = nextWarning('cluster message ignored');
  for (let round = 1; round <= 3; round++) primary.post({ tag: PROTOCOL_TAG, type: 'collect', round });
  primary.post({ tag: PROTOCOL_TAG, type: 'fence' });
  await fenced;
  expect(finishes).toHaveLength(2);
  const snapshot = primary.next<SnapshotMessage>('snapshot');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    // A result the encoder cannot read.
    finishes[0]({ resourceMetrics: undefined } as unknown as CollectionResult);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // The slot it held went to the queued collection without waiting for another request.
    expect(started).toBe(3);
    const next = await snapshot;
    expect(warnings).toEqual(
      expect.arrayContaining([expect.stringContaining('cluster snapshot not sent (round 1)')]),
    );
    // A new epoch, its keys sent afresh: ids given out before the throw would never have reached the primary.
    expect(next).toMatchObject({ round: 3, epoch: 1, firstKey: 0 });
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

it('sends a final snapshot on close, then answers nothing and refuses expositions', async () => {
  source = new ClusterSource(() => reader.collect(), 'thread');
  provider.getMeter('source-test').createCounter('orders').add(4);
  const final = primary.next<SnapshotMessage>('snapshot');
  await source.close();
  const last = await final;
  expect(last).toMatchObject({ source: source.id, final: true });
  expect(ordersPoints(last)).toContain(4);

  primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 2 });
  // A round trip on the channel: had the source answered, its snapshot would be here before this hello.
  const marker = new ClusterSource(() => reader.collect(), 'thread');
  const hello = primary.next<HelloMessage>('hello');
  expect((await hello).source).toBe(marker.id);
  await marker.close();
  expect(primary.received.filter((m) => m.type === 'snapshot' && m.source === source!.id)).toHaveLength(1);
  await expect(source.exposition(1000)).rejects.toThrow('cluster mode was shut down in this worker');
});

describe('a source no primary collects', () => {
  it('warns once, naming what to do, when no collection request came in time', async () => {
    const warned = new Promise<void>((resolve) => {
      const logger: DiagLogger = {
        error: () => undefined,
        warn: (message: string) => (warnings.push(message), resolve()),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      };
      diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    });
    source = new ClusterSource(() => reader.collect(), 'thread', undefined, undefined, 50);
    await warned;
    expect(warnings).toEqual([
      expect.stringContaining(
        "cluster mode: no primary has collected this worker thread's numbers in the 0 s since it started",
      ),
    ]);
    expect(warnings[0]).toContain('under PM2');
  });

  it('stays quiet once its primary has asked for a snapshot', async () => {
    source = new ClusterSource(() => reader.collect(), 'thread', undefined, undefined, 200);
    const snapshot = primary.next<SnapshotMessage>('snapshot');
    primary.post({ tag: PROTOCOL_TAG, type: 'collect', round: 1 });
    await snapshot;
    // A second source, started after and never asked, warning later (in 1.6 s: "2 s" in its text): by then the
    // first one's warning ("0 s") would have come, had the request not cleared it.
    const late = new Promise<void>((resolve) => {
      const logger: DiagLogger = {
        error: () => undefined,
        warn: (message: string) => {
          warnings.push(message);
          if (message.includes('in the 2 s since')) resolve();
        },
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      };
      diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    });
    const unclaimed = new ClusterSource(() => reader.collect(), 'thread', undefined, undefined, 1600);
    try {
      await late;
      expect(warnings.filter((message) => message.includes('no primary has collected'))).toEqual([
        expect.stringContaining('in the 2 s since'),
      ]);
    } finally {
      await unclaimed.close();
    }
  });
});
