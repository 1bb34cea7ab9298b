/**
 * fast-check arbitraries for hostile input: anything a caller (or an attacker who controls a URL parameter) could
 * get into a record call. Shared by the fuzz tests.
 */
import fc from 'fast-check';

const throwing = (what: string) => () => {
  throw new Error(`hostile ${what}`);
};

/**
 * fast-check itself inspects generated values (`cloneMethod in value`, printing counterexamples), which a
 * throwing proxy or getter would break; such values are generated as a recipe and built at call time.
 */
export class Lazy {
  constructor(
    readonly name: string,
    readonly make: () => unknown,
  ) {}
  toString(): string {
    return `<${this.name}>`;
  }
}

const lazy = (name: string, make: () => unknown) => fc.constant(new Lazy(name, make));

/** Builds the hostile values of an argument: the argument itself, or one level of object fields / Map entries. */
export function materialize(value: unknown): unknown {
  if (value instanceof Lazy) return value.make();
  if (value instanceof Map) {
    return new Map([...value].map(([key, entry]) => [materialize(key), materialize(entry)]));
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value))
      copy[key] = entry instanceof Lazy ? entry.make() : entry;
    return copy;
  }
  return value;
}

/** A Proxy whose every trap throws. */
export const throwingProxy = lazy(
  'throwing proxy',
  () =>
    new Proxy(
      {},
      {
        get: throwing('get'),
        has: throwing('has'),
        ownKeys: throwing('ownKeys'),
        getPrototypeOf: throwing('getPrototypeOf'),
        getOwnPropertyDescriptor: throwing('getOwnPropertyDescriptor'),
        apply: throwing('apply'),
      },
    ),
);

export const revokedProxy = lazy('revoked proxy', () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
});

export const circular = fc.string({ maxLength: 5 }).map((key) => {
  const value: Record<string, unknown> = { key };
  value.self = value;
  value.list = [value];
  return value;
});

/** An object whose (enumerable) properties throw when read, including the ones record methods read. */
export const throwingGetters = fc
  .subarray([
    'source',
    'deviceType',
    'sessionStartTime',
    'region',
    'userTier',
    'isNewUser',
    'entryPage',
    'pro',
  ])
  .map(
    (keys) =>
      new Lazy(`getters ${keys.join(',')} throw`, () => {
        const value = {};
        for (const key of keys)
          Object.defineProperty(value, key, { get: throwing(`getter ${key}`), enumerable: true });
        return value;
      }),
  );

/** Values with a hostile toString / valueOf / Symbol.toPrimitive. */
export const hostileCoercion = lazy('throwing coercion', () => ({
  toString: throwing('toString'),
  valueOf: throwing('valueOf'),
  [Symbol.toPrimitive]: throwing('toPrimitive'),
}));

const nastyChars = fc.constantFrom(
  '\u0000',
  '\n',
  '\r',
  '\t',
  '"',
  '\\',
  '{',
  '}',
  '=',
  ',',
  ' ',
  '\u00a0',
  '\u0085',
  '\u2028',
  '\ud800',
  '\udc00',
  '😀',
  'é',
  '日',
  '\u202e',
  'a',
  '_',
);

/** Strings as an attacker would send them in `utm_source`: control characters, quotes, huge, unicode. */
export const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: nastyChars, maxLength: 150 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.stringMatching(/^utm_[a-z0-9]{1,12}$/),
  fc.constantFrom('x'.repeat(100_000), ' '.repeat(5000), '\u0000'.repeat(1000), 'other', 'unknown', ''),
);

/** Numbers a caller could pass as an amount or count. */
export const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.nat({ max: 1_000_000 }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 2 ** 53 + 1),
  fc.bigInt(),
);

/** Session start times: valid, invalid Dates, far past and future, epoch seconds by mistake, non-dates. */
export const hostileTime = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: 0, max: 3_600_000 }).map((ms) => new Date(Date.now() - ms)),
  fc.integer({ min: 2_000, max: 10 ** 9 }).map((ms) => new Date(Date.now() + ms)),
  fc.constant(new Date(NaN)),
  fc.integer({ min: 0, max: 3_600_000 }).map((ms) => Date.now() - ms),
  fc.constant(Math.floor(Date.now() / 1000)),
  hostileNumber,
  hostileString,
);

/** Anything at all, weighted towards the nasty. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  hostileTime,
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    maxDepth: 2,
  }),
  fc.func(fc.string()),
  fc.constant(Symbol('hostile')),
  throwingProxy,
  revokedProxy,
  circular,
  throwingGetters,
  hostileCoercion,
);

/** Realistic label values mixed in, so real series exist and caps are reached. */
const plausible = fc.constantFrom(
  'google',
  'newsletter',
  'direct',
  'desktop',
  'mobile',
  'web',
  'pro',
  'free',
  'enterprise',
  'books',
  'card',
  'eu_west',
  'cart_view',
  'checkout_error',
  'milestone_50',
  'purchase',
  '/home',
  'daily',
  'weekly',
  'control',
  'B',
);

export const labelValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: plausible },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileValue },
);

/** A metadata argument: usually an object with hostile fields, sometimes not an object at all. */
export const hostileMetadata: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        source: labelValue,
        deviceType: labelValue,
        experimentVariant: labelValue,
        sessionStartTime: hostileTime,
        productCategory: labelValue,
        paymentMethod: labelValue,
        region: labelValue,
        userTier: labelValue,
        isNewUser: fc.oneof(fc.boolean(), labelValue),
        entryPage: labelValue,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: throwingProxy },
  { weight: 1, arbitrary: throwingGetters },
);

/** Active-user counts: Maps and objects with hostile keys and values, or no collection at all. */
export const hostileCounts: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .array(fc.tuple(labelValue, fc.oneof(fc.nat(), hostileNumber, hostileValue)), { maxLength: 6 })
    .map((entries) => new Map(entries)),
  fc.dictionary(fc.oneof(plausible, hostileString), fc.oneof(fc.nat(), hostileNumber, hostileValue), {
    maxKeys: 6,
  }),
  hostileValue,
  throwingProxy,
  throwingGetters,
);

export type Call =
  | ['recordFunnelStep', unknown, unknown]
  | ['recordConversion', unknown, unknown]
  | ['recordRevenue', unknown, unknown]
  | ['recordFeatureUsage', unknown, unknown]
  | ['recordSessionEnd', unknown, unknown]
  | ['updateActiveUsers', unknown, unknown];

/** One call of a public record method with hostile arguments. */
export const hostileCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(fc.constant('recordFunnelStep' as const), labelValue, hostileMetadata),
  fc.tuple(fc.constant('recordConversion' as const), labelValue, hostileMetadata),
  fc.tuple(
    fc.constant('recordRevenue' as const),
    fc.oneof(fc.nat({ max: 100_000 }), hostileNumber, hostileValue),
    hostileMetadata,
  ),
  fc.tuple(fc.constant('recordFeatureUsage' as const), labelValue, hostileMetadata),
  fc.tuple(fc.constant('recordSessionEnd' as const), hostileTime, hostileMetadata),
  fc.tuple(fc.constant('updateActiveUsers' as const), labelValue, hostileCounts),
);
