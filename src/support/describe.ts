/**
 * Text about values and errors that is safe in a log line or a thrown message, whoever supplied it.
 *
 * Owns: `describe` (any value, without calling caller code), `safeMessage` (an error's message) and `printable`
 * (any text on one line). Must not touch: where the text goes (diag, a TypeError, stderr).
 */

// Bidirectional overrides and Unicode separators that could spoof or break a line even inside JSON quotes.
const LOG_UNSAFE = /[\u0085\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// The same, plus C0/C1 controls: what could rewrite a terminal line when text is printed as is.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` on one line: control characters, separators and bidirectional overrides become spaces; cut at `maxLength`. */
export function printable(text: string, maxLength = 500): string {
  const flat = text.replace(UNPRINTABLE, ' ');
  return flat.length > maxLength ? `${flat.slice(0, maxLength)}…` : flat;
}

/** The message of an error (or the text of any thrown value), printable and at most `maxLength` long. Never throws. */
export function safeMessage(error: unknown, maxLength = 200): string {
  try {
    return printable(error instanceof Error ? String(error.message) : String(error), maxLength);
  } catch {
    // A thrown object whose toString or message getter throws.
    return 'an unprintable error';
  }
}

/** A short, safe description of any value for a message: never calls caller code, never breaks a log line. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      // JSON escapes controls and lone surrogates; the rest of what could break or spoof a log line (NEL, the
      // line/paragraph separators, bidirectional overrides) is escaped here, since the text comes from callers.
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value).replace(
        LOG_UNSAFE,
        (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      try {
        // instanceof and .message can run caller code (proxies, getters): never let that escape.
        if (value instanceof Error) {
          // Each part is cut already; printable only flattens.
          return printable(
            `${String(value.name).slice(0, 60)}: ${String(value.message).slice(0, 200)}`,
            Infinity,
          );
        }
        if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
        return Array.isArray(value) ? 'an array' : 'an object';
      } catch {
        return 'an object';
      }
  }
}
