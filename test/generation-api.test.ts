// generate()'s surroundings on the fixture model: HF's validation errors (exact messages), defaults from
// generation_config, warnings, model.generate, streamers (callback, TextStreamer, async iterator), AbortSignal,
// use_cache false, and the explorer's trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';
import { generate, streamGenerate, type GenerateOptions } from '../src/generation/generate.js';
import { CallbackStreamer, TextStreamer } from '../src/generation/streamers.js';

const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const tokenizer = readTokenizerFolder(FIXTURE_DIR);
const PROMPT = [464, 4583, 286, 44449, 318]; // "The theory of relativity is"
// HF's greedy continuation of PROMPT on this model (golden-generate.json, greedy_20)
const GREEDY = [11516, 46149, 19542, 44695, 35828, 4384, 3756, 38481];
const quiet = { on_warning: (): void => {} };

const errors: Array<[string, Partial<GenerateOptions>, string]> = [
  ['temperature 0 with sampling', { do_sample: true, temperature: 0 }, "`temperature` (=0) has to be a strictly positive float, otherwise your next token scores will be invalid. If you're looking for greedy decoding strategies, set `do_sample=False`."],
  ['negative temperature with sampling', { do_sample: true, temperature: -1 }, '`temperature` (=-1) has to be a strictly positive float, otherwise your next token scores will be invalid.'],
  ['top_p 0', { top_p: 0 }, '`top_p` has to be a float > 0 and <= 1, but is 0'],
  ['top_p 1.5', { top_p: 1.5 }, '`top_p` has to be a float > 0 and <= 1, but is 1.5'],
  ['top_k -1', { top_k: -1 }, '`top_k` has to be a non-negative integer (0 disables top-k), but is -1'],
  ['top_k 2.5', { top_k: 2.5 }, '`top_k` has to be a non-negative integer (0 disables top-k), but is 2.5'],
  ['num_return_sequences > num_beams', { num_beams: 2, num_return_sequences: 3 }, '`num_return_sequences` (3) has to be smaller or equal to `num_beams` (2).'],
  ['num_return_sequences with greedy', { num_return_sequences: 2 }, 'Greedy methods without beam search do not support `num_return_sequences` different than 1 (got 2).'],
  ['max_new_tokens 0', { max_new_tokens: 0 }, '`max_new_tokens` must be greater than 0, but is 0.'],
  ['max_new_tokens -1', { max_new_tokens: -1 }, '`max_new_tokens` must be greater than 0, but is -1.'],
  ['early_stopping "sometimes"', { num_beams: 2, early_stopping: 'sometimes' as never }, "`early_stopping` must be a boolean or 'never', but is \"sometimes\"."],
  ['beyond n_positions', { max_new_tokens: 1020 }, "The prompt (5 tokens) plus the new tokens (1020) make 1025 positions, more than the model's n_positions (1024). Shorten the prompt or lower max_new_tokens."],
  ['empty prompt', { input_ids: [] }, '`input_ids` is empty: GPT-2 needs at least one prompt token (for an unconditional start, pass the bos token, e.g. [50256])'],
  ['id outside the vocabulary', { input_ids: [464, 50257] }, '`input_ids`[0][1] = 50257 is outside the vocabulary: token ids go from 0 to 50256'],
  ['unknown option (a typo)', { top_pp: 0.9 } as never, "The following `model_kwargs` are not used by the model: ['top_pp'] (note: typos in the generate arguments will also show up in this list)"],
  ['an inherited name as an option', { toString: 1 } as never, "The following `model_kwargs` are not used by the model: ['toString'] (note: typos in the generate arguments will also show up in this list)"],
  ['bad_words_ids outside the vocabulary', { bad_words_ids: [[60000]] }, 'The model vocabulary size is 50257, but the following tokens were being biased: [60000]'],
  ['an HF option gpt2-lens does not implement', { diversity_penalty: 0.5 } as never, '`diversity_penalty`=0.5 is a transformers generate option that gpt2-lens does not implement (only its default, 0, is accepted)'],
  ['streamer with beam search', { num_beams: 2, streamer: new CallbackStreamer(() => {}) }, '`streamer` cannot be used with beam search (yet!). Make sure that `num_beams` is set to 1.'],
];
for (const [name, opts, message] of errors) {
  test(`generate rejects ${name}`, async () => {
    await assert.rejects(generate(model, { input_ids: PROMPT, max_new_tokens: 3, ...quiet, ...opts }), { name: 'GenerationError', message });
  });
}

test('defaults: max_length 20 in total, pad set from eos with HF warning; model.generate is generate', async () => {
  const warnings: string[] = [];
  const out = await model.generate({ input_ids: PROMPT, on_warning: (w) => warnings.push(w) });
  assert.equal(out.sequences[0]!.length, 20);
  assert.deepEqual(out.sequences[0]!.slice(5, 13), GREEDY);
  assert.deepEqual(warnings, ['Setting `pad_token_id` to `eos_token_id`:50256 for open-end generation.']);
  assert.deepEqual(out.warnings, warnings);
  // a prompt already at max_length still gets one token, with HF's warning
  const long = await generate(model, { input_ids: PROMPT, max_length: 5, pad_token_id: 50256, on_warning: (w) => warnings.push(w) });
  assert.equal(long.sequences[0]!.length, 6);
  assert.match(warnings[1]!, /^Input length of input_ids is 5, but `max_length` is set to 5\./);
});

test('use_cache false recomputes the prefix and gives the same tokens', async () => {
  const out = await generate(model, { input_ids: PROMPT, max_new_tokens: 8, use_cache: false, ...quiet });
  assert.deepEqual(out.sequences[0]!.slice(5), GREEDY);
});

test('bad_words_ids bans a token; min_length delays eos', async () => {
  const out = await generate(model, { input_ids: PROMPT, max_new_tokens: 3, bad_words_ids: [[GREEDY[0]!]], ...quiet });
  assert.notEqual(out.sequences[0]![5], GREEDY[0]);
  // the greedy run emits 44695 as its 4th new token: as eos it stops there, unless min_length forbids it
  const stop = await generate(model, { input_ids: PROMPT, max_new_tokens: 8, eos_token_id: 44695, ...quiet });
  assert.equal(stop.sequences[0]!.length, 9);
  const late = await generate(model, { input_ids: PROMPT, max_new_tokens: 8, eos_token_id: 44695, min_length: 10, ...quiet });
  assert.notEqual(late.sequences[0]![8], 44695);
});

test('a streamer receives the prompt, then each token as it is chosen', async () => {
  const steps: number[][] = [];
  let ended = 0;
  const out = await generate(model, { input_ids: PROMPT, max_new_tokens: 6, streamer: new CallbackStreamer((ids) => steps.push([...ids]), () => ended++), ...quiet });
  assert.deepEqual(steps.flat(), out.sequences[0]!.slice(5));
  assert.deepEqual(steps.flat(), GREEDY.slice(0, 6));
  assert.equal(ended, 1);
});

test('TextStreamer prints text as soon as its UTF-8 is complete', async () => {
  const text = 'Hi 😀 and 日本';
  const ids = tokenizer.encode(text);
  const pieces: string[] = [];
  const streamer = new TextStreamer(tokenizer, (s) => pieces.push(s), { skip_prompt: true });
  streamer.put([ids[0]!]); // the prompt (skipped)
  for (const id of ids.slice(1)) streamer.put([id]);
  streamer.end();
  assert.equal(pieces.join(''), tokenizer.decode(ids.slice(1), { clean_up_tokenization_spaces: false }));
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')), `a piece holds half a character: ${JSON.stringify(pieces)}`);
  assert.ok(ids.length - 1 > pieces.length, 'some tokens waited for the rest of their character');
  // with generate: the streamed text is the decoded new tokens
  const out: string[] = [];
  const res = await generate(model, { input_ids: PROMPT, max_new_tokens: 5, streamer: new TextStreamer(tokenizer, (s) => out.push(s), { skip_prompt: true }), ...quiet });
  assert.equal(out.join(''), tokenizer.decode(res.sequences[0]!.slice(5), { clean_up_tokenization_spaces: false }));
  const batchStreamer = new TextStreamer(tokenizer, () => {});
  batchStreamer.put([1, 2]); // the prompt may hold any number of ids
  assert.throws(() => batchStreamer.put([1, 2]), { message: 'TextStreamer only supports batch size 1' });
});

test('an AbortSignal stops generation before the next step and rejects with its reason', async () => {
  const controller = new AbortController();
  const seen: number[] = [];
  const streamer = new CallbackStreamer((ids) => {
    seen.push(...ids);
    if (seen.length === 3) controller.abort();
  });
  await assert.rejects(generate(model, { input_ids: PROMPT, max_new_tokens: 50, streamer, signal: controller.signal, ...quiet }), { name: 'AbortError' });
  assert.equal(seen.length, 3);
  const already = AbortSignal.abort(new Error('stop now'));
  await assert.rejects(generate(model, { input_ids: PROMPT, signal: already, ...quiet }), { message: 'stop now' });
});

test('streamGenerate yields the tokens in order and returns the output; breaking out stops it', async () => {
  const it = streamGenerate(model, { input_ids: PROMPT, max_new_tokens: 8, ...quiet });
  const got: number[] = [];
  let r = await it.next();
  while (!r.done) {
    assert.equal(r.value.step, got.length);
    got.push(r.value.id);
    r = await it.next();
  }
  assert.deepEqual(got, GREEDY);
  assert.deepEqual(r.value!.sequences[0]!.slice(5), GREEDY);
  const early: number[] = [];
  for await (const tok of streamGenerate(model, { input_ids: PROMPT, max_new_tokens: 500, ...quiet })) {
    early.push(tok.id);
    if (early.length === 2) break;
  }
  assert.deepEqual(early, GREEDY.slice(0, 2));
});

test('trace: candidates before/after the processors, who removed them, and every beam', async () => {
  const out = await generate(model, { input_ids: PROMPT, max_new_tokens: 3, do_sample: true, top_k: 3, seed: 1, trace: 8, ...quiet });
  const tr = out.trace!;
  assert.equal(tr.strategy, 'sample');
  assert.deepEqual(tr.processors, ['TopKLogitsWarper(top_k=3)']);
  assert.equal(tr.steps.length, 3);
  for (const st of tr.steps) {
    const cands = st.rows[0]!.candidates;
    assert.equal(cands.length, 8);
    assert.deepEqual(cands.map((c) => c.removed_by !== null), [false, false, false, true, true, true, true, true]);
    assert.equal(cands[3]!.removed_by, 'TopKLogitsWarper(top_k=3)');
    assert.ok(Math.abs(cands.slice(0, 3).reduce((a, c) => a + c.processed_prob, 0) - 1) < 1e-9);
    assert.ok(cands[0]!.prob < cands[0]!.processed_prob);
    assert.ok(cands.slice(0, 3).some((c) => c.id === st.rows[0]!.chosen));
  }
  const beam = await generate(model, { input_ids: PROMPT, max_new_tokens: 4, num_beams: 3, trace: true, ...quiet });
  const steps = beam.trace!.steps;
  assert.equal(beam.trace!.strategy, 'beam_search');
  assert.equal(steps.length, 4);
  steps.forEach((st, s) => {
    assert.equal(st.rows.length, 3);
    assert.equal(st.beams!.length, 3);
    for (const b of st.beams!) {
      assert.equal(b.tokens.length, s + 1);
      assert.equal(b.tokens[s], b.token);
      if (s > 0) assert.deepEqual(b.tokens.slice(0, s), steps[s - 1]!.beams![b.parent]!.tokens);
    }
  });
  // the best final beam is the returned sequence (no eos reached)
  const last = steps[3]!.beams!;
  const best = last.reduce((a, b) => (b.score > a.score ? b : a));
  assert.deepEqual(beam.sequences[0]!.slice(5), best.tokens);
});

test('eos_token_id as a list: any of them finishes a row; beam search re-appends the first', async () => {
  // greedy emits 19542 then 44695 as its 3rd and 4th new tokens
  const out = await generate(model, { input_ids: PROMPT, max_new_tokens: 10, eos_token_id: [44695, 19542], ...quiet });
  assert.deepEqual(out.sequences[0]!.slice(5), GREEDY.slice(0, 3));
  // the best hypothesis ends with 19542 (as in golden beam4_eos_*), but HF's finalize writes eos_token_id[0]
  const beams = await generate(model, { input_ids: PROMPT, max_new_tokens: 6, num_beams: 3, num_return_sequences: 3, eos_token_id: [44695, 19542], pad_token_id: 50256, ...quiet });
  assert.deepEqual(beams.sequences[0], [...PROMPT, 32597, 35209, 29814, 44695, 50256, 50256]);
  assert.deepEqual(beams.beam_indices![0], [0, 1, 0, 0, -1, -1, -1, -1, -1, -1, -1]);
  assert.equal(beams.sequences.length, 3);
});

test('generation_config: the model file sets defaults, a call can replace it; unsupported file settings are errors', async () => {
  const viaConfig = await generate(model, { input_ids: PROMPT, generation_config: { max_new_tokens: 3, eos_token_id: 50256 }, ...quiet });
  assert.equal(viaConfig.sequences[0]!.length, 8);
  const { parseGenerationConfig } = await import('../src/generation/configuration.js');
  assert.deepEqual(parseGenerationConfig({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2, transformers_version: '4.43.4', num_beam_groups: 1 }), { bos_token_id: 1, eos_token_id: 2 });
  assert.throws(() => parseGenerationConfig({ num_beam_groups: 2 }), { message: '`num_beam_groups`=2 is a transformers generate option that gpt2-lens does not implement (only its default, 1, is accepted)' });
  assert.deepEqual(parseGenerationConfig({ constructor: 2, max_length: 7 }), { max_length: 7 }); // not an unsupported option: an unknown key
});

test("HF's warnings for settings that do nothing in the chosen mode", async () => {
  const warnings: string[] = [];
  await generate(model, { input_ids: PROMPT, max_new_tokens: 1, pad_token_id: 50256, temperature: 0.5, length_penalty: 2, on_warning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, [
    '`do_sample` is set to `False`. However, `temperature` is set to `0.5` -- this flag is only used in sample-based generation modes. You should set `do_sample=True` or unset `temperature`.',
    '`num_beams` is set to 1. However, `length_penalty` is set to `2` -- this flag is only used in beam-based generation modes. You should set `num_beams>1` or unset `length_penalty`.',
  ]);
});

test('generate() makes its KV cache once, with room for the prompt + max_new_tokens (no growth mid-run); cache_capacity is checked', async () => {
  for (const num_beams of [1, 3]) {
    const caches = new Set<unknown>();
    const capacities: number[] = [];
    const counting = {
      config: model.config,
      generation_config: model.generation_config,
      forward: async (inputs: Parameters<typeof model.forward>[0]) => {
        const out = await model.forward(inputs);
        caches.add(out.past_key_values);
        capacities.push(out.past_key_values!.capacity);
        return out;
      },
    };
    const prompt = [464, 4583, 286, 44449, 318];
    await generate(counting, { input_ids: prompt, max_new_tokens: 70, min_new_tokens: 70, num_beams, pad_token_id: 0, on_warning: () => {} });
    assert.equal(capacities.length, 70, `num_beams ${num_beams}: one forward a new token`);
    // without cache_capacity the first cache had 5 + 64 = 69 positions and grew (copying) at the 70th
    assert.deepEqual([...new Set(capacities)], [75], `num_beams ${num_beams}: capacities ${[...new Set(capacities)]}`);
    assert.equal(caches.size, 1, `num_beams ${num_beams}: one cache object for the whole run`);
  }
  const fresh = await model.forward({ input_ids: [[1, 2, 3]], cache_capacity: 40 });
  assert.equal(fresh.past_key_values!.capacity, 40);
  assert.equal((await model.forward({ input_ids: [[1, 2, 3]], cache_capacity: 2 })).past_key_values!.capacity, 3, 'never below the call’s own positions');
  assert.equal((await model.forward({ input_ids: [[1, 2, 3]], cache_capacity: 1 << 20 })).past_key_values!.capacity, model.config.n_positions);
  for (const bad of [0, 2.5, Number.NaN]) {
    await assert.rejects(model.forward({ input_ids: [[1, 2, 3]], cache_capacity: bad }), { message: `cache_capacity must be a positive integer, got ${bad}` });
  }
});
