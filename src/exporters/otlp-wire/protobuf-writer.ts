/**
 * A protobuf writer for the OTLP encoder: varints, fixed 64-bit values, doubles, strings and nested messages
 * into one growable Buffer. Nested messages whose size the caller cannot tell in advance use `begin`/`end`: one
 * byte is reserved for the length and the body is moved when it needs more (the upstream writer's technique);
 * the store's hot path knows its sizes and writes lengths directly.
 *
 * Owns: the wire primitives. Must not touch: OTLP message layout (protobuf.ts).
 */

/** Bytes a varint of `value` (0 <= value < 2^53) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(value / 0x800000000); rest > 0; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

export class ProtobufWriter {
  buffer: Buffer;
  /** A view of `buffer` (replaced with it when the writer grows). */
  view: DataView;
  pos = 0;

  /** `buffer`, when given, is written from its start (a request's buffer kept from an earlier export). */
  constructor(capacity = 256, buffer?: Buffer) {
    this.buffer = buffer ?? Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** The bytes written so far (a view on the writer's buffer: the writer must not be reused while they are). */
  finish(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  ensure(bytes: number): void {
    if (this.pos + bytes > this.buffer.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    let capacity = this.buffer.length * 2;
    while (capacity < this.pos + bytes) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buffer.copy(next, 0, 0, this.pos);
    this.buffer = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** One byte: a tag of a field below 16, or a small varint. */
  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.pos++] = value;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A varint of an unsigned 32-bit value. */
  uint32(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    while (v > 0x7f) {
      this.buffer[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[this.pos++] = v;
  }

  /** A varint of an int64 held in a number (negative values in two's complement, ten bytes). */
  int64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) {
      this.uint32(value);
      return;
    }
    let [low, high] = int64Parts(value);
    this.ensure(10);
    while (high > 0 || low > 0x7f) {
      this.buffer[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buffer[this.pos++] = low;
  }

  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  fixed64Parts(low: number, high: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, low, true);
    this.view.setUint32(this.pos + 4, high, true);
    this.pos += 8;
  }

  /** The nanoseconds of an HrTime as a fixed64, exact for every time a uint64 holds. */
  hrTime(seconds: number, nanos: number): void {
    const parts = nanosParts(seconds, nanos, scratchParts);
    this.fixed64Parts(parts[0], parts[1]);
  }

  /** A fixed64 of a non-negative integer below 2^64 (counts). */
  fixed64(value: number): void {
    this.fixed64Parts(value >>> 0, (value / 0x100000000) >>> 0);
  }

  sfixed64(value: number): void {
    const [low, high] = int64Parts(value);
    this.fixed64Parts(low, high);
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** A length-prefixed UTF-8 string. */
  string(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.uint32(length);
    this.ensure(length);
    this.pos += this.buffer.write(value, this.pos, length, 'utf8');
  }

  /** A length-prefixed byte string. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.raw(value);
  }

  /** Bytes copied as they are (an already encoded part). */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a nested message of unknown size; returns the mark `end` needs. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the message begun at `mark`, moving its body when the length needs more than a byte. */
  end(mark: number): void {
    const length = this.pos - mark - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buffer.copyWithin(mark + size, mark + 1, this.pos);
      this.pos += size - 1;
    }
    let at = mark;
    let v = length;
    while (v > 0x7f) {
      this.buffer[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[at] = v;
  }
}

const scratchParts: [number, number] = [0, 0];

/** The nanoseconds of an HrTime as [low, high] 32-bit halves of a uint64, written into `out`. */
export function nanosParts(seconds: number, nanos: number, out: [number, number]): [number, number] {
  // seconds * 1e9 exceeds 2^53 for today's timestamps: multiply 16-bit halves, then carry (upstream's method).
  const fromLow = (seconds & 0xffff) * 1e9;
  const fromHigh = ((seconds / 0x10000) >>> 0) * 1e9;
  const low = (fromLow >>> 0) + (((fromHigh & 0xffff) * 0x10000) >>> 0) + nanos;
  out[0] = low >>> 0;
  out[1] =
    (Math.floor(fromLow / 0x100000000) + ((fromHigh / 0x10000) >>> 0) + Math.floor(low / 0x100000000)) >>> 0;
  return out;
}

/** [low, high] 32-bit halves of an integer-valued number in two's complement. */
function int64Parts(value: number): [number, number] {
  if (value >= 0) return [value >>> 0, (value / 0x100000000) >>> 0];
  const abs = -value;
  let low = ~(abs >>> 0) >>> 0;
  let high = ~((abs / 0x100000000) >>> 0) >>> 0;
  low = (low + 1) >>> 0;
  if (low === 0) high = (high + 1) >>> 0;
  return [low, high];
}
