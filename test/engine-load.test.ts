// Loading straight into engine memory (WasmBackend.load / engineLoader): the model's weights then read the
// engine's memory (fp32), and every path that reads model.weights (the reference path a hook falls back to,
// savePretrained, the attribution) still sees exactly the checkpoint's numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2LMHeadModel, writeSafetensors, weightsToTensors, weightTensors, tensorOf, type GPT2Weights } from '../src/index.js';
import { savePretrained } from '../src/node/model.js';
import { engineLoader, WasmBackend } from '../src/engine/index.js';
import { nodeEngineLoader } from '../src/node/threads.js';

const SPEC = 'random:64x2x4@7';
const IDS = [[464, 4583, 286, 262, 995, 13, 50256]];

/** Asserts every tensor of `got` equals `want` bit for bit; returns how many were compared. */
function assertSameWeights(got: GPT2Weights, want: GPT2Weights, untied: boolean, config: GPT2LMHeadModel['config']): number {
  const names = weightTensors(config, untied);
  for (const { name, shape } of names) {
    const a = tensorOf(got, name)!;
    const b = tensorOf(want, name)!;
    assert.equal(a.length, shape.reduce((x, y) => x * y, 1), name);
    assert.deepEqual(a, b, name);
  }
  return names.length;
}

test('engineLoader: random weights go straight into the engine; model.weights reads them back exactly', async () => {
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const fast = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader() });
  const backend = fast.backend as WasmBackend;
  assert.ok(backend instanceof WasmBackend);
  assert.equal(assertSameWeights(fast.weights, ref.weights, false, ref.config), 2 + 2 * 12 + 2);
  assert.equal(fast.weights.lm_head, undefined);
  assert.equal(fast.num_parameters(), ref.num_parameters());
  // the engine's logits match an engine built from the JS weights bit for bit
  const old = await WasmBackend.create(ref.config, ref.weights);
  ref.backend = old;
  assert.deepEqual(fast.forwardSync({ input_ids: IDS }).logits.data, ref.forwardSync({ input_ids: IDS }).logits.data);
  old.dispose();
  backend.dispose();
});

test('a hook the engine cannot run falls back to the reference path over engine-backed weights, with the same numbers', async () => {
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const fast = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader() });
  const args = {
    input_ids: IDS,
    capture: ['blocks.0.attn.hook_q', 'blocks.1.mlp.hook_pre'],
    hooks: { 'blocks.1.mlp.hook_pre': (v: { data: Float32Array }) => void v.data.fill(0.25, 0, 64) },
  };
  const a = fast.forwardSync(args);
  const b = ref.forwardSync(args);
  assert.deepEqual(a.logits.data, b.logits.data); // the reference path on both: same weights, same arithmetic
  assert.deepEqual(a.cache!.get('blocks.0.attn.hook_q')!.data, b.cache!.get('blocks.0.attn.hook_q')!.data);
  assert.equal(a.cache!.get('blocks.1.mlp.hook_pre')!.data[0], 0.25);
  (fast.backend as WasmBackend).dispose();
});

test('engine-backed weights stay readable after the engine memory grows (views are made afresh)', async () => {
  const fast = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader() });
  const backend = fast.backend as WasmBackend;
  const before = backend.engine.memory.buffer.byteLength;
  const row = fast.weights.wte.slice(464 * 64, 465 * 64);
  // a batch of 8 with a full-length cache needs more memory than the weights' estimate left free
  const caches = [0, 1, 2, 3].map(() => backend.engine.newCache(8));
  assert.ok(backend.engine.memory.buffer.byteLength > before, 'the memory grew');
  assert.deepEqual(fast.weights.wte.slice(464 * 64, 465 * 64), row);
  for (const c of caches) backend.engine.freeCache(c);
  backend.dispose();
});

test('freed engine memory is reused (best fit, split, merged): caches that come and go in any order stop growing it, and never overlap', async () => {
  const fast = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader() });
  const engine = (fast.backend as WasmBackend).engine;
  const logits = fast.forwardSync({ input_ids: IDS }).logits.data;
  // what generate() leaves behind: a cache that grew into one twice its size, the larger freed first (8 MiB a cycle
  // here, beyond the slack the engine's memory is created with)
  const cycle = (): void => {
    const small = engine.newCache(8, 512);
    const large = engine.newCache(8, 1024);
    engine.freeCache(large);
    engine.freeCache(small);
  };
  cycle();
  const settled = engine.memory.buffer.byteLength;
  for (let i = 0; i < 6; i++) cycle();
  assert.equal(engine.memory.buffer.byteLength, settled, 'no growth after the first cycle');
  // blocks carved from freed ones hold their own data: fill every layer of each live cache with its own value
  const C = fast.config.n_embd;
  const live = [engine.newCache(2, 30), engine.newCache(1, 100), engine.newCache(3, 10), engine.newCache(4, 144)];
  const fill = (c: (typeof live)[number], v: number): void => {
    for (const p of [...c.keys, ...c.values]) engine.f32(p, c.batch * c.capacity * C).fill(v);
  };
  live.forEach((c, i) => fill(c, i + 1));
  live.forEach((c, i) => {
    for (const p of [...c.keys, ...c.values]) assert.ok(engine.f32(p, c.batch * c.capacity * C).every((x) => x === i + 1), `cache ${i} was overwritten`);
  });
  for (const c of live) engine.freeCache(c);
  assert.deepEqual(fast.forwardSync({ input_ids: IDS }).logits.data, logits); // the weights untouched
  (fast.backend as WasmBackend).dispose();
});

test('safetensors bytes with an untied lm_head load into the engine; fp16 keeps the float32 weights for the reference path', async () => {
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const head = ref.weights.wte.map((x, i) => (i % 3 === 0 ? -x : 0.5 * x));
  const bytes = writeSafetensors([...weightsToTensors(ref.config, ref.weights), { name: 'lm_head.weight', shape: [50257, 64], data: head }]);
  const config = { ...ref.config, tie_word_embeddings: false };
  const fast = await GPT2LMHeadModel.from_pretrained({ config, weights: bytes }, { backendLoader: engineLoader() });
  const want: GPT2Weights = { ...ref.weights, lm_head: head };
  assert.equal(assertSameWeights(fast.weights, want, true, ref.config), 2 + 2 * 12 + 2 + 1);
  const plain = await GPT2LMHeadModel.from_pretrained({ config, weights: bytes });
  const a = fast.forwardSync({ input_ids: IDS }).logits.data;
  const b = plain.forwardSync({ input_ids: IDS }).logits.data;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst < 1e-4, `untied engine vs reference: ${worst}`);
  (fast.backend as WasmBackend).dispose();

  const half = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader({ dtype: 'fp16' }) });
  assert.equal((half.backend as WasmBackend).engine.dtype, 'fp16');
  assert.equal(assertSameWeights(half.weights, ref.weights, false, ref.config), 28);
  (half.backend as WasmBackend).dispose();
  await assert.rejects(GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader(), backend: ref.backend }), {
    message: 'from_pretrained: give backend or backendLoader, not both',
  });
});

test('a folder on disk reads each F32 tensor straight into shared engine memory (2 threads)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-load-'));
  try {
    const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
    savePretrained(ref, dir);
    const fast = await GPT2LMHeadModel.from_pretrained(dir, { backendLoader: nodeEngineLoader({ threads: 2 }) });
    const backend = fast.backend as WasmBackend;
    assert.equal(backend.engine.threads, 2);
    assert.ok(backend.engine.memory.buffer instanceof SharedArrayBuffer);
    assert.equal(assertSameWeights(fast.weights, ref.weights, false, ref.config), 28);
    backend.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the static site\'s worker loads the downloaded bytes into the engine and lets them go', async () => {
  const { sessionFromInit } = await import('../src/explorer/worker.js');
  const { FIXTURE_DIR } = await import('./helpers/fixtures.js');
  const { readFileSync } = await import('node:fs');
  const read = (f: string): string => readFileSync(join(FIXTURE_DIR, f), 'utf8');
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const bytes = writeSafetensors(weightsToTensors(ref.config, ref.weights));
  const model = { config: ref.config, weights: bytes.buffer as ArrayBuffer, name_or_path: 'site' };
  const tokenizer = { vocab: JSON.parse(read('vocab.json')) as Record<string, number>, merges: read('merges.txt') };
  const session = await sessionFromInit({ type: 'init', model, tokenizer, engine: { dtype: 'fp32', threads: 1 } });
  assert.equal(model.weights.byteLength, 0, 'the init message no longer holds the file');
  const m = (session as unknown as { ctx: { model: GPT2LMHeadModel } }).ctx.model; // the session's private context
  assert.ok(m.backend instanceof WasmBackend);
  assert.equal(assertSameWeights(m.weights, ref.weights, false, ref.config), 28);
  assert.equal(m.name_or_path, 'site');
  (m.backend as WasmBackend).dispose();
});

test('model.safetensors as a Blob (a picked File, a cache entry) is read slice by slice into the engine or into arrays', async () => {
  const { BlobSafetensors, BLOB_CHUNK_BYTES, openFiles } = await import('../src/index.js');
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const bytes = writeSafetensors(weightsToTensors(ref.config, ref.weights));
  assert.ok(ref.weights.wte.byteLength > 3 * BLOB_CHUNK_BYTES, 'wte spans several slices');
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  // the engine (fp32: straight into its memory; fp16: through float32 arrays) and the reference path
  const fast = await GPT2LMHeadModel.from_pretrained({ config: ref.config, weights: blob, name_or_path: 'picked' }, { backendLoader: engineLoader() });
  assert.equal(assertSameWeights(fast.weights, ref.weights, false, ref.config), 28);
  (fast.backend as WasmBackend).dispose();
  const half = await GPT2LMHeadModel.from_pretrained({ config: ref.config, weights: blob }, { backendLoader: engineLoader({ dtype: 'fp16' }) });
  assert.equal(assertSameWeights(half.weights, ref.weights, false, ref.config), 28);
  (half.backend as WasmBackend).dispose();
  const plain = await GPT2LMHeadModel.from_pretrained({ config: ref.config, weights: blob });
  assert.equal(assertSameWeights(plain.weights, ref.weights, false, ref.config), 28);
  // an F16 checkpoint in a Blob decodes slice by slice like the whole file does
  const f16 = writeSafetensors(weightsToTensors(ref.config, ref.weights).map((t) => ({ ...t, dtype: 'F16' as const })));
  const fromBlob = await GPT2LMHeadModel.from_pretrained({ config: ref.config, weights: new Blob([f16 as Uint8Array<ArrayBuffer>]) });
  const fromBytes = await GPT2LMHeadModel.from_pretrained({ config: ref.config, weights: f16 });
  assert.equal(assertSameWeights(fromBlob.weights, fromBytes.weights, false, ref.config), 28);
  // errors: a cut file says so before anything is read; openFiles (synchronous) cannot take a Blob
  await assert.rejects(BlobSafetensors.open(new Blob([bytes.subarray(0, bytes.length - 10) as Uint8Array<ArrayBuffer>]), 'cut.safetensors'), {
    message: /^cut\.safetensors is truncated: the header describes \d+ bytes of tensor data, but only \d+ follow the header/,
  });
  assert.throws(() => openFiles({ config: ref.config, weights: blob, name_or_path: 'picked' }), {
    message: 'picked: the weights are a Blob, which is read asynchronously: load it with from_pretrained',
  });
});

test('the static site\'s worker loads model.safetensors from a Blob into the engine', async () => {
  const { sessionFromInit } = await import('../src/explorer/worker.js');
  const { FIXTURE_DIR } = await import('./helpers/fixtures.js');
  const { readFileSync } = await import('node:fs');
  const read = (f: string): string => readFileSync(join(FIXTURE_DIR, f), 'utf8');
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const model = { config: ref.config, weights: new Blob([writeSafetensors(weightsToTensors(ref.config, ref.weights)) as Uint8Array<ArrayBuffer>]), name_or_path: 'site' };
  const tokenizer = { vocab: JSON.parse(read('vocab.json')) as Record<string, number>, merges: read('merges.txt') };
  const session = await sessionFromInit({ type: 'init', model, tokenizer, engine: { dtype: 'fp32', threads: 1 } });
  const m = (session as unknown as { ctx: { model: GPT2LMHeadModel } }).ctx.model;
  assert.ok(m.backend instanceof WasmBackend);
  assert.equal(assertSameWeights(m.weights, ref.weights, false, ref.config), 28);
  (m.backend as WasmBackend).dispose();
});
