// The logit lens on the engine: WasmBackend.unembed (ln_f + the LM head in wasm, the vocabulary split between
// threads, the head stored as the engine's dtype) against the reference code (gpt2.ts: unembed), row by row and
// through logitLens, on the fixture and on an odd shape (n_embd 36: not a multiple of the SIMD width).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, assertClose } from './helpers/fixtures.js';
import { GPT2LMHeadModel, logitLens, referenceBackend, unembed, type LogitLensResult } from '../src/index.js';
import { mulberry32 } from '../src/model/random.js';
import '../src/node/model.js';
import { WasmBackend } from '../src/engine/index.js';
import { nodeWorkerSpawner } from '../src/node/threads.js';

const fixture = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const odd = await GPT2LMHeadModel.from_pretrained('random:36x2x3@5');
const backends: WasmBackend[] = [];
after(() => backends.forEach((b) => b.dispose()));

async function wasm(model: GPT2LMHeadModel, threads: number, dtype: 'fp32' | 'fp16' | 'int8' = 'fp32'): Promise<WasmBackend> {
  const b = await WasmBackend.create(model.config, model.weights, threads > 1 ? { dtype, threads, spawn: nodeWorkerSpawner() } : { dtype });
  backends.push(b);
  return b;
}

/** `rows` rows of made-up residual stream [rows, C], scaled like GPT-2's (a few units, some large). */
function residualRows(rows: number, C: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: rows * C }, (_, i) => (rand() - 0.5) * (i % 17 === 0 ? 40 : 6));
}

/**
 * Two lenses agree: the k best logits and probabilities within 1e-4 and 1e-5, and the same ids wherever the
 * reference's margin to its neighbours (k + 1 were asked for) exceeds 3e-4; returns how many ids were compared.
 */
function assertSameLens(name: string, got: LogitLensResult, ref: LogitLensResult, k: number): number {
  assert.deepEqual(got.layers, ref.layers);
  assert.deepEqual(got.positions, ref.positions);
  let compared = 0;
  ref.top.forEach((layer, l) =>
    layer.forEach((row, b) =>
      row.forEach((r, i) => {
        const g = got.top[l]![b]![i]!;
        const where = `${name}: layer ${ref.layers[l]} row ${b} position ${ref.positions[i]}`;
        assertClose(`${where} logits`, g.logits.slice(0, k), r.logits.slice(0, k), { atol: 1e-4 });
        assertClose(`${where} probs`, g.probs.slice(0, k), r.probs.slice(0, k), { atol: 1e-5 });
        for (let j = 0; j < k; j++) {
          const margin = Math.min(j > 0 ? r.logits[j - 1]! - r.logits[j]! : Infinity, r.logits[j]! - r.logits[j + 1]!);
          if (margin <= 3e-4) continue;
          assert.equal(g.ids[j], r.ids[j], `${where}: top-${j + 1} id`);
          compared++;
        }
      }),
    ),
  );
  return compared;
}

/** The lens with the model's backend set to `backend` (the reference one when null). */
async function lensWith(model: GPT2LMHeadModel, backend: WasmBackend | null, ...args: Parameters<typeof logitLens> extends [unknown, ...infer R] ? R : never): Promise<LogitLensResult> {
  const saved = model.backend;
  model.backend = backend ?? referenceBackend;
  try {
    return await logitLens(model, ...args);
  } finally {
    model.backend = saved;
  }
}

test('unembed: the engine gives the reference ln_f + LM head logits within 1e-4 on every row (1 and 2 threads, fixture and n_embd 36)', async () => {
  for (const model of [fixture, odd]) {
    const { n_embd: C, vocab_size: V } = model.config;
    for (const rows of [1, 7, 13]) {
      const hidden = residualRows(rows, C, rows);
      const expected = unembed(model.config, model.weights, hidden, rows);
      assert.equal(expected.length, rows * V);
      for (const threads of [1, 2]) {
        const b = await wasm(model, threads);
        const got = b.unembed(model.config, model.weights, hidden, rows);
        assertClose(`n_embd ${C}, ${rows} rows, ${threads} thread(s)`, got, expected, { atol: 1e-4, dims: [rows, V] });
      }
    }
  }
});

test('unembed respects the dtype: fp16 and int8 give exactly the logits of their own forward pass', async () => {
  const ids = [[464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]];
  const T = ids[0]!.length;
  for (const dtype of ['fp16', 'int8'] as const) {
    const b = await wasm(odd, 1, dtype);
    const req = { input_ids: ids, attention_mask: null, position_ids: [ids[0]!.map((_, t) => t)], cache: null, output_hidden_states: false, output_attentions: false, capture: (n: string) => n === 'blocks.1.hook_resid_post', lm_head: true, num_logits_to_keep: 0 };
    const out = b.forward(odd.config, odd.weights, req);
    const resid = out.cache!.get('blocks.1.hook_resid_post')!.data; // the last block's output, before ln_f
    const V = odd.config.vocab_size;
    const C = odd.config.n_embd;
    // 10 rows (the widened batch path) and 3 rows (int8: x quantised to i16, as a decode step is)
    assert.deepEqual(b.unembed(odd.config, odd.weights, resid, T), out.logits!.data, `${dtype}, ${T} rows`);
    const last3 = b.forward(odd.config, odd.weights, { ...req, num_logits_to_keep: 3 }).logits!.data;
    assert.deepEqual(b.unembed(odd.config, odd.weights, resid.slice(7 * C), 3), last3, `${dtype}, 3 rows`);
    assert.equal(last3.length, 3 * V);
    const exact = unembed(odd.config, odd.weights, resid, T);
    const err = exact.reduce((m, x, i) => Math.max(m, Math.abs(x - out.logits!.data[i]!)), 0);
    assert.ok(err > 0 && err < 0.5, `${dtype} differs from fp32 by ${err}`); // the head really is stored as the dtype, and close
  }
});

test('logitLens through WasmBackend equals the reference lens (fixture: 3 rows x 12 tokens, 108 rows in two chunks; 1 and 2 threads)', async () => {
  const ids = [
    [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 383, 2068],
    [40, 1101, 257, 1310, 286, 3303, 11, 290, 340, 318, 257, 922],
    [1212, 318, 257, 1332, 13, 198, 464, 3290, 318, 287, 262, 1097],
  ];
  const ref = await lensWith(fixture, null, { input_ids: ids }, { topk: 6 });
  assert.equal(ref.top.length * ref.top[0]!.length * ref.top[0]![0]!.length, 108); // > 83 rows: two chunks of unembed
  for (const threads of [1, 2]) {
    const got = await lensWith(fixture, await wasm(fixture, threads), { input_ids: ids }, { topk: 6 });
    const compared = assertSameLens(`${threads} thread(s)`, got, ref, 5);
    assert.ok(compared >= 0.9 * 108 * 5, `only ${compared} ids had a margin`);
  }
});

test('logitLens through WasmBackend on n_embd 36 (random:36x2x3): a padded batch and chosen positions', async () => {
  const inputs = { input_ids: [[50256, 50256, 464, 2068, 7586], [40, 1101, 257, 1310, 286]], attention_mask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]] };
  const options = { topk: 6, positions: [4, 2] };
  const ref = await lensWith(odd, null, inputs, options);
  for (const threads of [1, 2]) {
    const got = await lensWith(odd, await wasm(odd, threads), inputs, options);
    const compared = assertSameLens(`n_embd 36, ${threads} thread(s)`, got, ref, 5);
    assert.ok(compared >= 0.9 * 3 * 2 * 2 * 5, `only ${compared} ids had a margin`);
  }
});

test('unembed errors: a wrong row count, other weights', async () => {
  const b = await wasm(odd, 1);
  assert.throws(() => b.unembed(odd.config, odd.weights, new Float32Array(70), 2), { message: 'engine: unembed wants 2 rows of n_embd 36 (72 values), got 70' });
  assert.throws(() => unembed(odd.config, odd.weights, new Float32Array(70), 2), { message: 'unembed: 2 rows of n_embd 36 need 72 values, got 70' });
  assert.throws(() => b.unembed(fixture.config, fixture.weights, new Float32Array(64), 1), /was built for other weights: create one per model/);
});
