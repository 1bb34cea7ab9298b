/**
 * How many collections of one endpoint run at once, and who gets which: a new collection while a slot is free,
 * else the next one, shared by everyone who came while every slot was taken and started as soon as one frees (so
 * every caller gets a collection that started after it came). A collection that hangs far past its deadline is
 * abandoned when a caller comes (its slot given back past `abandonAfterDeadlines` times its deadline, doubled per
 * abandoned one still pending, at most `maxAbandonedCollections` pending), so hung collections never pile up, yet
 * callers recover once the hang clears. The pull server's scrapes collect through it, and so do a cluster worker
 * answering its primary (cluster/source.ts) and a cluster primary's own collection at each round (cluster/primary.ts).
 *
 * Owns: the slots, the queued collection and its budget (the time its caller with the most left has), abandonment
 * and its warnings. Must not touch: what a collection is, how long a caller waits (each leaves when it wants),
 * what is done with a result.
 */
import { RateLimitedWarnings } from '../../support';
import { PROMETHEUS_DEFAULTS } from '../../config/defaults';

/**
 * Who waits for a collection: it may leave at any time (the function {@link CollectionSlots.join} returns). Its
 * `resolve` and `reject` should not throw; one that does is warned about and keeps no one else from their result.
 */
export interface SlotWaiter<T> {
  /** When it gives up (epoch ms): a queued collection gets the time its waiter with the most left has. */
  readonly deadlineAt: number;
  resolve(result: T): void;
  reject(error: unknown): void;
}

/** One collection (running, or waiting for a slot) and who waits for its result. */
interface Collection<T> {
  readonly waiting: Set<SlotWaiter<T>>;
}

/** A collection holding a slot (or abandoned: its slot given back, its result dropped). */
interface Running {
  readonly startedAt: number;
  /** The deadline it was started with: how long it may take before it is surely hung. */
  readonly budgetMillis: number;
  abandoned: boolean;
}

/** Who collects, for the warnings: `Prometheus exporter`, and what its callers get while every slot hangs. */
export interface SlotsOwner {
  readonly where: string;
  readonly whileHung: string;
}

export class CollectionSlots<T> {
  /** The collections holding a slot (at most `maxRunningCollections`). */
  private readonly running = new Set<Running>();
  /** Collections abandoned (past their deadline many times over) that have not ended yet. */
  private abandonedCollections = 0;
  /** The next collection, shared by everyone who came while every slot was taken: it starts when one frees. */
  private queued: Collection<T> | undefined;
  private readonly warnings = new RateLimitedWarnings();

  constructor(
    /** One collection, with `budgetMillis` to take (a caller's deadline). */
    private readonly collect: (budgetMillis: number) => Promise<T>,
    private readonly owner: SlotsOwner,
  ) {}

  /**
   * Adds `waiter` to a collection that starts after this call: a new one (with `budgetMillis`) while a slot is free,
   * else the next one (`queued`: it waits for a slot). `leave` takes it out: afterwards it is not called. A waiter
   * that never leaves is called once its collection ends, however late, unless that collection was abandoned.
   */
  join(
    budgetMillis: number,
    waiter: SlotWaiter<T>,
  ): { readonly leave: () => void; readonly queued: boolean } {
    const collection = this.collectionFor(budgetMillis);
    collection.waiting.add(waiter);
    return { leave: () => collection.waiting.delete(waiter), queued: collection === this.queued };
  }

  /**
   * A caller came while a collection is queued and shares it without joining again (a cluster worker's later
   * requests only update the answer already waiting there): hung collections are abandoned as a join would
   * abandon them. Without it, such callers could wait for good behind two collections that never end.
   */
  reclaim(): void {
    if (this.running.size >= PROMETHEUS_DEFAULTS.maxRunningCollections) this.reclaimSlots();
  }

  /**
   * A collection for a caller: a new one while a slot is free (or one hung long enough to be abandoned frees),
   * else the next one, which starts as soon as a running one ends. Either way it starts after the caller came, so
   * it sees everything recorded before (the store's promise: docs/prometheus.md#a-scrape-always-gets-an-answer),
   * and callers that come while every slot hangs share one collection that never starts instead of each starting
   * more work that would never end either.
   */
  private collectionFor(budgetMillis: number): Collection<T> {
    this.reclaim();
    if (this.running.size < PROMETHEUS_DEFAULTS.maxRunningCollections) {
      const collection: Collection<T> = { waiting: new Set() };
      this.start(collection, budgetMillis);
      return collection;
    }
    return (this.queued ??= { waiting: new Set() });
  }

  private start(collection: Collection<T>, budgetMillis: number): void {
    const run: Running = { startedAt: Date.now(), budgetMillis, abandoned: false };
    this.running.add(run);
    let result: Promise<T>;
    try {
      result = Promise.resolve(this.collect(budgetMillis));
    } catch (error) {
      result = Promise.reject(error);
    }
    const settled = (deliver: (waiter: SlotWaiter<T>) => void) => {
      if (run.abandoned) {
        // Its callers left long ago (each at its own deadline) and its slot was given back: the result is dropped.
        this.abandonedCollections--;
        return;
      }
      this.running.delete(run);
      for (const waiter of collection.waiting) {
        try {
          deliver(waiter);
        } catch (error) {
          // Thrown on, it would skip the other waiters and the queued collection, and reject unobserved.
          this.warnings.warn(
            'waiter-threw',
            () =>
              `otel-business-metrics: ${this.owner.where}: handling a metrics collection's result failed: ${String(error)}`,
          );
        }
      }
      this.startQueued();
    };
    // Always handled: a collection whose every caller gave up must not reject unobserved.
    result.then(
      (collected) => settled((waiter) => waiter.resolve(collected)),
      (error: unknown) => settled((waiter) => waiter.reject(error)),
    );
  }

  /**
   * A slot freed: the queued collection starts, with the time its caller with the most left has. One with less
   * (about to give up, or whose scraper sent a short deadline) simply leaves at its own deadline; sizing the
   * collection by it would leave out observable callbacks that every other caller could have waited for.
   */
  private startQueued(): void {
    const queued = this.queued;
    if (queued === undefined || this.running.size >= PROMETHEUS_DEFAULTS.maxRunningCollections) return;
    this.queued = undefined;
    if (queued.waiting.size === 0) return; // every caller gave up: nobody to collect for
    const now = Date.now();
    let left = 0;
    for (const waiter of queued.waiting) left = Math.max(left, waiter.deadlineAt - now);
    this.start(queued, Math.max(1, left));
  }

  /**
   * Every slot is taken: gives back the slot of each collection that has run past `abandonAfterDeadlines` times
   * its deadline, doubled for each abandoned one still pending, so a caller can succeed again once what hung it
   * clears, while collections that never end are abandoned ever less often, and never more than
   * `maxAbandonedCollections` at once.
   */
  private reclaimSlots(): void {
    const { abandonAfterDeadlines, maxAbandonedCollections } = PROMETHEUS_DEFAULTS;
    const { where, whileHung } = this.owner;
    const now = Date.now();
    for (const run of this.running) {
      const limit = run.budgetMillis * abandonAfterDeadlines * 2 ** this.abandonedCollections;
      const ranFor = now - run.startedAt;
      if (ranFor < limit) continue;
      if (this.abandonedCollections >= maxAbandonedCollections) {
        this.warnings.warn(
          'collections-abandoned',
          () =>
            `otel-business-metrics: ${where}: ${maxAbandonedCollections} abandoned metrics collections never ` +
            `ended and the running ones hang too: ${whileHung}`,
        );
        break;
      }
      run.abandoned = true;
      this.running.delete(run);
      this.abandonedCollections++;
      const abandoned = this.abandonedCollections;
      this.warnings.warn(
        'collection-abandoned',
        () =>
          `otel-business-metrics: ${where}: a metrics collection still running after ${ranFor} ms ` +
          `(its deadline: ${run.budgetMillis} ms) was abandoned and its slot given back; its result will be ` +
          `dropped (${abandoned} abandoned, of at most ${maxAbandonedCollections}, still pending)`,
      );
    }
    this.startQueued();
  }
}
