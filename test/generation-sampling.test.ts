// Sampling draws from the processed distribution: chi-square tests over many seeded draws through generate(),
// from a model whose next-token logits are always the same small vector (so every step is one draw from one
// distribution). The expected distributions are computed here independently of the warpers. Each test also
// checks that the statistic for a wrong distribution (the unprocessed one) is far above the threshold, so the
// test can fail. Seeds are fixed: the tests are deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type GenerationModel } from '../src/generation/generate.js';
import { Xoshiro128 } from '../src/generation/random.js';
import type { CausalLMOutput, ForwardInputs } from '../src/model/types.js';

// 12 tokens; token 11 serves as eos only where a test asks for it.
const LOGITS = [2.0, 1.5, 1.2, 1.0, 0.7, 0.5, 0.3, 0.0, -0.4, -0.8, -1.5, -3.0];
const V = LOGITS.length;

/** A "model" with fixed next-token logits, whatever the input: the code under test is generate's sampler. */
const fixedModel: GenerationModel = {
  config: { vocab_size: V, n_positions: 100000 },
  generation_config: {},
  async forward(inputs: ForwardInputs): Promise<CausalLMOutput> {
    const B = inputs.input_ids.length;
    const data = new Float32Array(B * V);
    for (let b = 0; b < B; b++) data.set(LOGITS, b * V);
    return { logits: { data, dims: [B, 1, V] } };
  },
};

function softmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => (v === -Infinity ? 0 : Math.exp(v - m)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Pearson's chi-square of counts against expected probabilities; a count where p = 0 gives Infinity. */
function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  let chi = 0;
  counts.forEach((c, i) => {
    const e = n * probs[i]!;
    if (e === 0) chi += c > 0 ? Infinity : 0;
    else chi += ((c - e) * (c - e)) / e;
  });
  return chi;
}

// 11 degrees of freedom at most; P(chi2_11 > 45) ≈ 4e-6, so a correct sampler essentially never fails this.
const THRESHOLD = 45;
const DRAWS = 6000;

async function draws(options: Record<string, unknown>, seed: number): Promise<number[]> {
  // 3 rows × 2000 steps: num_return_sequences expands the prompt, every step of every row is a draw
  const out = await generate(fixedModel, { input_ids: [[0]], do_sample: true, max_new_tokens: DRAWS / 3, num_return_sequences: 3, seed, on_warning: () => {}, ...options });
  const counts = new Array<number>(V).fill(0);
  for (const row of out.sequences) for (const id of row.slice(1)) counts[id]!++;
  return counts;
}

const raw = softmax(LOGITS);
const cases: Array<{ name: string; options: Record<string, unknown>; expected: number[] }> = [
  { name: 'temperature 0.7 (top_k 0)', options: { temperature: 0.7, top_k: 0 }, expected: softmax(LOGITS.map((x) => x / 0.7)) },
  { name: 'top_k 4', options: { top_k: 4 }, expected: softmax(LOGITS.map((x, i) => (i < 4 ? x : -Infinity))) },
  // cumulative raw probs from the top: 0.2919, 0.4689, 0.6001, 0.7075, 0.7870, ... -> top_p 0.75 keeps 5
  { name: 'top_p 0.75 (top_k 0)', options: { top_p: 0.75, top_k: 0 }, expected: softmax(LOGITS.map((x, i) => (i < 5 ? x : -Infinity))) },
  {
    name: 'chain: temperature 1.5, top_k 6, top_p 0.8',
    options: { temperature: 1.5, top_k: 6, top_p: 0.8 },
    expected: (() => {
      const t = LOGITS.map((x) => x / 1.5);
      const k = t.map((x, i) => (i < 6 ? x : -Infinity));
      const p = softmax(k);
      // top-p over the top-6 distribution: keep while the mass above a token is < 0.8
      let above = 0;
      return softmax(k.map((x, i) => {
        const keep = above < 0.8;
        above += p[i]!;
        return keep ? x : -Infinity;
      }));
    })(),
  },
];

for (const c of cases) {
  test(`sampling follows the processed distribution: ${c.name}`, async () => {
    const counts = await draws(c.options, 1234);
    assert.equal(counts.reduce((a, b) => a + b, 0), DRAWS);
    const chi = chiSquare(counts, c.expected);
    assert.ok(chi < THRESHOLD, `chi-square ${chi.toFixed(2)} >= ${THRESHOLD}; counts ${counts.join(' ')}`);
    // the same counts are far from the unprocessed distribution: the test would notice a missing warper
    const wrong = chiSquare(counts, raw);
    assert.ok(wrong > 10 * THRESHOLD, `chi-square against the raw softmax is only ${wrong.toFixed(2)}`);
  });
}

test('plain do_sample applies top_k 50 (here: all 12 tokens) and the raw softmax', async () => {
  const counts = await draws({}, 99);
  assert.ok(chiSquare(counts, raw) < THRESHOLD);
  assert.ok(chiSquare(counts, softmax(LOGITS.map((x) => x / 0.7))) > 10 * THRESHOLD);
});

test('seeded sampling is reproducible, and the seed matters', async () => {
  const a = await generate(fixedModel, { input_ids: [0], do_sample: true, max_new_tokens: 30, seed: 7, on_warning: () => {} });
  const b = await generate(fixedModel, { input_ids: [0], do_sample: true, max_new_tokens: 30, seed: 7, on_warning: () => {} });
  const c = await generate(fixedModel, { input_ids: [0], do_sample: true, max_new_tokens: 30, seed: 8, on_warning: () => {} });
  assert.deepEqual(a.sequences, b.sequences);
  assert.notDeepEqual(a.sequences, c.sequences);
  assert.equal(a.seed, 7);
  // pinned: these ids come from xoshiro128** with seed 7 on every platform
  assert.deepEqual(a.sequences[0]!.slice(1, 11), PINNED_SEED_7);
  const unseeded = await generate(fixedModel, { input_ids: [0], do_sample: true, max_new_tokens: 3, on_warning: () => {} });
  assert.equal(typeof unseeded.seed, 'number');
});

const PINNED_SEED_7 = [0, 1, 2, 2, 5, 2, 1, 0, 3, 0];

test('xoshiro128** matches the reference implementation (state 1, 2, 3, 4)', () => {
  const g = Xoshiro128.fromState(1, 2, 3, 4);
  assert.deepEqual(Array.from({ length: 6 }, () => g.nextUint32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  const h = new Xoshiro128(42);
  const u = h.random();
  assert.ok(u >= 0 && u < 1);
  assert.equal(u, 0.6606157208001621);
});

test('beam sampling draws distinct candidates and returns num_return_sequences hypotheses', async () => {
  const out = await generate(fixedModel, { input_ids: [0], do_sample: true, num_beams: 3, num_return_sequences: 2, max_new_tokens: 5, seed: 3, on_warning: () => {} });
  assert.equal(out.sequences.length, 2);
  assert.equal(out.sequences_scores!.length, 2);
  assert.ok(out.sequences_scores![0]! >= out.sequences_scores![1]!);
  const again = await generate(fixedModel, { input_ids: [0], do_sample: true, num_beams: 3, num_return_sequences: 2, max_new_tokens: 5, seed: 3, on_warning: () => {} });
  assert.deepEqual(again.sequences, out.sequences);
});
