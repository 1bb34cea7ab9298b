/**
 * The primary of a cluster: asks every source for a snapshot at each collection, waits at most
 * `timeoutMillis`, and answers with the exact aggregate (see aggregate.ts). A `MetricProducer`, so it plugs
 * into any reader: the package gives it to the primary's Prometheus reader. A node:cluster worker runs one for its
 * own worker threads (threads only, worker.ts): its aggregate is what the worker sends its primary.
 *
 * Owns: collection rounds and their deadline (`timeoutMillis`, whoever shares the round and whatever deadline it has),
 * the two transports on the primary side (node:cluster IPC, and a BroadcastChannel for worker threads), which
 * exposition requests share an exposition, source discovery (`hello`) and exit. Must not touch: recording, HTTP,
 * serialisation.
 *
 * Never blocks the primary's event loop for long: snapshots are applied as they arrive, one message per
 * event-loop turn; the round ends at the deadline whatever the sources do; concurrent scrapes share one round.
 * The primary's own collection has the same deadline (an app's observable callback that never settles is left
 * out by the SDK; anything else that hangs keeps the primary's previous numbers), so a round always ends.
 * A source that misses the deadline keeps its previous numbers in the totals and is counted as `timeout`.
 *
 * A worker's scrape with a deadline of its own (its scraper's, shorter than the worker's usual wait), and a reader's
 * collection whose budget is shorter than `timeoutMillis` (a short scrape of the primary's own endpoint), is answered
 * within it from the round under way, or one it starts, with what the primary holds at its deadline if the round has
 * not ended by then (collectWithin; docs/several-processes.md). Such a deadline never shortens the round: the header
 * comes from whoever can reach a `/metrics`, so it must not make the rounds every other collection shares give up on
 * late sources early, nor count them as `timeout`; only the round's own end (`timeoutMillis`) does.
 *
 * Only known sources are heard (docs/safety.md#peers): every message passes validate.ts first; a node:cluster
 * worker speaks as one source at a time (the one it announced), and on the thread channel, which any code in the
 * process can post to, a source must belong to a live thread this primary saw start (`process.on('worker')`,
 * or `watchWorkerThread`), one source per thread, or answer a request of this primary (threads started before
 * it, or by another thread: the answer echoes a round number that starts at a random value). Everything else is
 * refused and counted as `invalid`, so a flood of invented sources costs a check each and is never waited for.
 */
import type { ScrapeHints } from '../exporters/prometheus/scrape-endpoint';
import type { ExpositionFormat } from '../exporters/prometheus/serializer';
import type { Worker as ClusterWorker } from 'node:cluster';
import { randomInt } from 'node:crypto';
import { BroadcastChannel, type Worker as ThreadWorker } from 'node:worker_threads';
import type { Resource } from '@opentelemetry/resources';
import type { MetricCollectOptions, CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { ClusterAggregate, type ClusterFailureReason, type GaugeRule } from './aggregate';
import { PACKAGE_GAUGE_RULES } from './rules';
import { SnapshotEncoder, type ColumnsLookup } from './encode';
import type { ClusterExtensions } from './extensions';
import { nodeCluster } from './node-cluster';
import {
  PROTOCOL_TAG,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  type CollectRequest,
  type ExpositionRequest,
  type ExpositionResponse,
  type HelloMessage,
} from './protocol';
import { diag, printable, RateLimitedWarnings, safeMessage, TimeoutError, withTimeout } from '../support';
import { CollectionSlots } from '../exporters/prometheus/collection-slots';
import { collectionBudgetMillis } from '../config/defaults';
import { checkPrimaryBound, type CheckedSnapshot } from './validate';

/** Options of {@link ClusterPrimary}. */
export interface ClusterPrimaryOptions {
  /** The resource the aggregate is reported under (the primary's). */
  readonly resource: Resource;
  /** How long a collection waits for each source. Default 1000 ms. */
  readonly timeoutMillis?: number;
  /** Rule per gauge by instrument name; the package's own gauges have theirs already. */
  readonly gauges?: Readonly<Record<string, GaugeRule>>;
  /** The primary's own collection (its own recordings and self-metrics), merged like a source's. */
  readonly local?: (options: MetricCollectOptions) => Promise<CollectionResult>;
  /** The local store's columns behind `local`'s collections, so they are encoded without building MetricData. */
  readonly columnsOf?: ColumnsLookup;
  /** Listen to node:cluster workers. Default true in a cluster primary. */
  readonly processes?: boolean;
  /** Listen to worker threads of this process. Default true. */
  readonly threads?: boolean;
  /** Extra state the snapshots carry (the primary's own, and every source's). */
  readonly extensions?: ClusterExtensions;
  /**
   * The budget the primary's own endpoint hands the SDK for a scrape without a deadline of its own (its share of
   * `scrapeTimeoutMillis`): a reader's budget is a deadline of the collection's own only below this (and below
   * `timeoutMillis`). Default: none, so only the round's `timeoutMillis` decides.
   */
  readonly scrapeBudgetMillis?: number;
}

export const DEFAULT_CLUSTER_TIMEOUT_MS = 1000;
const LOCAL_SOURCE = 'primary';
/** Exposition requests waiting for one exposition at most; more are refused (a worker asks once per request). */
const MAX_WAITING_EXPOSITIONS = 4096;
/**
 * Expositions under way per format for requests with a deadline of their own (a shorter deadline than the shared
 * one's starts another); past this, a request shares the latest one even if it comes too late for it.
 */
const MAX_EXPOSITIONS_WITHIN = 2;

interface Round {
  readonly number: number;
  readonly pending: Set<string>;
  finish: () => void;
}

/** Exposition requests that share one exposition. */
interface SharedExposition {
  /** When the requests that share it need it (epoch ms); Infinity for requests without a deadline of their own. */
  readonly dueAt: number;
  readonly replies: Array<(answer: { text?: string; error?: string }) => void>;
}

export class ClusterPrimary implements MetricProducer {
  readonly aggregate: ClusterAggregate;
  private readonly timeoutMillis: number;
  private readonly scrapeBudgetMillis: number;
  private readonly local: ((options: MetricCollectOptions) => Promise<CollectionResult>) | undefined;
  private readonly localEncoder: SnapshotEncoder;
  private readonly resource: Resource;
  /**
   * Collection rounds are numbered from a random start, the discovery request's number: a source answering one
   * echoes its number, which an invented message cannot know without listening to the requests.
   */
  private readonly firstRound = randomInt(1, 2 ** 31);
  private roundNumber = this.firstRound;
  private current: Round | undefined;
  private inflight: Promise<CollectionResult> | undefined;
  private closed = false;
  private heard = false;
  /**
   * A relay's seed (seedOwn) until the relay first applies anything: one collection kept alive (for good in a worker
   * whose threads never speak), the price of starting exactly from what its primary has.
   */
  private seed: CollectionResult | undefined;
  private seedApplied = false;
  /** The primary's own collections (see runRound). */
  private readonly localSlots: CollectionSlots<CollectionResult>;
  private exposition: ((format: ExpositionFormat, hints?: ScrapeHints) => Promise<string>) | undefined;

  /** Cluster worker id -> its current source id. */
  private readonly processSources = new Map<number, string>();
  /** Thread source id -> its thread id, and back: one source per thread. */
  private readonly threadSources = new Map<string, number>();
  private readonly sourceOfThread = new Map<number, string>();
  /** Threads of this process that started after this primary (or were watched) and have not exited. */
  private readonly liveThreads = new Set<number>();
  private readonly watched = new WeakSet<ThreadWorker>();
  private readonly onThreadStarted = (worker: ThreadWorker): void => this.watchThread(worker);
  private readonly onClusterMessage = (worker: ClusterWorker, message: unknown): void => {
    this.receive(message, worker);
  };
  /**
   * Requests waiting for the exposition being made, per format, apart for those with a deadline of their own:
   * they share it.
   */
  private readonly waitingExpositions = new Map<string, SharedExposition>();
  /** Expositions under way for requests with a deadline of their own, per format. */
  private readonly expositionsWithin = new Map<ExpositionFormat, number>();
  private readonly warnings = new RateLimitedWarnings();
  private readonly onClusterExit = (worker: ClusterWorker): void => {
    const source = this.processSources.get(worker.id);
    if (source === undefined) return;
    this.processSources.delete(worker.id);
    this.gone(source);
  };
  private readonly requests: BroadcastChannel | undefined;
  private readonly responses: BroadcastChannel | undefined;
  private readonly listensToProcesses: boolean;

  constructor(options: ClusterPrimaryOptions) {
    this.resource = options.resource;
    this.timeoutMillis = options.timeoutMillis ?? DEFAULT_CLUSTER_TIMEOUT_MS;
    this.scrapeBudgetMillis = options.scrapeBudgetMillis ?? Infinity;
    if (!(this.timeoutMillis > 0) || !Number.isFinite(this.timeoutMillis)) {
      throw new RangeError(
        `cluster timeoutMillis must be a positive number (got ${String(this.timeoutMillis)})`,
      );
    }
    this.local = options.local;
    const local = options.local;
    const callbacks = collectionBudgetMillis(this.timeoutMillis);
    this.localSlots = new CollectionSlots(
      // The SDK leaves out a callback that has not settled by most of the deadline; the rest hangs on nothing.
      () => (local ? local({ timeoutMillis: callbacks }) : Promise.reject(new Error('no own collection'))),
      {
        where: 'cluster primary',
        whileHung:
          'its own numbers in the aggregate stay those of its last collection (counted as timeout) until one ends or the process restarts',
      },
    );
    // No extensions: their merges land in this process's own state, so its own payload is never needed, and a
    // cluster worker relaying its threads must keep each payload for the snapshot it sends its own primary.
    this.localEncoder = new SnapshotEncoder(LOCAL_SOURCE, [], options.columnsOf);
    this.aggregate = new ClusterAggregate({
      gauges: { ...PACKAGE_GAUGE_RULES, ...options.gauges },
      extensions: options.extensions,
    });
    this.listensToProcesses = (options.processes ?? true) && nodeCluster().isPrimary;
    if (this.listensToProcesses) {
      nodeCluster().on('message', this.onClusterMessage);
      nodeCluster().on('exit', this.onClusterExit);
    }
    if (options.threads ?? true) {
      this.requests = new BroadcastChannel(THREAD_REQUEST_CHANNEL);
      this.requests.unref();
      const responses = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
      responses.onmessage = (event: unknown) => {
        this.receive((event as { data?: unknown }).data, undefined);
      };
      responses.unref();
      this.responses = responses;
      // Every thread this process starts from now on is known, and retired when it exits.
      process.on('worker', this.onThreadStarted);
    }
    this.discover();
  }

  /**
   * What a worker gets when it asks for the aggregate (to serve `/metrics` on the app's shared port), per format;
   * `hints.timeoutMillis` when the request has a deadline of its own, which the exposition must meet (by
   * collecting through {@link collectWithin}).
   */
  serveExposition(exposition: (format: ExpositionFormat, hints?: ScrapeHints) => Promise<string>): void {
    this.exposition = exposition;
  }

  /** Collections that went without a source's numbers, by reason (the cluster self-metric reads them). */
  forEachFailure(visit: (reason: ClusterFailureReason, count: number) => void): void {
    this.aggregate.forEachFailure(visit);
  }

  /** Sources that announced themselves and have not exited. */
  get sources(): number {
    return this.processSources.size + this.threadSources.size;
  }

  /**
   * Whether any source has announced itself or sent numbers: from then on the aggregate differs from the
   * primary's own collection (a source's numbers outlive its exit).
   */
  get heardSources(): boolean {
    return this.heard || this.sources > 0;
  }

  /**
   * @internal A node:cluster worker's relay: the worker's latest own collection, the one its primary holds, offered
   * each time until the relay applies anything. It goes in before the first thing the relay applies (a thread's
   * snapshot, its final one included, or its first round), so the series the worker already sent its primary are
   * created here under the worker's labels and within the series cap before any thread's (its primary keys them by
   * exactly those labels: spelled otherwise by a thread, or folded into `other`, the worker's old slot there would
   * stay, frozen, beside the relayed one). Ignored once {@link seeded}. Never throws.
   */
  seedOwn(result: CollectionResult): void {
    if (!this.seeded) this.seed = result;
  }

  /**
   * Whether the relay has applied anything (its seed first, if it had one): from then on a collection of the worker
   * taken on its own may hold a series a thread already spelled here, so the worker sends the relay's aggregate.
   */
  get seeded(): boolean {
    return this.seedApplied;
  }

  /**
   * Why a seed held until now rather than a collection taken when a thread first speaks: a thread's final snapshot
   * is applied as it arrives, before any round, and the worker's own collection may fail or hang right then. The
   * numbers its primary already has are the exact ones to start from, are at hand without waiting, and, should the
   * round's own collection fail, stay the worker's part of the totals as a late source's previous numbers do.
   */
  private applySeed(): void {
    if (this.seedApplied) return;
    this.seedApplied = true;
    const seed = this.seed;
    this.seed = undefined;
    if (seed === undefined) return;
    try {
      this.aggregate.apply(this.localEncoder.encode(seed, this.roundNumber));
    } catch (error) {
      this.aggregate.countFailure('invalid');
      diag.debug(
        `otel-business-metrics: cluster relay: its own numbers did not go in first: ${safeMessage(error)}`,
      );
    }
  }

  /**
   * Retire the sources of a worker thread when it exits (`worker.terminate()` gives a thread no chance to
   * send a final snapshot; without this, a terminated thread is counted as `timeout` at every collection).
   */
  watchThread(worker: ThreadWorker): void {
    if (this.closed || this.watched.has(worker)) return;
    this.watched.add(worker);
    const threadId = worker.threadId;
    // A worker that has already exited has threadId -1.
    if (threadId > 0) this.liveThreads.add(threadId);
    worker.once('exit', () => {
      // The thread's final snapshot (if it shut down cleanly) travels on another queue than this event:
      // give it a moment to arrive before counting the thread as lost.
      setTimeout(() => {
        this.liveThreads.delete(threadId);
        const source = this.sourceOfThread.get(threadId);
        if (source !== undefined) {
          this.forgetThreadSource(source);
          this.gone(source);
        }
      }, 100).unref();
    });
  }

  /**
   * One collection: every source's latest numbers (or its previous ones, past the deadline), merged. It shares the
   * round under way, which waits for late sources the full `timeoutMillis` from its start, whoever started it. A
   * reader's collection whose `options.timeoutMillis` is shorter than that and than what a scrape without a deadline
   * of its own hands the SDK (`scrapeBudgetMillis`: so a scraper's short `X-Prometheus-Scrape-Timeout-Seconds` on
   * the primary's endpoint, or a push export's timeout below both) is one within it ({@link collectWithin}): the SDK
   * passes producers nothing but that budget, and a scrape without a header hands it one too.
   */
  collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const budget = options?.timeoutMillis;
    return budget !== undefined &&
      budget > 0 &&
      budget < this.timeoutMillis &&
      budget < this.scrapeBudgetMillis
      ? this.collectWithin(budget)
      : this.round();
  }

  /**
   * One collection within `timeoutMillis` (a worker's scrape with a deadline of its own). It shares the round under
   * way, or starts one, and gets the round's answer if the round ends in time. Otherwise the answer is what the
   * primary holds at the deadline: every source's latest numbers (those that answered this round so far, a late
   * one's previous numbers) and its own numbers of its previous round. The round itself goes on as if this
   * collection had not come: it waits for late sources its full `timeoutMillis`, and only then counts them as
   * `timeout`, so a tiny deadline costs the collections sharing the round nothing.
   */
  collectWithin(timeoutMillis: number): Promise<CollectionResult> {
    const round = this.round();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const atDeadline = new Promise<CollectionResult>((resolve) => {
      timer = setTimeout(() => resolve(this.aggregate.render(this.resource)), timeoutMillis);
      timer.unref();
    });
    return Promise.race([round, atDeadline]).finally(() => clearTimeout(timer));
  }

  /** The round under way, or a new one. */
  private round(): Promise<CollectionResult> {
    this.inflight ??= this.runRound().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Sources that started before this primary said hello to nobody: ask everyone once. */
  private discover(): void {
    const request: CollectRequest = { tag: PROTOCOL_TAG, type: 'collect', round: this.firstRound };
    if (this.listensToProcesses) {
      for (const worker of Object.values(nodeCluster().workers ?? {})) {
        if (worker?.isConnected()) worker.send(request, undefined, undefined, () => undefined);
      }
    }
    this.requests?.postMessage(request);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.listensToProcesses) {
      nodeCluster().off('message', this.onClusterMessage);
      nodeCluster().off('exit', this.onClusterExit);
    }
    process.off('worker', this.onThreadStarted);
    this.requests?.close();
    this.responses?.close();
    this.current?.finish();
  }

  private async runRound(): Promise<CollectionResult> {
    if (this.closed) return this.aggregate.render(this.resource);
    this.applySeed();
    const number = ++this.roundNumber;
    const full = this.aggregate.sourcesNeedingFull();
    const request: CollectRequest = {
      tag: PROTOCOL_TAG,
      type: 'collect',
      round: number,
      ...(full.length > 0 ? { full } : {}),
    };
    const pending = new Set<string>();
    for (const [workerId, source] of this.processSources) {
      const worker = nodeCluster().workers?.[workerId];
      if (worker === undefined || !worker.isConnected()) continue;
      pending.add(source);
      try {
        worker.send(request, undefined, undefined, (error: Error | null) => {
          // The worker is on its way out; 'exit' will retire it.
          if (error) this.answered(source, number);
        });
      } catch {
        this.answered(source, number);
      }
    }
    if (this.requests) {
      for (const source of this.threadSources.keys()) pending.add(source);
      // Broadcast even to no known thread: one that started before this primary registers by answering.
      this.requests.postMessage(request);
    }
    const waiting =
      pending.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const round: Round = {
              number,
              pending,
              finish: () => {
                clearTimeout(timer);
                if (this.current === round) this.current = undefined;
                resolve();
              },
            };
            const timer = setTimeout(() => round.finish(), this.timeoutMillis);
            timer.unref();
            this.current = round;
          });
    await waiting;
    // The last snapshot was parsed and applied in this event-loop turn; render and serialise in the next, so
    // the two never add up to one long stall of the serving loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Whoever did not answer keeps the numbers of its previous snapshot in the totals.
    if (pending.size > 0) this.aggregate.countFailure('timeout', pending.size);
    // The primary's own numbers last, so its self-metrics already count this round's failures.
    if (this.local) {
      try {
        // Through slots, as a source's collections and scrapes are: one that outlives its round (a producer that
        // ignores its deadline) keeps a slot, the next round starts another in the free one, and hung ones are
        // abandoned, bounded, instead of one more left pending per round.
        let leave!: () => void;
        const collected = new Promise<CollectionResult>((resolve, reject) => {
          ({ leave } = this.localSlots.join(this.timeoutMillis, {
            deadlineAt: Date.now() + this.timeoutMillis,
            resolve,
            reject,
          }));
        });
        let result: CollectionResult;
        try {
          result = await withTimeout(collected, this.timeoutMillis, "the cluster primary's own collection");
        } finally {
          leave();
        }
        if (result.errors.length > 0) {
          this.warnings.warn(
            'cluster-local-errors',
            () =>
              `otel-business-metrics: cluster primary: errors while collecting its own metrics (the rest was ` +
              `served): ${result.errors.map((error) => safeMessage(error)).join('; ')}`,
          );
        }
        this.aggregate.apply(this.localEncoder.encode(result, number));
      } catch (error) {
        if (error instanceof TimeoutError) {
          // Its previous numbers stay in the totals, as a late worker's do.
          this.aggregate.countFailure('timeout');
          this.warnings.warn(
            'cluster-local-timeout',
            () => `otel-business-metrics: cluster primary: ${error.message}`,
          );
        } else {
          // Never expected: the primary's own collection.
          this.aggregate.countFailure('invalid');
          diag.debug(
            `otel-business-metrics: cluster primary: its own collection failed: ${safeMessage(error)}`,
          );
        }
      }
    }
    return this.aggregate.render(this.resource);
  }

  /** Counts a refused message and says why, at most once a minute (the first one of each minute). */
  private refuse(why: () => string): void {
    this.aggregate.countFailure('invalid');
    this.warnings.warn(
      'cluster-invalid',
      () =>
        `otel-business-metrics: cluster message refused: ${printable(why(), 300)} ` +
        '(counted in business_metrics_cluster_collection_failures_total{reason="invalid"})',
    );
  }

  /** Every message from a source, over either transport: checked, then heard only from a known source. */
  private receive(raw: unknown, worker: ClusterWorker | undefined): void {
    if (this.closed) return;
    const checked = checkPrimaryBound(raw);
    if (checked === undefined) return; // not the package's (the app's own IPC messages)
    if (!checked.ok) {
      this.refuse(() => checked.refusal);
      return;
    }
    const received = checked.value;
    const from = () => (worker !== undefined ? `cluster worker ${worker.id}` : 'the thread channel');
    switch (received.type) {
      case 'hello':
        if (!this.admit(received.message, worker, true)) {
          this.refuse(() => `a hello from ${from()} of a source it does not speak for`);
        }
        return;
      case 'exposition-request':
        if (this.isSourceOf(received.message.source, worker)) this.answerExposition(received.message, worker);
        else this.refuse(() => `an exposition request from ${from()} of a source it does not speak for`);
        return;
      case 'snapshot':
        this.receiveSnapshot(received.snapshot, worker);
        return;
    }
  }

  private receiveSnapshot(checked: CheckedSnapshot, worker: ClusterWorker | undefined): void {
    const snapshot = checked.message;
    // A source that started before this primary answers the discovery request without a hello.
    if (!this.isSourceOf(snapshot.source, worker) && !this.admit(snapshot, worker, false)) {
      this.refuse(
        () =>
          `a snapshot from ${worker !== undefined ? `cluster worker ${worker.id}` : 'the thread channel'} ` +
          'of a source it does not speak for',
      );
      return;
    }
    const keyRefusal = checked.keyRefusal;
    if (keyRefusal !== undefined) {
      // Counted by the aggregate (once, with the snapshot's other refusals); said here, as a refused message is.
      this.warnings.warn(
        'cluster-invalid',
        () =>
          `otel-business-metrics: cluster snapshot refused in part: ${printable(keyRefusal, 300)} ` +
          `(${checked.refusedKeys} series left out, the rest applied; counted in ` +
          'business_metrics_cluster_collection_failures_total{reason="invalid"})',
      );
    }
    this.heard = true;
    this.applySeed();
    this.aggregate.applyChecked(checked);
    if (snapshot.final === true) {
      // Its source is retired now, whether the snapshot was applied or refused (aggregate.ts): nothing is left for
      // the exit to retire.
      if (worker !== undefined && this.processSources.get(worker.id) === snapshot.source) {
        this.processSources.delete(worker.id);
      }
      this.forgetThreadSource(snapshot.source);
      // Its last numbers are in: a round waiting for it has its answer (the final snapshot carries no round, and
      // the exit that follows no longer finds the source, so nothing else would end the wait before the deadline).
      this.answered(snapshot.source, this.current?.number ?? -1);
      return;
    }
    this.answered(snapshot.source, snapshot.round);
  }

  /** Whether `source` is the one a worker process, or a known thread, speaks as. */
  private isSourceOf(source: string, worker: ClusterWorker | undefined): boolean {
    return worker !== undefined
      ? this.processSources.get(worker.id) === source
      : this.threadSources.has(source);
  }

  /**
   * Registers a source announcing itself (a hello, or the first snapshot of one that started before this primary).
   * False when it must not be heard: a retired source; on the thread channel, a thread this primary does not know
   * or that already has a source, or (without a hello) an answer outside the discovery window.
   */
  private admit(
    message: Pick<HelloMessage, 'source' | 'threadId'> & { round?: number; final?: boolean },
    worker: ClusterWorker | undefined,
    hello: boolean,
  ): boolean {
    const source = message.source;
    if (this.aggregate.isRetired(source)) return false;
    if (worker !== undefined) {
      const previous = this.processSources.get(worker.id);
      if (previous === source) return true;
      // One source per worker process: a second identity is heard only when it announces itself, which means the
      // process started recording afresh (shut down and initialised again).
      if (previous !== undefined && !hello) return false;
      if (previous !== undefined) this.gone(previous);
      if (message.final !== true) this.processSources.set(worker.id, source);
      return true;
    }
    const thread = message.threadId;
    if (thread === undefined) return false;
    const current = this.sourceOfThread.get(thread);
    if (current !== undefined) return current === source;
    const known = this.liveThreads.has(thread);
    // A thread this primary did not see start (it started first, or another thread started it) joins by answering
    // a request: its snapshot echoes a round this primary really asked for.
    const round = message.round ?? -1;
    const answering = !hello && round >= this.firstRound && round <= this.roundNumber;
    if (!known && !answering) return false;
    if (message.final !== true) {
      this.threadSources.set(source, thread);
      this.sourceOfThread.set(thread, source);
    }
    return true;
  }

  private forgetThreadSource(source: string): void {
    const thread = this.threadSources.get(source);
    if (thread === undefined) return;
    this.threadSources.delete(source);
    if (this.sourceOfThread.get(thread) === source) this.sourceOfThread.delete(thread);
  }

  private answerExposition(request: ExpositionRequest, worker: ClusterWorker | undefined): void {
    const reply = (answer: { text?: string; error?: string }) => {
      const response: ExpositionResponse = {
        tag: PROTOCOL_TAG,
        type: 'exposition',
        to: request.source,
        id: request.id,
        ...answer,
      };
      if (this.closed) return;
      if (worker !== undefined) {
        if (worker.isConnected()) worker.send(response, undefined, undefined, () => undefined);
      } else {
        this.requests?.postMessage(response);
      }
    };
    const exposition = this.exposition;
    if (exposition === undefined) {
      reply({
        error: 'the primary serves no Prometheus exposition (no prometheus exporter configured there)',
      });
      return;
    }
    const format: ExpositionFormat = request.format === 'openmetrics' ? 'openmetrics' : 'prometheus';
    const within = request.timeoutMillis;
    // Requests that arrive while an exposition of their format is being made share it; one with a deadline of its
    // own shares only one due no later than it needs it (or, past MAX_EXPOSITIONS_WITHIN, the latest anyway).
    const key = within === undefined ? format : `${format} within`;
    const dueAt = within === undefined ? Infinity : Date.now() + within;
    const already = this.waitingExpositions.get(key);
    const underWay = this.expositionsWithin.get(format) ?? 0;
    if (already !== undefined && (already.dueAt <= dueAt || underWay >= MAX_EXPOSITIONS_WITHIN)) {
      if (already.replies.length >= MAX_WAITING_EXPOSITIONS) {
        this.refuse(() => `more than ${MAX_WAITING_EXPOSITIONS} exposition requests waiting`);
      } else already.replies.push(reply);
      return;
    }
    const shared: SharedExposition = { dueAt, replies: [reply] };
    this.waitingExpositions.set(key, shared);
    if (within !== undefined) this.expositionsWithin.set(format, underWay + 1);
    const answerAll = (answer: { text?: string; error?: string }) => {
      if (this.waitingExpositions.get(key) === shared) this.waitingExpositions.delete(key);
      if (within !== undefined) this.expositionsWithin.set(format, this.expositionsWithin.get(format)! - 1);
      for (const send of shared.replies) send(answer);
    };
    (within === undefined ? exposition(format) : exposition(format, { timeoutMillis: within })).then(
      (text) => answerAll({ text }),
      (error: unknown) => answerAll({ error: String(error) }),
    );
  }

  private answered(source: string, round: number): void {
    const current = this.current;
    if (current === undefined || current.number !== round) return;
    current.pending.delete(source);
    if (current.pending.size === 0) current.finish();
  }

  private gone(source: string): void {
    this.aggregate.retire(source, false);
    this.answered(source, this.current?.number ?? -1);
  }
}
