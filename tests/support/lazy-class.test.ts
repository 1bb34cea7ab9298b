/**
 * src/support/lazy-class.ts: the stand-in loads nothing until used, then is the class for `new`, `instanceof`,
 * `extends`, statics and `prototype`, and loads it once.
 */
import { lazyClass } from '../../src/support/lazy-class';

class Base {
  static kind = 'base';
  constructor(readonly value: number) {}
  twice(): number {
    return this.value * 2;
  }
}

describe('lazyClass', () => {
  it('loads on first use only, once', () => {
    let loads = 0;
    const Lazy = lazyClass(() => {
      loads++;
      return Base;
    });
    expect(loads).toBe(0);
    const made = new Lazy(21);
    expect(loads).toBe(1);
    expect(made).toBeInstanceOf(Base);
    expect(made).toBeInstanceOf(Lazy);
    expect(made.twice()).toBe(42);
    expect(Object.getPrototypeOf(made)).toBe(Base.prototype);
    expect(Lazy.kind).toBe('base');
    expect(Lazy.prototype).toBe(Base.prototype);
    expect(new Base(1)).toBeInstanceOf(Lazy);
    expect({}).not.toBeInstanceOf(Lazy);
    expect(loads).toBe(1);
  });

  it('can be extended, and the subclass is what `new` makes', () => {
    const Lazy = lazyClass(() => Base);
    class Sub extends Lazy {
      thrice(): number {
        return this.value * 3;
      }
    }
    const sub = new Sub(2);
    expect(sub).toBeInstanceOf(Sub);
    expect(sub).toBeInstanceOf(Base);
    expect(sub.thrice()).toBe(6);
    expect(sub.twice()).toBe(4);
  });

  it('passes an error of the loader to the caller at first use', () => {
    const Lazy = lazyClass<typeof Base>(() => {
      throw new Error('cannot load');
    });
    expect(() => new Lazy(1)).toThrow('cannot load');
  });
});
