/**
 * src/guard/char-code.ts directly: the bound `charCodeAt` returns what `String.prototype.charCodeAt` returns, for
 * every UTF-16 code unit (surrogate halves included) and out-of-range indexes (NaN), also once a class extending
 * String exists in the process (as ioredis defines one), the case it exists for.
 */
import { charCodeAt } from '../../src/guard/char-code';

const TEXT = 'aZ09_é€\u{1F600}\uD800x\u0000';

it('returns the code unit at each index, as String.prototype.charCodeAt does', () => {
  for (let i = -1; i <= TEXT.length; i++) expect([i, charCodeAt(TEXT, i)]).toEqual([i, TEXT.charCodeAt(i)]);
  expect(charCodeAt(TEXT, 0)).toBe(0x61);
  expect(charCodeAt(TEXT, 7)).toBe(0xd83d); // the high surrogate of U+1F600
  expect(charCodeAt(TEXT, TEXT.length)).toBeNaN();
});

it('gives the same answers with a String subclass in the process', () => {
  class VerbatimString extends String {}
  const wrapped = new VerbatimString('kept');
  expect(wrapped.charCodeAt(0)).toBe(0x6b);
  for (let i = 0; i < TEXT.length; i++) expect(charCodeAt(TEXT, i)).toBe(TEXT.charCodeAt(i));
});
