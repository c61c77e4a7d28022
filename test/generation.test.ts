// generate() against HF 4.43's model.generate on the fixture model (golden-generate.json): every case's
// sequences token for token; scores (top-k per row per step) and sequences_scores within 1e-4; beam_indices;
// greedy chosen scores and raw logits (the checks live in helpers/generate-golden.ts, shared with the engine's test).
import { test } from 'node:test';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { checkGenerateCase, generateCases } from './helpers/generate-golden.js';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';

const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);

for (const c of generateCases()) {
  test(`generate ${c.name} matches HF`, async () => {
    await checkGenerateCase(model, c);
  });
}
