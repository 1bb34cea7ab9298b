/**
 * What an encoder derives from a series once (its encoded attributes, its start time as text), kept per metric and
 * indexed like the metric's list of series (series/collection.ts SeriesIdentity): one array read per point, where
 * a WeakMap keyed by the attributes object cost a hash lookup per point. `SeriesBytes` keeps such bytes for all the
 * series of a metric in a few shared slabs: 10,000 series' encodings were 10,000 small ArrayBuffers, each one more
 * backing store for every garbage collection of the process to track.
 *
 * Owns: those memos. Must not touch: what is derived (the encoders decide).
 */
import type { SeriesIdentity } from '../../series/collection';

export class SeriesMemo<T> {
  private readonly bySeries = new WeakMap<readonly object[], (T | undefined)[]>();

  /** The memo array of one metric's series (index = the series' position in `columns.series`). */
  of(columns: SeriesIdentity): (T | undefined)[] {
    let memo = this.bySeries.get(columns.series);
    if (memo === undefined) {
      memo = [];
      this.bySeries.set(columns.series, memo);
    }
    return memo;
  }
}

/**
 * Bytes derived once per series of one metric, each kept as a view into shared 64 KiB slabs: `get(index)` is series
 * `index`'s (its position in the metric's list of series), or undefined before `set`. Copying a whole view with
 * `TypedArray#set` costs the same few nanoseconds at any length, where a loop over a fragment's bytes or
 * `Buffer#copy` of a range cost 50-300 ns per point.
 */
export class SeriesBytes {
  private readonly views: (Uint8Array | undefined)[] = [];
  private slab: Uint8Array = new Uint8Array(0);
  private used = 0;
  /** The length of the longest bytes kept. */
  longest = 0;

  get(index: number): Uint8Array | undefined {
    return this.views[index];
  }

  /** Keeps a copy of `value` as series `index`'s bytes (set once: a series' bytes never change); returns it. */
  set(index: number, value: Uint8Array): Uint8Array {
    const length = value.length;
    if (this.used + length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB, length));
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + length);
    view.set(value);
    this.used += length;
    this.views[index] = view;
    if (length > this.longest) this.longest = length;
    return view;
  }
}

const SLAB = 64 * 1024;

/** One SeriesBytes per metric's list of series (like SeriesMemo). */
export class SeriesBytesMemo {
  private readonly bySeries = new WeakMap<readonly object[], SeriesBytes>();

  of(columns: SeriesIdentity): SeriesBytes {
    let memo = this.bySeries.get(columns.series);
    if (memo === undefined) {
      memo = new SeriesBytes();
      this.bySeries.set(columns.series, memo);
    }
    return memo;
  }
}
