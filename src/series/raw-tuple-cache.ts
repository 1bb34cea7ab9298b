/**
 * Raw label values -> cell, in front of a series table's vocabularies and id tuples: a tree with one level per
 * label, keyed by the very strings callers pass. A node compares its first few values with `===` (for the string
 * literals most label values are, an identity check each) and turns into a Map when it has more, so a measurement
 * of a known tuple costs a few comparisons per label instead of one Map lookup per label plus the table's probe.
 *
 * A tuple is cached only when every value is a string its vocabulary maps as it is, with nothing to report
 * (LabelIds.cachedId), and the table holds the tuple's own series: a value relabelled or dropped, or a tuple the
 * lifetime cap sends to the overflow series, takes the full path on every call, so each such measurement is still
 * reported and counted. Entries never change (vocabularies keep their ids, tables their series) and are never
 * removed. Bounded: past MAX_CACHED_TUPLES tuples the cache is dropped and the table serves every call alone (a
 * table that large is not a funnel's few hundred series, and its memory should stay the table's).
 *
 * Owns: the raw-value tree and when a tuple may enter it. Must not touch: label normalisation and the relabel
 * decisions (the vocabularies'), the cap and the cells (series-table.ts).
 */
import type { SeriesTable } from './series-table';

/** Most tuples cached per table; beyond it the cache is dropped (see the header). */
export const MAX_CACHED_TUPLES = 1024;

/** Values a node compares one by one before it becomes a Map. */
const SCANNED_VALUES = 8;

/**
 * One level of the tree: `entries` holds value, child pairs `[v0, c0, v1, c1, ...]` (a child is the next level's
 * node, or the cell at the last level) until the node has more than SCANNED_VALUES values; then `map` holds them
 * all and `entries` is empty. One array, sized exactly, so a node with one child costs ~70 bytes.
 */
class TupleNode {
  entries: unknown[] = [];
  map: Map<string, unknown> | undefined = undefined;
}

function childOf(node: TupleNode, value: string): unknown {
  const map = node.map;
  if (map !== undefined) return map.get(value);
  const entries = node.entries;
  for (let i = 0; i < entries.length; i += 2) if (entries[i] === value) return entries[i + 1];
  return undefined;
}

function addChild(node: TupleNode, value: string, child: unknown): void {
  const map = node.map;
  if (map !== undefined) {
    map.set(value, child);
    return;
  }
  const entries = node.entries;
  if (entries.length < SCANNED_VALUES * 2) {
    node.entries = [...entries, value, child];
    return;
  }
  const all = new Map<string, unknown>();
  for (let i = 0; i < entries.length; i += 2) all.set(entries[i] as string, entries[i + 1]);
  all.set(value, child);
  node.map = all;
  node.entries = [];
}

export class RawTupleCache<Cell> {
  /** The tree's first level; undefined once the cache was dropped. */
  private root: TupleNode | undefined = new TupleNode();
  private tuples = 0;

  constructor(private readonly table: SeriesTable<Cell>) {
    if (table.labelKeys.length !== 3 && table.labelKeys.length !== 4) {
      throw new RangeError(`RawTupleCache ${table.metric}: 3 or 4 labels`);
    }
  }

  /** Tuples cached (0 after the cache was dropped). */
  get size(): number {
    return this.root === undefined ? 0 : this.tuples;
  }

  /** The cell for four raw label values, as `table.at4` of their resolved ids would give it (and report). */
  at4(a: unknown, b: unknown, c: unknown, d: unknown): Cell {
    const root = this.root;
    if (
      root !== undefined &&
      typeof a === 'string' &&
      typeof b === 'string' &&
      typeof c === 'string' &&
      typeof d === 'string'
    ) {
      const second = childOf(root, a) as TupleNode | undefined;
      if (second !== undefined) {
        const third = childOf(second, b) as TupleNode | undefined;
        if (third !== undefined) {
          const fourth = childOf(third, c) as TupleNode | undefined;
          if (fourth !== undefined) {
            const cell = childOf(fourth, d) as Cell | undefined;
            if (cell !== undefined) return cell;
          }
        }
      }
    }
    return this.miss4(a, b, c, d);
  }

  /** The cell for three raw label values, as `table.at3` of their resolved ids would give it (and report). */
  at3(a: unknown, b: unknown, c: unknown): Cell {
    const root = this.root;
    if (root !== undefined && typeof a === 'string' && typeof b === 'string' && typeof c === 'string') {
      const second = childOf(root, a) as TupleNode | undefined;
      if (second !== undefined) {
        const third = childOf(second, b) as TupleNode | undefined;
        if (third !== undefined) {
          const cell = childOf(third, c) as Cell | undefined;
          if (cell !== undefined) return cell;
        }
      }
    }
    return this.miss3(a, b, c);
  }

  // The full path, in the order the recording code resolved labels before this cache existed (so reports and
  // strict-mode errors come in the same order).
  private miss4(a: unknown, b: unknown, c: unknown, d: unknown): Cell {
    const vocabularies = this.table.vocabularies;
    const ia = vocabularies[0].resolve(a);
    const ib = vocabularies[1].resolve(b);
    const ic = vocabularies[2].resolve(c);
    const id = vocabularies[3].resolve(d);
    const cell = this.table.at4(ia, ib, ic, id);
    if (
      this.root !== undefined &&
      this.plain(0, a, ia) &&
      this.plain(1, b, ib) &&
      this.plain(2, c, ic) &&
      this.plain(3, d, id)
    ) {
      this.remember([a, b, c, d] as string[], [ia, ib, ic, id], cell);
    }
    return cell;
  }

  private miss3(a: unknown, b: unknown, c: unknown): Cell {
    const vocabularies = this.table.vocabularies;
    const ia = vocabularies[0].resolve(a);
    const ib = vocabularies[1].resolve(b);
    const ic = vocabularies[2].resolve(c);
    const cell = this.table.at3(ia, ib, ic);
    if (this.root !== undefined && this.plain(0, a, ia) && this.plain(1, b, ib) && this.plain(2, c, ic)) {
      this.remember([a, b, c] as string[], [ia, ib, ic], cell);
    }
    return cell;
  }

  /** Whether `raw` is a string label `label`'s vocabulary maps to `id` as it is, with nothing to report. */
  private plain(label: number, raw: unknown, id: number): boolean {
    return typeof raw === 'string' && this.table.vocabularies[label].cachedId(raw) === id;
  }

  private remember(values: readonly string[], ids: readonly number[], cell: Cell): void {
    const root = this.root;
    // Not the tuple's own series: the cap sent it to the overflow series, which must be reported every time.
    if (root === undefined || this.table.find(ids) !== cell) return;
    if (this.tuples >= MAX_CACHED_TUPLES) {
      this.root = undefined;
      return;
    }
    let node = root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = childOf(node, values[i]) as TupleNode | undefined;
      if (next === undefined) {
        next = new TupleNode();
        addChild(node, values[i], next);
      }
      node = next;
    }
    if (childOf(node, values[last]) !== undefined) return;
    addChild(node, values[last], cell);
    this.tuples++;
  }
}
