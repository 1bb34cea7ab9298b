/**
 * A bounded vocabulary for one label of one metric: maps raw caller values to small integer ids of canonical
 * values, so the series table can be keyed by ids (no key strings, no sorting, no JSON on the hot path).
 *
 * Owns: the id space of one label, the raw-value cache, the cap / allow-list decision. Must not touch: series,
 * the SDK. Every value it replaces is reported (and so counted) on every measurement, because replaced raw values
 * are never cached: hostile traffic takes the slow path, normal traffic one Map lookup.
 */
import { OTHER_LABEL_VALUE, UNKNOWN_LABEL_VALUE, type LabelPolicy } from '../catalog/labels';
import { normalizeLabelValue } from './normalize';
import type { GuardReporter, LabelOrigin } from './reporter';

export interface VocabularyLimits {
  /** Longest label value kept, in UTF-16 code units; longer values are cut. */
  readonly maxLabelLength: number;
}

export class LabelVocabulary {
  /** Canonical value of each id. Ids are dense, starting at 0. */
  readonly values: string[] = [];
  readonly otherId: number;
  readonly unknownId: number;
  private readonly idsByRaw = new Map<string, number>();
  private readonly idsByCanonical = new Map<string, number>();
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly maxOpenValues: number;
  private openValues = 0;
  private readonly rawCacheLimit: number;

  constructor(
    private readonly metric: string,
    private readonly label: string,
    private readonly policy: LabelPolicy,
    private readonly limits: VocabularyLimits,
    private readonly reporter: GuardReporter,
    private readonly origin: LabelOrigin,
  ) {
    this.otherId = this.add(OTHER_LABEL_VALUE);
    this.unknownId = this.add(UNKNOWN_LABEL_VALUE);
    if (policy.kind === 'allow') {
      this.allowed = new Set(policy.values);
      this.maxOpenValues = 0;
      for (const value of policy.values) this.add(value);
    } else {
      this.maxOpenValues = policy.maxValues;
      for (const value of policy.known ?? []) this.add(value);
    }
    this.rawCacheLimit = 4 * (this.values.length + this.maxOpenValues) + 64;
  }

  /** Id of the canonical value for `raw`. Never throws (in normal mode); O(1) Map lookup for a seen string. */
  resolve(raw: unknown): number {
    if (typeof raw === 'string') {
      const id = this.idsByRaw.get(raw);
      if (id !== undefined) return id;
    }
    return this.resolveSlowly(raw);
  }

  /** Number of distinct values admitted beyond the policy's built-in ones. */
  get admittedCount(): number {
    return this.openValues;
  }

  private resolveSlowly(raw: unknown): number {
    const normalized = normalizeLabelValue(raw, this.limits.maxLabelLength);
    if (typeof normalized !== 'string') {
      if (normalized.reason === 'missing') {
        this.reporter.relabel(this.origin, this.metric, this.label, 'missing', raw, 'is required');
        return this.unknownId;
      }
      this.reporter.relabel(
        this.origin,
        this.metric,
        this.label,
        'invalid_type',
        raw,
        'must be a string, number or boolean',
      );
      return this.otherId;
    }
    let id = this.idsByCanonical.get(normalized);
    if (id === undefined) {
      if (this.allowed) {
        this.reporter.relabel(
          this.origin,
          this.metric,
          this.label,
          'not_allowed',
          raw,
          `must be one of ${[...this.allowed].join(', ')} (configure limits.labels.${this.label} to allow more)`,
        );
        return this.otherId;
      }
      if (this.openValues >= this.maxOpenValues) {
        this.reporter.relabel(
          this.origin,
          this.metric,
          this.label,
          'cap',
          raw,
          `has more than ${this.maxOpenValues} distinct values`,
        );
        return this.otherId;
      }
      this.openValues++;
      id = this.add(normalized);
    }
    if (typeof raw === 'string' && this.idsByRaw.size < this.rawCacheLimit) this.idsByRaw.set(raw, id);
    return id;
  }

  private add(canonical: string): number {
    const existing = this.idsByCanonical.get(canonical);
    if (existing !== undefined) return existing;
    const id = this.values.length;
    this.values.push(canonical);
    this.idsByCanonical.set(canonical, id);
    this.idsByRaw.set(canonical, id);
    return id;
  }
}
