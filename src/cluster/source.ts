/**
 * A source: a cluster worker or worker thread that records locally (the hot path is the single-process one)
 * and answers its primary's collection requests with a snapshot of its own collection (in a node:cluster worker
 * whose threads have spoken, of its relay's aggregate: its numbers and its threads', worker.ts).
 *
 * Owns: the source side of both transports (process IPC in a node:cluster worker, BroadcastChannel in a worker
 * thread), the hello, the final snapshot on shutdown, the limit on its collections (which request each answers),
 * and never sending an answer older than one already sent. Must not touch: recording, the primary's merge.
 *
 * The collection runs on the source's own event loop, exactly as a scrape of a single process would: the
 * primary only receives the numbers. At most two run at once, as for scrapes (collection-slots.ts): requests
 * that pile up (a primary asking again while slow callbacks or a busy event loop hold the last answers back, or
 * any code posting on the thread channel) share the next collection, which answers the latest of them, instead
 * of each starting one.
 */
import type { ExpositionFormat } from '../exporters/prometheus/serializer';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import { CLUSTER_UNCLAIMED_WARNING_MS } from '../config/defaults';
import { CollectionSlots, type SlotWaiter } from '../exporters/prometheus/collection-slots';
import { diag, printable, RateLimitedWarnings, withTimeout } from '../support';
import { SnapshotEncoder, type ColumnsLookup } from './encode';
import type { ClusterExtensions } from './extensions';
import type { SourceTransport } from './role';
import {
  PROTOCOL_TAG,
  PROTOCOL_VERSION,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  type ExpositionRequest,
  type HelloMessage,
  type SnapshotMessage,
} from './protocol';
import { checkSourceBound } from './validate';
import { DEFAULT_CLUSTER_TIMEOUT_MS } from './primary';

/** A collection request being answered: the round its snapshot says (the latest request it answers). */
interface Answer extends SlotWaiter<CollectionResult> {
  round: number;
  deadlineAt: number;
  /** Answers start their collections in the order they are made. */
  readonly order: number;
}

export class ClusterSource {
  readonly id = randomUUID();
  private readonly encoder: SnapshotEncoder;
  private readonly requests: BroadcastChannel | undefined;
  private readonly onProcessMessage = (message: unknown): void => this.receive(message);
  private closed = false;
  /** The warning that nothing collects this source, cleared by the first collection request. */
  private unclaimed: ReturnType<typeof setTimeout> | undefined;
  private readonly warnings = new RateLimitedWarnings();
  private nextExposition = 1;
  private readonly expositions = new Map<
    number,
    { resolve: (text: string) => void; reject: (error: Error) => void }
  >();
  private readonly slots: CollectionSlots<CollectionResult>;
  /** The answer of the collection waiting for a slot: later requests update it rather than queue more. */
  private queued: Answer | undefined;
  private answers = 0;
  /** The order of the last answer sent: an older collection that ends after it holds older numbers. */
  private sent = -1;

  constructor(
    private readonly collectLocal: () => Promise<CollectionResult>,
    readonly transport: SourceTransport,
    extensions?: ClusterExtensions,
    /** The local store's columns behind a collection (encoded without building MetricData). */
    columnsOf?: ColumnsLookup,
    /** How long without any collection request before this source warns that nothing collects it. */
    unclaimedWarningMillis = CLUSTER_UNCLAIMED_WARNING_MS,
    /** How long the primary waits for an answer (`cluster.timeoutMillis`): a collection's deadline. */
    private readonly timeoutMillis = DEFAULT_CLUSTER_TIMEOUT_MS,
  ) {
    this.slots = new CollectionSlots(
      () => {
        // The queued collection starts now: a request from here on must not be answered by it.
        this.queued = undefined;
        return this.collectLocal();
      },
      {
        where: 'cluster worker',
        whileHung:
          'its primary gets none of its numbers (counted there as timeout) until one ends or the process restarts',
      },
    );
    // In cluster mode a source exports nothing itself: if no primary ever asks (none runs the package, as under
    // PM2's cluster mode, or nothing scrapes or pushes from it), its numbers go nowhere, which must not be silent.
    this.unclaimed = setTimeout(() => {
      diag.warn(
        `otel-business-metrics: cluster mode: no primary has collected this ${transport === 'thread' ? 'worker thread' : 'worker'}'s numbers in the ${Math.round(unclaimedWarningMillis / 1000)} s since it started, and in cluster mode only the primary exports them. ` +
          'Call initBusinessMetrics({ cluster }) in the primary too, and scrape or push from it; under PM2 (whose ' +
          'primary does not run your code) leave cluster out and export from each process (docs/several-processes.md).',
      );
    }, unclaimedWarningMillis);
    this.unclaimed.unref?.();
    this.encoder = new SnapshotEncoder(this.id, extensions, columnsOf);
    if (transport === 'process') {
      process.on('message', this.onProcessMessage);
    } else {
      const requests = new BroadcastChannel(THREAD_REQUEST_CHANNEL);
      // Any thread of the process can post here: what arrives is checked before it is read.
      requests.onmessage = (event: unknown) => this.receive((event as { data?: unknown }).data);
      // Listening must not keep a finished worker thread alive.
      requests.unref();
      this.requests = requests;
    }
    const hello: HelloMessage = {
      tag: PROTOCOL_TAG,
      type: 'hello',
      version: PROTOCOL_VERSION,
      source: this.id,
      ...(transport === 'thread' ? { threadId } : {}),
    };
    void this.send(hello);
  }

  /**
   * The primary's aggregate exposition, for a worker that serves `/metrics` (or a dashboard) on the app's shared
   * port. Rejects after `timeoutMillis` or when the primary has none. `primaryMillis` is the time the primary is
   * asked to answer within (a scrape's own deadline, less the answer's trip back); without it, the primary
   * collects as usual.
   */
  exposition(
    timeoutMillis: number,
    format: ExpositionFormat = 'prometheus',
    primaryMillis?: number,
  ): Promise<string> {
    if (this.closed) return Promise.reject(new Error('cluster mode was shut down in this worker'));
    const id = this.nextExposition++;
    const answer = new Promise<string>((resolve, reject) => {
      this.expositions.set(id, { resolve, reject });
      const request: ExpositionRequest = {
        tag: PROTOCOL_TAG,
        type: 'exposition-request',
        source: this.id,
        id,
        ...(format === 'openmetrics' ? { format } : {}),
        ...(primaryMillis !== undefined ? { timeoutMillis: primaryMillis } : {}),
      };
      void this.send(request);
    });
    return withTimeout(answer, timeoutMillis, "the cluster primary's answer").finally(() =>
      this.expositions.delete(id),
    );
  }

  /** Sends everything recorded so far as the last snapshot, then stops answering. Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      const result = await this.collectLocal();
      this.closed = true;
      await this.send(this.stamp(this.encoder.encode(result, 0, true)));
    } catch (error) {
      diag.warn(`otel-business-metrics: final cluster snapshot not sent: ${String(error)}`);
    } finally {
      this.closed = true;
      this.detach();
    }
  }

  private detach(): void {
    clearTimeout(this.unclaimed);
    if (this.transport === 'process') process.off('message', this.onProcessMessage);
    this.requests?.close();
  }

  /** A message from the primary (or from anyone, on the thread channel): ignored unless valid and for us. */
  private receive(raw: unknown): void {
    const checked = checkSourceBound(raw);
    if (checked === undefined) return;
    if (!checked.ok) {
      this.warnings.warn(
        'cluster-invalid',
        () =>
          `otel-business-metrics: cluster message ignored by this worker: ${printable(checked.refusal, 300)}`,
      );
      return;
    }
    const message = checked.value;
    if (message.type === 'exposition') {
      const response = message;
      if (response.to !== this.id) return;
      const pending = this.expositions.get(response.id);
      if (pending === undefined) return;
      this.expositions.delete(response.id);
      if (typeof response.text === 'string') pending.resolve(response.text);
      else pending.reject(new Error(response.error ?? 'no exposition'));
      return;
    }
    if (this.closed) return;
    const request = message;
    clearTimeout(this.unclaimed);
    if (request.full?.includes(this.id)) this.encoder.restartEpoch();
    this.answer(request.round);
  }

  /**
   * Answers a request with a collection that starts after it came: a new one, or the one waiting for a slot,
   * whose snapshot then says this (later) round. The primary waits for its current round only, so one snapshot
   * answers every request that shared the collection. Late answers are still sent: the primary applies them.
   */
  private answer(round: number): void {
    const deadlineAt = Date.now() + this.timeoutMillis;
    const queued = this.queued;
    if (queued !== undefined) {
      queued.round = round;
      queued.deadlineAt = deadlineAt;
      // It joins no collection, yet hung ones are abandoned when a caller comes: while both slots hang, later
      // requests are what can free one.
      this.slots.reclaim();
      return;
    }
    const answer: Answer = {
      round,
      deadlineAt,
      order: this.answers++,
      resolve: (result) => {
        // Sent after a later collection's, it would take the primary's totals back (refused as invalid there).
        if (this.closed || answer.order < this.sent) return;
        let snapshot: SnapshotMessage;
        try {
          snapshot = this.stamp(this.encoder.encode(result, answer.round));
        } catch (error) {
          // Ids it gave out before it threw never reach the primary: the next snapshot sends every key afresh.
          this.encoder.restartEpoch();
          this.warnings.warn(
            'cluster-encode',
            () =>
              `otel-business-metrics: cluster snapshot not sent (round ${answer.round}): ${String(error)}`,
          );
          return;
        }
        this.sent = answer.order;
        void this.send(snapshot);
      },
      reject: (error: unknown) =>
        diag.warn(`otel-business-metrics: cluster collection failed: ${String(error)}`),
    };
    if (this.slots.join(this.timeoutMillis, answer).queued) this.queued = answer;
  }

  private stamp(snapshot: SnapshotMessage): SnapshotMessage {
    return this.transport === 'thread' ? { ...snapshot, threadId } : snapshot;
  }

  private send(message: HelloMessage | SnapshotMessage | ExpositionRequest): Promise<void> {
    if (this.transport === 'thread') {
      // A short-lived channel: a long-lived one would also receive (and queue) every other thread's answers.
      const channel = new BroadcastChannel(THREAD_RESPONSE_CHANNEL);
      try {
        channel.postMessage(message);
      } catch (error) {
        diag.warn(`otel-business-metrics: cluster message not sent: ${String(error)}`);
      }
      return new Promise((resolve) =>
        setImmediate(() => {
          channel.close();
          resolve();
        }),
      );
    }
    return new Promise((resolve) => {
      if (typeof process.send !== 'function' || !process.connected) {
        resolve();
        return;
      }
      try {
        process.send(message, undefined, undefined, () => resolve());
      } catch {
        resolve();
      }
    });
  }
}
