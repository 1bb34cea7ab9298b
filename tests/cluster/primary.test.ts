/**
 * src/cluster/primary.ts directly, on the worker-thread transport: the primary in this test's thread, one source in
 * a real worker thread (the built ClusterSource over its own SDK provider, driven by messages from here). The
 * primary watches the thread (watchThread), hears its hello, merges its numbers exactly with its own, shares one
 * round between concurrent collections, keeps the last numbers of a source that stops answering (counted
 * `timeout` at the deadline), answers a collection with a deadline of its own within it (from the round under way, which
 * it never cuts short: the round waits for late sources, and counts them, as it would without it), takes a final snapshot sent during a round as that round's answer, retires a terminated thread instead of waiting for it, refuses invented messages on
 * the thread channel (counted `invalid`; a main-thread source is one of them: threads are numbered from 1),
 * answers the source's exposition requests (passing on a request's own deadline), and hears nothing after close(). node:cluster workers, dead workers
 * and hostile peers: the cluster.e2e, peers.e2e and threads.e2e tests.
 */
import { existsSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import { ClusterPrimary } from '../../src/cluster/primary';
import { ClusterSource } from '../../src/cluster/source';
import { PROTOCOL_TAG, PROTOCOL_VERSION, THREAD_RESPONSE_CHANNEL } from '../../src/cluster/protocol';
import { waitUntil } from '../support/wait';
import { BUILT_SOURCE, SourceThread } from './support/source-thread';

/** The primary's own SDK provider. */
function side() {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  const orders = provider.getMeter('primary-test').createCounter('orders');
  return { reader, provider, orders };
}

/** The value of the \`orders\` counter per region in a collection. */
function orders(result: CollectionResult): Record<string, number> {
  const metric = result.resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === 'orders');
  return Object.fromEntries(
    (metric?.dataPoints ?? []).map((point) => [String(point.attributes.region), point.value as number]),
  );
}

function failures(primary: ClusterPrimary): Record<string, number> {
  const counted: Record<string, number> = {};
  primary.forEachFailure((reason, count) => (counted[reason] = count));
  return counted;
}

let own: ReturnType<typeof side>;
/** While set, the primary's own collection waits for it (one that takes its time: slow observable callbacks). */
let ownHeld: Promise<void> | undefined;
let primary: ClusterPrimary | undefined;
let thread: SourceThread | undefined;

beforeAll(() => {
  if (!existsSync(BUILT_SOURCE)) throw new Error('dist/ is missing: run `npm run build` first');
});
beforeEach(() => {
  diag.disable();
  own = side();
  ownHeld = undefined;
});
afterEach(async () => {
  await thread?.worker.terminate();
  thread = undefined;
  primary?.close();
  primary = undefined;
  await own.provider.shutdown();
});

/** A primary here and a source thread it saw start, once the source's hello has arrived. */
async function startPair(timeoutMillis = 2000, scrapeBudgetMillis?: number): Promise<ClusterPrimary> {
  const started = new ClusterPrimary({
    resource: emptyResource(),
    local: () => (ownHeld ? ownHeld.then(() => own.reader.collect()) : own.reader.collect()),
    processes: false,
    timeoutMillis,
    scrapeBudgetMillis,
  });
  primary = started;
  thread = new SourceThread();
  // What watchWorkerThread does for a thread the primary did not see start: Jest gives each test file its own
  // \`process\` object, which never receives Node's 'worker' event that tells a real app's primary.
  started.watchThread(thread.worker);
  // The hello travels on the channel; a round trip into the thread and one collection let it arrive. Bounded: the
  // expect below fails loudly if the source never registers.
  for (let round = 0; round < 100 && started.sources === 0; round++) {
    await thread.call({});
    await started.collect();
  }
  expect(started.sources).toBe(1);
  return started;
}

it('refuses a non-positive or non-finite timeout', () => {
  for (const timeoutMillis of [0, -1, Number.NaN, Infinity])
    expect(() => new ClusterPrimary({ resource: emptyResource(), timeoutMillis, processes: false })).toThrow(
      /cluster timeoutMillis must be a positive number/,
    );
});

it("merges the source's numbers with its own, exactly, at every collection", async () => {
  const p = await startPair();
  own.orders.add(2, { region: 'eu' });
  await thread!.add(5, 'eu');
  await thread!.add(1, 'us');
  expect(orders(await p.collect())).toEqual({ eu: 7, us: 1 });
  own.orders.add(10, { region: 'us' });
  await thread!.add(3, 'eu');
  expect(orders(await p.collect())).toEqual({ eu: 10, us: 11 });
  expect(failures(p)).toEqual({});
});

it('shares one round between concurrent collections', async () => {
  const p = await startPair();
  const first = p.collect();
  expect(p.collect()).toBe(first);
  await first;
  expect(p.collect()).not.toBe(first);
});

it('keeps the last numbers of a source that stops answering, and counts it as timeout at the deadline', async () => {
  const p = await startPair(1500);
  await thread!.add(7, 'apac');
  expect(orders(await p.collect())).toEqual({ apac: 7 });
  await thread!.call({ hang: true });
  await thread!.add(100, 'apac');
  expect(orders(await p.collect())).toEqual({ apac: 7 });
  expect(failures(p)).toEqual({ timeout: 1 });
  // Still known (it did not exit): the next round waits for it again, and counts again.
  expect(p.sources).toBe(1);
  await p.collect();
  expect(failures(p)).toEqual({ timeout: 2 });
});

it('keeps its own collections that outlive their rounds bounded (a producer that ignores its deadline)', async () => {
  let started = 0;
  const p = new ClusterPrimary({
    resource: emptyResource(),
    processes: false,
    threads: false,
    timeoutMillis: 20,
    local: () => {
      started++;
      return new Promise<CollectionResult>(() => undefined);
    },
  });
  primary = p;
  for (let round = 0; round < 40; round++) await p.collect();
  // Two running and at most eight abandoned ones pending (collection-slots.ts), not one per round.
  expect(started).toBeGreaterThanOrEqual(2);
  expect(started).toBeLessThanOrEqual(10);
  // Each round still ends at its deadline, its own numbers counted late.
  expect(failures(p)).toEqual({ timeout: 40 });
});

it("seeded with its own collection (a worker's relay at its first round), a series a source spells otherwise keeps its own labels", async () => {
  // A node:cluster worker relays its threads from the round after one first speaks: the series it sent its own
  // primary before (`{region: 7}`, keyed there by those exact values) must keep them, or that primary would hold the
  // old slot, frozen, beside the relayed one (counted twice).
  const p = new ClusterPrimary({
    resource: emptyResource(),
    local: () => own.reader.collect(),
    processes: false,
    timeoutMillis: 2000,
  });
  primary = p;
  thread = new SourceThread();
  p.watchThread(thread.worker);
  // Heard by its hello (sent as the thread's source starts), before any round.
  await waitUntil('the thread source to say hello', () => p.sources === 1, { intervalMillis: 10 });
  await thread.add(3, '7');
  own.orders.add(5, { region: 7 });
  p.seedOwn(await own.reader.collect());
  const points = (await p.collect()).resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((m) => m.descriptor.name === 'orders')
    .flatMap((m) => m.dataPoints as DataPoint<number>[]);
  expect(points.map((point) => [point.attributes.region, point.value])).toEqual([[7, 8]]);
});

describe('a collection with a deadline of its own (a worker scrape whose scraper sent one)', () => {
  /** A pair whose source answered once (7) and then hangs, having recorded more (100) the primary never gets. */
  async function withLateSource(timeoutMillis: number, scrapeBudgetMillis?: number): Promise<ClusterPrimary> {
    const p = await startPair(timeoutMillis, scrapeBudgetMillis);
    await thread!.add(7, 'apac');
    expect(orders(await p.collect())).toEqual({ apac: 7 });
    await thread!.call({ hang: true });
    await thread!.add(100, 'apac');
    return p;
  }

  it("alone in its round: answered within it, with the late source's previous numbers; the late source counted only when the round gives up on it", async () => {
    const p = await withLateSource(3000);
    const started = Date.now();
    expect(orders(await p.collectWithin(500))).toEqual({ apac: 7 });
    // Generous (a loaded machine): the round waits its full 3 s.
    expect(Date.now() - started).toBeLessThan(2500);
    // The round goes on waiting for the source: a deadline of one collection is no reason to give up on it (before
    // the fix the round ended at the short deadline and counted it, so a header of 0.002 s counted every worker).
    expect(failures(p)).toEqual({});
    // Sharing the round, to its end: counted once, when the round gave up.
    expect(orders(await p.collect())).toEqual({ apac: 7 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000 - 50);
    expect(failures(p)).toEqual({ timeout: 1 });
  });

  it('a collection that comes once a shorter one was answered gets the round: a slow source is waited for, and not counted', async () => {
    const p = await startPair(20_000);
    await thread!.add(7, 'apac');
    expect(orders(await p.collect())).toEqual({ apac: 7 });
    // The source is slow (its collection waits until told) and so is the primary's own collection (slow observable
    // callbacks): the round is still under way when the second collection comes.
    await thread!.call({ hold: true });
    await thread!.add(100, 'apac');
    let releaseOwn!: () => void;
    ownHeld = new Promise((resolve) => (releaseOwn = resolve));
    const started = Date.now();
    expect(orders(await p.collectWithin(300))).toEqual({ apac: 7 });
    expect(Date.now() - started).toBeLessThan(2000); // generous: the round may wait 20 s
    // A collection without a deadline of its own (a scrape without the header, a push) shares the round...
    const full = p.collect();
    releaseOwn();
    await thread!.call({ hold: false });
    // ...and gets the slow source's new numbers (before the fix, the answer of the round the short deadline ended).
    expect(orders(await full)).toEqual({ apac: 107 });
    // The source answered within cluster.timeoutMillis: not a timeout (before the fix, counted at the short deadline).
    expect(failures(p)).toEqual({});
  });

  it.each([
    ["a scraper of the primary's own endpoint (its reader hands the SDK the shorter budget)", 500],
    ["a push export whose timeout is below the cluster's", 800],
  ])("a reader's collection with a budget under the round's (%s) is one within it", async (_, budget) => {
    const p = await withLateSource(20_000);
    const started = Date.now();
    // What MetricReader.collect passes every producer: `{ timeoutMillis }`, nothing else.
    expect(orders(await p.collect({ timeoutMillis: budget }))).toEqual({ apac: 7 });
    expect(Date.now() - started).toBeLessThan(5000); // generous: the round alone waits 20 s
    // The round still waits for the late source: nothing counted yet.
    expect(failures(p)).toEqual({});
  });

  it("a scrape without a header is no deadline of its own, even when its budget is under the round's", async () => {
    // cluster.timeoutMillis above 4 s with the scrape deadline left to follow it (one second more): a scrape without
    // a header hands the SDK 80% of that, less than the round. Here: a 3 s round, a scrape deadline of 2.5 s.
    const p = await withLateSource(3000, 2000);
    const started = Date.now();
    expect(orders(await p.collect({ timeoutMillis: 2000 }))).toEqual({ apac: 7 });
    // Not before the round's deadline (a lower bound only): the round was not cut short for it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000 - 50);
    // A shorter budget (a scraper's header) still is one.
    const short = Date.now();
    expect(orders(await p.collect({ timeoutMillis: 500 }))).toEqual({ apac: 7 });
    expect(Date.now() - short).toBeLessThan(2500); // generous: the round alone waits 3 s
  });

  it("a reader's collection with a budget at least the round's waits the round, as one without a budget", async () => {
    const p = await withLateSource(1000);
    const started = Date.now();
    expect(orders(await p.collect({ timeoutMillis: 1000 }))).toEqual({ apac: 7 });
    // Not before the round's deadline (a lower bound only).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 - 50);
    expect(failures(p)).toEqual({ timeout: 1 });
  });

  it.each([
    ['started by the collection without one', false],
    ['joined by the collection without one', true],
  ])(
    'a round %s is not cut short: the other collection is answered at its own deadline',
    async (_, shortFirst) => {
      const p = await withLateSource(3000);
      const started = Date.now();
      let short: Promise<CollectionResult>;
      let full: Promise<CollectionResult>;
      if (shortFirst) {
        short = p.collectWithin(300);
        full = p.collect();
      } else {
        full = p.collect();
        short = p.collectWithin(300);
      }
      const fullAnswered = full.then(() => Date.now() - started);
      expect(orders(await short)).toEqual({ apac: 7 });
      expect(Date.now() - started).toBeLessThan(2000); // generous: the round waits 3 s
      // The round still waits for the late source: nothing counted yet.
      expect(failures(p)).toEqual({});
      expect(orders(await full)).toEqual({ apac: 7 });
      // Not before the round's own deadline (a lower bound only).
      expect(await fullAnswered).toBeGreaterThanOrEqual(3000 - 50);
      expect(failures(p)).toEqual({ timeout: 1 });
    },
  );

  it('shares an exposition between requests only when it is due in time for each', async () => {
    // The node:cluster side without forking, as in the retirement test below: requests as node:cluster hands them.
    const p = new ClusterPrimary({ resource: emptyResource(), processes: false, threads: false });
    primary = p;
    const events = p as unknown as { receive(message: unknown, worker: unknown): void };
    const sent: Array<{ id: number; text?: string }> = [];
    const worker = {
      id: 3,
      isConnected: () => true,
      send: (message: { id: number; text?: string }) => sent.push(message) > 0,
    };
    events.receive({ tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 'w3' }, worker);
    const made: Array<{ within?: number; answer: (text: string) => void }> = [];
    p.serveExposition(
      (_, hints) => new Promise((answer) => made.push({ within: hints?.timeoutMillis, answer })),
    );
    const ask = (id: number, timeoutMillis?: number) =>
      events.receive(
        {
          tag: PROTOCOL_TAG,
          type: 'exposition-request',
          source: 'w3',
          id,
          ...(timeoutMillis ? { timeoutMillis } : {}),
        },
        worker,
      );
    ask(1); // without a deadline: one exposition
    ask(2); // shares it
    ask(3, 2000); // with one: not the first's, which may take the whole round
    ask(4, 5000); // due later than the third's: shares it
    ask(5, 500); // due sooner: one of its own
    ask(6, 100); // a third one under way would be one too many: shares the latest
    expect(made.map((exposition) => exposition.within)).toEqual([undefined, 2000, 500]);
    made.forEach((exposition, i) => exposition.answer(`exposition ${i}\n`));
    await waitUntil('every request answered', () => sent.length === 6 || `${sent.length} answered`, {
      intervalMillis: 10,
    });
    expect(sent.map((answer) => [answer.id, answer.text])).toEqual([
      [1, 'exposition 0\n'],
      [2, 'exposition 0\n'],
      [3, 'exposition 1\n'],
      [4, 'exposition 1\n'],
      [5, 'exposition 2\n'],
      [6, 'exposition 2\n'],
    ]);
  });

  it("passes an exposition request's own deadline on to the exposition, and none for a request without one", async () => {
    const p = await startPair();
    const asked: unknown[] = [];
    p.serveExposition(async (format, hints) => {
      asked.push([format, hints]);
      return `exposition in ${format}\n`;
    });
    expect((await thread!.call({ exposition: 'prometheus', within: 400 })).text).toBe(
      'exposition in prometheus\n',
    );
    expect((await thread!.call({ exposition: 'openmetrics' })).text).toBe('exposition in openmetrics\n');
    expect(asked).toEqual([
      ['prometheus', { timeoutMillis: 400 }],
      ['openmetrics', undefined],
    ]);
  });
});

it('takes a final snapshot sent during a round as the answer of that round, so the round does not wait for it', async () => {
  const p = await startPair(20_000);
  await thread!.add(7, 'apac');
  // The source's collection hangs, so it has not answered this round when it shuts down cleanly.
  await thread!.call({ hang: true });
  const round = p.collect();
  await thread!.add(5, 'apac');
  await thread!.call({ hang: false, close: true });
  // Before the fix the round waited for its deadline here and counted the source as a timeout.
  expect(orders(await round)).toEqual({ apac: 12 });
  expect(failures(p)).toEqual({});
  expect(p.sources).toBe(0);
});

it('retires a worker whose final snapshot is refused whole: its gauges leave, nothing waits for it, its exit counts', async () => {
  // The node:cluster side without forking: a worker as the primary sees it, and the two events it reacts to
  // (a message from the worker, the worker's exit), called as node:cluster calls them.
  const p = new ClusterPrimary({ resource: emptyResource(), processes: false, threads: false });
  primary = p;
  const events = p as unknown as {
    receive(message: unknown, worker: unknown): void;
    onClusterExit(worker: unknown): void;
  };
  const worker = { id: 7, isConnected: () => true, send: () => true };
  const source = 'worker-7-source';
  const snapshot = (firstKey: number, keys: string[], gauge: number[], counter: number[], final = false) => ({
    tag: PROTOCOL_TAG,
    type: 'snapshot',
    version: PROTOCOL_VERSION,
    source,
    round: 0,
    epoch: 0,
    firstKey,
    keys,
    scopes: [{ name: 'shop' }],
    metrics: [
      { scope: 0, name: 'inflight', description: '', unit: '', valueType: 1, shape: 'gauge', points: gauge },
      {
        scope: 0,
        name: 'orders',
        description: '',
        unit: '',
        valueType: 1,
        shape: 'counter',
        points: counter,
      },
    ],
    ...(final ? { final: true } : {}),
  });
  events.receive({ tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source }, worker);
  // One key per series: the gauge's (id 0) and the counter's (id 1).
  events.receive(snapshot(0, ['["region","eu"]', '["region","eu"]'], [0, 5], [1, 1000]), worker);
  expect(p.sources).toBe(1);
  // The snapshot that introduced keys 1 and 2 was lost: the final one, starting at key 3, is refused whole.
  events.receive(snapshot(3, ['["region","us"]'], [0, 0], [1, 1500, 3, 9], true), worker);
  events.onClusterExit(worker);

  const metrics = (await p.collect()).resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  // Before the fix the dead worker's gauge stayed at 5 forever and every round asked it for a full snapshot.
  expect(metrics.map((m) => [m.descriptor.name, m.dataPoints.map((d) => d.value)])).toEqual([
    ['orders', [1000]],
  ]);
  expect(p.aggregate.sourcesNeedingFull()).toEqual([]);
  expect(p.aggregate.isRetired(source)).toBe(true);
  expect(p.sources).toBe(0);
  expect(failures(p)).toEqual({ invalid: 1, exited: 1 });
});

it('refuses invented messages on the thread channel, and a main-thread source, counting each as invalid', async () => {
  const p = await startPair();
  const intruder = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
  try {
    intruder.postMessage({ tag: PROTOCOL_TAG, type: 'hello', version: 1, source: 'invented', threadId: 999 });
    intruder.postMessage({ tag: PROTOCOL_TAG, type: 'what' });
    // A source on this (the main) thread: its hello says threadId 0, which no worker thread has.
    const mainThreadSource = new ClusterSource(() => own.reader.collect(), 'thread');
    for (let round = 0; round < 100 && (failures(p).invalid ?? 0) < 3; round++) {
      await thread!.call({});
      await p.collect();
    }
    await mainThreadSource.close();
    expect(failures(p).invalid).toBeGreaterThanOrEqual(3);
    expect(p.sources).toBe(1);
  } finally {
    intruder.close();
  }
});

it("answers a source's exposition request with the primary's exposition, in the format asked", async () => {
  const p = await startPair();
  const asked: string[] = [];
  p.serveExposition(async (format) => {
    asked.push(format);
    return `exposition in ${format}\n`;
  });
  expect((await thread!.call({ exposition: 'openmetrics' })).text).toBe('exposition in openmetrics\n');
  expect((await thread!.call({ exposition: 'prometheus' })).text).toBe('exposition in prometheus\n');
  expect(asked).toEqual(['openmetrics', 'prometheus']);
});

it('counts a terminated source thread as gone, not as a timeout at every collection', async () => {
  const p = await startPair(1500);
  await thread!.add(4, 'eu');
  expect(orders(await p.collect())).toEqual({ eu: 4 });
  const exited = new Promise((resolve) => thread!.worker.once('exit', resolve));
  await thread!.worker.terminate();
  await exited;
  // The primary hears the exit when it hears it: 100 rounds of 20 ms were a 2 s bound a loaded machine can outlast.
  await waitUntil(
    'the primary counts the terminated thread gone',
    () => p.sources === 0 || `${p.sources} sources`,
    {
      intervalMillis: 20,
    },
  );
  const afterExit = orders(await p.collect());
  // A source that exited keeps what it had sent (its sales happened) and is no longer waited for.
  expect(afterExit).toEqual({ eu: 4 });
  expect(failures(p).timeout ?? 0).toBe(0);
});

it('after close, collects only what it already has and hears nothing', async () => {
  const p = await startPair();
  await thread!.add(1, 'latam');
  expect(orders(await p.collect())).toEqual({ latam: 1 });
  p.close();
  await thread!.add(50, 'latam');
  own.orders.add(50, { region: 'latam' });
  expect(orders(await p.collect())).toEqual({ latam: 1 });
  expect((await thread!.call({ exposition: 'prometheus' })).text).toMatch(
    /^error: .*cluster primary's answer/,
  );
});
