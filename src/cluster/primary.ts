/**
 * The primary of a cluster: asks every source for a snapshot at each collection, waits at most
 * `timeoutMillis`, and answers with the exact aggregate (see aggregate.ts). A `MetricProducer`, so it plugs
 * into any reader: the package gives it to the primary's Prometheus reader.
 *
 * Owns: collection rounds and their deadline, the two transports on the primary side (node:cluster IPC, and a
 * BroadcastChannel for worker threads), source discovery (`hello`) and exit. Must not touch: recording, HTTP,
 * serialisation.
 *
 * Never blocks the primary's event loop for long: snapshots are applied as they arrive, one message per
 * event-loop turn; the round ends at the deadline whatever the sources do; concurrent scrapes share one round.
 * A source that misses the deadline keeps its previous numbers in the totals and is counted as `timeout`.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { BroadcastChannel, type Worker as ThreadWorker } from 'node:worker_threads';
import type { Resource } from '@opentelemetry/resources';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { ClusterAggregate, type ClusterFailureReason, type GaugeRule } from './aggregate';
import { PACKAGE_GAUGE_RULES } from './rules';
import { SnapshotEncoder } from './encode';
import {
  PROTOCOL_TAG,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  isClusterMessage,
  type ClusterMessage,
  type CollectRequest,
  type ExpositionRequest,
  type ExpositionResponse,
  type SnapshotMessage,
} from './protocol';

/** Options of {@link ClusterPrimary}. */
export interface ClusterPrimaryOptions {
  /** The resource the aggregate is reported under (the primary's). */
  readonly resource: Resource;
  /** How long a collection waits for each source. Default 1000 ms. */
  readonly timeoutMillis?: number;
  /** Rule per gauge by instrument name; the package's own gauges have theirs already. */
  readonly gauges?: Readonly<Record<string, GaugeRule>>;
  /** The primary's own collection (its own recordings and self-metrics), merged like a source's. */
  readonly local?: () => Promise<CollectionResult>;
  /** Listen to node:cluster workers. Default true in a cluster primary. */
  readonly processes?: boolean;
  /** Listen to worker threads of this process. Default true. */
  readonly threads?: boolean;
}

export const DEFAULT_CLUSTER_TIMEOUT_MS = 1000;
const LOCAL_SOURCE = 'primary';

interface Round {
  readonly number: number;
  readonly pending: Set<string>;
  finish: () => void;
}

export class ClusterPrimary implements MetricProducer {
  readonly aggregate: ClusterAggregate;
  private readonly timeoutMillis: number;
  private readonly local: (() => Promise<CollectionResult>) | undefined;
  private readonly localEncoder = new SnapshotEncoder(LOCAL_SOURCE);
  private readonly resource: Resource;
  private roundNumber = 0;
  private current: Round | undefined;
  private inflight: Promise<CollectionResult> | undefined;
  private closed = false;
  private exposition: (() => Promise<string>) | undefined;

  /** Cluster worker id -> its current source id. */
  private readonly processSources = new Map<number, string>();
  private readonly threadSources = new Map<string, number>();
  private readonly onClusterMessage = (worker: ClusterWorker, message: unknown): void => {
    if (isClusterMessage(message)) this.receive(message, worker);
  };
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
    if (!(this.timeoutMillis > 0) || !Number.isFinite(this.timeoutMillis)) {
      throw new RangeError(
        `cluster timeoutMillis must be a positive number (got ${String(this.timeoutMillis)})`,
      );
    }
    this.local = options.local;
    this.aggregate = new ClusterAggregate({ gauges: { ...PACKAGE_GAUGE_RULES, ...options.gauges } });
    this.listensToProcesses = (options.processes ?? true) && cluster.isPrimary;
    if (this.listensToProcesses) {
      cluster.on('message', this.onClusterMessage);
      cluster.on('exit', this.onClusterExit);
    }
    if (options.threads ?? true) {
      this.requests = new BroadcastChannel(THREAD_REQUEST_CHANNEL);
      this.requests.unref();
      const responses = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
      responses.onmessage = (event: unknown) => {
        const data = (event as { data?: unknown }).data;
        if (isClusterMessage(data)) this.receive(data, undefined);
      };
      responses.unref();
      this.responses = responses;
    }
    this.discover();
  }

  /** What a worker gets when it asks for the aggregate (to serve `/metrics` on the app's shared port). */
  serveExposition(exposition: () => Promise<string>): void {
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
   * Retire the sources of a worker thread when it exits (`worker.terminate()` gives a thread no chance to
   * send a final snapshot; without this, a terminated thread is counted as `timeout` at every collection).
   */
  watchThread(worker: ThreadWorker): void {
    const threadId = worker.threadId;
    worker.once('exit', () => {
      // The thread's final snapshot (if it shut down cleanly) travels on another queue than this event:
      // give it a moment to arrive before counting the thread as lost.
      setTimeout(() => {
        for (const [source, thread] of [...this.threadSources]) {
          if (thread === threadId) {
            this.threadSources.delete(source);
            this.gone(source);
          }
        }
      }, 100).unref();
    });
  }

  /** One collection: every source's latest numbers (or its previous ones, past the deadline), merged. */
  collect(): Promise<CollectionResult> {
    if (this.inflight === undefined) {
      this.inflight = this.runRound().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** Sources that started before this primary said hello to nobody: ask everyone once. */
  private discover(): void {
    const request: CollectRequest = { tag: PROTOCOL_TAG, type: 'collect', round: 0 };
    if (this.listensToProcesses) {
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker?.isConnected()) worker.send(request, undefined, undefined, () => undefined);
      }
    }
    this.requests?.postMessage(request);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.listensToProcesses) {
      cluster.off('message', this.onClusterMessage);
      cluster.off('exit', this.onClusterExit);
    }
    this.requests?.close();
    this.responses?.close();
    this.current?.finish();
  }

  private async runRound(): Promise<CollectionResult> {
    if (this.closed) return this.aggregate.render(this.resource);
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
      const worker = cluster.workers?.[workerId];
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
            const timer = setTimeout(() => round.finish(), this.timeoutMillis);
            timer.unref();
            const round: Round = {
              number,
              pending,
              finish: () => {
                clearTimeout(timer);
                if (this.current === round) this.current = undefined;
                resolve();
              },
            };
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
        const result = await this.local();
        this.aggregate.apply(this.localEncoder.encode(result, number));
      } catch {
        this.aggregate.countFailure('invalid');
      }
    }
    return this.aggregate.render(this.resource);
  }

  private receive(message: ClusterMessage, worker: ClusterWorker | undefined): void {
    if (this.closed) return;
    if (message.type === 'hello') {
      if (typeof message.source !== 'string' || this.aggregate.isRetired(message.source)) return;
      if (worker !== undefined) {
        const previous = this.processSources.get(worker.id);
        // The same process started recording afresh (shut down and initialised again).
        if (previous !== undefined && previous !== message.source) this.gone(previous);
        this.processSources.set(worker.id, message.source);
      } else {
        this.threadSources.set(message.source, message.threadId ?? -1);
      }
      return;
    }
    if (message.type === 'exposition-request') {
      this.answerExposition(message, worker);
      return;
    }
    if (message.type !== 'snapshot') return;
    const snapshot = message as SnapshotMessage;
    // A source that started before this primary answers the discovery request without a hello.
    if (snapshot.final !== true && !this.aggregate.isRetired(snapshot.source)) {
      if (worker !== undefined) {
        if (this.processSources.get(worker.id) === undefined)
          this.processSources.set(worker.id, snapshot.source);
      } else if (!this.threadSources.has(snapshot.source)) {
        this.threadSources.set(snapshot.source, snapshot.threadId ?? -1);
      }
    }
    this.aggregate.apply(snapshot);
    if (snapshot.final === true) {
      if (worker !== undefined && this.processSources.get(worker.id) === snapshot.source) {
        this.processSources.delete(worker.id);
      }
      this.threadSources.delete(snapshot.source);
    }
    this.answered(snapshot.source, snapshot.round);
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
    if (this.exposition === undefined) {
      reply({
        error: 'the primary serves no Prometheus exposition (no prometheus exporter configured there)',
      });
      return;
    }
    this.exposition().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: String(error) }),
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
