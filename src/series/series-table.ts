/**
 * The series of one metric, keyed by the ids of its label values in catalog order: a trie of arrays, one level
 * per label, so finding an existing series is a handful of array reads (no key string, no sort, no JSON).
 *
 * Owns: the lifetime cap on series (which, unlike the SDK's per-collection limit, holds across scrapes), the
 * all-"other" overflow series, and the list of cells for collection. Must not touch: label normalisation (ids
 * come from LabelVocabulary), exporters.
 */
import type { Attributes } from '@opentelemetry/api';
import type { LabelVocabulary } from '../guard/vocabulary';
import type { GuardReporter } from '../guard/reporter';

type TrieNode<Cell> = Array<TrieNode<Cell> | Cell | undefined>;

export class SeriesTable<Cell> {
  /** Every series in creation order (the overflow series last, once it exists). */
  readonly cells: Cell[] = [];
  private root: TrieNode<Cell> = [];
  private seriesCount = 0;

  constructor(
    readonly metric: string,
    readonly labelKeys: readonly string[],
    readonly vocabularies: readonly LabelVocabulary[],
    private readonly maxSeries: number,
    private readonly createCell: (attributes: Attributes) => Cell,
    private readonly reporter: GuardReporter,
  ) {}

  get size(): number {
    return this.seriesCount;
  }

  // One method per arity keeps the hot path free of rest arguments and temporary arrays.
  at1(a: number): Cell {
    return (this.root[a] as Cell | undefined) ?? this.create([a]);
  }

  at2(a: number, b: number): Cell {
    const level1 = this.root[a] as TrieNode<Cell> | undefined;
    return (level1?.[b] as Cell | undefined) ?? this.create([a, b]);
  }

  at3(a: number, b: number, c: number): Cell {
    const level1 = this.root[a] as TrieNode<Cell> | undefined;
    const level2 = level1?.[b] as TrieNode<Cell> | undefined;
    return (level2?.[c] as Cell | undefined) ?? this.create([a, b, c]);
  }

  at4(a: number, b: number, c: number, d: number): Cell {
    const level1 = this.root[a] as TrieNode<Cell> | undefined;
    const level2 = level1?.[b] as TrieNode<Cell> | undefined;
    const level3 = level2?.[c] as TrieNode<Cell> | undefined;
    return (level3?.[d] as Cell | undefined) ?? this.create([a, b, c, d]);
  }

  private create(ids: number[], beyondCap = false): Cell {
    if (this.seriesCount >= this.maxSeries && !beyondCap) {
      this.reporter.seriesOverflow(this.metric, this.maxSeries);
      return this.overflow();
    }
    const attributes: Record<string, string> = {};
    for (let i = 0; i < ids.length; i++) attributes[this.labelKeys[i]] = this.vocabularies[i].values[ids[i]];
    const cell = this.createCell(Object.freeze(attributes));
    const last = ids.length - 1;
    let node = this.fit(this.root, 0, ids[0]);
    this.root = node;
    for (let level = 0; level < last; level++) {
      const existing = node[ids[level]] as TrieNode<Cell> | undefined;
      const next =
        existing === undefined
          ? this.node(level + 1, ids[level + 1])
          : this.fit(existing, level + 1, ids[level + 1]);
      node[ids[level]] = next;
      node = next;
    }
    node[ids[last]] = cell;
    this.seriesCount++;
    this.cells.push(cell);
    return cell;
  }

  // Trie nodes are allocated at their exact size: `[]` followed by `node[id] = x` lets V8 reserve id * 1.5 + 16
  // slots, which made the trie the largest part of a series (measured: ~200 B per leaf array for id 2, ~660 B
  // for id 40). A node sized to its label's vocabulary costs 24 B + 4 B per value.
  private node(level: number, id: number, atLeast = 0): TrieNode<Cell> {
    return new Array<TrieNode<Cell> | Cell | undefined>(
      Math.max(id + 1, this.vocabularies[level].values.length, atLeast),
    );
  }

  /** `node` if `id` fits in it, else a resized copy (an open vocabulary admitted a value since). Growing by a
   * quarter at least keeps a vocabulary that grows one value at a time from copying quadratically. */
  private fit(node: TrieNode<Cell>, level: number, id: number): TrieNode<Cell> {
    if (id < node.length) return node;
    const grown = this.node(level, id, node.length + (node.length >> 2));
    for (let i = 0; i < node.length; i++) grown[i] = node[i];
    return grown;
  }

  // Past the cap, new combinations share the all-"other" series (allowed as the one series beyond the cap).
  // It is an ordinary trie entry, so a measurement whose labels really are all "other" finds the same cell.
  private overflow(): Cell {
    const otherIds = this.vocabularies.map((vocabulary) => vocabulary.otherId);
    let node: TrieNode<Cell> | undefined = this.root;
    for (let i = 0; i < otherIds.length - 1 && node; i++)
      node = node[otherIds[i]] as TrieNode<Cell> | undefined;
    const existing = node?.[otherIds[otherIds.length - 1]] as Cell | undefined;
    return existing ?? this.create(otherIds, true);
  }
}
