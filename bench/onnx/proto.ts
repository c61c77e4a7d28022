// A minimal protocol-buffers writer: just what bench/onnx/model.ts needs to write an ONNX ModelProto
// (varints, length-delimited fields, packed repeated ints, fixed32 floats). A message is a list of byte parts plus
// its size, so a large tensor's bytes are referenced, not copied, until the file is written.
// Wire format: https://protobuf.dev/programming-guides/encoding/ (tag = field << 3 | wire type).

const VARINT = 0;
const LEN = 2;
const FIXED32 = 5;

export class ProtoWriter {
  /** the encoded message, in order; concatenated they are the message's bytes */
  readonly parts: Uint8Array[] = [];
  private pending: number[] = [];
  private flushed = 0;

  /** bytes written so far */
  get size(): number {
    return this.flushed + this.pending.length;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(Uint8Array.from(this.pending));
    this.flushed += this.pending.length;
    this.pending = [];
  }

  /** A base-128 varint; a negative int64 takes ten bytes (two's complement), as protobuf encodes it. */
  private varint(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`protobuf varint: ${value} is not an integer`);
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** An int32 / int64 / enum field (wire type 0). */
  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  /** A float field (wire type 5, little-endian IEEE 754 single). */
  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A bytes field; the bytes are referenced, not copied. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(value.length);
    this.flush();
    this.parts.push(value);
    this.flushed += value.length;
    return this;
  }

  /** A packed repeated int64 field (`[packed = true]`, the proto3 default; proto2 parsers accept it too). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    inner.flush();
    this.tag(field, LEN);
    this.varint(inner.size);
    this.flush();
    this.parts.push(...inner.parts);
    this.flushed += inner.size;
    return this;
  }

  /** An embedded message field. */
  message(field: number, msg: ProtoWriter): this {
    msg.flush();
    this.tag(field, LEN);
    this.varint(msg.size);
    this.flush();
    for (const p of msg.parts) this.parts.push(p);
    this.flushed += msg.size;
    return this;
  }

  /** The parts, complete (call once the message is finished). */
  finish(): Uint8Array[] {
    this.flush();
    return this.parts;
  }
}
