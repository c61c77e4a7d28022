// The fast path (src/engine: WebAssembly SIMD kernels) against the HF goldens and the reference path
// (src/model/gpt2.ts): fp32 within 1e-4 on logits, KV-cache decoding, left padding, batches, shapes that are not
// multiples of the SIMD width, threads bit for bit equal to one thread, and fp16/int8 within their measured bounds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, assertClose, expectCases, flat, readBinRef, readGolden } from './helpers/fixtures.js';
import { checkGenerateCase, generateCases } from './helpers/generate-golden.js';
import { GPT2LMHeadModel, GPT2_DEFAULTS, KVCache, randomWeights, referenceBackend, gpt2Forward, logitLens, type GPT2Config, type GPT2Weights } from '../src/index.js';
import type { BackendRequest } from '../src/model/backend.js';
import '../src/node/model.js';
import { WasmBackend, WasmEngine, toHalfBits } from '../src/engine/index.js';
import { ATTENTION_ALONE } from '../src/engine/engine.js';
import { nodeWorkerSpawner } from '../src/node/threads.js';
import { generate, type GenerateOptions } from '../src/generation/generate.js';

interface ForwardCase {
  input_ids: number[];
  logits: { file: string; offset: number; shape: number[] };
  logits_positions: number[];
}
interface Golden {
  cases: ForwardCase[];
  batch_left_padded: { input_ids: number[][]; attention_mask: number[][]; position_ids: number[][] };
}
const golden = readGolden<Golden>('golden-forward.json');
expectCases(golden.cases, 'golden-forward.json cases');
const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const fp32 = await WasmBackend.create(model.config, model.weights);
const backends: WasmBackend[] = [fp32];
after(() => backends.forEach((b) => b.dispose()));

/** A plain request for the reference backend or ours. */
function request(input_ids: number[][], extra: Partial<BackendRequest> = {}): BackendRequest {
  const T = input_ids[0]!.length;
  return {
    input_ids,
    attention_mask: null,
    position_ids: input_ids.map(() => Array.from({ length: T }, (_, t) => t)),
    cache: null,
    output_hidden_states: false,
    output_attentions: false,
    capture: null,
    lm_head: true,
    num_logits_to_keep: 0,
    ...extra,
  };
}

/** Three 7-token rows for the odd-shaped model, the third left-padded by 2, with HF's position ids (pads at 1). */
const PADDED_3_ROWS = {
  ids: [
    [50, 60, 70, 80, 90, 100, 7],
    [1000, 3, 5, 7, 9, 11, 13],
    [0, 0, 2, 4, 6, 8, 10],
  ],
  mask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1, 1],
  ],
  pos: [
    [0, 1, 2, 3, 4, 5, 6],
    [0, 1, 2, 3, 4, 5, 6],
    [1, 1, 0, 1, 2, 3, 4],
  ],
};

test('fp32 logits match every golden-forward case within 1e-4', () => {
  const V = model.config.vocab_size;
  for (const [i, c] of golden.cases.entries()) {
    const T = c.input_ids.length;
    const out = fp32.forward(model.config, model.weights, request([c.input_ids]));
    const expected = readBinRef(c.logits);
    const got = new Float32Array(c.logits_positions.length * V);
    c.logits_positions.forEach((p, j) => got.set(out.logits!.data.subarray(p * V, (p + 1) * V), j * V));
    assert.deepEqual(out.logits!.dims, [1, T, V]);
    assertClose(`case ${i} logits`, got, expected, { atol: 1e-4, dims: [c.logits_positions.length, V] });
  }
});

test('both kernel builds, plain SIMD and relaxed SIMD (fused multiply-add), give every golden-forward case within 1e-4, all positions', async () => {
  const V = model.config.vocab_size;
  for (const simd of ['plain', 'relaxed'] as const) {
    const engine = await WasmEngine.create(model.config, model.weights, { simd });
    assert.equal(engine.simd, simd);
    let worst = 0;
    for (const [i, c] of golden.cases.entries()) {
      const T = c.input_ids.length;
      const logits = engine.forward({ ids: c.input_ids, positions: c.input_ids.map((_, t) => t), mask: null, batch: 1, cache: null, keep: 0 }).logits!;
      const got = new Float32Array(c.logits_positions.length * V);
      c.logits_positions.forEach((p, j) => got.set(logits.subarray(p * V, (p + 1) * V), j * V));
      assert.equal(logits.length, T * V);
      worst = Math.max(worst, assertClose(`${simd} case ${i} logits`, got, readBinRef(c.logits), { atol: 1e-4, dims: [c.logits_positions.length, V] }));
    }
    engine.dispose();
    console.log(`${simd} SIMD: worst |logit - HF| ${worst.toExponential(2)} over ${golden.cases.length} cases`);
  }
});

test('through the model: GPT2LMHeadModel with the wasm backend gives the reference logits and hidden state', async () => {
  const ids = [golden.cases[0]!.input_ids];
  model.backend = referenceBackend;
  const ref = model.forwardSync({ input_ids: ids });
  model.backend = fp32;
  const fast = await model.forward({ input_ids: ids });
  model.backend = referenceBackend;
  assertClose('logits', fast.logits.data, ref.logits.data, { atol: 1e-4, dims: ref.logits.dims });
});

test('KV-cache decoding of a left-padded batch equals a full recompute (unmasked positions)', () => {
  const { input_ids, attention_mask, position_ids } = golden.batch_left_padded;
  const steps = [[[262], [11]], [[286], [318]], [[50256], [13]]]; // three more tokens per row
  const cache = KVCache.forConfig(model.config, 2, 4);
  let mask = attention_mask.map((r) => [...r]);
  let pos = position_ids.map((r) => [...r]);
  const first = fp32.forward(model.config, model.weights, request(input_ids, { attention_mask: mask, position_ids: pos, cache, num_logits_to_keep: 1 }));
  const full = input_ids.map((r) => [...r]);
  const ref0 = gpt2Forward(model.config, model.weights, request(full, { attention_mask: mask, position_ids: pos, num_logits_to_keep: 1 }));
  assertClose('prefill logits', first.logits!.data, ref0.logits!.data, { atol: 1e-4 });
  for (const [s, step] of steps.entries()) {
    mask = mask.map((r) => [...r, 1]);
    const next = pos.map((r) => [r[r.length - 1]! + 1]);
    pos = pos.map((r, b) => [...r, next[b]![0]!]);
    step.forEach((t, b) => full[b]!.push(t[0]!));
    const fast = fp32.forward(model.config, model.weights, request(step, { attention_mask: mask, position_ids: next, cache, num_logits_to_keep: 1 }));
    const ref = gpt2Forward(model.config, model.weights, request(full, { attention_mask: mask, position_ids: pos, num_logits_to_keep: 1 }));
    assertClose(`step ${s} logits`, fast.logits!.data, ref.logits!.data, { atol: 1e-4, dims: [2, 1, model.config.vocab_size] });
  }
  assert.equal(cache.length, 8);
  // The model's cache was kept in step: the reference path continuing from it agrees with ours.
  const refCache = cache.clone(16);
  const a = fp32.forward(model.config, model.weights, request([[7], [8]], { attention_mask: mask.map((r) => [...r, 1]), position_ids: pos.map((r) => [r[r.length - 1]! + 1]), cache }));
  const b = gpt2Forward(model.config, model.weights, request([[7], [8]], { attention_mask: mask.map((r) => [...r, 1]), position_ids: pos.map((r) => [r[r.length - 1]! + 1]), cache: refCache }));
  assertClose('continued from the shared cache', a.logits!.data, b.logits!.data, { atol: 1e-4 });
});

test('a reordered cache (beam search) is brought up to date: decoding after reorder equals the reference', () => {
  const ids = [golden.cases[0]!.input_ids.slice(0, 3), golden.cases[0]!.input_ids.slice(2, 5)];
  const cache = KVCache.forConfig(model.config, 2, 8);
  const refCache = KVCache.forConfig(model.config, 2, 8);
  fp32.forward(model.config, model.weights, request(ids, { cache }));
  gpt2Forward(model.config, model.weights, request(ids, { cache: refCache }));
  cache.reorder([1, 1]);
  refCache.reorder([1, 1]);
  const next = { position_ids: [[3], [3]] };
  const a = fp32.forward(model.config, model.weights, request([[11], [13]], { ...next, cache }));
  const b = gpt2Forward(model.config, model.weights, request([[11], [13]], { ...next, cache: refCache }));
  assertClose('logits after reorder', a.logits!.data, b.logits!.data, { atol: 1e-4 });
});

test('two reorders between forward passes (A -> B -> A buffers) are not mistaken for an unchanged cache', () => {
  const ids = [golden.cases[0]!.input_ids.slice(0, 3), golden.cases[0]!.input_ids.slice(2, 5)];
  const cache = KVCache.forConfig(model.config, 2, 8);
  const refCache = KVCache.forConfig(model.config, 2, 8);
  fp32.forward(model.config, model.weights, request(ids, { cache }));
  gpt2Forward(model.config, model.weights, request(ids, { cache: refCache }));
  const keys0 = cache.keys[0];
  // rows: a, a. Reading keys after each reorder applies it (a reorder alone only composes a row map), so the rows are
  // copied twice, into the spare buffers and back: the buffers are the first ones again although the rows moved
  for (const c of [cache, refCache]) {
    assert.ok(c.reorder([1, 0]).keys[0]);
    assert.ok(c.reorder([1, 1]).keys[0]);
  }
  assert.equal(cache.keys[0], keys0, 'the double-buffered reorder is back on the first buffers');
  assert.deepEqual(cache.rowsSince(cache.version - 2), [0, 0]);
  const next = { position_ids: [[3], [3]] };
  const a = fp32.forward(model.config, model.weights, request([[11], [13]], { ...next, cache }));
  const b = gpt2Forward(model.config, model.weights, request([[11], [13]], { ...next, cache: refCache }));
  assertClose('logits after two reorders', a.logits!.data, b.logits!.data, { atol: 1e-4 });
});

test('a cropped cache is followed by shortening its mirror; positions another backend wrote after a crop are re-uploaded', async () => {
  const backend = await WasmBackend.create(model.config, model.weights);
  backends.push(backend);
  const ids = [[101, 102, 103, 104, 105], [201, 202, 203, 204, 205]];
  const cache = KVCache.forConfig(model.config, 2, 8);
  const refCache = KVCache.forConfig(model.config, 2, 8);
  backend.forward(model.config, model.weights, request(ids, { cache }));
  gpt2Forward(model.config, model.weights, request(ids, { cache: refCache }));
  const step = (label: string, crop: number, newIds: number[][], want: [uploads: number, crops: number]): void => {
    for (const c of [cache, refCache]) c.crop(crop);
    const [uploads, crops] = [backend.cacheUploads, backend.cacheCrops];
    const T = newIds[0]!.length;
    const next = request(newIds, { position_ids: newIds.map(() => Array.from({ length: T }, (_, t) => crop + t)) });
    const a = backend.forward(model.config, model.weights, { ...next, cache });
    const b = gpt2Forward(model.config, model.weights, { ...next, cache: refCache });
    assertClose(label, a.logits!.data, b.logits!.data, { atol: 1e-4 });
    assert.deepEqual([backend.cacheUploads - uploads, backend.cacheCrops - crops], want, `${label}: [uploads, crops]`);
  };
  step('cropped to 3, two new positions', 3, [[11, 12], [13, 14]], [0, 1]);
  step('cropped to 1, four new positions', 1, [[21, 22, 23, 24], [25, 26, 27, 28]], [0, 1]);
  // the reference backend writes positions 2..4 after a crop to 2: the same length the mirror last had, other values
  for (const c of [cache, refCache]) c.crop(2);
  for (const c of [cache, refCache]) gpt2Forward(model.config, model.weights, { ...request([[31, 32, 33], [34, 35, 36]], { position_ids: [[2, 3, 4], [2, 3, 4]] }), cache: c });
  step('written by the reference backend after a crop', 5, [[41], [42]], [1, 0]);
});

test('reorders are replayed in engine memory; a cache written elsewhere or reordered too often is re-uploaded', async () => {
  const backend = await WasmBackend.create(model.config, model.weights);
  backends.push(backend);
  const ids = [golden.cases[0]!.input_ids.slice(0, 3), golden.cases[0]!.input_ids.slice(2, 5), golden.cases[0]!.input_ids.slice(1, 4)];
  const cache = KVCache.forConfig(model.config, 3, 4);
  const refCache = KVCache.forConfig(model.config, 3, 4);
  backend.forward(model.config, model.weights, request(ids, { cache }));
  gpt2Forward(model.config, model.weights, request(ids, { cache: refCache }));
  let pos = 3;
  const step = (label: string, reorders: number[][], fast: boolean): void => {
    for (const rows of reorders) for (const c of [cache, refCache]) c.reorder(rows);
    const [uploads, replays] = [backend.cacheUploads, backend.cacheReorders];
    const next = request([[11], [13], [17]], { position_ids: [[pos], [pos], [pos]] });
    const a = backend.forward(model.config, model.weights, { ...next, cache }); // grows past capacity 4 on the way
    const b = gpt2Forward(model.config, model.weights, { ...next, cache: refCache });
    pos++;
    assertClose(label, a.logits!.data, b.logits!.data, { atol: 1e-4 });
    assert.deepEqual([backend.cacheUploads - uploads, backend.cacheReorders - replays], fast ? [0, 1] : [1, 0], `${label}: [uploads, replays]`);
  };
  step('one reorder', [[2, 0, 0]], true);
  step('three reorders', [[1, 2, 0], [0, 0, 1], [2, 1, 1]], true);
  step('select then expand, same batch', [[2], [0, 0, 0]], true);
  step('nine reorders (more than the cache remembers)', Array.from({ length: 9 }, (_, i) => [(i + 1) % 3, i % 3, 2]), false);
  // another backend appends a position: the mirror's length no longer matches
  gpt2Forward(model.config, model.weights, { ...request([[5], [6], [7]], { position_ids: [[pos], [pos], [pos]] }), cache });
  gpt2Forward(model.config, model.weights, { ...request([[5], [6], [7]], { position_ids: [[pos], [pos], [pos]] }), cache: refCache });
  pos++;
  step('written by the reference backend, then reordered', [[1, 1, 0]], false);
  step('and back on the fast path', [[0, 2, 1]], true);
});

test('a reorder moves no floats (the mirror keeps its addresses and bytes); decoding through its row map equals the reference: odd shapes, 3 rows, repeated parents, left padding, 1 and 2 threads', async () => {
  const { ids, mask: mask0, pos: pos0 } = PADDED_3_ROWS;
  // each step's parents: repeated rows, a row that keeps itself, chains that mix positions of all three rows
  const reorders = [[2, 0, 2], [1, 1, 0], [0, 2, 2], [2, 2, 1], [1, 0, 1], [0, 0, 0]];
  const V = odd.vocab_size;
  const C = odd.n_embd;
  for (const threads of [1, 2]) {
    const backend = await WasmBackend.create(odd, oddWeights, threads > 1 ? { threads, spawn: nodeWorkerSpawner() } : {});
    backends.push(backend);
    const engine = backend.engine;
    let mask = mask0;
    let pos = pos0;
    const cache = KVCache.forConfig(odd, 3, 16); // room for every step: no growth
    const refCache = KVCache.forConfig(odd, 3, 16);
    backend.forward(odd, oddWeights, request(ids, { attention_mask: mask0, position_ids: pos0, cache }));
    gpt2Forward(odd, oddWeights, request(ids, { attention_mask: mask0, position_ids: pos0, cache: refCache }));
    // spies: what each reorder did to the mirror's memory, and whether any engine cache was allocated
    const seen: Array<{ cache: object; addresses: string; moved: number }> = [];
    const reorderCache = engine.reorderCache.bind(engine);
    engine.reorderCache = (c, rows) => {
      const bytes = c.batch * c.capacity * C;
      const before = [...c.keys, ...c.values].map((p) => new Float32Array(engine.memory.buffer, p, bytes).slice());
      reorderCache(c, rows);
      const after = [...c.keys, ...c.values].map((p) => new Float32Array(engine.memory.buffer, p, bytes));
      let moved = 0;
      before.forEach((b, i) => b.forEach((v, j) => (moved += Object.is(v, after[i]![j]) ? 0 : 1)));
      seen.push({ cache: c, addresses: [...c.keys, ...c.values].join(','), moved });
    };
    let allocated = 0;
    const newCache = engine.newCache.bind(engine);
    engine.newCache = (...a) => {
      allocated++;
      return newCache(...a);
    };
    let worst = 0;
    try {
      for (const [s, rows] of reorders.entries()) {
        for (const c of [cache, refCache]) c.reorder(rows);
        mask = rows.map((r) => [...mask[r]!, 1]);
        pos = rows.map((r) => pos[r]!);
        const next = pos.map((r) => [r[r.length - 1]! + 1]);
        pos = pos.map((r, b) => [...r, next[b]![0]!]);
        const step = [[(17 * s + 3) % V], [(31 * s + 5) % V], [(s * 997 + 1) % V]];
        const a = backend.forward(odd, oddWeights, request(step, { attention_mask: mask, position_ids: next, cache }));
        const b = gpt2Forward(odd, oddWeights, request(step, { attention_mask: mask, position_ids: next, cache: refCache }));
        assertClose(`${threads} thread(s), step ${s} after reorder [${rows.join(', ')}]`, a.logits!.data, b.logits!.data, { atol: 1e-4, dims: [3, 1, V] });
        for (let i = 0; i < a.logits!.data.length; i++) worst = Math.max(worst, Math.abs(a.logits!.data[i]! - b.logits!.data[i]!));
      }
    } finally {
      engine.reorderCache = reorderCache;
      engine.newCache = newCache;
    }
    assert.equal(seen.length, reorders.length, 'one reorder of the mirror per step');
    assert.deepEqual(seen.map((r) => r.moved), reorders.map(() => 0), 'no float of the mirror changed in a reorder');
    assert.ok(seen.every((r) => r.cache === seen[0]!.cache && r.addresses === seen[0]!.addresses), 'the same mirror at the same addresses every step');
    assert.equal(allocated, 0, 'no engine cache allocated while decoding');
    assert.equal(backend.cacheUploads, 0, 'never re-uploaded');
    // the mirror read through its row map equals the model's cache (the source of truth), every layer
    const mirror = seen[0]!.cache as Parameters<WasmEngine['readCache']>[0];
    assert.notEqual(mirror.map, 0, 'the mirror has a row map');
    const L = cache.length;
    assert.equal(mirror.length, L);
    for (let l = 0; l < odd.n_layer; l++) {
      for (const which of ['keys', 'values'] as const) {
        const want = new Float32Array(3 * L * C);
        for (let b = 0; b < 3; b++) for (let h = 0; h < odd.n_head; h++) for (let t = 0; t < L; t++) want.set(cache[which][l]!.subarray(cache.offset(b, h, t), cache.offset(b, h, t) + C / odd.n_head), (b * L + t) * C + (h * C) / odd.n_head);
        assert.deepEqual(engine.readCache(mirror, l, which), want, `${threads} thread(s): layer ${l} ${which} through the row map`);
      }
    }
    // a write hook on the pattern makes the engine weigh the cached values again in JS (reweigh): through the map too
    for (const c of [cache, refCache]) c.reorder([1, 2, 1]);
    mask = [1, 2, 1].map((r) => [...mask[r]!, 1]);
    const next = [1, 2, 1].map((r) => [pos[r]![pos[r]!.length - 1]! + 1]);
    const hooks = {
      'blocks.0.attn.hook_pattern': (v: { data: Float32Array; dims: number[] }) => {
        const Tk = v.dims[3]!;
        return { data: v.data.map((p, i) => (i % Tk === 2 ? 3 * p : p)), dims: v.dims };
      },
    };
    const a = backend.forward(odd, oddWeights, request([[4], [5], [6]], { attention_mask: mask, position_ids: next, cache, hooks }));
    const b = gpt2Forward(odd, oddWeights, request([[4], [5], [6]], { attention_mask: mask, position_ids: next, cache: refCache, hooks }));
    assertClose(`${threads} thread(s): a pattern write hook after a reorder`, a.logits!.data, b.logits!.data, { atol: 1e-4, dims: [3, 1, V] });
    assert.equal(backend.cacheUploads, 0, 'still never re-uploaded');
    console.log(`row map (${threads} thread(s)): ${reorders.length} reorders, worst |logit error| vs reference ${worst.toExponential(2)}`);
  }
});

test('hidden states and attention probabilities match the goldens (every case) and the reference with a cache', () => {
  const g = readGolden<{ cases: Array<{ input_ids: number[]; hidden_states: number[][][]; attentions: number[][][][] }> }>('golden-forward.json');
  for (const [i, c] of expectCases(g.cases, 'golden-forward.json cases').entries()) {
    const out = fp32.forward(model.config, model.weights, request([c.input_ids], { output_hidden_states: true, output_attentions: true }));
    assert.equal(out.hidden_states!.length, model.config.n_layer + 1);
    out.hidden_states!.forEach((h, l) => assertClose(`case ${i} hidden_states[${l}]`, h.data, flat(c.hidden_states[l]), { atol: 1e-5, rtol: 1e-4, dims: h.dims }));
    out.attentions!.forEach((a, l) => assertClose(`case ${i} attentions[${l}]`, a.data, flat(c.attentions[l]), { atol: 1e-5, rtol: 1e-4, dims: a.dims }));
  }
  // a cached step with padding: [B, n_head, 1, past + 1]
  const { input_ids, attention_mask, position_ids } = golden.batch_left_padded;
  const cache = KVCache.forConfig(model.config, 2, 8);
  const refCache = KVCache.forConfig(model.config, 2, 8);
  fp32.forward(model.config, model.weights, request(input_ids, { attention_mask, position_ids, cache }));
  gpt2Forward(model.config, model.weights, request(input_ids, { attention_mask, position_ids, cache: refCache }));
  const step = request([[11], [13]], { attention_mask: attention_mask.map((r) => [...r, 1]), position_ids: [[1], [5]], output_hidden_states: true, output_attentions: true });
  const a = fp32.forward(model.config, model.weights, { ...step, cache });
  const b = gpt2Forward(model.config, model.weights, { ...step, cache: refCache });
  assert.deepEqual(a.attentions![0]!.dims, [2, model.config.n_head, 1, 6]);
  a.attentions!.forEach((t, l) => assertClose(`cached step attentions[${l}]`, t.data, b.attentions![l]!.data, { atol: 1e-5, dims: t.dims }));
  a.hidden_states!.forEach((t, l) => assertClose(`cached step hidden_states[${l}]`, t.data, b.hidden_states![l]!.data, { atol: 1e-5, rtol: 1e-4, dims: t.dims }));
});

test('hooks: captures at the engine hook points match the reference; other hooks fall back', async () => {
  const names = ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.1.attn.hook_pattern', 'ln_final.hook_normalized'];
  const ids = [[464, 4583, 286, 44449], [11, 13, 262, 318]];
  const capture = (n: string): boolean => names.includes(n);
  const fast = fp32.forward(model.config, model.weights, request(ids, { capture }));
  const ref = gpt2Forward(model.config, model.weights, request(ids, { capture }));
  assert.deepEqual([...fast.cache!.keys()].sort(), [...names].sort());
  for (const n of names) {
    assert.deepEqual(fast.cache!.get(n)!.dims, ref.cache!.get(n)!.dims, n);
    assertClose(n, fast.cache!.get(n)!.data, ref.cache!.get(n)!.data, { atol: 1e-5, rtol: 1e-4 });
  }
  // a hook only the reference path computes (mlp.hook_pre is inside the fused c_fc + GELU kernel): the whole request goes there
  const other = (n: string): boolean => n === 'blocks.0.mlp.hook_pre' || n === 'blocks.0.hook_resid_pre';
  const a = fp32.forward(model.config, model.weights, request(ids, { capture: other }));
  const b = gpt2Forward(model.config, model.weights, request(ids, { capture: other }));
  assert.deepEqual(a.cache!.get('blocks.0.mlp.hook_pre'), b.cache!.get('blocks.0.mlp.hook_pre'));
  // the logit lens, which reads resid_pre/post, through the engine
  model.backend = fp32;
  const lensFast = await logitLens(model, { input_ids: ids }, { topk: 3 });
  model.backend = referenceBackend;
  const lensRef = await logitLens(model, { input_ids: ids }, { topk: 3 });
  assert.deepEqual(lensFast.top.map((l) => l.map((r) => r.map((p) => p.ids))), lensRef.top.map((l) => l.map((r) => r.map((p) => p.ids))));
});

// A shape where nothing is a multiple of the SIMD width or of the 8-column panels.
const odd: GPT2Config = { ...GPT2_DEFAULTS, n_embd: 36, n_layer: 2, n_head: 3, vocab_size: 1001, n_inner: 100, n_positions: 40 };
const oddWeights: GPT2Weights = randomWeights(odd, 11);
// Larger weights than GPT-2's init (std 0.02), so that the logits spread and an error would show.
for (const b of oddWeights.h) for (const m of [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]) for (let i = 0; i < m.weight.length; i++) m.weight[i]! *= 10;
for (let i = 0; i < oddWeights.wte.length; i++) oddWeights.wte[i]! *= 25;

test('odd shapes (n_embd 36, 3 heads, vocab 1001, n_inner 100): batch prefill with padding, then decode', async () => {
  const backend = await WasmBackend.create(odd, oddWeights);
  backends.push(backend);
  const { ids, mask, pos } = PADDED_3_ROWS;
  const cache = KVCache.forConfig(odd, 3, 4);
  const fast = backend.forward(odd, oddWeights, request(ids, { attention_mask: mask, position_ids: pos, cache }));
  const ref = gpt2Forward(odd, oddWeights, request(ids, { attention_mask: mask, position_ids: pos }));
  const V = odd.vocab_size;
  const T = 7;
  assert.ok(Math.max(...ref.logits!.data.map(Math.abs)) > 1, 'logits spread enough to show errors');
  assertClose('prefill logits', fast.logits!.data, ref.logits!.data, { atol: 1e-4, dims: [3, T, V], mask: (i) => mask[Math.floor(i / (T * V))]![Math.floor(i / V) % T] === 1 });
  assertClose('last_hidden_state', fast.last_hidden_state.data, ref.last_hidden_state.data, { atol: 1e-5, rtol: 1e-4, dims: [3, T, 36], mask: (i) => mask[Math.floor(i / (T * 36))]![Math.floor(i / 36) % T] === 1 });
  const full = ids.map((r) => [...r]);
  let m = mask;
  let p = pos;
  for (let s = 0; s < 5; s++) {
    const step = [[(17 * s) % V], [(31 * s + 5) % V], [(s * 997) % V]];
    step.forEach((t, b) => full[b]!.push(t[0]!));
    m = m.map((r) => [...r, 1]);
    const next = p.map((r) => [r[r.length - 1]! + 1]);
    p = p.map((r, b) => [...r, next[b]![0]!]);
    const a = backend.forward(odd, oddWeights, request(step, { attention_mask: m, position_ids: next, cache }));
    const b = gpt2Forward(odd, oddWeights, request(full, { attention_mask: m, position_ids: p, num_logits_to_keep: 1 }));
    assertClose(`decode step ${s}`, a.logits!.data, b.logits!.data, { atol: 1e-4, dims: [3, 1, V] });
  }
});

test('random shapes, all logits and last-position logits', async () => {
  for (const [C, nh, V, F, L] of [[20, 5, 77, 44, 1], [64, 4, 250, 256, 2], [12, 1, 9, 8, 3], [30, 3, 13, 37, 2]] as const) {
    const config: GPT2Config = { ...GPT2_DEFAULTS, n_embd: C, n_head: nh, vocab_size: V, n_inner: F, n_layer: L, n_positions: 32 };
    const weights = randomWeights(config, C);
    for (let i = 0; i < weights.wte.length; i++) weights.wte[i]! *= 25;
    const engine = await WasmEngine.create(config, weights);
    for (const [B, T] of [[1, 1], [2, 5], [5, 9]] as const) {
      const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 7 + t * 3) % V));
      const ref = gpt2Forward(config, weights, request(ids));
      const pos = ids.flatMap((r) => r.map((_, t) => t));
      const all = engine.forward({ ids: ids.flat(), positions: pos, mask: null, batch: B, cache: null, keep: 0 });
      assertClose(`C${C} V${V} B${B} T${T} logits`, all.logits!, ref.logits!.data, { atol: 1e-4 });
      const last = engine.forward({ ids: ids.flat(), positions: pos, mask: null, batch: B, cache: null, keep: 1 });
      const refLast = gpt2Forward(config, weights, request(ids, { num_logits_to_keep: 1 }));
      assertClose(`C${C} B${B} T${T} last logits`, last.logits!, refLast.logits!.data, { atol: 1e-4 });
    }
    engine.dispose();
  }
});

test('fp16 and int8 on odd sizes (K = 30 and 37, head size 10): every kernel tail, prefill and decode (1 row, batches of 2-4), near fp32', async () => {
  const config: GPT2Config = { ...GPT2_DEFAULTS, n_embd: 30, n_head: 3, vocab_size: 13, n_inner: 37, n_layer: 2, n_positions: 32 };
  const weights = randomWeights(config, 30);
  for (const b of weights.h) for (const m of [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]) for (let i = 0; i < m.weight.length; i++) m.weight[i]! *= 10;
  for (let i = 0; i < weights.wte.length; i++) weights.wte[i]! *= 25;
  const ids = [1, 5, 9, 12, 0, 3, 7, 11, 2, 4];
  const ref = await WasmEngine.create(config, weights);
  const want = ref.forward({ ids, positions: ids.map((_, i) => i), mask: null, batch: 1, cache: null, keep: 0 }).logits!;
  const spread = Math.max(...want.map(Math.abs));
  for (const [dtype, tol] of [['fp16', 2e-3], ['int8', 5e-2]] as const) {
    const engine = await WasmEngine.create(config, weights, { dtype });
    const all = engine.forward({ ids, positions: ids.map((_, i) => i), mask: null, batch: 1, cache: null, keep: 0 }).logits!;
    assertClose(`${dtype} prefill (10 rows)`, all, want, { atol: tol * spread });
    const cache = engine.newCache(1, 16);
    const V = config.vocab_size;
    for (let t = 0; t < ids.length; t++) {
      const step = engine.forward({ ids: [ids[t]!], positions: [t], mask: null, batch: 1, cache, keep: 1 }).logits!;
      assertClose(`${dtype} decode step ${t}`, step, want.subarray(t * V, (t + 1) * V), { atol: tol * spread });
    }
    // batched decoding at 2-4 rows (beam search's batch: the small-M kernels): row b reads the ids rotated by b
    for (const B of [2, 3, 4]) {
      const rows = Array.from({ length: B }, (_, b) => ids.map((_, i) => ids[(i + b) % ids.length]!));
      const wants = rows.map((r) => ref.forward({ ids: r, positions: r.map((_, i) => i), mask: null, batch: 1, cache: null, keep: 0 }).logits!.slice());
      const bc = engine.newCache(B, 16);
      for (let t = 0; t < ids.length; t++) {
        const step = engine.forward({ ids: rows.map((r) => r[t]!), positions: Array<number>(B).fill(t), mask: null, batch: B, cache: bc, keep: 1 }).logits!;
        for (let b = 0; b < B; b++) {
          assertClose(`${dtype} batch ${B} decode step ${t} row ${b}`, step.subarray(b * V, (b + 1) * V), wants[b]!.subarray(t * V, (t + 1) * V), { atol: tol * spread });
        }
      }
      engine.freeCache(bc);
    }
    engine.dispose();
  }
  ref.dispose();
});

test('an untied lm_head is used for the logits, wte for the embeddings', async () => {
  const config: GPT2Config = { ...odd, tie_word_embeddings: false };
  const weights: GPT2Weights = { ...oddWeights, lm_head: oddWeights.wte.map((x, i) => x * (i % 3 === 0 ? -1 : 0.5)) };
  const engine = await WasmEngine.create(config, weights);
  const ids = [[3, 1, 4, 1, 5]];
  const ref = gpt2Forward(config, weights, request(ids));
  const got = engine.forward({ ids: ids[0]!, positions: [0, 1, 2, 3, 4], mask: null, batch: 1, cache: null, keep: 0 }).logits!;
  assertClose('untied logits', got, ref.logits!.data, { atol: 1e-4 });
  const tied = gpt2Forward(odd, oddWeights, request(ids)).logits!.data;
  assert.ok(Math.max(...got.map((x, i) => Math.abs(x - tied[i]!))) > 0.1, 'the head really differs from wte');
  engine.dispose();
});

test('2 threads give bit-for-bit the logits of 1 thread (fp32, fp16 and int8; 12 rows through the blocked LM head, vocabulary split unevenly)', async () => {
  for (const dtype of ['fp32', 'fp16', 'int8'] as const) {
    const one = await WasmEngine.create(odd, oddWeights, { dtype });
    const two = await WasmEngine.create(odd, oddWeights, { dtype, threads: 2, spawn: nodeWorkerSpawner() });
    try {
      const args = { ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], positions: [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], mask: null, batch: 3, keep: 0 };
      const c1 = one.newCache(3, 16);
      const c2 = two.newCache(3, 16);
      assert.deepEqual(two.forward({ ...args, cache: c2 }).logits, one.forward({ ...args, cache: c1 }).logits);
      for (let s = 0; s < 3; s++) {
        const step = { ids: [s, s + 1, s + 2], positions: [4 + s, 4 + s, 4 + s], mask: null, batch: 3, keep: 1 };
        if (s === 1) two.setActiveThreads(1); // the pool computes on fewer threads, the workers sit out
        if (s === 2) two.setActiveThreads(2);
        assert.deepEqual(two.forward({ ...step, cache: c2 }), one.forward({ ...step, cache: c1 }));
      }
      // a prompt whose attention is split between the threads (above ATTENTION_ALONE), then decode steps below it,
      // run on the calling thread alone: the same numbers as one thread, and as the reference
      const long = { ids: Array.from({ length: 90 }, (_, i) => (i * 37) % odd.vocab_size), positions: Array.from({ length: 90 }, (_, i) => i % 30), mask: null, batch: 3, keep: 1 };
      assert.ok(3 * 30 * 30 * odd.n_embd > ATTENTION_ALONE && 3 * 31 * odd.n_embd <= ATTENTION_ALONE, 'the prompt is split, the steps are not');
      const l1 = one.newCache(3, 32);
      const l2 = two.newCache(3, 32);
      assert.deepEqual(two.forward({ ...long, cache: l2 }), one.forward({ ...long, cache: l1 }));
      const step = { ids: [5, 6, 7], positions: [30, 30, 30], mask: null, batch: 3, keep: 1 };
      const decoded = two.forward({ ...step, cache: l2 });
      assert.deepEqual(decoded, one.forward({ ...step, cache: l1 }));
      if (dtype === 'fp32') {
        const ref = gpt2Forward(odd, oddWeights, request(Array.from({ length: 3 }, (_, b) => [...long.ids.slice(30 * b, 30 * b + 30), step.ids[b]!]), { num_logits_to_keep: 1 }));
        assertClose('2 threads, attention split then alone, vs the reference', decoded.logits!, ref.logits!.data, { atol: 1e-4 });
      }
      assert.throws(() => two.setActiveThreads(3), /active threads must be 1\.\.2, got 3/);
    } finally {
      one.dispose();
      two.dispose();
    }
  }
});

test('toHalfBits rounds to nearest even, with subnormals, overflow and signed zero', () => {
  assert.equal(toHalfBits(1), 0x3c00);
  assert.equal(toHalfBits(-2), 0xc000);
  assert.equal(toHalfBits(65504), 0x7bff);
  assert.equal(toHalfBits(65520), 0x7c00); // rounds up to inf
  assert.equal(toHalfBits(2 ** -24), 0x0001); // the smallest subnormal
  assert.equal(toHalfBits(2 ** -25), 0x0000); // a tie: to even (0)
  assert.equal(toHalfBits(3 * 2 ** -25), 0x0002); // a tie: to even (2)
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00); // a tie: to even
  assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toHalfBits(-0), 0x8000);
});

// fp16 and int8: the bounds below are about 2x what docs/engine.md reports for the fixture (max |logit| ≈ 19;
// measured: fp16 max error 0.021, top-1 24/24; int8 max error 0.78, top-1 22/24).
test('fp16 and int8 stay close to fp32 on the fixture prompts: max logit error and top-1 agreement', async () => {
  const bounds = { fp16: { err: 0.05, agree: 1 }, int8: { err: 1.5, agree: 0.85 } } as const;
  for (const dtype of ['fp16', 'int8'] as const) {
    const q = await WasmBackend.create(model.config, model.weights, { dtype });
    backends.push(q);
    let worst = 0;
    let agree = 0;
    let total = 0;
    for (const c of golden.cases) {
      const a = fp32.forward(model.config, model.weights, request([c.input_ids])).logits!.data;
      const b = q.forward(model.config, model.weights, request([c.input_ids])).logits!.data;
      const V = model.config.vocab_size;
      for (let t = 0; t < c.input_ids.length; t++) {
        let am = 0;
        let bm = 0;
        for (let v = 0; v < V; v++) {
          worst = Math.max(worst, Math.abs(a[t * V + v]! - b[t * V + v]!));
          if (a[t * V + v]! > a[t * V + am]!) am = v;
          if (b[t * V + v]! > b[t * V + bm]!) bm = v;
        }
        total++;
        if (am === bm) agree++;
      }
    }
    assert.ok(worst < bounds[dtype].err, `${dtype}: max |logit - fp32| ${worst} >= ${bounds[dtype].err}`);
    assert.ok(worst > 0, `${dtype}: the weights were really quantised`);
    assert.ok(agree / total >= bounds[dtype].agree, `${dtype}: top-1 agrees with fp32 at ${agree} of ${total} positions`);
  }
});

test('int8: the integer matrix-vector path (decode, x in i16) and the widened batch path agree', async () => {
  const engine = await WasmEngine.create(odd, oddWeights, { dtype: 'int8' });
  const ref = await WasmEngine.create(odd, oddWeights);
  try {
    const ids = [5, 17, 250, 999, 3, 64, 128, 512, 7, 1];
    const pos = ids.map((_, i) => i);
    // all 10 positions at once: 10 rows, widened panels, x stays f32
    const batch = engine.forward({ ids, positions: pos, mask: null, batch: 1, cache: null, keep: 1 }).logits!;
    // one token at a time: 1 row, i16 x and integer dot products
    const cache = engine.newCache(1, 16);
    let step: Float32Array | undefined;
    for (let t = 0; t < ids.length; t++) step = engine.forward({ ids: [ids[t]!], positions: [t], mask: null, batch: 1, cache, keep: 1 }).logits!;
    const fp32 = ref.forward({ ids, positions: pos, mask: null, batch: 1, cache: null, keep: 1 }).logits!;
    const spread = Math.max(...fp32.map(Math.abs));
    const pathDiff = assertClose('int8 decode vs int8 batch', step!, batch, { atol: 2e-3 * spread });
    assert.ok(pathDiff > 0, 'the two int8 paths are different code');
    assertClose('int8 vs fp32', batch, fp32, { atol: 0.05 * spread });
  } finally {
    engine.dispose();
    ref.dispose();
  }
});

test('generate() on the wasm backend (2 threads): every golden-generate case, sequences and scores (top-k per step) as HF', async () => {
  const cases = generateCases();
  const backend = await WasmBackend.create(model.config, model.weights, { threads: 2, spawn: nodeWorkerSpawner() });
  backends.push(backend);
  model.backend = backend;
  let worst = 0;
  try {
    for (const c of cases) worst = Math.max(worst, await checkGenerateCase(model, c));
  } finally {
    model.backend = referenceBackend;
  }
  console.log(`engine generate: ${cases.length} golden cases, worst score error ${worst.toExponential(2)}`);
});

test('engine beam search replays the reorders in engine memory (no re-upload after the prompt) and equals the reference, 1 and 2 threads', async () => {
  interface GenCase { name: string; kwargs: Partial<GenerateOptions>; input_ids: number[][]; attention_mask: number[][]; sequences: number[][]; sequences_scores?: number[] }
  const cases = (generateCases() as unknown as GenCase[]).filter((c) => (c.kwargs.num_beams ?? 1) > 1);
  assert.ok(cases.length >= 2);
  const run = (c: GenCase) => generate(model, { ...c.kwargs, input_ids: c.input_ids, attention_mask: c.attention_mask, return_dict_in_generate: true, output_scores: true, on_warning: () => {} });
  const reference = await Promise.all(cases.map(run));
  for (const threads of [1, 2]) {
    const backend = await WasmBackend.create(model.config, model.weights, threads > 1 ? { threads, spawn: nodeWorkerSpawner() } : {});
    backends.push(backend);
    model.backend = backend;
    try {
      for (const [i, c] of cases.entries()) {
        const replays = backend.cacheReorders;
        const out = await run(c);
        assert.deepEqual(out.sequences, c.sequences, `${c.name} (${threads} threads): HF's sequences`);
        assert.deepEqual(out.sequences, reference[i]!.sequences, `${c.name} (${threads} threads): the reference's sequences`);
        assertClose(`${c.name} (${threads} threads) sequences_scores`, out.sequences_scores!, reference[i]!.sequences_scores!, { atol: 1e-4 });
        assert.ok(backend.cacheReorders > replays, `${c.name}: the cache was reordered in engine memory`);
      }
      assert.equal(backend.cacheUploads, 0, 'no mirror was re-uploaded');
    } finally {
      model.backend = referenceBackend;
    }
  }
});

test('clear errors: unknown dtype, threads without a spawner, other weights, too many positions', async () => {
  await assert.rejects(WasmEngine.create(odd, oddWeights, { dtype: 'bf16' as never }), /unknown dtype "bf16"; expected fp32, fp16 or int8/);
  await assert.rejects(WasmEngine.create(odd, oddWeights, { threads: 2 }), /threads > 1 needs a worker spawner/);
  assert.throws(() => fp32.forward(odd, oddWeights, request([[1]])), /was built for other weights/);
  const engine = await WasmEngine.create(odd, oddWeights);
  const cache = engine.newCache(1, 4);
  assert.throws(() => engine.forward({ ids: [1, 2, 3, 4, 5], positions: [0, 1, 2, 3, 4], mask: null, batch: 1, cache, keep: 1 }), /5 positions exceed the cache's capacity 4/);
  assert.throws(() => engine.forward({ ids: [1], positions: [40], mask: null, batch: 1, cache: null, keep: 1 }), /position 40 is out of range \[0, 40\)/);
  assert.throws(() => engine.newCache(0), /a cache needs a positive integer batch, got 0/);
  assert.throws(() => engine.newCache(1, 41), /cache capacity must be 1\.\.40 \(n_positions\), got 41/);
  assert.throws(() => engine.forward({ ids: [1, 2, 3], positions: [0, 1, 2], mask: null, batch: 2, cache: null, keep: 1 }), /3 ids do not make 2 rows/);
  const three = engine.newCache(3, 4);
  assert.throws(() => engine.reorderCache(three, [0, 3, 1]), /reorderCache wants 3 row indices in \[0, 3\), got \[0, 3, 1\]/);
  assert.throws(() => engine.reorderCache(three, [0, 1]), /reorderCache wants 3 row indices in \[0, 3\), got \[0, 1\]/);
  engine.reorderCache(three, [2, 2, 0]);
  assert.throws(() => engine.writeCache(three, 0, 'keys', new Float32Array(0), 0), /writeCache on a reordered cache \(it has a row map\): clearMap\(\) it first/);
  three.length = 3;
  assert.throws(() => engine.resizeCache(three, 2), /resizeCache to 2 positions would drop some of the 3 the cache holds/);
  engine.clearMap(three);
  assert.equal(three.map, 0);
  engine.writeCache(three, 0, 'keys', new Float32Array(3 * 3 * odd.n_embd), 3);
  engine.freeCache(three);
  engine.dispose();
});

test('logits_buffer: the engine (1 and 2 threads) and the reference write the logits into the caller\'s array, the same numbers; clear errors', async () => {
  const two = await WasmBackend.create(model.config, model.weights, { threads: 2, spawn: nodeWorkerSpawner() });
  backends.push(two);
  const V = model.config.vocab_size;
  const input_ids = [[464, 4583, 286], [1212, 318, 257]];
  try {
    for (const backend of [referenceBackend, fp32, two]) {
      model.backend = backend;
      const plain = await model.forward({ input_ids, num_logits_to_keep: 1 });
      const buffer = new Float32Array(2 * V + 5).fill(7); // room to spare: only the first 2 × V floats are written
      const a = await model.forward({ input_ids, num_logits_to_keep: 1, logits_buffer: buffer });
      assert.equal(a.logits.data.buffer, buffer.buffer, `${backend.name}: the logits are in the given array`);
      assert.equal(a.logits.data.byteOffset, buffer.byteOffset);
      assert.equal(a.logits.data.length, 2 * V);
      assert.deepEqual(a.logits.dims, [2, 1, V]);
      assert.deepEqual(a.logits.data, plain.logits.data, `${backend.name}: the same logits as without a buffer`);
      assert.deepEqual([...buffer.subarray(2 * V)], [7, 7, 7, 7, 7], 'nothing written past the logits');
      // the next call overwrites the same array
      const b = model.forwardSync({ input_ids: [[50256]], num_logits_to_keep: 1, logits_buffer: buffer });
      assert.equal(b.logits.data.buffer, buffer.buffer);
      assert.notDeepEqual(buffer.subarray(0, V), plain.logits.data.subarray(0, V));
      assert.throws(() => model.forwardSync({ input_ids, num_logits_to_keep: 0, logits_buffer: buffer }), new RegExp(`logits_buffer holds ${2 * V + 5} floats; these logits need ${6 * V} \\(2 rows × 3 positions × vocab_size ${V}\\)`));
    }
  } finally {
    model.backend = referenceBackend;
  }
  // a backend that ignores the buffer: the model copies its logits in
  const ignoring = { name: 'ignoring', threads: 1, forward: (c: GPT2Config, w: GPT2Weights, req: BackendRequest) => gpt2Forward(c, w, { ...req, logits_out: null }) };
  const m = new GPT2LMHeadModel({ config: model.config, weights: model.weights, backend: ignoring });
  const buffer = new Float32Array(V);
  const out = m.forwardSync({ input_ids: [[464]], logits_buffer: buffer });
  assert.equal(out.logits.data.buffer, buffer.buffer);
  assert.deepEqual(out.logits.data, model.forwardSync({ input_ids: [[464]] }).logits.data);
  assert.throws(() => model.transformer.forwardSync({ input_ids: [[464]], logits_buffer: buffer }), /logits_buffer is for GPT2LMHeadModel: GPT2Model computes no logits/);
  assert.throws(() => model.forwardSync({ input_ids: [[464]], logits_buffer: [0] as unknown as Float32Array }), /logits_buffer must be a Float32Array/);
});

test('generate() hands every step one logits_buffer (the same ArrayBuffer each step); scores, logits and the trace are its own copies, as without a buffer', async () => {
  const engine = await WasmBackend.create(model.config, model.weights, { threads: 2, spawn: nodeWorkerSpawner() });
  backends.push(engine);
  const options: GenerateOptions = {
    input_ids: [[464, 4583], [1212, 318]], max_new_tokens: 4, repetition_penalty: 1.3, num_beams: 1,
    output_scores: true, output_logits: true, return_dict_in_generate: true, trace: 3, on_warning: () => {},
  };
  try {
    for (const backend of [referenceBackend, engine]) {
      model.backend = backend;
      for (const extra of [{}, { num_beams: 2 }] as Array<Partial<GenerateOptions>>) {
        const buffers: ArrayBufferLike[] = [];
        const seen = {
          config: model.config,
          forward: async (inputs: Parameters<typeof model.forward>[0]) => {
            const out = await model.forward(inputs);
            assert.ok(inputs.logits_buffer, 'generate() passed a buffer');
            assert.equal(out.logits.data.buffer, inputs.logits_buffer.buffer);
            buffers.push(out.logits.data.buffer);
            return out;
          },
          rowStats: model.rowStats.bind(model),
        };
        // the same model with the buffer taken away: fresh logits every step, as before logits_buffer
        const fresh = { config: model.config, forward: (inputs: Parameters<typeof model.forward>[0]) => model.forward({ ...inputs, logits_buffer: undefined }), rowStats: model.rowStats.bind(model) };
        const a = await generate(seen, { ...options, ...extra });
        const b = await generate(fresh, { ...options, ...extra });
        const what = `${backend.name}, ${extra.num_beams ? 'beam search' : 'greedy'}`;
        assert.equal(buffers.length, 4, `${what}: 4 forward passes`);
        assert.ok(buffers.every((x) => x === buffers[0]), `${what}: one ArrayBuffer for every step`);
        assert.equal(a.scores!.length, 4);
        for (const t of [...a.scores!, ...a.logits!]) assert.notEqual(t.data.buffer, buffers[0], `${what}: kept tensors are copies`);
        assert.notDeepEqual(a.scores![0]!.data, a.scores![1]!.data, `${what}: two steps' scores differ`);
        assert.deepEqual(a.sequences, b.sequences, what);
        assert.deepEqual(a.scores, b.scores, `${what}: scores as without the buffer, intact after generate() returned`);
        assert.deepEqual(a.logits, b.logits, `${what}: logits as without the buffer`);
        assert.deepEqual(a.trace, b.trace, `${what}: the trace as without the buffer`);
      }
    }
  } finally {
    model.backend = referenceBackend;
  }
});
