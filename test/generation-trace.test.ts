// generate()'s on_trace_step: each trace step is handed over as soon as it is complete (greedy, sampling, beam
// search), equal to the final trace, between the forward passes; a throw in the callback aborts generate().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { generate, type GenerateOptions, type GenerationModel, type TraceStep } from '../src/generation/generate.js';

const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const PROMPT = [464, 4583, 286, 44449, 318]; // "The theory of relativity is"
const quiet = { on_warning: (): void => {} };

/** The model with a counter of forward passes. */
function counting(): { model: GenerationModel; calls: () => number } {
  let n = 0;
  return {
    model: { config: model.config, generation_config: model.generation_config, forward: (inputs) => (n++, model.forward(inputs)) },
    calls: () => n,
  };
}

/** Runs generate() recording each live step (a deep copy, taken when it arrives) and the forward passes made by then. */
async function live(options: Omit<GenerateOptions, 'input_ids'>) {
  const { model: m, calls } = counting();
  const steps: TraceStep[] = [];
  const forwardsAt: number[] = [];
  const out = await generate(m, {
    input_ids: PROMPT,
    ...quiet,
    ...options,
    on_trace_step: (s) => {
      steps.push(structuredClone(s));
      forwardsAt.push(calls());
    },
  });
  return { out, steps, forwardsAt };
}

const cases: Array<[string, Omit<GenerateOptions, 'input_ids'>]> = [
  ['greedy', { max_new_tokens: 5, trace: 4 }],
  ['sampling', { max_new_tokens: 5, do_sample: true, top_k: 5, seed: 3, trace: 6 }],
  ['beam search', { max_new_tokens: 5, num_beams: 3, num_return_sequences: 3, trace: true }],
  ['beam sampling', { max_new_tokens: 4, num_beams: 2, do_sample: true, seed: 7, trace: 5 }],
];
for (const [name, options] of cases) {
  test(`on_trace_step, ${name}: every step arrives right after its forward pass and equals the final trace`, async () => {
    const { out, steps, forwardsAt } = await live(options);
    assert.equal(steps.length, out.sequences[0]!.length - PROMPT.length);
    assert.deepEqual(steps, out.trace!.steps);
    assert.deepEqual(steps.map((s) => s.step), steps.map((_, i) => i));
    // step s is delivered after forward pass s + 1 and before pass s + 2
    assert.deepEqual(forwardsAt, steps.map((_, i) => i + 1));
    // the results do not change
    const plain = await generate(model, { input_ids: PROMPT, ...quiet, ...options, trace: undefined });
    assert.deepEqual(out.sequences, plain.sequences);
    assert.deepEqual(out.sequences_scores, plain.sequences_scores);
  });
}

test('on_trace_step alone records the default 10 candidates per row', async () => {
  const { out, steps } = await live({ max_new_tokens: 2 });
  assert.equal(steps.length, 2);
  assert.equal(steps[0]!.rows[0]!.candidates.length, 10);
  assert.deepEqual(out.trace!.steps, steps);
});

test('beam search: each step lists the n-best hypotheses ended by eos so far, as finalize() returns them', async () => {
  // eos = the second greedy token, so hypotheses end early; length_penalty 0 lets the short one win
  const { out, steps } = await live({ max_new_tokens: 4, num_beams: 3, num_return_sequences: 3, eos_token_id: 46149, length_penalty: 0, trace: true });
  const ended = steps.flatMap((s) => s.finished!).filter((h, i, all) => all.findIndex((g) => g.tokens.join() === h.tokens.join()) === i);
  assert.ok(ended.length > 0, 'the search has eos hypotheses');
  steps.forEach((s) => {
    for (const h of s.finished!) {
      // a hypothesis extends a beam of the step before it ended (its eos step is tokens.length)
      assert.ok(h.tokens.length <= s.step);
      const before = h.tokens.length === 0 ? [] : steps[h.tokens.length - 1]!.beams![h.parent]!.tokens;
      assert.deepEqual(h.tokens, before);
    }
  });
  // the returned sequences that end in eos are in the last step's list, with the same scores
  const last = steps[steps.length - 1]!.finished!;
  let checked = 0;
  out.sequences.forEach((seq, i) => {
    const fresh = seq.slice(PROMPT.length);
    const at = fresh.indexOf(46149);
    if (at < 0) return;
    const h = last.find((x) => x.tokens.join() === fresh.slice(0, at).join());
    assert.ok(h, `hypothesis ${i} is in the n-best list`);
    assert.equal(Math.fround(h.score), out.sequences_scores![i]);
    checked++;
  });
  assert.equal(checked, 1);
});

test('a throw in on_trace_step aborts generate() with that error, before the next forward pass', async () => {
  const { model: m, calls } = counting();
  const boom = new Error('stop at step 1');
  await assert.rejects(
    generate(m, { input_ids: PROMPT, max_new_tokens: 6, num_beams: 2, ...quiet, on_trace_step: (s) => {
      if (s.step === 1) throw boom;
    } }),
    (err) => err === boom,
  );
  assert.equal(calls(), 2);
});
