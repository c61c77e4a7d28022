// The notebook's exercise, "Implement a beam search", solved from scratch, then compared with generate().
//   npx tsx examples/beam-search.ts                                   (openai-community/gpt2, downloaded once)
//   npx tsx examples/beam-search.ts --model ../shared/fixtures/gpt2-tiny --beams 4 --max-new-tokens 12
//
// Greedy decoding takes the single most likely token at every step and can walk into a dead end: a token that
// looked best now may leave only unlikely continuations. Beam search keeps the k best *partial sequences* ("beams")
// instead of one, scored by the sum of their tokens' log-probabilities (the log of the product of probabilities,
// summed so that it does not underflow). https://en.wikipedia.org/wiki/Beam_search
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { GPT2LMHeadModel } from '../src/model/index.js';
import '../src/node/model.js';
import { logSumExp, topK } from '../src/model/topk.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { AutoTokenizer, loadBundledTokenizer } from '../src/node/tokenizer.js';

/** A partial or finished sequence and its score: the sum of log P(token | everything before it). */
export interface Beam {
  ids: number[];
  logprob: number;
}

export interface SimpleBeamSearchOptions {
  num_beams: number;
  max_new_tokens: number;
  /** the end-of-text token: a beam that chooses it is finished (default 50256, GPT-2's <|endoftext|>) */
  eos_token_id?: number;
}

/**
 * Beam search, the textbook way: keep the `num_beams` best partial sequences by summed log-probability, extend
 * each by its best next tokens, keep the best of all extensions; a sequence that ends in eos is finished. Returns
 * every finished sequence plus the beams still running at max_new_tokens, best first.
 */
export async function simpleBeamSearch(model: GPT2LMHeadModel, prompt: number[], options: SimpleBeamSearchOptions): Promise<Beam[]> {
  const k = options.num_beams;
  const eos = options.eos_token_id ?? 50256;
  const V = model.config.vocab_size;
  let beams: Beam[] = [{ ids: prompt, logprob: 0 }]; // one beam to start: the prompt, probability 1 (log 1 = 0)
  const finished: Beam[] = [];

  for (let step = 0; step < options.max_new_tokens && finished.length < k; step++) {
    // One forward pass scores the next token of every beam (all beams have the same length, so they batch).
    const { logits } = await model.forward({ input_ids: beams.map((b) => b.ids), num_logits_to_keep: 1, use_cache: false });

    // Extend every beam by its k+1 most likely tokens: the k best extensions overall can never need more from one
    // beam (k, plus one spare in case one of them is eos). log P = logit - logsumexp(logits): the log-softmax.
    const candidates: Array<Beam & { token: number }> = [];
    beams.forEach((beam, row) => {
      const lse = logSumExp(logits.data, row * V, V);
      const best = topK(logits.data, k + 1, row * V, V);
      best.ids.forEach((token, i) => candidates.push({ ids: [...beam.ids, token], logprob: beam.logprob + best.values[i]! - lse, token }));
    });
    candidates.sort((a, b) => b.logprob - a.logprob);

    // Keep the k best. An eos among them finishes that sequence (it leaves the beam); the next best candidate
    // takes its place, so k beams keep running.
    beams = [];
    for (const [rank, c] of candidates.entries()) {
      if (beams.length === k) break;
      if (c.token !== eos) beams.push({ ids: c.ids, logprob: c.logprob });
      else if (rank < k) finished.push({ ids: c.ids, logprob: c.logprob }); // an eos ranked below the k best is not good enough
    }
  }
  // Stopped: k sequences finished, or max_new_tokens reached. The answer is the best of all, by summed log-prob.
  return [...finished, ...beams].sort((a, b) => b.logprob - a.logprob);
}

// ---- the same with generate(), and why the two can differ ----
//
// generate({ num_beams: k }) runs HF's beam search (src/generation/beam-search.ts). It extends the beams exactly as
// above (HF looks at the 2k best candidates, which is the same thing), but it finishes differently:
// 1. Length penalty. A finished hypothesis is ranked by sum_logprobs / new_tokens ** length_penalty, with
//    length_penalty 1.0 by default: the *average* log-probability, not the sum. The sum favours short sequences
//    (every token adds a negative number), so with an eos in play the two rankings can disagree; when no beam ever
//    chooses eos, every hypothesis has max_new_tokens tokens, the divisor is the same for all, and the winner is the
//    same. sequences_scores is then our sum divided by max_new_tokens.
// 2. Early stopping. early_stopping=false (HF's default) stops when no running beam can still beat the worst kept
//    hypothesis (a heuristic that assumes the best running sum divided by the current length); true stops as soon as
//    k hypotheses exist (what simpleBeamSearch does); "never" runs to max_new_tokens unless it can prove no beam can
//    improve. Running longer can only add hypotheses, so it changes the answer only when a later one scores higher.
// 3. The output. HF stores a finished hypothesis without its eos and adds it back when padding the batch; it returns
//    num_return_sequences of them, padded with pad_token_id to a common length. Beams still running at
//    max_new_tokens become hypotheses too, ranked by the same length-penalised score.

async function main(): Promise<void> {
  const program = new Command()
    .name('npx tsx examples/beam-search.ts')
    .description('A beam search written from scratch, beside generate({ num_beams })')
    .option('--model <id|folder|random:SPEC>', 'a Hub id, a local folder, or random:gpt2', 'openai-community/gpt2')
    .option('--prompt <text>', 'the prompt', 'The theory of relativity is')
    .option('--beams <k>', 'number of beams', '4')
    .option('--max-new-tokens <n>', 'tokens to add', '12')
    .parse();
  const opts = program.opts<{ model: string; prompt: string; beams: string; maxNewTokens: string }>();
  const k = Number(opts.beams);
  const n = Number(opts.maxNewTokens);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(n) || n < 1) {
    console.error(`--beams and --max-new-tokens must be positive integers, got ${opts.beams} and ${opts.maxNewTokens}`);
    process.exit(2);
  }
  const model = await GPT2LMHeadModel.from_pretrained(opts.model);
  const tokenizer: GPT2Tokenizer = model.is_random ? loadBundledTokenizer() : await AutoTokenizer.from_pretrained(opts.model);
  if (model.is_random) console.log(`NOTE: ${opts.model} has RANDOM weights: the text is nonsense (the search is real).`);
  const prompt = tokenizer.encode(opts.prompt);

  const ours = await simpleBeamSearch(model, prompt, { num_beams: k, max_new_tokens: n, eos_token_id: model.config.eos_token_id });
  console.log(`simpleBeamSearch, ${k} beams:`);
  for (const b of ours.slice(0, k)) console.log(`  ${b.logprob.toFixed(4).padStart(9)}  ${JSON.stringify(tokenizer.decode(b.ids))}`);

  const hf = await model.generate({ input_ids: [prompt], num_beams: k, max_new_tokens: n, num_return_sequences: k, pad_token_id: model.config.eos_token_id });
  console.log(`generate({ num_beams: ${k} }) (score = sum / new_tokens ** length_penalty):`);
  hf.sequences.forEach((s, i) => console.log(`  ${hf.sequences_scores![i]!.toFixed(4).padStart(9)}  ${JSON.stringify(tokenizer.decode(s))}`));
  const same = ours[0]!.ids.length === hf.sequences[0]!.length && ours[0]!.ids.every((t, i) => t === hf.sequences[0]![i]);
  console.log(same ? 'the best sequences are the same' : 'the best sequences differ: see the comments in this file (length penalty, early stopping)');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
