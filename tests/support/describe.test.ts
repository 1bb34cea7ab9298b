/**
 * src/support/describe.ts: what the package writes about values and errors that came from outside never runs
 * caller code, never breaks or spoofs a log line, and stays short.
 */
import { describe as describeValue, printable, safeMessage } from '../../src/support';

describe('describe (values in messages)', () => {
  it('never runs caller code and keeps messages short', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const trap = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    const getter = Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('getter');
      },
    });
    expect(describeValue(proxy)).toBe('an object');
    expect(describeValue(trap)).toBe('an object');
    expect(describeValue(getter)).toBe('an object');
    expect(describeValue('y'.repeat(10_000))).toBe(JSON.stringify(`${'y'.repeat(40)}…`));
    expect(describeValue(new Date(NaN))).toBe('an invalid Date');
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue(Symbol('s'))).toBe('a symbol');
    // Caller text cannot break or spoof a log line.
    expect(describeValue('a\nb\u2028c\u2029d\u0085e\u202ef')).toBe('"a\\nb\\u2028c\\u2029d\\u0085e\\u202ef"');
    expect(describeValue('\ud800x')).toBe('"\\ud800x"');
    // A caller's error (thrown by a getter) is described briefly, on one line.
    const huge = Object.assign(new Error(`line1\nline2${'m'.repeat(10_000)}`), {
      name: `N${'n'.repeat(10_000)}`,
    });
    const described = describeValue(huge);
    expect(described.length).toBeLessThan(300);
    expect(described).not.toMatch(/[\n\r]/);
    expect(described).toBe(`N${'n'.repeat(59)}: line1 line2${'m'.repeat(189)}`);
  });
});

describe('printable and safeMessage (server and error text on one line)', () => {
  it('flattens controls, separators and bidirectional overrides, and cuts with an ellipsis', () => {
    expect(printable('a\r\nb\u0007c\u2028d\u202ee\u2066f')).toBe('a  b c d e f');
    expect(printable('x'.repeat(12), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(printable('short', 10)).toBe('short');
  });

  it('reads any thrown value without letting a hostile one escape', () => {
    expect(safeMessage(new Error('ECONNREFUSED\n127.0.0.1:6379'))).toBe('ECONNREFUSED 127.0.0.1:6379');
    expect(safeMessage('plain text')).toBe('plain text');
    expect(safeMessage(new Error('z'.repeat(500)), 20)).toBe(`${'z'.repeat(20)}…`);
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(safeMessage(hostile)).toBe('an unprintable error');
  });
});
