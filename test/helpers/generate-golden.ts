// golden-generate.json (HF 4.43's model.generate on the fixture model) and the one check of a generate() result
// against a case: sequences token for token; scores (top-k per row per step), greedy raw logits and chosen scores,
// sequences_scores within 1e-4; beam_indices. Used by the reference path's test and the engine's.
import assert from 'node:assert/strict';
import { assertClose, expectCases, readGolden, toNumber } from './fixtures.js';
import { generate, type GenerateOptions } from '../../src/generation/generate.js';
import type { GPT2LMHeadModel } from '../../src/model/index.js';
import type { Tensor } from '../../src/model/types.js';

export interface TopK {
  ids: number[][];
  values: Array<Array<number | string>>;
}
export interface GenerateCase {
  name: string;
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  attention_mask: number[][];
  sequences: number[][];
  num_steps: number;
  scores_topk: TopK[];
  chosen_scores?: number[][];
  logits_topk?: TopK[];
  sequences_scores?: number[];
  beam_indices?: number[][];
}

/** Every case of golden-generate.json (asserts the file holds all of them). */
export function generateCases(): readonly GenerateCase[] {
  return expectCases(readGolden<{ cases: GenerateCase[] }>('golden-generate.json').cases, 'golden-generate.json cases');
}

/** Our step tensors' top-k, compared with HF's ids (exact) and values (1e-4); returns the worst value error. */
function checkTopK(label: string, tensors: Tensor[], want: TopK[], V: number): number {
  assert.equal(tensors.length, want.length, `${label}: number of steps`);
  let worst = 0;
  want.forEach((w, s) => {
    w.ids.forEach((ids, r) => {
      const row = tensors[s]!.data.subarray(r * V, (r + 1) * V);
      const values = w.values[r]!.map(toNumber);
      // HF's ids at HF's values: our values at those ids must match, and nothing else may rank above them
      worst = Math.max(worst, assertClose(`${label} step ${s} row ${r}`, ids.map((id) => row[id]!), values, { atol: 1e-4 }));
      const floor = values[values.length - 1]!;
      let above = 0;
      for (let i = 0; i < V; i++) if (row[i]! > floor + 1e-4) above++;
      assert.ok(above <= ids.length, `${label} step ${s} row ${r}: ${above} scores above HF's top-${ids.length}`);
    });
  });
  return worst;
}

/** Runs generate() on `model` (whatever backend it has) for one case and checks everything HF recorded; returns the worst score error. */
export async function checkGenerateCase(model: GPT2LMHeadModel, c: GenerateCase): Promise<number> {
  const V = model.config.vocab_size;
  const kwargs = { ...c.kwargs } as Partial<GenerateOptions>;
  const out = await generate(model, {
    ...kwargs,
    input_ids: c.input_ids,
    attention_mask: c.attention_mask,
    output_scores: true,
    return_dict_in_generate: true,
    output_logits: true,
    on_warning: () => {},
  });
  assert.deepEqual(out.sequences, c.sequences, `${c.name}: sequences`);
  let worst = checkTopK(`${c.name} scores`, out.scores!, c.scores_topk, V);
  if (c.logits_topk) worst = Math.max(worst, checkTopK(`${c.name} logits`, out.logits!, c.logits_topk, V));
  if (c.chosen_scores) {
    const chosen = c.chosen_scores.map((rowScores, s) => rowScores.map((_, r) => out.scores![s]!.data[r * V + c.sequences[r]![c.input_ids[0]!.length + s]!]!));
    worst = Math.max(worst, assertClose(`${c.name} chosen scores`, chosen.flat(), c.chosen_scores.flat(), { atol: 1e-4 }));
  }
  if (c.sequences_scores) worst = Math.max(worst, assertClose(`${c.name} sequences_scores`, out.sequences_scores!, c.sequences_scores, { atol: 1e-4 }));
  if (c.beam_indices) assert.deepEqual(out.beam_indices, c.beam_indices, `${c.name}: beam_indices`);
  return worst;
}
