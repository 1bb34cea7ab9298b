/**
 * normalizeLabelValue: whatever a caller passes as a label value becomes a clean, bounded string or a reason,
 * without ever running caller code or throwing.
 */
import { normalizeLabelValue } from '../../src/guard/normalize';
import { retainedBytes } from '../support/heap';

const MAX = 64;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('normalizeLabelValue', () => {
  it('keeps ordinary values and converts numbers, booleans and BigInts with String()', () => {
    expect(normalizeLabelValue('google_ads', MAX)).toBe('google_ads');
    expect(normalizeLabelValue(42, MAX)).toBe('42');
    expect(normalizeLabelValue(-0, MAX)).toBe('0');
    expect(normalizeLabelValue(1.5e300, MAX)).toBe('1.5e+300');
    expect(normalizeLabelValue(true, MAX)).toBe('true');
    expect(normalizeLabelValue(false, MAX)).toBe('false');
    expect(normalizeLabelValue(2n ** 70n, MAX)).toBe('1180591620717411303424');
  });

  it('treats undefined, null, empty and whitespace-only values as missing', () => {
    for (const raw of [undefined, null, '', '   ', '\t\n', '\u0000\u0001', '\u00a0\u2003']) {
      expect(normalizeLabelValue(raw, MAX)).toEqual({ reason: 'missing' });
    }
  });

  it('refuses functions, symbols, objects, arrays, boxed primitives and Dates without calling their code', () => {
    let called = 0;
    const hostile = {
      toString() {
        called++;
        return 'x';
      },
      valueOf() {
        called++;
        return 1;
      },
      [Symbol.toPrimitive]() {
        called++;
        return 'x';
      },
    };
    const fn = Object.assign(() => 'x', { toString: () => `${called++}` });
    for (const raw of [fn, Symbol('s'), hostile, ['a'], {}, new String('a'), new Date(), /re/, new Map()]) {
      expect(normalizeLabelValue(raw, MAX)).toEqual({ reason: 'invalid_type' });
    }
    expect(called).toBe(0);
  });

  it('refuses circular structures and proxies whose every trap throws', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('get trap');
        },
        getPrototypeOf() {
          throw new Error('getPrototypeOf trap');
        },
        has() {
          throw new Error('has trap');
        },
        ownKeys() {
          throw new Error('ownKeys trap');
        },
      },
    );
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(normalizeLabelValue(circular, MAX)).toEqual({ reason: 'invalid_type' });
    expect(normalizeLabelValue(throwing, MAX)).toEqual({ reason: 'invalid_type' });
    expect(normalizeLabelValue(revoked, MAX)).toEqual({ reason: 'invalid_type' });
  });

  it('trims, and removes C0/C1 control characters, DEL and the Unicode line separators', () => {
    expect(normalizeLabelValue('  google  ', MAX)).toBe('google');
    expect(normalizeLabelValue('goo\u0000gle\n', MAX)).toBe('google');
    expect(normalizeLabelValue('a\r\nb\u007fc\u0085d\u009fe', MAX)).toBe('abcde');
    expect(normalizeLabelValue('line\u2028para\u2029end', MAX)).toBe('lineparaend');
    expect(normalizeLabelValue('\u001b[31mred\u001b[0m', MAX)).toBe('[31mred[0m');
  });

  it('keeps quotes, backslashes and non-ASCII text (the serializer escapes them), drops lone surrogates', () => {
    expect(normalizeLabelValue('say "hi" \\ there', MAX)).toBe('say "hi" \\ there');
    expect(normalizeLabelValue('café 日本 😀', MAX)).toBe('café 日本 😀');
    expect(normalizeLabelValue('a\ud800b', MAX)).toBe('ab');
    expect(normalizeLabelValue('a\udc00b', MAX)).toBe('ab');
    expect(normalizeLabelValue('\udc00\ud800', MAX)).toEqual({ reason: 'missing' });
    expect(normalizeLabelValue('x\ud83d\ude00y', MAX)).toBe('x😀y');
  });

  it('caps the length in UTF-16 units without splitting a surrogate pair or leaving trailing spaces', () => {
    expect(normalizeLabelValue('a'.repeat(100), MAX)).toBe('a'.repeat(MAX));
    const emoji = 'a'.repeat(MAX - 1) + '😀';
    expect(normalizeLabelValue(emoji, MAX)).toBe('a'.repeat(MAX - 1));
    expect(normalizeLabelValue('a'.repeat(MAX - 1) + ' b', MAX)).toBe('a'.repeat(MAX - 1));
    expect(normalizeLabelValue('ab', 1)).toBe('a');
  });

  it('bounds its work on a huge string: nothing past the first 4 x cap code units is read', () => {
    // Shown by the result, not by a timing: text placed after the first 4 x MAX units never reaches the output,
    // even when everything before it is removed, so the regex work is bounded by the cap whatever the input size.
    // (Its speed is a benchmark's job, not a unit test's.)
    const huge = Buffer.alloc(20_000_000, 'x').toString('latin1');
    expect(normalizeLabelValue(huge, MAX)).toBe('x'.repeat(MAX));
    const hiddenTail = '\u0000'.repeat(4 * MAX) + 'tail' + 'y'.repeat(10_000_000);
    expect(normalizeLabelValue(hiddenTail, MAX)).toEqual({ reason: 'missing' });
    // One unit less of removable prefix and the tail's first character is the first one kept.
    expect(normalizeLabelValue(' '.repeat(4 * MAX - 1) + 'tail', MAX)).toBe('t');
  });

  it('keeps nothing of a huge string: the value cut from it is a copy, not a view into it', () => {
    // V8 keeps a slice of a long string as a view that keeps the whole string alive; a vocabulary keeps each value
    // for the life of the process. 50 views of 1 MB strings would keep 50 MB; 50 copies of 64 characters, kBs.
    const retained = retainedBytes(() =>
      Array.from({ length: 50 }, (_, i) => normalizeLabelValue(`${i}_`.padEnd(1_000_000, 'z'), MAX)),
    );
    expect(retained).toBeLessThan(5_000_000);
  });

  it('returns only strings within the cap, free of controls and lone surrogates, for any string', () => {
    const samples = [
      '\u0000'.repeat(300) + 'a',
      'a' + '\ud800'.repeat(500),
      '😀'.repeat(200),
      ' \t'.repeat(100) + 'b' + ' '.repeat(100),
    ];
    for (const raw of samples) {
      const result = normalizeLabelValue(raw, MAX);
      if (typeof result !== 'string') continue;
      expect(result.length).toBeLessThanOrEqual(MAX);
      // eslint-disable-next-line no-control-regex
      expect(result).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(result).not.toMatch(LONE_SURROGATE);
    }
  });
});
