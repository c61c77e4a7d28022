// gpt2-lens next PROMPT [--top 10] [--json]: the notebook's next-token table — the model's probability for every
// possible next token after the prompt (softmax of the last position's raw logits), best first.
import type { Command } from 'commander';
import { topKIndices } from '../../generation/logits-process.js';
import { assertFiniteLogits } from '../../model/non-finite.js';
import { softmaxArray } from '../../generation/math.js';
import type { Candidate } from '../../server/types.js'; // a row of the table: the same JSON as the server's /api/next
import { UsageError } from '../errors.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const command = program
    .command('next')
    .description('show the most likely next tokens after a prompt, with their probabilities and raw logits')
    .argument('<prompt>', 'the text to continue')
    .option('--top <n>', 'how many tokens to list', '10')
    .option('--json', 'print {"input_ids":[...],"top":[{"id","token","prob","logit"},...]}')
    .addOption(modelOption())
    .addHelpText('after', '\nExample:\n  gpt2-lens next "The theory of relativity is" --top 5\n  gpt2-lens next "Hello" --model random:gpt2 --json\n');
  addEngineOptions(command).action(async (prompt: string, opts: EngineCliOptions & { top: string; json?: boolean; model: string }) => {
    const top = positiveInt(opts.top, '--top');
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { quiet: opts.json, engine: opts });
    if (model.is_random) process.stderr.write(`gpt2-lens: note: ${opts.model} has RANDOM weights, so these probabilities mean nothing\n`);
    const input_ids = tokenizer.encode(prompt);
    if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
    if (input_ids.length > model.config.n_positions) throw new UsageError(`the prompt is ${input_ids.length} tokens, more than the model's n_positions (${model.config.n_positions})`);
    const out = await model.forward({ input_ids: [input_ids], num_logits_to_keep: 1, use_cache: false });
    const logits = out.logits.data; // [1, 1, vocab_size]: the last position only
    await assertFiniteLogits(model, { input_ids: [input_ids] }, logits); // NaN would make an empty table
    const probs = softmaxArray(logits);
    const rows: Candidate[] = topKIndices(logits, top).map((id) => ({ id, token: tokenizer.decode([id]), prob: probs[id]!, logit: logits[id]! }));
    if (opts.json) {
      process.stdout.write(JSON.stringify({ input_ids, top: rows }) + '\n');
      return;
    }
    const lines = [`${JSON.stringify(prompt)} → ${input_ids.length} tokens [${input_ids.join(', ')}]; the next token:`, ''];
    lines.push(`${'rank'.padStart(4)}  ${'id'.padStart(6)}  ${'token'.padEnd(18)}  ${'prob'.padStart(8)}  ${'logit'.padStart(9)}`);
    rows.forEach((r, i) => {
      const bar = '█'.repeat(Math.round(r.prob * 40));
      lines.push(`${String(i + 1).padStart(4)}  ${String(r.id).padStart(6)}  ${JSON.stringify(r.token).padEnd(18)}  ${(r.prob * 100).toFixed(2).padStart(7)}%  ${r.logit.toFixed(3).padStart(9)}  ${bar}`);
    });
    process.stdout.write(lines.join('\n') + '\n');
  });
}
