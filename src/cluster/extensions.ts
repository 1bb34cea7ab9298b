/**
 * State other parts of the package ship with every snapshot and merge in the primary, beside the metric data (the
 * active-user sketches: per tier-day HyperLogLog registers, merged register-wise with max, which is idempotent,
 * so accepting a source's cumulative payload again is harmless).
 *
 * Owns: the extension contract and the registry of one cluster-mode initBusinessMetrics (created by init, handed
 * to that init's encoder and aggregate: no process-wide mutable state, so two inits or a test cannot see each
 * other's extensions). Must not touch: message shapes (protocol.ts), what an extension carries (its owner's).
 */

/** One kind of extra state in the snapshots. */
export interface ClusterExtension<Payload = unknown> {
  /** Key in the snapshot's `ext`; unique per extension. */
  readonly name: string;
  /** Source side: the payload for this snapshot (JSON-safe), or undefined to send nothing. Never throws. */
  collect?(): Payload | undefined;
  /**
   * Primary side: a source's payload arrived (each snapshot's payload replaces the previous from that source,
   * or is merged idempotently). Called before the aggregate is rendered. Returns `'resend'` when the payload shows
   * that an earlier one never arrived: the primary then asks that source for a full snapshot (see `restart`).
   * Throws to refuse a payload it cannot use (counted as `invalid`).
   */
  accept?(source: string, payload: Payload): 'resend' | undefined;
  /** Source side: the primary asked for a full snapshot; the next payload must not depend on earlier ones. */
  restart?(): void;
  /** Primary side: a source exited (after its final payload, if it sent one). */
  retire?(source: string): void;
}

/** The extensions of one cluster-mode init, by name. */
export class ClusterExtensions implements Iterable<ClusterExtension> {
  private readonly byName = new Map<string, ClusterExtension>();

  /** Adds (or replaces, by name) an extension. Returns a function that removes it. */
  add<Payload>(extension: ClusterExtension<Payload>): () => void {
    this.byName.set(extension.name, extension as ClusterExtension);
    return () => {
      if (this.byName.get(extension.name) === extension) this.byName.delete(extension.name);
    };
  }

  [Symbol.iterator](): Iterator<ClusterExtension> {
    return this.byName.values();
  }
}
