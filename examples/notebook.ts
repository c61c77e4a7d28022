// The "Understanding GPT-2" notebook, cell by cell, in TypeScript:
//   npm run example:notebook -- --model openai-community/gpt2
//   npm run example:notebook -- --model random:gpt2            (no download; the weights are random)
//   npm run example:notebook -- --model ../shared/fixtures/gpt2-tiny
// 1. tokenize a prompt, 2. GPT2Model's last_hidden_state, 3. GPT2LMHeadModel's logits, 4. softmax,
// 5. the top-10 next tokens, 6. argmax, 7. a 15-step greedy loop written by hand.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { GPT2LMHeadModel, GPT2Model } from '../src/model/index.js';
import '../src/node/model.js';
import { argmax, softmax, topK } from '../src/model/topk.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { AutoTokenizer, loadBundledTokenizer } from '../src/node/tokenizer.js';

export const PROMPT = 'The theory of relativity is';

export interface NotebookResult {
  ids: number[];
  tokens: string[];
  hiddenDims: number[];
  firstHidden: number[];
  logitsDims: number[];
  top10: Array<{ id: number; token: string; prob: number }>;
  argmax: number;
  greedyIds: number[];
  text: string;
}

/** Runs every cell, printing as the notebook does, and returns the values for checking. */
export async function runNotebook(model: GPT2LMHeadModel, tokenizer: GPT2Tokenizer, print: (line: string) => void = console.log, steps = 15): Promise<NotebookResult> {
  if (model.is_random) {
    print(`NOTE: ${model.name_or_path} has RANDOM weights: every number below is meaningless (but the code path is real).`);
  }
  print(`model: ${model.description}\n`);

  // Cell 1: text → token ids, and each id's text
  print('## 1. Tokenize');
  const ids = tokenizer.encode(PROMPT);
  const tokens = ids.map((id) => tokenizer.decode([id]));
  print(`input_ids: [${ids.join(', ')}]`);
  ids.forEach((id, i) => print(`  ${String(id).padStart(5)} → ${JSON.stringify(tokens[i])}`));

  // Cell 2: the bare transformer (GPT2Model) gives one vector per token
  print('\n## 2. GPT2Model: last_hidden_state');
  const base = new GPT2Model({ config: model.config, weights: model.weights, backend: model.backend, is_random: model.is_random, name_or_path: model.name_or_path });
  const hidden = (await base.forward({ input_ids: [ids], use_cache: false })).last_hidden_state;
  const firstHidden = Array.from(hidden.data.subarray(0, 5));
  print(`last_hidden_state.shape: [${hidden.dims.join(', ')}]   (batch, tokens, n_embd)`);
  print(`last_hidden_state[0, 0, :5]: [${firstHidden.map((x) => x.toFixed(4)).join(', ')}]`);

  // Cell 3: with the LM head, one score per vocabulary entry
  print('\n## 3. GPT2LMHeadModel: logits');
  const out = await model.forward({ input_ids: [ids], use_cache: false });
  const V = model.config.vocab_size;
  const T = ids.length;
  print(`logits.shape: [${out.logits.dims.join(', ')}]   (batch, tokens, vocab_size)`);

  // Cell 4: softmax over the last position's logits → next-token probabilities
  print('\n## 4. softmax(logits[0, -1])');
  const probs = softmax(out.logits.data, (T - 1) * V, V);
  print(`sum of probabilities: ${probs.reduce((a, b) => a + b, 0).toFixed(4)}`);

  // Cell 5: the 10 most likely next tokens
  print('\n## 5. Top-10 next tokens');
  const top = topK(probs, 10);
  const top10 = top.ids.map((id, i) => ({ id, token: tokenizer.decode([id]), prob: top.values[i]! }));
  for (const t of top10) print(`  ${JSON.stringify(t.token).padEnd(16)} ${String(t.id).padStart(5)}  ${t.prob >= 0.001 ? t.prob.toFixed(3) : t.prob.toExponential(2)}`);

  // Cell 6: greedy choice = argmax
  print('\n## 6. argmax');
  const best = argmax(out.logits.data, (T - 1) * V, V);
  print(`argmax: ${best} → ${JSON.stringify(tokenizer.decode([best]))}`);

  // Cell 7: a greedy loop by hand: append the argmax, run again. The KV cache makes each step one token's work.
  print(`\n## 7. Greedy loop, ${steps} steps`);
  const seq = [...ids];
  let step = await model.forward({ input_ids: [ids], num_logits_to_keep: 1 });
  const cache = step.past_key_values!;
  const greedyIds: number[] = [];
  for (let s = 0; s < steps; s++) {
    const next = argmax(step.logits.data, 0, V); // logits of the last position only
    greedyIds.push(next);
    seq.push(next);
    print(`  step ${String(s + 1).padStart(2)}: ${tokenizer.decode(seq)}`);
    if (s + 1 < steps) step = await model.forward({ input_ids: [[next]], past_key_values: cache, num_logits_to_keep: 1 });
  }
  const text = tokenizer.decode(seq);
  print('');
  print(text);
  return { ids, tokens, hiddenDims: hidden.dims, firstHidden, logitsDims: out.logits.dims, top10, argmax: best, greedyIds, text };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run example:notebook --')
    .description('The "Understanding GPT-2" notebook, cell by cell.')
    .option('--model <id|folder|random:SPEC>', 'a Hub id, a local folder, or random:gpt2', 'openai-community/gpt2')
    .option('--tokenizer <id|folder>', 'where the tokenizer comes from (default: the model\'s folder; the bundled GPT-2 vocabulary for random: models)')
    .option('--steps <n>', 'greedy steps', '15')
    .parse();
  const opts = program.opts<{ model: string; tokenizer?: string; steps: string }>();
  const steps = Number(opts.steps);
  if (!Number.isInteger(steps) || steps < 1) {
    console.error(`--steps must be a positive integer, got ${opts.steps}`);
    process.exit(2);
  }
  const model = await GPT2LMHeadModel.from_pretrained(opts.model);
  const tokenizer = opts.tokenizer ? await AutoTokenizer.from_pretrained(opts.tokenizer) : model.is_random ? loadBundledTokenizer() : await AutoTokenizer.from_pretrained(opts.model);
  await runNotebook(model, tokenizer, console.log, steps);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
