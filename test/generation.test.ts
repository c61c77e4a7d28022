// generate() against HF 4.43's model.generate on the fixture model (golden-generate.json): every case's
// sequences token for token; scores (top-k per row per step) and sequences_scores within 1e-4; beam_indices;
// greedy chosen scores and raw logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, assertClose, readGolden, toNumber } from './helpers/fixtures.js';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { generate, type GenerateOptions } from '../src/generation/generate.js';
import type { Tensor } from '../src/model/types.js';

interface TopK {
  ids: number[][];
  values: Array<Array<number | string>>;
}
interface Case {
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

const golden = readGolden<{ cases: Case[] }>('golden-generate.json');
const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const V = model.config.vocab_size;

/** Our step tensor's top-k for one row, compared with HF's ids (exact) and values (1e-4). */
function checkTopK(label: string, tensors: Tensor[], want: TopK[]): void {
  assert.equal(tensors.length, want.length, `${label}: number of steps`);
  want.forEach((w, s) => {
    w.ids.forEach((ids, r) => {
      const row = tensors[s]!.data.subarray(r * V, (r + 1) * V);
      const values = w.values[r]!.map(toNumber);
      // HF's ids at HF's values: our values at those ids must match, and nothing else may rank above them
      assertClose(`${label} step ${s} row ${r}`, ids.map((id) => row[id]!), values, { atol: 1e-4 });
      const floor = values[values.length - 1]!;
      let above = 0;
      for (let i = 0; i < V; i++) if (row[i]! > floor + 1e-4) above++;
      assert.ok(above <= ids.length, `${label} step ${s} row ${r}: ${above} scores above HF's top-${ids.length}`);
    });
  });
}

for (const c of golden.cases) {
  test(`generate ${c.name} matches HF`, async () => {
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
    checkTopK(`${c.name} scores`, out.scores!, c.scores_topk);
    if (c.logits_topk) checkTopK(`${c.name} logits`, out.logits!, c.logits_topk);
    if (c.chosen_scores) {
      const chosen = c.chosen_scores.map((rowScores, s) => rowScores.map((_, r) => out.scores![s]!.data[r * V + c.sequences[r]![c.input_ids[0]!.length + s]!]!));
      assertClose(`${c.name} chosen scores`, chosen.flat(), c.chosen_scores.flat(), { atol: 1e-4 });
    }
    if (c.sequences_scores) assertClose(`${c.name} sequences_scores`, out.sequences_scores!, c.sequences_scores, { atol: 1e-4 });
    if (c.beam_indices) assert.deepEqual(out.beam_indices, c.beam_indices, `${c.name}: beam_indices`);
  });
}
