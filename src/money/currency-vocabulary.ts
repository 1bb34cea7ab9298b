/**
 * The `currency` label's vocabulary: maps a caller's code to a small integer id for the series table, or to a
 * drop reason. Unlike other labels, a currency is never rewritten: an unknown code recorded as `other` (or as
 * the default currency) would add amounts of different currencies together, so the measurement is dropped
 * and counted instead.
 *
 * Owns: the id space of currencies in use, the raw-code cache, the default for calls without a currency.
 * Must not touch: series, the SDK, reporting (the caller reports the returned problem).
 */
import { OTHER_LABEL_VALUE } from '../catalog/labels';
import { charCodeAt } from '../guard/char-code';
import type { LabelIds } from '../guard/vocabulary';
import {
  isCurrencyShaped,
  isIsoCurrency,
  type CurrencyInfo,
  type CurrencyProblem,
  type CurrencySettings,
} from './currencies';

/** Returned by {@link CurrencyVocabulary.resolve} for a code that cannot be recorded. */
export const INVALID_CURRENCY = -1;
export const UNKNOWN_CURRENCY = -2;
export const CURRENCY_NOT_ALLOWED = -3;

/** The drop reason of a negative id from {@link CurrencyVocabulary.resolve}. */
export function currencyProblem(id: number): CurrencyProblem {
  return id === UNKNOWN_CURRENCY
    ? 'unknown_currency'
    : id === CURRENCY_NOT_ALLOWED
      ? 'currency_not_allowed'
      : 'invalid_currency';
}

/** The rule a dropped code broke, for the warning / strict-mode message. */
export function currencyRule(id: number, settings: CurrencySettings): string {
  if (id === CURRENCY_NOT_ALLOWED)
    return `must be one of ${[...settings.allowed!].join(', ')} (money.currencies)`;
  return 'must be an ISO 4217 currency code (three letters, e.g. USD, EUR, JPY)';
}

export class CurrencyVocabulary implements LabelIds {
  /** Label value of each id: id 0 is `other` (only the series-cap overflow series uses it), then codes in
   * order of first use. */
  readonly values: string[] = [OTHER_LABEL_VALUE];
  readonly otherId = 0;
  /** Info of each id read so far (see {@link info}). */
  private readonly infos: Array<CurrencyInfo | undefined> = [undefined];
  /**
   * Id of the default currency (what calls without a currency record), given at its first use like any other
   * code's: until then the money gauges report no currency, so an app that records no money never reads an
   * exponent (never loads ICU's number data).
   */
  private defaultId = -1;
  /** 1 + id of each admitted code, indexed by its three letters in base 26 (0: not admitted). Why not only the
   * Map: this costs three character reads and one array read, about half a Map lookup, on every recordRevenue. */
  private readonly idsByCode26 = new Int16Array(26 * 26 * 26);
  private readonly idsByRaw = new Map<string, number>();
  private readonly idsByCode = new Map<string, number>();
  /** Distinct raw spellings cached ('usd', 'Usd', ...): bounded, so hostile casing cannot grow memory. */
  private readonly rawCacheLimit: number;

  constructor(private readonly settings: CurrencySettings) {
    this.rawCacheLimit = 4 * (settings.allowed?.size ?? 200);
  }

  /**
   * Id of the currency for `raw` (`undefined` means the default), or a negative constant saying why it cannot
   * be recorded. Never throws; one Map lookup for a code seen before.
   */
  resolve(raw: unknown): number {
    if (typeof raw === 'string') {
      if (raw.length === 3) {
        const id = this.idsByCode26[code26(raw)] - 1;
        if (id >= 0) return id;
      }
      const id = this.idsByRaw.get(raw);
      if (id !== undefined) return id;
    } else if (raw === undefined) {
      return this.defaultId >= 0 ? this.defaultId : (this.defaultId = this.idOf(this.settings.defaultCode));
    }
    return this.resolveSlowly(raw);
  }

  /** Every admitted code is in idsByRaw too (idOf), so the fast array adds nothing here. */
  cachedId(raw: string): number {
    return this.idsByRaw.get(raw) ?? -1;
  }

  /**
   * Why `raw` would be refused (the negative constant `resolve` returns), or 0 when it would be admitted, without
   * admitting it: an amount refused for another reason leaves no currency behind (no gauge series of its own).
   */
  refusal(raw: unknown): number {
    if (raw === undefined || (typeof raw === 'string' && this.idsByRaw.has(raw))) return 0;
    if (!isCurrencyShaped(raw)) return INVALID_CURRENCY;
    const code = raw.toUpperCase();
    if (!isIsoCurrency(code)) return UNKNOWN_CURRENCY;
    if (this.settings.allowed !== undefined && !this.settings.allowed.has(code)) return CURRENCY_NOT_ALLOWED;
    return 0;
  }

  private resolveSlowly(raw: unknown): number {
    const refused = this.refusal(raw);
    if (refused < 0) return refused;
    // Not refused: currency-shaped, so a string.
    const text = raw as string;
    const id = this.idOf(text.toUpperCase());
    if (this.idsByRaw.size < this.rawCacheLimit) this.idsByRaw.set(text, id);
    return id;
  }

  /**
   * The code and exponent of id `id` (> 0), read at collection: an exponent comes from ICU the first time its
   * code is asked for, which must not happen on the recording path (a sale would pay ICU's start, ~10 ms).
   */
  info(id: number): CurrencyInfo {
    return (this.infos[id] ??= this.settings.info(this.values[id]!));
  }

  private idOf(code: string): number {
    let id = this.idsByCode.get(code);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(code);
      this.idsByCode.set(code, id);
      this.idsByRaw.set(code, id);
      const index = code26(code);
      if (index !== 0) this.idsByCode26[index] = id + 1;
    }
    return id;
  }
}

/** Index of a three-character string of capital letters A-Z in 1..26^3-1; 0 for any other three characters
 * and for `AAA` (slot 0 is never filled, so both take the Map path). */
function code26(text: string): number {
  const a = charCodeAt(text, 0) - 65;
  const b = charCodeAt(text, 1) - 65;
  const c = charCodeAt(text, 2) - 65;
  return a >>> 0 < 26 && b >>> 0 < 26 && c >>> 0 < 26 ? (a * 26 + b) * 26 + c : 0;
}
