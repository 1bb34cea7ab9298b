/**
 * src/exporters/otlp-wire/protobuf-writer.ts directly, differential against protobufjs's Writer (an independent
 * implementation of the same wire format): varints of unsigned 32-bit values and of int64 (negative ones in ten
 * bytes), zigzag sint32, fixed64 and sfixed64, doubles, UTF-8 strings and byte strings, tags (protobufjs writes them as varints), and nested messages
 * of unknown size whose length needs one, two or three bytes (begin/end moves the body); varintSize agrees with
 * what is written; hrTime's fixed64 nanoseconds equal BigInt arithmetic for today's timestamps and the far ones.
 * Seeded random values plus every boundary.
 */
import protobuf from 'protobufjs';
import { ProtobufWriter, varintSize } from '../../../src/exporters/otlp-wire/protobuf-writer';
import { mulberry32 } from '../../support/random';

const random = mulberry32(0x0b5e55);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const ours = (write: (w: ProtobufWriter) => void) => {
  const writer = new ProtobufWriter(4); // tiny, so growing is exercised too
  write(writer);
  return hex(writer.finish());
};
const theirs = (write: (w: protobuf.Writer) => void) => {
  const writer = protobuf.Writer.create();
  write(writer);
  return hex(writer.finish());
};

const UINT32_EDGES = [
  0,
  1,
  127,
  128,
  255,
  16383,
  16384,
  2 ** 21 - 1,
  2 ** 21,
  2 ** 28 - 1,
  2 ** 28,
  2 ** 31,
  2 ** 32 - 1,
];
const uint32s = [...UINT32_EDGES, ...Array.from({ length: 200 }, () => Math.floor(random() * 2 ** 32))];
const INT64_EDGES = [
  0,
  1,
  -1,
  2 ** 32,
  2 ** 32 + 1,
  -(2 ** 32),
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  -128,
  2 ** 35,
  -(2 ** 35),
];
const int64s = [
  ...INT64_EDGES,
  ...Array.from({ length: 200 }, () => Math.floor((random() - 0.5) * 2 ** (1 + Math.floor(random() * 53)))),
];

it('writes uint32 varints and tags as protobufjs does', () => {
  for (const value of uint32s)
    expect([value, ours((w) => w.uint32(value))]).toEqual([value, theirs((w) => w.uint32(value))]);
  for (const [field, wire] of [
    [1, 0],
    [15, 2],
    [16, 1],
    [2047, 5],
    [536870911, 0],
  ])
    expect(ours((w) => w.tag(field, wire))).toBe(theirs((w) => w.uint32(((field << 3) | wire) >>> 0)));
});

it('writes int64 varints (ten bytes for negative values) as protobufjs does', () => {
  for (const value of int64s)
    expect([value, ours((w) => w.int64(value))]).toEqual([value, theirs((w) => w.int64(value))]);
  expect(ours((w) => w.int64(-1))).toHaveLength(20); // ten bytes, hex
});

it('writes zigzag sint32, fixed64, sfixed64 and doubles as protobufjs does', () => {
  for (const value of [
    0,
    -1,
    1,
    -64,
    64,
    2 ** 31 - 1,
    -(2 ** 31),
    ...uint32s.slice(20, 60).map((v) => v | 0),
  ])
    expect([value, ours((w) => w.sint32(value))]).toEqual([value, theirs((w) => w.sint32(value))]);
  for (const value of int64s.filter((v) => v >= 0))
    expect([value, ours((w) => w.fixed64(value))]).toEqual([value, theirs((w) => w.fixed64(value))]);
  for (const value of int64s)
    expect([value, ours((w) => w.sfixed64(value))]).toEqual([value, theirs((w) => w.sfixed64(value))]);
  for (const value of [
    0,
    -0,
    1.5,
    -2.25,
    Math.PI,
    1e-300,
    Number.MAX_VALUE,
    Infinity,
    -Infinity,
    NaN,
    random(),
  ])
    expect([value, ours((w) => w.double(value))]).toEqual([value, theirs((w) => w.double(value))]);
});

it('writes length-prefixed UTF-8 strings and byte strings as protobufjs does', () => {
  for (const value of ['', 'a', 'héllo €', '\u{1F600} emoji', 'x'.repeat(200), 'é'.repeat(10_000)])
    expect(ours((w) => w.string(value))).toBe(theirs((w) => w.string(value)));
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  expect(ours((w) => w.bytes(bytes))).toBe(theirs((w) => w.bytes(bytes)));
  expect(ours((w) => w.raw(bytes))).toBe(hex(bytes));
});

it('writes nested messages of unknown size with 1-, 2- and 3-byte lengths, moving the body as needed', () => {
  for (const size of [0, 1, 127, 128, 300, 16383, 16384, 20000]) {
    // The body: `size` one-byte varints, written the same way by both writers.
    const nested = ours((w) => {
      w.tag(1, 2);
      const mark = w.begin();
      for (let i = 0; i < size; i++) w.uint32(0x62);
      w.end(mark);
      w.tag(2, 0);
      w.uint32(7);
    });
    const expected = theirs((w) => {
      w.uint32((1 << 3) | 2);
      w.fork();
      for (let i = 0; i < size; i++) w.uint32(0x62);
      w.ldelim();
      w.uint32(2 << 3);
      w.uint32(7);
    });
    expect([size, nested]).toEqual([size, expected]);
  }
});

it('sizes varints as they are written', () => {
  for (const value of [...uint32s, 2 ** 35, 2 ** 42, 2 ** 49, 2 ** 53 - 1])
    expect([value, varintSize(value)]).toEqual([value, ours((w) => w.int64(value)).length / 2]);
});

it("writes an HrTime's nanoseconds exactly, as BigInt arithmetic gives them", () => {
  const times: Array<[number, number]> = [
    [0, 0],
    [1, 999_999_999],
    [1_764_361_234, 500_000_000],
    [2 ** 32 - 1, 123],
    [18_446_744_073, 709_551_615], // the largest nanosecond count a uint64 holds
    ...Array.from({ length: 100 }, (): [number, number] => [
      Math.floor(random() * 4e9),
      Math.floor(random() * 1e9),
    ]),
  ];
  for (const [seconds, nanos] of times) {
    const expected = Buffer.alloc(8);
    expected.writeBigUInt64LE(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
    expect([seconds, nanos, ours((w) => w.hrTime(seconds, nanos))]).toEqual([seconds, nanos, hex(expected)]);
  }
});
