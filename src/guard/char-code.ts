/**
 * Reading caller strings one UTF-16 code unit at a time on hot paths (the user-id hash, currency codes).
 *
 * Owns: how hot paths call `charCodeAt`. Must not touch: anything else.
 */

/**
 * `String.prototype.charCodeAt` called through a bound `call`. Why: in V8 11 (Node 20), once any class in the
 * process extends String (ioredis's RESP decoder does: `class VerbatimString extends String`), `text.charCodeAt(i)`
 * loses its fast path and costs ~4x; the bound form keeps it (measured in docs/active-users.md).
 */
export const charCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt) as (
  text: string,
  index: number,
) => number;
