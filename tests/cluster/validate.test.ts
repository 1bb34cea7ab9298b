/**
 * The peer-message rules (src/cluster/validate.ts): real snapshots from real recordings pass; every field's rule
 * refuses what it must, naming the field; thousands of mutations of real messages (every field of every nested
 * object replaced by every kind of wrong value) are each either refused or still well-formed, and never throw;
 * series keys get one identity per label set however they are spelled; point numbers are checked per shape.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BusinessMetrics } from '../../src';
import { SnapshotEncoder } from '../../src/cluster/encode';
import { PROTOCOL_TAG, PROTOCOL_VERSION, type SnapshotMessage } from '../../src/cluster/protocol';
import { MAX_TIMER_MILLIS } from '../../src/config/defaults';
import {
  checkKey,
  checkPrimaryBound,
  exemplarRefusal,
  MAX_EXEMPLAR_CLOCK_AHEAD_MS,
  MAX_KEYS_PER_SOURCE,
  checkSourceBound,
  pointRefusal,
  pointWidth,
} from '../../src/cluster/validate';
import { TestReader } from '../support/collect';
import { mutated, pathsOf } from '../support/mutations';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

/** A snapshot as a worker sends it: real recordings, through JSON as cluster IPC carries it. */
async function realSnapshot(): Promise<SnapshotMessage> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new BusinessMetrics(provider.getMeter('otel-business-metrics'), { now: () => NOW });
  metrics.recordFunnelStep('cart_view', { source: 'ads', deviceType: 'mobile' });
  metrics.recordRevenue(2599, { productCategory: 'books', paymentMethod: 'card', region: 'eu' });
  metrics.updateActiveUsers('daily', { pro: 12 });
  const message = new SnapshotEncoder('worker-1').encode(await reader.collect(), 3);
  await provider.shutdown();
  return JSON.parse(JSON.stringify(message)) as SnapshotMessage;
}

const clone = <T>(value: T): T => structuredClone(value);

describe('peer messages: structure', () => {
  let snapshot: SnapshotMessage;
  beforeAll(async () => {
    snapshot = await realSnapshot();
  });

  it('accepts a real snapshot, a hello and an exposition request, and parses the keys', () => {
    const checked = checkPrimaryBound(snapshot);
    expect(checked?.ok).toBe(true);
    if (!checked?.ok || checked.value.type !== 'snapshot') throw new Error('not a snapshot');
    expect(checked.value.snapshot.keys).toHaveLength(snapshot.keys.length);
    expect(checked.value.snapshot.keys.some((key) => key?.attributes.source === 'ads')).toBe(true);
    expect(checked.value.snapshot.refusedKeys).toBe(0);
    const hello = { tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 'w', threadId: 4 };
    expect(checkPrimaryBound(hello)).toEqual({ ok: true, value: { type: 'hello', message: hello } });
    const request = { tag: PROTOCOL_TAG, type: 'exposition-request', source: 'w', id: 7 };
    expect(checkPrimaryBound(request)?.ok).toBe(true);
  });

  it('leaves messages without the package tag alone (the app shares the cluster IPC channel)', () => {
    for (const raw of [null, 'text', 42, { app: 'listening' }, { type: 'snapshot' }, [PROTOCOL_TAG]]) {
      expect(checkPrimaryBound(raw)).toBeUndefined();
      expect(checkSourceBound(raw)).toBeUndefined();
    }
  });

  it.each<[string, (m: Record<string, unknown>) => void, RegExp]>([
    ['keys as a string', (m) => (m.keys = '["a"]'), /^snapshot\.keys: must be an array/],
    [
      `more than ${MAX_KEYS_PER_SOURCE} keys`,
      (m) => (m.keys = new Array<string>(MAX_KEYS_PER_SOURCE + 1).fill('[]')),
      /^snapshot\.keys: must have at most 131072 entries/,
    ],
    ['metrics: null', (m) => (m.metrics = null), /^snapshot\.metrics: must be an array/],
    ['scopes: null', (m) => (m.scopes = null), /^snapshot\.scopes: must be an array/],
    ['points: null', (m) => (metricOf(m).points = null), /^snapshot\.metrics\[0\]\.points: must be an array/],
    [
      'a version of another protocol',
      (m) => (m.version = 2),
      /^snapshot\.version: must be protocol version 1/,
    ],
    [
      'a source id of 4 kB',
      (m) => (m.source = 'x'.repeat(4096)),
      /^snapshot\.source: must be a string of 1 to 128/,
    ],
    [
      'a thread id 0 (the main thread)',
      (m) => (m.threadId = 0),
      /^snapshot\.threadId: must be an integer from 1/,
    ],
    ['a round that is a string', (m) => (m.round = '1'), /^snapshot\.round: must be an integer/],
    ['a negative epoch', (m) => (m.epoch = -1), /^snapshot\.epoch: must be an integer from 0/],
    [
      'a metric scope out of range',
      (m) => (metricOf(m).scope = 9),
      /^snapshot\.metrics\[0\]\.scope: must be the index/,
    ],
    [
      'an unknown shape',
      (m) => (metricOf(m).shape = 'summary'),
      /^snapshot\.metrics\[0\]\.shape: must be one of/,
    ],
    ['a valueType 7', (m) => (metricOf(m).valueType = 7), /^snapshot\.metrics\[0\]\.valueType/],
    [
      'a metric name of 1000 characters',
      (m) => (metricOf(m).name = 'm'.repeat(1000)),
      /\.name: must be a string/,
    ],
    [
      'points that are not whole points',
      (m) => (metricOf(m).points = [0]),
      /\.points: must hold whole points/,
    ],
    ['a scope without a name', (m) => (m.scopes = [{}]), /^snapshot\.scopes\[0\]\.name: must be a string/],
    ['final that is a string', (m) => (m.final = 'yes'), /^snapshot\.final: must be one of true, false/],
    ['ext that is an array', (m) => (m.ext = []), /^snapshot\.ext: must be an object/],
    [
      'a histogram with boundaries: null',
      (m) => Object.assign(metricOf(m), { shape: 'histogram', boundaries: null, points: [0, 1, 5, 5, 5, 1] }),
      /\.boundaries: must be an array \(a histogram\)/,
    ],
    [
      'histogram boundaries that go down',
      (m) => Object.assign(metricOf(m), { shape: 'histogram', boundaries: [10, 5], points: [] }),
      /\.boundaries\[1\]: must be greater than the boundary before it/,
    ],
    [
      'a NaN boundary (structured clone)',
      (m) => Object.assign(metricOf(m), { shape: 'histogram', boundaries: [NaN], points: [] }),
      /\.boundaries\[0\]: must be a finite number/,
    ],
    ['boundaries on a counter', (m) => (metricOf(m).boundaries = [1, 2]), /\.boundaries: must be absent/],
  ])('refuses %s, naming the field', (_what, change, refusal) => {
    const message = clone(snapshot) as unknown as Record<string, unknown>;
    change(message);
    const checked = checkPrimaryBound(message);
    expect(checked?.ok).toBe(false);
    expect(checked?.ok === false && checked.refusal).toMatch(refusal);
  });

  it('refuses malformed hellos, exposition requests, collection requests and exposition answers', () => {
    const refused = (
      raw: unknown,
      check: (raw: unknown) => { ok: boolean } | undefined = checkPrimaryBound,
    ) => {
      const checked = check(raw);
      return checked !== undefined && !checked.ok;
    };
    const hello = { tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 's' };
    expect(refused({ ...hello, source: undefined })).toBe(true);
    expect(refused({ ...hello, source: 5 })).toBe(true);
    expect(refused({ ...hello, threadId: 'x' })).toBe(true);
    expect(refused({ tag: PROTOCOL_TAG })).toBe(true);
    expect(refused({ tag: PROTOCOL_TAG, type: 'bogus' })).toBe(true);
    expect(refused({ tag: PROTOCOL_TAG, type: 'exposition-request', source: 's', id: -1 })).toBe(true);
    const collect = { tag: PROTOCOL_TAG, type: 'collect', round: 1 };
    expect(checkSourceBound(collect)?.ok).toBe(true);
    expect(refused({ ...collect, full: 5 }, checkSourceBound)).toBe(true);
    expect(refused({ ...collect, full: [{}] }, checkSourceBound)).toBe(true);
    expect(refused({ ...collect, round: 'x' }, checkSourceBound)).toBe(true);
    const answer = { tag: PROTOCOL_TAG, type: 'exposition', to: 's', id: 1, text: '# EOF\n' };
    expect(checkSourceBound(answer)?.ok).toBe(true);
    expect(refused({ ...answer, to: { toString: null } }, checkSourceBound)).toBe(true);
    expect(refused({ ...answer, text: 5 }, checkSourceBound)).toBe(true);
    expect(refused({ ...answer, id: null }, checkSourceBound)).toBe(true);
    // What sources send to the primary is not a source's business, and the other way round.
    expect(checkSourceBound(hello)).toBeUndefined();
    expect(checkPrimaryBound(collect)).toBeUndefined();
  });

  it("takes an exposition request's own deadline only as whole milliseconds a timer can wait (or none)", () => {
    const request = { tag: PROTOCOL_TAG, type: 'exposition-request', source: 's', id: 1 };
    for (const timeoutMillis of [undefined, 1, 405, MAX_TIMER_MILLIS]) {
      expect(checkPrimaryBound({ ...request, timeoutMillis })?.ok).toBe(true);
    }
    // A timer given more than it can wait fires at once; the primary would end its round for nothing.
    for (const timeoutMillis of [0, -5, 1.5, MAX_TIMER_MILLIS + 1, Infinity, '400', null]) {
      expect(checkPrimaryBound({ ...request, timeoutMillis })).toEqual({
        ok: false,
        refusal: `exposition-request.timeoutMillis: must be an integer from 1 to ${MAX_TIMER_MILLIS}`,
      });
    }
  });

  it('never throws: every field of every nested object, replaced by every kind of wrong value', () => {
    const wrong: unknown[] = [
      undefined,
      null,
      true,
      0,
      -1,
      1.5,
      NaN,
      Infinity,
      10n,
      '',
      '{',
      'NaN',
      'x'.repeat(70_000),
      [],
      [null],
      {},
      new Map([[1, 2]]),
      new Date(0),
      new Uint8Array(4),
    ];
    const hello = { tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 's', threadId: 2 };
    const request = { tag: PROTOCOL_TAG, type: 'exposition-request', source: 's', id: 1 };
    let tried = 0;
    let refused = 0;
    for (const original of [snapshot, hello, request] as unknown[]) {
      for (const path of pathsOf(original, 2)) {
        for (const value of wrong) {
          const message = mutated(original, path, value);
          tried++;
          const checked = checkPrimaryBound(message);
          if (checked === undefined || !checked.ok) refused++;
        }
      }
    }
    expect(tried).toBeGreaterThan(500);
    // Most replacements break the message; the rest are still well-formed (a different name, a later round).
    expect(refused).toBeGreaterThan(tried / 2);
  });
});

describe('peer messages: series keys', () => {
  it.each<[string, unknown, RegExp]>([
    ['a key that is not JSON', '{not json', /^snapshot\.keys\[1\]: must be JSON/],
    ['the key "null"', 'null', /^snapshot\.keys\[1\]: must be a JSON array/],
    ['a key that is a number', 5, /^snapshot\.keys\[1\]: must be a string of 2 to 16384/],
    ['a key of 20,000 characters', JSON.stringify(['a', 'x'.repeat(20_000)]), /must be a string of 2 to/],
    [
      'an empty label name',
      JSON.stringify(['', 'x']),
      /^snapshot\.keys\[1\]\[0\]: must be an attribute name/,
    ],
    [
      'a label value that is an object',
      JSON.stringify(['a', { b: 1 }]),
      /^snapshot\.keys\[1\]\[1\]: must be/,
    ],
  ])(
    'refuses %s alone: the snapshot passes, with that key null and the others parsed',
    async (_what, bad, rule) => {
      const message = (await realSnapshot()) as unknown as Record<string, unknown>;
      const keys = message.keys as unknown[];
      expect(keys.length).toBeGreaterThan(2);
      keys[1] = bad;
      const checked = checkPrimaryBound(message);
      if (!checked?.ok || checked.value.type !== 'snapshot')
        throw new Error(`refused whole: ${JSON.stringify(checked)}`);
      const { keys: parsed, refusedKeys, keyRefusal } = checked.value.snapshot;
      expect(parsed).toHaveLength(keys.length);
      expect(parsed[1]).toBeNull();
      expect(parsed.filter((key) => key !== null)).toHaveLength(keys.length - 1);
      expect(refusedKeys).toBe(1);
      expect(keyRefusal).toMatch(rule);
    },
  );

  it('gives one identity to every spelling of one label set: order, and 1 or "1"', () => {
    const a = checkKey(JSON.stringify(['step', 'cart', 'n', 1]));
    const b = checkKey(JSON.stringify(['n', '1', 'step', 'cart']));
    expect(a.ok && b.ok && a.value.identity === b.value.identity).toBe(true);
    // The attributes keep the sender's order (the exposition writes labels in catalog order).
    expect(a.ok && Object.keys(a.value.attributes)).toEqual(['step', 'n']);
    const c = checkKey(JSON.stringify(['step', 'cart', 'n', 2]));
    expect(a.ok && c.ok && a.value.identity !== c.value.identity).toBe(true);
  });

  it.each([
    ['a repeated name', ['a', '1', 'a', '2']],
    ['__proto__ as a name', ['__proto__', 'x']],
    ['an empty name', ['', 'x']],
    ['an object value', ['a', { b: 1 }]],
    ['a null value', ['a', null]],
    ['an odd length', ['a']],
    ['65 attributes', Array.from({ length: 130 }, (_, i) => `v${i}`)],
  ])('refuses %s', (_what, entries) => {
    expect(checkKey(JSON.stringify(entries)).ok).toBe(false);
  });
});

describe('peer messages: point numbers', () => {
  const ok = (shape: Parameters<typeof pointRefusal>[0], point: unknown[], boundaries = 0) =>
    pointRefusal(shape, point, 0, pointWidth(shape, boundaries));

  it('counters: finite and not negative', () => {
    expect(ok('counter', [0, 5])).toBeUndefined();
    for (const bad of [-1e15, -1, 'NaN', 'Inf', 'hello', NaN, Infinity, null, 10n]) {
      expect({ bad, refusal: ok('counter', [0, bad]) }).toEqual({ bad, refusal: expect.any(String) });
    }
    expect(ok('counter', [-1, 5])).toMatch(/series id/);
    expect(ok('counter', [1.5, 5])).toMatch(/series id/);
  });

  it('up-down counters: finite; gauges: any number, including the wire forms of NaN and the infinities', () => {
    expect(ok('updown', [0, -3])).toBeUndefined();
    expect(ok('updown', [0, 'NaN'])).toBeDefined();
    for (const value of [-3, 0.5, 'NaN', 'Inf', '-Inf']) expect(ok('gauge', [0, value])).toBeUndefined();
    expect(ok('gauge', [0, 'hello'])).toBeDefined();
  });

  it('histograms: whole counts, a finite sum, buckets that add up to the count', () => {
    // boundaries [10, 100]: count, sum, min, max, 3 buckets
    expect(ok('histogram', [0, 3, 120, 5, 100, 1, 2, 0], 2)).toBeUndefined();
    expect(ok('histogram', [0, 0, 0, 'Inf', '-Inf', 0, 0, 0], 2)).toBeUndefined();
    expect(ok('histogram', [0, 3, 120, 5, 100, 1, 1, 0], 2)).toMatch(/add up/);
    expect(ok('histogram', [0, 3, 'NaN', 5, 100, 1, 2, 0], 2)).toMatch(/sum/);
    expect(ok('histogram', [0, 3, -1, 5, 100, 1, 2, 0], 2)).toMatch(/sum/);
    expect(ok('histogram', [0, 2.5, 1, 5, 100, 1, 1.5, 0], 2)).toMatch(/count/);
    expect(ok('histogram', [0, 3, 120, 100, 5, 1, 2, 0], 2)).toMatch(/min/);
    expect(ok('histogram', [0, 3, 120, 5, 100, -1, 4, 0], 2)).toMatch(/bucket/);
  });
});

function metricOf(message: Record<string, unknown>): Record<string, unknown> {
  return (message.metrics as Record<string, unknown>[])[0];
}

describe('peer messages: exemplars', () => {
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const SPAN = '00f067aa0ba902b7';
  /** A snapshot with one counter series and one histogram series (boundaries [10, 100]), with exemplars. */
  const withExemplars = () => ({
    tag: PROTOCOL_TAG,
    type: 'snapshot',
    version: PROTOCOL_VERSION,
    source: 'w',
    round: 1,
    epoch: 0,
    firstKey: 0,
    keys: ['["route","/a"]'],
    scopes: [{ name: 'app' }],
    metrics: [
      {
        scope: 0,
        name: 'jobs',
        description: '',
        unit: '',
        valueType: 1,
        shape: 'counter',
        points: [0, 3],
        exemplars: [0, 0, TRACE, SPAN, 1, NOW],
      },
      {
        scope: 0,
        name: 'latency',
        description: '',
        unit: 'ms',
        valueType: 1,
        shape: 'histogram',
        boundaries: [10, 100],
        points: [0, 3, 120, 5, 100, 1, 2, 0],
        exemplars: [0, 0, TRACE, SPAN, 5, NOW, 0, 1, TRACE, SPAN, 100, NOW],
      },
    ],
    exemplarSnapshots: 1,
  });

  it('accepts exemplars of counters and histograms', () => {
    expect(checkPrimaryBound(withExemplars())?.ok).toBe(true);
  });

  it.each<[string, (m: Record<string, unknown>) => void, RegExp]>([
    ['exemplars as a string', (m) => (metricOf(m).exemplars = 'x'), /\.exemplars: must be an array/],
    ['exemplars that are not whole', (m) => (metricOf(m).exemplars = [0, 0, TRACE]), /whole exemplars of 6/],
    [
      'two exemplars for one counter series',
      (m) => (metricOf(m).exemplars = [0, 0, TRACE, SPAN, 1, NOW, 0, 0, TRACE, SPAN, 2, NOW]),
      /metrics\[0\]\.exemplars: must have at most one exemplar per series sent \(1\)/,
    ],
    [
      'more exemplars than the histogram has buckets',
      (m) => ((m.metrics as Record<string, unknown>[])[1].exemplars = new Array(4 * 6).fill(0)),
      /metrics\[1\]\.exemplars: must have at most one exemplar per bucket of a series sent \(3\)/,
    ],
    [
      'a million entries',
      (m) => (metricOf(m).exemplars = new Array(1_000_002).fill(0)),
      /must have at most one exemplar per series sent/,
    ],
    [
      'exemplars on a gauge',
      (m) => Object.assign(metricOf(m), { shape: 'gauge' }),
      /\.exemplars: must be absent unless a counter or a histogram/,
    ],
    [
      'an exemplar count of 0',
      (m) => (m.exemplarSnapshots = 0),
      /^snapshot\.exemplarSnapshots: must be an integer from 1/,
    ],
    ['an exemplar count as text', (m) => (m.exemplarSnapshots = '1'), /^snapshot\.exemplarSnapshots/],
  ])('refuses %s whole, naming the field', (_what, change, refusal) => {
    const message = withExemplars() as unknown as Record<string, unknown>;
    change(message);
    const checked = checkPrimaryBound(message);
    expect(checked?.ok).toBe(false);
    expect(checked?.ok === false && checked.refusal).toMatch(refusal);
  });

  const good = [0, 1, TRACE, SPAN, 50, NOW];
  const histogramRefusal = (entry: unknown[]) => exemplarRefusal('histogram', [10, 100], entry, 0, NOW);

  it('takes a valid exemplar, in the bucket its value falls in (upper bound inclusive), up to a minute ahead', () => {
    expect(histogramRefusal(good)).toBeUndefined();
    expect(histogramRefusal([0, 0, TRACE, SPAN, 10, NOW])).toBeUndefined();
    expect(histogramRefusal([0, 0, TRACE, SPAN, -3, 0])).toBeUndefined();
    expect(histogramRefusal([0, 2, TRACE, SPAN, 1e9, NOW + MAX_EXEMPLAR_CLOCK_AHEAD_MS])).toBeUndefined();
    expect(exemplarRefusal('counter', undefined, [7, 0, TRACE, SPAN, 2.5, NOW], 0, NOW)).toBeUndefined();
  });

  it('takes upper-case ids, as the API calls them valid and a single process prints them', () => {
    const upper = [7, 0, TRACE.toUpperCase(), SPAN.toUpperCase(), 2.5, NOW];
    expect(exemplarRefusal('counter', undefined, upper, 0, NOW)).toBeUndefined();
  });

  it.each<[string, number, unknown]>([
    ['a series id as text', 0, '0'],
    ['a negative series id', 0, -1],
    ['a bucket past the last', 1, 3],
    ['a fractional bucket', 1, 0.5],
    ['a bucket as text', 1, '1'],
    ['a trace id of 31 digits', 2, TRACE.slice(1)],
    ['an all-zero trace id', 2, '0'.repeat(32)],
    ['a trace id that is a number', 2, 4],
    ['a trace id of 70 kB', 2, 'a'.repeat(70_000)],
    ['a span id of 17 digits', 3, `${SPAN}0`],
    ['an all-zero span id', 3, '0'.repeat(16)],
    ['a non-hex span id', 3, '00f067aa0ba902bz'],
    ['null for a span id', 3, null],
    ['a NaN value', 4, NaN],
    ['the wire NaN as value', 4, 'NaN'],
    ['an infinite value', 4, Infinity],
    ['a value as text', 4, '50'],
    ['a value outside its bucket', 4, 5],
    ['a value above its bucket', 4, 101],
    ['a negative time', 5, -1],
    ['a NaN time', 5, NaN],
    ['a time two minutes ahead', 5, NOW + 120_000],
    ['a time as text', 5, String(NOW)],
    ['an object for a time', 5, {}],
  ])('refuses %s', (_what, field, value) => {
    const entry = good.slice() as unknown[];
    entry[field] = value;
    expect(histogramRefusal(entry)).toEqual(expect.stringMatching(/^an exemplar’s /));
  });

  it("refuses a counter exemplar in any bucket but 0, and reads past the list's end as missing", () => {
    expect(exemplarRefusal('counter', undefined, [0, 1, TRACE, SPAN, 2, NOW], 0, NOW)).toMatch(/bucket/);
    expect(exemplarRefusal('counter', undefined, [0, 0, TRACE], 0, NOW)).toMatch(/span id/);
  });

  it('never throws: every field of a snapshot with exemplars, replaced by every kind of wrong value', () => {
    const original = withExemplars();
    const wrong: unknown[] = [undefined, null, true, -1, 1.5, NaN, 'NaN', 'x'.repeat(70_000), [], {}, 10n];
    let tried = 0;
    let refused = 0;
    for (const path of pathsOf(original)) {
      for (const value of wrong) {
        tried++;
        const checked = checkPrimaryBound(mutated(original, path, value));
        if (checked === undefined || !checked.ok) refused++;
        const metrics =
          checked?.ok && checked.value.type === 'snapshot' ? checked.value.snapshot.message.metrics : [];
        // What passes the message's rules is read exemplar by exemplar, which never throws either.
        for (const metric of metrics) {
          for (let at = 0; at < (metric.exemplars?.length ?? 0); at += 6) {
            exemplarRefusal(metric.shape, metric.boundaries, metric.exemplars!, at, NOW);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(tried / 3);
  });
});
