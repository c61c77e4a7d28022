// The "Understanding GPT-2" notebook, all eight cells in order, in TypeScript, printing what the notebook prints:
//   npm run example:notebook -- --model openai-community/gpt2            (the default; downloaded once)
//   npm run example:notebook -- --model random:gpt2                      (no download; the weights are random)
//   npm run example:notebook -- --model ../shared/fixtures/gpt2-tiny --seed 7
// 1. the tokenizer and its vocabulary, 2. encode a prompt, 3. print(model), 4. last_hidden_state as a tensor,
// 5. GPT2LMHeadModel: logits, softmax, top-10, argmax and a 15-step greedy loop, 6. the exercise: beam search
// (examples/beam-search.ts), 7. generate(num_beams=2), 8. beam sampling (temperature 2, repetition penalty 10).
// docs/notebook.md puts each cell beside its code, its CLI command and its explorer view.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { formatSize, formatTensor } from '../src/model/format-tensor.js';
import { GPT2LMHeadModel, GPT2Model } from '../src/model/index.js';
import '../src/node/model.js';
import { argmax, softmax, topK } from '../src/model/topk.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { AutoTokenizer, loadBundledTokenizer } from '../src/node/tokenizer.js';
import { simpleBeamSearch } from './beam-search.js';

export const PROMPT = 'The theory of relativity is';

export interface NotebookOptions {
  /** greedy steps in cell 5 (the notebook's 15) */
  steps?: number;
  /** cell 7's max_new_tokens (the notebook's 30) */
  beam_new_tokens?: number;
  /** cell 8's max_new_tokens (the notebook's 100) */
  sample_new_tokens?: number;
  /** cell 8's sampling seed (the notebook's output depends on torch's RNG; ours is xoshiro128**, see docs/generation.md) */
  seed?: number;
}

export interface NotebookResult {
  vocabSize: number;
  ids: number[];
  tokens: string[];
  modelRepr: string;
  hiddenDims: number[];
  hiddenPrint: string;
  firstHidden: number[];
  logitsDims: number[];
  top10: Array<{ id: number; token: string; prob: number }>;
  argmax: number;
  greedyIds: number[];
  text: string;
  exerciseIds: number[];
  beamIds: number[];
  sampledIds: number[];
  seed: number;
}

/** Python's repr() of a str, as the notebook's printouts show tokens: 'The', " it's", '\n'. */
export function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Runs every cell in the notebook's order, printing as the notebook does, and returns the values for checking. */
export async function runNotebook(model: GPT2LMHeadModel, tokenizer: GPT2Tokenizer, print: (line: string) => void = console.log, options: NotebookOptions = {}): Promise<NotebookResult> {
  const steps = options.steps ?? 15;
  const seed = options.seed ?? 42;
  if (model.is_random) {
    print(`NOTE: ${model.name_or_path} has RANDOM weights: every number below is meaningless (but the code path is real).`);
  }
  print(`model: ${model.description}\n`);

  // Cell 1: the tokenizer and its vocabulary: subword → id, and the reverse dictionary id → subword
  print('## 1. The tokenizer\'s vocabulary');
  const vocab = tokenizer.get_vocab(); // Map<subword, id>, Python's dict
  print('type(vocab): dict');
  print(`len(vocab): ${vocab.size}`);
  const idToSubword = new Map([...vocab].map(([subword, id]) => [id, subword]));
  print(`{${[0, 1, 2, 464, 4583, 50256].map((id) => `${id}: ${pyStr(idToSubword.get(id) ?? '')}`).join(', ')}, ...}`);

  // Cell 2: text → token ids, and each id's text
  print('\n## 2. tokenizer.encode');
  const ids = tokenizer.encode(PROMPT);
  const tokens = ids.map((id) => tokenizer.decode([id]));
  print(`[${ids.join(', ')}]`);
  ids.forEach((id, i) => print(`${id} -> ${pyStr(tokens[i]!)}`));

  // Cell 3: AutoModel (GPT2Model, no LM head) and print(model): the module tree as PyTorch prints it
  print('\n## 3. print(model)');
  const base = new GPT2Model({ config: model.config, weights: model.weights, backend: model.backend, is_random: model.is_random, name_or_path: model.name_or_path });
  const modelRepr = base.toString();
  print(modelRepr);

  // Cell 4: the bare transformer gives one vector per token: last_hidden_state [batch, tokens, n_embd]
  print('\n## 4. last_hidden_state');
  const hidden = (await base.forward({ input_ids: [ids], use_cache: false })).last_hidden_state;
  const hiddenPrint = formatTensor(hidden);
  print(hiddenPrint);
  print(formatSize(hidden.dims));
  const firstHidden = Array.from(hidden.data.subarray(0, 5));

  // Cell 5: with the LM head, one score per vocabulary entry; softmax of the last position → next-token probabilities
  print('\n## 5. GPT2LMHeadModel: logits, softmax, top-10, argmax, greedy loop');
  const out = await model.forward({ input_ids: [ids], use_cache: false });
  const V = model.config.vocab_size;
  const T = ids.length;
  print(`logits.shape: ${formatSize(out.logits.dims)}`);
  const probs = softmax(out.logits.data, (T - 1) * V, V); // next_token_logits = logits[0, -1, :]
  const top = topK(probs, 10);
  const top10 = top.ids.map((id, i) => ({ id, token: tokenizer.decode([id]), prob: top.values[i]! }));
  for (const t of top10) print(`${t.prob.toFixed(3)} ${t.token}`);
  const best = argmax(out.logits.data, (T - 1) * V, V);
  print(`argmax: ${best} -> ${pyStr(tokenizer.decode([best]))}`);
  // The greedy loop by hand: append the argmax, run again. The KV cache makes each step one token's work.
  const seq = [...ids];
  let step = await model.forward({ input_ids: [ids], num_logits_to_keep: 1 });
  const cache = step.past_key_values!;
  const greedyIds: number[] = [];
  for (let s = 0; s < steps; s++) {
    const next = argmax(step.logits.data, 0, V); // logits of the last position only
    greedyIds.push(next);
    seq.push(next);
    if (s + 1 < steps) step = await model.forward({ input_ids: [[next]], past_key_values: cache, num_logits_to_keep: 1 });
  }
  const text = tokenizer.decode(seq);
  print(text);

  // Cell 6: the exercise, "Implement a beam search": examples/beam-search.ts (2 beams, 12 new tokens)
  print('\n## 6. Exercise: beam search (examples/beam-search.ts)');
  const exercise = await simpleBeamSearch(model, ids, { num_beams: 2, max_new_tokens: 12, eos_token_id: model.config.eos_token_id });
  const exerciseIds = exercise[0]!.ids;
  print(tokenizer.decode(exerciseIds));

  // Cell 7: HF's beam search. attention_mask all ones; pad_token_id = eos (GPT-2 has no pad token)
  const beamNew = options.beam_new_tokens ?? 30;
  print(`\n## 7. model.generate(input_ids, attention_mask, pad_token_id=eos, max_new_tokens=${beamNew}, num_beams=2)`);
  const eos = model.config.eos_token_id;
  const attention_mask = [ids.map(() => 1)];
  const beam = await model.generate({ input_ids: [ids], attention_mask, pad_token_id: eos, max_new_tokens: beamNew, num_beams: 2 });
  const beamIds = beam.sequences[0]!;
  print(tokenizer.decode(beamIds, { skip_special_tokens: true }));

  // Cell 8: beam sampling: 4 beams whose candidates are drawn (do_sample) from a flattened (temperature 2) and
  // de-repeated (repetition penalty 10) distribution, top_k 50 by default. Seeded, so a run can be repeated.
  const sampleNew = options.sample_new_tokens ?? 100;
  print(`\n## 8. model.generate(..., max_new_tokens=${sampleNew}, num_beams=4, temperature=2.0, do_sample=True, repetition_penalty=10.0)  seed ${seed}`);
  const sampled = await model.generate({ input_ids: [ids], attention_mask, pad_token_id: eos, max_new_tokens: sampleNew, num_beams: 4, temperature: 2.0, do_sample: true, repetition_penalty: 10.0, seed });
  const sampledIds = sampled.sequences[0]!;
  print(tokenizer.decode(sampledIds, { skip_special_tokens: true }));

  return { vocabSize: vocab.size, ids, tokens, modelRepr, hiddenDims: hidden.dims, hiddenPrint, firstHidden, logitsDims: out.logits.dims, top10, argmax: best, greedyIds, text, exerciseIds, beamIds, sampledIds, seed };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run example:notebook --')
    .description('The "Understanding GPT-2" notebook, cell by cell.')
    .option('--model <id|folder|random:SPEC>', 'a Hub id, a local folder, or random:gpt2', 'openai-community/gpt2')
    .option('--tokenizer <id|folder>', 'where the tokenizer comes from (default: the model\'s folder; the bundled GPT-2 vocabulary for random: models)')
    .option('--steps <n>', 'greedy steps (cell 5)', '15')
    .option('--seed <n>', 'the sampling seed of cell 8', '42')
    .parse();
  const opts = program.opts<{ model: string; tokenizer?: string; steps: string; seed: string }>();
  const steps = Number(opts.steps);
  if (!Number.isInteger(steps) || steps < 1) {
    console.error(`--steps must be a positive integer, got ${opts.steps}`);
    process.exit(2);
  }
  const seed = Number(opts.seed);
  if (!/^\d+$/.test(opts.seed) || !Number.isSafeInteger(seed)) {
    console.error(`--seed must be a non-negative integer, got ${opts.seed}`);
    process.exit(2);
  }
  const model = await GPT2LMHeadModel.from_pretrained(opts.model);
  const tokenizer = opts.tokenizer ? await AutoTokenizer.from_pretrained(opts.tokenizer) : model.is_random ? loadBundledTokenizer() : await AutoTokenizer.from_pretrained(opts.model);
  await runNotebook(model, tokenizer, console.log, { steps, seed });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
