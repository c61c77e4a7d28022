// A small safetensors reader and writer (https://huggingface.co/docs/safetensors), browser-safe.
//
// File layout: an 8-byte little-endian u64 N, then N bytes of JSON header
//   {"__metadata__": {...}, "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
// then the raw little-endian tensor data; offsets are relative to the end of the header.
//
// Every way a file can be broken gets its own message (truncated, header length past the end, bad JSON,
// unknown dtype, offsets that do not match dtype × shape, out of range, overlapping). F32 tensors at
// 4-byte-aligned offsets are returned as Float32Array views onto the file's bytes: no copy.

/** dtype → bytes per element, every dtype the safetensors format defines. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
});

/** The dtypes gpt2-lens reads into float32 weights. */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];

/** One tensor's header entry; begin/end are byte offsets relative to the start of the data section. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header's length in bytes */
  headerLength: number;
  /** 8 + N: where the data section starts in the file */
  dataStart: number;
  /** bytes in the file after the header */
  dataLength: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** A broken or unsupported safetensors file; the message says what and where. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The error of every reader asked for a tensor its checkpoint lacks. */
export function noSuchTensor(source: string, name: string): SafetensorsError {
  return new SafetensorsError(`${source} has no tensor "${name}"`);
}

/** Reads N from the first 8 bytes and checks it against the file size. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, source = 'safetensors file'): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new SafetensorsError(`${source} is truncated: ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const n = high * 2 ** 32 + low;
  if (8 + n > fileSize) {
    throw new SafetensorsError(`${source}: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  return n;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Parses and validates the JSON header (the N bytes after the length) against the file size. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, source = 'safetensors file'): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(`${source}: the header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(`${source}: the header must be a JSON object`);
  }

  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') throw new SafetensorsError(`${source}: tensor "${name}" has no header entry object`);
    if (typeof e.dtype !== 'string') throw new SafetensorsError(`${source}: tensor "${name}" has no dtype`);
    const size = Object.hasOwn(DTYPE_BYTES, e.dtype) ? DTYPE_BYTES[e.dtype] : undefined; // not "constructor"
    if (size === undefined) {
      throw new SafetensorsError(`${source}: tensor "${name}" has unknown dtype "${e.dtype}" (safetensors dtypes: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) {
      throw new SafetensorsError(`${source}: tensor "${name}" has a bad shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1]) || off[0] > off[1]) {
      throw new SafetensorsError(`${source}: tensor "${name}" has bad data_offsets ${JSON.stringify(off)} (expected [begin, end], begin <= end)`);
    }
    const shape = e.shape as number[];
    const [begin, end] = off as [number, number];
    const need = shape.reduce((a, b) => a * b, 1) * size;
    if (end - begin !== need) {
      throw new SafetensorsError(`${source}: tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${e.dtype} ${fmt(shape)} needs ${need}`);
    }
    tensors.set(name, { name, dtype: e.dtype, shape, begin, end });
  }

  // No two tensors may share bytes.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end && cur.end > cur.begin && prev.end > prev.begin) {
      throw new SafetensorsError(`${source}: tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${cur.name}" [${cur.begin}, ${cur.end}] overlap`);
    }
  }
  // Every tensor must lie inside the data section. When the tensors tile the data contiguously from 0 and the
  // last one runs past the end, the file was cut short; otherwise an offset is wrong.
  const beyond = sorted.filter((t) => t.end > dataLength);
  if (beyond.length > 0) {
    const contiguous = sorted.every((t, i) => t.begin === (i === 0 ? 0 : sorted[i - 1]!.end));
    const last = sorted[sorted.length - 1]!;
    if (contiguous) {
      throw new SafetensorsError(`${source} is truncated: the header describes ${last.end} bytes of tensor data, but only ${dataLength} follow the header (tensor "${beyond[0]!.name}" is incomplete)`);
    }
    const t = beyond[0]!;
    throw new SafetensorsError(`${source}: tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] are out of range (the data section has ${dataLength} bytes)`);
  }
  return { headerLength, dataStart, dataLength, tensors, metadata };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | null = null;
/** float16 bit pattern → float32 value, for all 65536 patterns (built on first use). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24; // zero or subnormal
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (f16Table = t);
}

/**
 * Decodes one tensor's bytes (exactly end - begin of them) into float32. F32 at a 4-byte-aligned address
 * on a little-endian machine is returned as a view (no copy); F16, BF16 and F64 are converted.
 */
export function decodeTensor(info: TensorInfo, bytes: Uint8Array, source = 'safetensors file'): Float32Array {
  const n = info.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== info.end - info.begin) throw new SafetensorsError(`${source}: tensor "${info.name}": got ${bytes.length} bytes, expected ${info.end - info.begin}`);
  switch (info.dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const table = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift its 16 bits up.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new SafetensorsError(`${source}: tensor "${info.name}" has dtype ${info.dtype}; gpt2-lens reads weights stored as ${FLOAT_DTYPES.join(', ')}`);
  }
}

/** Where weights come from: one safetensors file, several shards, or a Node file handle (node.ts). */
export interface TensorSource {
  /** a name for messages, e.g. the file path */
  readonly source: string;
  /** the header entry of a tensor, or undefined when the checkpoint lacks it */
  info(name: string): TensorInfo | undefined;
  /** every tensor name */
  names(): string[];
  /** the tensor as float32 (a view onto the file's bytes when possible) */
  read(name: string): Float32Array;
  /** optional: the tensor as float32 written into `out` (its element count), without an array of its own */
  readInto?(name: string, out: Float32Array): void;
  /** releases file handles, if any */
  close?(): void;
}

/** A whole safetensors file already in memory (fetched in a browser, or read in Node). */
export class SafetensorsFile implements TensorSource {
  readonly header: SafetensorsHeader;
  private readonly bytes: Uint8Array;

  constructor(data: Uint8Array | ArrayBuffer, readonly source = 'safetensors file') {
    this.bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const n = readHeaderLength(this.bytes.subarray(0, 8), this.bytes.length, source);
    this.header = parseHeader(this.bytes.subarray(8, 8 + n), this.bytes.length, source);
  }

  info(name: string): TensorInfo | undefined {
    return this.header.tensors.get(name);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  read(name: string): Float32Array {
    const info = this.info(name);
    if (!info) throw noSuchTensor(this.source, name);
    const start = this.header.dataStart;
    return decodeTensor(info, this.bytes.subarray(start + info.begin, start + info.end), this.source);
  }
}

/** Tensors read asynchronously into the caller's arrays: a safetensors file in a Blob (see BlobSafetensors). */
export interface AsyncTensorSource {
  readonly source: string;
  info(name: string): TensorInfo | undefined;
  names(): string[];
  /** writes the tensor as float32 into `out` (its element count) */
  readInto(name: string, out: Float32Array): Promise<void>;
  close?(): void;
}

/** Bytes of the file read at a time: what a tensor's read holds beyond its destination. */
export const BLOB_CHUNK_BYTES = 4 * 2 ** 20;

/**
 * A safetensors file in a Blob: a File the visitor picked, or a Cache API entry (`(await cache.match(url)).blob()`),
 * which browsers keep on disk. Only the header is read when it opens; each tensor is then read in slices of
 * BLOB_CHUNK_BYTES straight into the caller's array, so the file is never in memory as a whole.
 */
export class BlobSafetensors implements AsyncTensorSource {
  private constructor(private readonly blob: Blob, readonly header: SafetensorsHeader, readonly source: string) {}

  static async open(blob: Blob, source = 'safetensors file'): Promise<BlobSafetensors> {
    const first8 = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
    const n = readHeaderLength(first8, blob.size, source);
    const header = parseHeader(new Uint8Array(await blob.slice(8, 8 + n).arrayBuffer()), blob.size, source);
    return new BlobSafetensors(blob, header, source);
  }

  info(name: string): TensorInfo | undefined {
    return this.header.tensors.get(name);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  async readInto(name: string, out: Float32Array): Promise<void> {
    const info = this.info(name);
    if (!info) throw noSuchTensor(this.source, name);
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (out.length !== n) throw new SafetensorsError(`${this.source}: tensor "${name}" has ${n} values, the destination ${out.length}`);
    const size = DTYPE_BYTES[info.dtype]!;
    const per = Math.max(1, Math.floor(BLOB_CHUNK_BYTES / size)); // elements per slice: a slice never splits one
    const start = this.header.dataStart + info.begin;
    for (let i = 0; i < n; i += per) {
      const m = Math.min(per, n - i);
      const bytes = new Uint8Array(await this.blob.slice(start + i * size, start + (i + m) * size).arrayBuffer());
      if (bytes.length !== m * size) throw new SafetensorsError(`${this.source}: tensor "${name}": the file ended early (it changed while being read?)`);
      // the slice decodes like a tensor of its own (a view for F32: copied once, into `out`)
      out.set(decodeTensor({ ...info, shape: [m], begin: 0, end: m * size }, bytes, this.source), i);
    }
  }
}

/** model.safetensors.index.json: which shard file holds each tensor. */
export interface ShardIndex {
  metadata?: Record<string, unknown>;
  weight_map: Record<string, string>;
}

/** Checks a parsed model.safetensors.index.json and returns its shard file names, in first-use order. */
export function parseShardIndex(json: unknown, source = 'model.safetensors.index.json'): { index: ShardIndex; files: string[] } {
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) throw new SafetensorsError(`${source} has no "weight_map" object`);
  const files: string[] = [];
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || file === '' || file.includes('/') || file.includes('\\') || file.startsWith('.')) {
      throw new SafetensorsError(`${source}: weight_map["${name}"] must be a shard file name, got ${JSON.stringify(file)}`);
    }
    if (!files.includes(file)) files.push(file);
  }
  return { index: json as ShardIndex, files };
}

/** Several shards seen as one checkpoint, routed by the index's weight_map. */
export class ShardedSource implements TensorSource {
  constructor(
    private readonly index: ShardIndex,
    private readonly shards: ReadonlyMap<string, TensorSource>,
    readonly source = 'model.safetensors.index.json',
  ) {
    for (const [name, file] of Object.entries(index.weight_map)) {
      const shard = shards.get(file);
      if (!shard) throw new SafetensorsError(`${source}: shard "${file}" (for tensor "${name}") is missing`);
      if (!shard.info(name)) throw new SafetensorsError(`${source} puts tensor "${name}" in "${file}", but that shard has no such tensor`);
    }
  }

  private shardOf(name: string): TensorSource | undefined {
    const file = this.index.weight_map[name];
    return file === undefined ? undefined : this.shards.get(file);
  }

  info(name: string): TensorInfo | undefined {
    return this.shardOf(name)?.info(name);
  }

  names(): string[] {
    return Object.keys(this.index.weight_map);
  }

  read(name: string): Float32Array {
    const shard = this.shardOf(name);
    if (!shard) throw noSuchTensor(this.source, name);
    return shard.read(name);
  }

  readInto(name: string, out: Float32Array): void {
    const shard = this.shardOf(name);
    if (!shard) throw noSuchTensor(this.source, name);
    if (shard.readInto) shard.readInto(name, out);
    else out.set(shard.read(name));
  }

  close(): void {
    for (const s of this.shards.values()) s.close?.();
  }
}

// ---- Writing ----

/** A tensor to write: float32 data, stored as `dtype` (default F32). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** float32 → float16 bits, rounding to nearest even (as torch's .half()). */
export function float32ToFloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal half: shift the implicit 1 in
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct (up to inf)
  return sign | half;
}

/** float32 → bfloat16 bits, rounding to nearest even (as torch's .bfloat16()). */
export function float32ToBFloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // nan stays nan
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Builds a safetensors file: the tensors in sorted name order (as the Python library writes them), the header
 * space-padded to a multiple of 8 so every tensor starts 8-byte aligned.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of sorted) {
    const dtype = t.dtype ?? 'F32';
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`writeSafetensors: tensor "${t.name}" has ${t.data.length} values, but shape ${fmt(t.shape)} needs ${n}`);
    const bytes = n * DTYPE_BYTES[dtype]!;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of sorted) {
    const dtype = t.dtype ?? 'F32';
    if (dtype === 'F32') {
      if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
      else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i]!, true);
      pos += t.data.length * 4;
    } else {
      const convert = dtype === 'F16' ? float32ToFloat16Bits : float32ToBFloat16Bits;
      for (let i = 0; i < t.data.length; i++) view.setUint16(pos + 2 * i, convert(t.data[i]!), true);
      pos += t.data.length * 2;
    }
  }
  return out;
}
