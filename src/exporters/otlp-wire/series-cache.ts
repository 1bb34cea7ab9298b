/**
 * What an encoder derives from a series once (its encoded attributes, its start time as text), kept per metric in
 * an array indexed like the metric's list of series (series/collection.ts SeriesIdentity): one array read per
 * point, where a WeakMap keyed by the attributes object cost a hash lookup per point.
 *
 * Owns: that memo. Must not touch: what is derived (the encoders decide).
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
