// The safetensors reader: every corruption of the fixture gets its own message; F16/BF16 decoding; the writer;
// sharded checkpoints; the Node file reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from './helpers/fixtures.js';
import { GPT2LMHeadModel, SafetensorsFile, writeSafetensors, weightsToTensors, type PretrainedFiles } from '../src/index.js';
import { SafetensorsFileReader } from '../src/node/model.js';
import { float32ToBFloat16Bits, float32ToFloat16Bits } from '../src/model/safetensors.js';

const FILE = new Uint8Array(readFileSync(fixturePath('model.safetensors'))); // a plain copy: Buffer.slice would not copy
const CONFIG = JSON.parse(readFileSync(fixturePath('config.json'), 'utf8')) as Record<string, unknown>;
const SRC = 'fixture/model.safetensors';

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
/** The fixture split into its header object and its data section. */
function split(bytes: Uint8Array = FILE): { header: Record<string, Entry>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Entry>;
  return { header, data: bytes.subarray(8 + n) };
}
/** A file from a header object and a data section (header padded to 8 bytes, as the format does). */
function build(header: object, data: Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
function loadBytes(bytes: Uint8Array): Promise<GPT2LMHeadModel> {
  const files: PretrainedFiles = { config: CONFIG, weights: bytes, name_or_path: 'fixture' };
  return GPT2LMHeadModel.from_pretrained(files);
}

test('the fixture parses: tensors, dtypes, data section size, views without copies', () => {
  const f = new SafetensorsFile(FILE, SRC);
  const { header, data } = split();
  assert.equal(f.header.dataLength, data.length);
  assert.equal(f.names().length, Object.keys(header).filter((k) => k !== '__metadata__').length);
  assert.deepEqual(f.info('h.0.attn.c_attn.weight')?.shape, [64, 192]);
  assert.deepEqual(f.header.metadata, { format: 'pt' });
  const wte = f.read('wte.weight');
  assert.equal(wte.length, 50257 * 64);
  assert.equal(wte.buffer, FILE.buffer, 'an aligned F32 tensor is a view onto the file bytes');
  const info = f.info('wte.weight')!;
  const dv = new DataView(FILE.buffer, FILE.byteOffset + f.header.dataStart + info.begin);
  assert.equal(wte[3], dv.getFloat32(12, true));
});

test('truncated file', async () => {
  const { data } = split();
  const cut = FILE.subarray(0, FILE.length - 1000);
  await assert.rejects(loadBytes(cut), {
    name: 'SafetensorsError',
    message: `fixture/model.safetensors is truncated: the header describes ${data.length} bytes of tensor data, but only ${data.length - 1000} follow the header (tensor "wte.weight" is incomplete)`,
  });
  assert.throws(() => new SafetensorsFile(FILE.subarray(0, 5), SRC), { message: 'fixture/model.safetensors is truncated: 5 bytes, too short for the 8-byte header length' });
});

test('header length past the end of the file', () => {
  const bad = FILE.slice(0, 4096);
  new DataView(bad.buffer).setBigUint64(0, 123456789n, true);
  assert.throws(() => new SafetensorsFile(bad, SRC), { message: 'fixture/model.safetensors: header length 123456789 runs past the end of the file (4096 bytes)' });
});

test('bad header JSON', () => {
  const bad = FILE.slice();
  bad[8] = 'x'.charCodeAt(0); // the header's opening brace
  assert.throws(() => new SafetensorsFile(bad, SRC), { message: /^fixture\/model\.safetensors: the header is not valid JSON \(/ });
  const notObject = build([1, 2], new Uint8Array(0));
  assert.throws(() => new SafetensorsFile(notObject, SRC), { message: 'fixture/model.safetensors: the header must be a JSON object' });
});

test('offsets out of range', () => {
  const { header, data } = split();
  const e = header['ln_f.bias']!;
  e.data_offsets = [data.length + 64, data.length + 64 + 256];
  assert.throws(() => new SafetensorsFile(build(header, data), SRC), {
    message: `fixture/model.safetensors: tensor "ln_f.bias": data_offsets [${data.length + 64}, ${data.length + 320}] are out of range (the data section has ${data.length} bytes)`,
  });
});

test('overlapping tensors', () => {
  const { header, data } = split();
  const [b0] = header['h.0.ln_1.weight']!.data_offsets;
  header['h.0.ln_1.bias']!.data_offsets = [b0 + 4, b0 + 260];
  assert.throws(() => new SafetensorsFile(build(header, data), SRC), {
    message: `fixture/model.safetensors: tensors "h.0.ln_1.weight" [${b0}, ${b0 + 256}] and "h.0.ln_1.bias" [${b0 + 4}, ${b0 + 260}] overlap`,
  });
});

test('offsets that do not match dtype × shape', () => {
  const { header, data } = split();
  header['ln_f.weight']!.shape = [63];
  const [a, b] = header['ln_f.weight']!.data_offsets;
  assert.throws(() => new SafetensorsFile(build(header, data), SRC), {
    message: `fixture/model.safetensors: tensor "ln_f.weight": data_offsets [${a}, ${b}] hold 256 bytes, but F32 [63] needs 252`,
  });
});

test('unknown dtype', () => {
  const { header, data } = split();
  header['wpe.weight']!.dtype = 'F31';
  assert.throws(() => new SafetensorsFile(build(header, data), SRC), { message: /^fixture\/model\.safetensors: tensor "wpe\.weight" has unknown dtype "F31" \(safetensors dtypes: BOOL, U8, / });
  header['wpe.weight']!.dtype = 'constructor'; // an inherited key of the dtype table is no dtype either
  assert.throws(() => new SafetensorsFile(build(header, data), SRC), { message: /^fixture\/model\.safetensors: tensor "wpe\.weight" has unknown dtype "constructor" / });
});

test('a dtype that is valid safetensors but not a float weight', async () => {
  const { header, data } = split();
  header['ln_f.weight']!.dtype = 'I32';
  await assert.rejects(loadBytes(build(header, data)), { message: 'fixture/model.safetensors: tensor "ln_f.weight" has dtype I32; gpt2-lens reads weights stored as F32, F16, BF16, F64' });
});

test('missing tensor, named', async () => {
  const { header, data } = split();
  delete (header as Record<string, unknown>)['h.1.mlp.c_fc.weight'];
  await assert.rejects(loadBytes(build(header, data)), { message: 'fixture/model.safetensors: missing tensor "h.1.mlp.c_fc.weight" (also looked for "transformer.h.1.mlp.c_fc.weight")' });
});

test('wrong shape, named with both shapes', async () => {
  const { header, data } = split();
  header['h.0.attn.c_attn.weight']!.shape = [192, 64]; // same bytes, transposed shape
  await assert.rejects(loadBytes(build(header, data)), { message: 'fixture/model.safetensors: tensor "h.0.attn.c_attn.weight" has shape [192, 64], but the config needs [64, 192]' });
});

test('untied config without lm_head.weight is a missing tensor; an explicit lm_head.weight is used', async () => {
  await assert.rejects(GPT2LMHeadModel.from_pretrained({ config: { ...CONFIG, tie_word_embeddings: false }, weights: FILE, name_or_path: 'fixture' }), {
    message: 'fixture/model.safetensors: missing tensor "lm_head.weight" (config.json says tie_word_embeddings false)',
  });
  const ref = await loadBytes(FILE);
  const head = new Float32Array(ref.weights.wte.length);
  for (let i = 0; i < head.length; i++) head[i] = -ref.weights.wte[i]!; // a head that negates every logit
  const tensors = [...weightsToTensors(ref.config, ref.weights), { name: 'lm_head.weight', shape: [50257, 64], data: head }];
  const untied = await loadBytes(writeSafetensors(tensors));
  assert.ok(untied.weights.lm_head);
  const a = ref.forwardSync({ input_ids: [[464, 4583]] }).logits.data;
  const b = untied.forwardSync({ input_ids: [[464, 4583]] }).logits.data;
  for (const i of [0, 7, 50256, 60000]) assert.equal(b[i], -a[i]!);
});

test('F16 and BF16 tensors decode to float32 (round to nearest even when written)', () => {
  const values = new Float32Array([1, -2, 0.5, 65504, 2 ** -24, Infinity, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, -0]);
  const bytes = writeSafetensors([
    { name: 'a.half', shape: [10], data: values, dtype: 'F16' },
    { name: 'b.bf16', shape: [2, 5], data: values, dtype: 'BF16' },
  ]);
  const f = new SafetensorsFile(bytes, 'small');
  assert.equal(f.info('a.half')!.dtype, 'F16');
  assert.deepEqual(f.info('b.bf16')!.shape, [2, 5]);
  const raw = new DataView(bytes.buffer, f.header.dataStart + f.info('a.half')!.begin);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => raw.getUint16(2 * i, true)), [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
  assert.deepEqual(Array.from(f.read('a.half')), [1, -2, 0.5, 65504, 2 ** -24, Infinity, 1, 1 + 2 ** -9, 0.0999755859375, -0]);
  // bfloat16 keeps 8 mantissa bits: 0.1 → 0.10009765625, 1 + 2^-11 → 1
  assert.deepEqual(Array.from(f.read('b.bf16')), [1, -2, 0.5, 65536, 2 ** -24, Infinity, 1, 1, 0.10009765625, -0]);
  assert.equal(float32ToFloat16Bits(70000), 0x7c00);
  assert.equal(float32ToFloat16Bits(NaN) & 0x7c00, 0x7c00);
  assert.equal(float32ToBFloat16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(float32ToBFloat16Bits(1 + 3 * 2 ** -8), 0x3f82);
});

test('a BF16 copy of the fixture loads and predicts like the F32 one', async () => {
  const ref = await loadBytes(FILE);
  const tensors = weightsToTensors(ref.config, ref.weights).map((t) => ({ ...t, dtype: 'BF16' as const }));
  const half = await loadBytes(writeSafetensors(tensors));
  for (const [i, x] of [[0, ref.weights.wte[0]!], [100, ref.weights.h[1]!.mlp.c_fc.weight[100]!]] as const) {
    const w = i === 0 ? half.weights.wte[0]! : half.weights.h[1]!.mlp.c_fc.weight[100]!;
    assert.ok(Math.abs(w - x) <= Math.abs(x) * 2 ** -8, `bf16 weight ${w} vs ${x}`);
  }
  assert.equal(half.weights.wte.buffer.byteLength, 50257 * 64 * 4);
});

test('writeSafetensors round-trips the fixture weights in sorted key order', async () => {
  const ref = await loadBytes(FILE);
  const bytes = writeSafetensors(weightsToTensors(ref.config, ref.weights, 'transformer'));
  const f = new SafetensorsFile(bytes);
  const names = f.names();
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.every((n) => n.startsWith('transformer.')));
  assert.equal(f.header.dataStart % 8, 0);
  assert.deepEqual(f.read('transformer.h.1.mlp.c_proj.weight'), ref.weights.h[1]!.mlp.c_proj.weight);
  const again = await loadBytes(bytes);
  assert.deepEqual(again.forwardSync({ input_ids: [[318]] }).logits.data, ref.forwardSync({ input_ids: [[318]] }).logits.data);
});

test('sharded checkpoint: model.safetensors.index.json + 2 shards in a folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-shards-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ref = await loadBytes(FILE);
  const tensors = weightsToTensors(ref.config, ref.weights);
  const first = tensors.filter((x) => x.name.startsWith('h.0.') || x.name.startsWith('wte'));
  const second = tensors.filter((x) => !first.includes(x));
  writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), writeSafetensors(first));
  writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), writeSafetensors(second));
  const weight_map: Record<string, string> = {};
  for (const x of first) weight_map[x.name] = 'model-00001-of-00002.safetensors';
  for (const x of second) weight_map[x.name] = 'model-00002-of-00002.safetensors';
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map }));
  copyFileSync(fixturePath('config.json'), join(dir, 'config.json'));
  const sharded = await GPT2LMHeadModel.from_pretrained(dir);
  const ids = [[464, 4583, 286]];
  assert.deepEqual(sharded.forwardSync({ input_ids: ids }).logits.data, ref.forwardSync({ input_ids: ids }).logits.data);

  // an index that names a tensor its shard lacks
  weight_map['ln_f.bias'] = 'model-00001-of-00002.safetensors';
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map }));
  await assert.rejects(GPT2LMHeadModel.from_pretrained(dir), {
    message: `${join(dir, 'model.safetensors.index.json')} puts tensor "ln_f.bias" in "model-00001-of-00002.safetensors", but that shard has no such tensor`,
  });
  weight_map['ln_f.bias'] = 'model-00003-of-00002.safetensors';
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map }));
  await assert.rejects(GPT2LMHeadModel.from_pretrained(dir), { message: `${join(dir, 'model.safetensors.index.json')} names shard "model-00003-of-00002.safetensors", which is not in ${dir}` });
});

test('Node file reader: same tensors as the in-memory reader, and the same errors on a truncated file', async (t) => {
  const r = new SafetensorsFileReader(fixturePath('model.safetensors'));
  const m = new SafetensorsFile(FILE);
  assert.deepEqual(r.read('h.1.attn.c_proj.weight'), m.read('h.1.attn.c_proj.weight'));
  r.close();
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-trunc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(fixturePath('config.json'), join(dir, 'config.json'));
  writeFileSync(join(dir, 'model.safetensors'), FILE.subarray(0, FILE.length - 10));
  await assert.rejects(GPT2LMHeadModel.from_pretrained(dir), { message: new RegExp(`^${join(dir, 'model.safetensors')} is truncated: the header describes \\d+ bytes of tensor data`) });
  rmSync(join(dir, 'model.safetensors'));
  await assert.rejects(GPT2LMHeadModel.from_pretrained(dir), { message: `no model.safetensors or model.safetensors.index.json in ${dir} (only safetensors weights are supported)` });
});
