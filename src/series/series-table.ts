/**
 * The series of one metric, keyed by the ids of its label values in catalog order: an open-addressing hash
 * table whose keys are the id tuples themselves, so finding an existing series is one integer hash and a few
 * typed-array reads (no key string, no sort, no JSON, no allocation).
 *
 * Why not a trie of arrays (the first design): a node per label prefix made the trie the largest part of a
 * series' memory (a leaf array per series, ~80-110 B with 8-byte pointers), for no gain in speed. Here a series
 * costs one slot (8 B) plus its ids (4 B per label) at a load factor between 3/8 and 3/4.
 *
 * Owns: the lifetime cap on series (which, unlike the SDK's per-collection limit, holds across scrapes), the
 * all-"other" overflow series, the list of cells for collection and when each series was born. Must not touch:
 * label normalisation (ids come from LabelVocabulary), exporters.
 */
import type { Attributes } from '@opentelemetry/api';
import type { LabelIds } from '../guard/vocabulary';
import type { GuardReporter } from '../guard/reporter';
import { performanceNow } from './time';

const INITIAL_CAPACITY = 16;

// One odd multiplier per label position, so (a, b) and (b, a) land in different slots.
const M0 = 0x9e3779b1 | 0;
const M1 = 0x85ebca77 | 0;
const M2 = 0xc2b2ae3d | 0;
const M3 = 0x27d4eb2f | 0;

/**
 * Slots filled with `undefined` rather than holes: every slot array then has the same elements kind from the
 * start (a holey array of Smis turns into an array of objects at its first insert), so the lookups shared by
 * all tables never see a new array map and never deoptimise after warm-up, even for a table still empty.
 */
function emptySlots<Cell>(capacity: number): Array<Cell | undefined> {
  return new Array<Cell | undefined>(capacity).fill(undefined);
}

function finish(hash: number): number {
  return hash ^ (hash >>> 15);
}

export class SeriesTable<Cell> {
  /** Every series in creation order (the overflow series last, once it exists). */
  readonly cells: Cell[] = [];
  /**
   * When each series of `cells` was born (its first measurement): the start time of its cumulative points, so
   * Prometheus's created-timestamp zero lands beside the first increment and counts it
   * (docs/money.md#exact-to-the-cent). A `performance.now()` reading (series/time.ts makes it an HrTime when a
   * collection reports it) in a column rather than an HrTime in each cell: 8 bytes a series instead of 64.
   * Replaced by a larger copy as series are added; an entry never changes.
   */
  births = new Float64Array(INITIAL_CAPACITY);
  private readonly arity: number;
  /** The cell of each slot; `undefined` marks an empty slot (no deletions, so no tombstones). */
  private slots: Array<Cell | undefined>;
  /** The label ids of each slot's series: `arity` ints per slot. */
  private ids: Int32Array;
  private mask: number;
  private seriesCount = 0;

  constructor(
    readonly metric: string,
    readonly labelKeys: readonly string[],
    readonly vocabularies: readonly LabelIds[],
    private readonly maxSeries: number,
    private readonly createCell: (attributes: Attributes) => Cell,
    private readonly reporter: GuardReporter,
  ) {
    this.arity = labelKeys.length;
    if (this.arity < 1 || this.arity > 4 || vocabularies.length !== this.arity) {
      throw new RangeError(`SeriesTable ${metric}: 1 to 4 labels with one vocabulary each`);
    }
    this.slots = emptySlots<Cell>(INITIAL_CAPACITY);
    this.ids = new Int32Array(INITIAL_CAPACITY * this.arity);
    this.mask = INITIAL_CAPACITY - 1;
  }

  get size(): number {
    return this.seriesCount;
  }

  // One method per arity keeps the hot path free of rest arguments and temporary arrays. Each probes linearly
  // from the tuple's hash until it finds the tuple (hit) or an empty slot (miss: create the series).
  at1(a: number): Cell {
    const slots = this.slots;
    const ids = this.ids;
    const mask = this.mask;
    let slot = finish(Math.imul(a + 1, M0)) & mask;
    for (;;) {
      const cell = slots[slot];
      if (cell === undefined) return this.create([a]);
      if (ids[slot] === a) return cell;
      slot = (slot + 1) & mask;
    }
  }

  at2(a: number, b: number): Cell {
    const slots = this.slots;
    const ids = this.ids;
    const mask = this.mask;
    let slot = finish(Math.imul(a + 1, M0) ^ Math.imul(b + 1, M1)) & mask;
    for (;;) {
      const cell = slots[slot];
      if (cell === undefined) return this.create([a, b]);
      const at = slot << 1;
      if (ids[at] === a && ids[at + 1] === b) return cell;
      slot = (slot + 1) & mask;
    }
  }

  at3(a: number, b: number, c: number): Cell {
    const slots = this.slots;
    const ids = this.ids;
    const mask = this.mask;
    let slot = finish(Math.imul(a + 1, M0) ^ Math.imul(b + 1, M1) ^ Math.imul(c + 1, M2)) & mask;
    for (;;) {
      const cell = slots[slot];
      if (cell === undefined) return this.create([a, b, c]);
      const at = slot * 3;
      if (ids[at] === a && ids[at + 1] === b && ids[at + 2] === c) return cell;
      slot = (slot + 1) & mask;
    }
  }

  at4(a: number, b: number, c: number, d: number): Cell {
    const slots = this.slots;
    const ids = this.ids;
    const mask = this.mask;
    let slot =
      finish(Math.imul(a + 1, M0) ^ Math.imul(b + 1, M1) ^ Math.imul(c + 1, M2) ^ Math.imul(d + 1, M3)) &
      mask;
    for (;;) {
      const cell = slots[slot];
      if (cell === undefined) return this.create([a, b, c, d]);
      const at = slot << 2;
      if (ids[at] === a && ids[at + 1] === b && ids[at + 2] === c && ids[at + 3] === d) return cell;
      slot = (slot + 1) & mask;
    }
  }

  /** The cell of an id tuple, if that series exists (slow path: the overflow series, tests). */
  find(ids: readonly number[]): Cell | undefined {
    for (let slot = this.home(ids); ; slot = (slot + 1) & this.mask) {
      const cell = this.slots[slot];
      if (cell === undefined || this.holds(slot, ids)) return cell;
    }
  }

  private create(ids: number[], beyondCap = false): Cell {
    if (this.seriesCount >= this.maxSeries && !beyondCap) {
      this.reporter.seriesOverflow(this.metric, this.maxSeries);
      return this.overflow();
    }
    const attributes: Record<string, string> = {};
    for (let i = 0; i < ids.length; i++) attributes[this.labelKeys[i]] = this.vocabularies[i].values[ids[i]];
    const cell = this.createCell(Object.freeze(attributes));
    // Keep the load factor at most 3/4: linear probing stays at a couple of probes per lookup.
    if ((this.seriesCount + 1) * 4 > this.slots.length * 3) this.grow();
    this.insert(ids, cell);
    this.seriesCount++;
    const index = this.cells.push(cell) - 1;
    if (index === this.births.length) {
      const births = new Float64Array(index * 2);
      births.set(this.births);
      this.births = births;
    }
    this.births[index] = performanceNow();
    return cell;
  }

  private home(ids: readonly number[]): number {
    let hash = Math.imul(ids[0] + 1, M0);
    if (ids.length > 1) hash ^= Math.imul(ids[1] + 1, M1);
    if (ids.length > 2) hash ^= Math.imul(ids[2] + 1, M2);
    if (ids.length > 3) hash ^= Math.imul(ids[3] + 1, M3);
    return finish(hash) & this.mask;
  }

  private holds(slot: number, ids: readonly number[]): boolean {
    for (let i = 0; i < this.arity; i++) if (this.ids[slot * this.arity + i] !== ids[i]) return false;
    return true;
  }

  private insert(ids: readonly number[], cell: Cell): void {
    let slot = this.home(ids);
    while (this.slots[slot] !== undefined) slot = (slot + 1) & this.mask;
    this.slots[slot] = cell;
    for (let i = 0; i < this.arity; i++) this.ids[slot * this.arity + i] = ids[i];
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldIds = this.ids;
    const capacity = oldSlots.length * 2;
    this.slots = emptySlots<Cell>(capacity);
    this.ids = new Int32Array(capacity * this.arity);
    this.mask = capacity - 1;
    const tuple = new Array<number>(this.arity);
    for (let slot = 0; slot < oldSlots.length; slot++) {
      const cell = oldSlots[slot];
      if (cell === undefined) continue;
      for (let i = 0; i < this.arity; i++) tuple[i] = oldIds[slot * this.arity + i];
      this.insert(tuple, cell);
    }
  }

  // Past the cap, new combinations share the all-"other" series (allowed as the one series beyond the cap).
  // It is an ordinary entry, so a measurement whose labels really are all "other" finds the same cell.
  private overflow(): Cell {
    const otherIds = this.vocabularies.map((vocabulary) => vocabulary.otherId);
    return this.find(otherIds) ?? this.create(otherIds, true);
  }
}
