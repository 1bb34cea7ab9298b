/**
 * Turns whatever a caller passed as a label value into a clean, bounded string without ever throwing.
 *
 * Owns: type coercion, trimming, control-character removal, the length cap. Must not touch: vocabularies,
 * counters, the SDK. Callers decide what an invalid value becomes.
 */

/** Why a raw label value could not be used as given. */
export type InvalidLabelReason = 'missing' | 'invalid_type';

/** The result for an unusable raw value (an object, so no caller string can be mistaken for it). */
export interface InvalidLabel {
  readonly reason: InvalidLabelReason;
}
const MISSING: InvalidLabel = Object.freeze({ reason: 'missing' });
const INVALID_TYPE: InvalidLabel = Object.freeze({ reason: 'invalid_type' });

// C0/C1 controls, DEL, and the Unicode line/paragraph separators: they break exposition lines or log lines.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// A lone surrogate cannot be encoded as UTF-8; strip it rather than let an encoder substitute it silently.
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The longest raw string whose characters are all read (beyond it the rest is cut before cleaning, which bounds
 * the regex work on huge inputs), and so the longest a cache of raw spellings may keep: a cached spelling keeps the
 * caller's whole string alive, however short the value it stands for.
 */
export function rawLengthBound(maxLength: number): number {
  return maxLength * 4;
}

/**
 * Normalise one raw label value. Returns the clean string, or the reason it is unusable.
 * Strings are trimmed, stripped of control characters and capped at `maxLength` UTF-16 units (never splitting a
 * surrogate pair). Numbers, booleans and BigInts are converted with `String`. Everything else (objects,
 * functions, symbols) is refused: converting it could run caller code (`toString`, getters) or throw.
 */
export function normalizeLabelValue(raw: unknown, maxLength: number): string | InvalidLabel {
  let text: string;
  switch (typeof raw) {
    case 'string':
      text = raw;
      break;
    case 'number':
    case 'boolean':
    case 'bigint':
      text = String(raw);
      break;
    case 'undefined':
      return MISSING;
    default:
      return raw === null ? MISSING : INVALID_TYPE;
  }
  const huge = text.length > rawLengthBound(maxLength);
  if (huge) text = text.slice(0, rawLengthBound(maxLength));
  text = text.replace(CONTROL_CHARACTERS, '').replace(LONE_SURROGATES, '').trim();
  if (text.length > maxLength) {
    const lastKept = text.charCodeAt(maxLength - 1);
    const cut = lastKept >= 0xd800 && lastKept <= 0xdbff ? maxLength - 1 : maxLength;
    text = text.slice(0, cut).trimEnd();
  }
  if (text.length === 0) return MISSING;
  return huge ? detached(text) : text;
}

/**
 * `text` in memory of its own. V8 keeps a slice or a trim of a long string as a view into the whole string: a label
 * value cut from a 10 MB argument would keep all 10 MB alive for as long as the vocabulary keeps the value (the
 * process's life). Concatenating and slicing again makes V8 copy the characters into a new string.
 */
function detached(text: string): string {
  return ` ${text}`.slice(1);
}
