/**
 * A bounded vocabulary for one label of one metric: maps raw caller values to small integer ids of canonical
 * values, so the series table can be keyed by ids (no key strings, no sorting, no JSON on the hot path).
 *
 * Owns: the id space of one label, the raw-value cache, the cap / allow-list decision, and the validation of a
 * configured LabelPolicy (a malformed policy would otherwise silently remove the bound). Must not touch: series,
 * the SDK. Every value it replaces is reported (and so counted) on every measurement, because replaced raw values
 * are never cached: hostile traffic takes the slow path, normal traffic one Map lookup.
 */
import { OTHER_LABEL_VALUE, UNKNOWN_LABEL_VALUE, type LabelPolicy } from '../catalog/labels';
import { normalizeLabelValue, rawLengthBound } from './normalize';
import type { LabelOrigin } from './reasons';
import type { GuardReporter, RelabelSite } from './reporter';

export interface VocabularyLimits {
  /** Longest label value kept, in UTF-16 code units; longer values are cut. */
  readonly maxLabelLength: number;
}

/**
 * What a series table needs from a label's vocabulary: the canonical value of each id, the id of `other` (for the
 * overflow series) and the raw-value -> id mapping. LabelVocabulary is one; the currency label has its own
 * (src/money/currency-vocabulary.ts), which drops rather than relabels.
 */
export interface LabelIds {
  readonly values: readonly string[];
  readonly otherId: number;
  resolve(raw: unknown): number;
  /**
   * The id `resolve(raw)` returns for a spelling it maps as it is, with nothing to report (one it has cached),
   * or -1: a cache in front of the vocabulary may keep only those (src/series/raw-tuple-cache.ts).
   */
  cachedId(raw: string): number;
}

/** The most values an allow-list is shown with in a message; longer lists end with "...". */
const VALUES_IN_MESSAGE = 20;

export class LabelVocabulary implements LabelIds {
  /** Canonical value of each id. Ids are dense, starting at 0. */
  readonly values: string[] = [];
  readonly otherId: number;
  readonly unknownId: number;
  private readonly idsByRaw = new Map<string, number>();
  private readonly idsByCanonical = new Map<string, number>();
  private readonly allowed: boolean;
  private readonly maxOpenValues: number;
  private openValues = 0;
  private readonly rawCacheLimit: number;
  private readonly missingSite: RelabelSite;
  private readonly invalidTypeSite: RelabelSite;
  private readonly notAllowedSite: RelabelSite;
  private readonly capSite: RelabelSite;

  /**
   * @throws TypeError or RangeError when `policy` is malformed (not an allow-list of strings, or a cap that is
   *   not a non-negative integer): a configuration error surfaces at init, never as an unbounded label.
   */
  constructor(
    metric: string,
    label: string,
    policy: LabelPolicy,
    private readonly limits: VocabularyLimits,
    private readonly reporter: GuardReporter,
    origin: LabelOrigin,
  ) {
    this.otherId = this.add(OTHER_LABEL_VALUE);
    this.unknownId = this.add(UNKNOWN_LABEL_VALUE);
    const checked = checkPolicy(label, policy, limits.maxLabelLength);
    this.allowed = checked.kind === 'allow';
    this.maxOpenValues = checked.maxOpenValues;
    for (const value of checked.values) this.add(value);
    this.rawCacheLimit = 4 * (this.values.length + this.maxOpenValues) + 64;

    const site = (reason: Parameters<GuardReporter['relabelSite']>[3], rule: string) =>
      reporter.relabelSite(origin, metric, label, reason, rule);
    this.missingSite = site('missing', 'is required');
    this.invalidTypeSite = site('invalid_type', 'must be a string, number or boolean');
    const shown = checked.values.slice(0, VALUES_IN_MESSAGE).join(', ');
    this.notAllowedSite = site(
      'not_allowed',
      `must be one of ${shown}${checked.values.length > VALUES_IN_MESSAGE ? ', ...' : ''} ` +
        `(configure limits.labels.${label} to allow more)`,
    );
    this.capSite = site(
      'cap',
      `has more than ${this.maxOpenValues} distinct values (limits.labels.${label}.maxValues)`,
    );
  }

  /** Id of the canonical value for `raw`. Never throws (in normal mode); O(1) Map lookup for a seen string. */
  resolve(raw: unknown): number {
    if (typeof raw === 'string') {
      const id = this.idsByRaw.get(raw);
      if (id !== undefined) return id;
    }
    return this.resolveSlowly(raw);
  }

  cachedId(raw: string): number {
    return this.idsByRaw.get(raw) ?? -1;
  }

  /** Number of distinct values admitted beyond the policy's built-in ones. */
  get admittedCount(): number {
    return this.openValues;
  }

  private resolveSlowly(raw: unknown): number {
    const normalized = normalizeLabelValue(raw, this.limits.maxLabelLength);
    if (typeof normalized !== 'string') {
      if (normalized.reason === 'missing') {
        this.reporter.relabel(this.missingSite, raw);
        return this.unknownId;
      }
      this.reporter.relabel(this.invalidTypeSite, raw);
      return this.otherId;
    }
    let id = this.idsByCanonical.get(normalized);
    if (id === undefined) {
      if (this.allowed) {
        this.reporter.relabel(this.notAllowedSite, raw);
        return this.otherId;
      }
      if (this.openValues >= this.maxOpenValues) {
        this.reporter.relabel(this.capSite, raw);
        return this.otherId;
      }
      this.openValues++;
      id = this.add(normalized);
    }
    if (
      typeof raw === 'string' &&
      raw.length <= rawLengthBound(this.limits.maxLabelLength) &&
      this.idsByRaw.size < this.rawCacheLimit
    ) {
      this.idsByRaw.set(raw, id);
    }
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

interface CheckedPolicy {
  readonly kind: 'allow' | 'capped';
  /** Normalised allow-list or known values. */
  readonly values: string[];
  readonly maxOpenValues: number;
}

/**
 * Validates a policy (it may come from untyped JavaScript or JSON) and normalises its values the way caller
 * values are normalised, so an allow-listed value longer than the length cap, or with stray spaces, still
 * matches what callers send.
 */
function checkPolicy(label: string, policy: LabelPolicy, maxLabelLength: number): CheckedPolicy {
  const where = `limits.labels.${label}`;
  if (typeof policy !== 'object' || policy === null) {
    throw new TypeError(
      `${where} must be { kind: 'allow', values: [...] } or { kind: 'capped', maxValues: n, known?: [...] }`,
    );
  }
  const normalizeAll = (values: unknown, field: string): string[] => {
    if (!Array.isArray(values)) throw new TypeError(`${where}.${field} must be an array of strings`);
    return values.map((value: unknown, i) => {
      const normalized = typeof value === 'string' ? normalizeLabelValue(value, maxLabelLength) : undefined;
      if (typeof normalized !== 'string') {
        throw new TypeError(`${where}.${field}[${i}] must be a non-empty string`);
      }
      return normalized;
    });
  };
  if (policy.kind === 'allow') {
    return { kind: 'allow', values: normalizeAll(policy.values, 'values'), maxOpenValues: 0 };
  }
  if (policy.kind === 'capped') {
    const max: unknown = policy.maxValues;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`${where}.maxValues must be an integer >= 0 (got ${String(max)})`);
    }
    return {
      kind: 'capped',
      values: policy.known === undefined ? [] : normalizeAll(policy.known, 'known'),
      maxOpenValues: max,
    };
  }
  throw new TypeError(
    `${where}.kind must be 'allow' or 'capped' (got ${String((policy as { kind?: unknown }).kind)})`,
  );
}
