// gpt2-lens next PROMPT [--top 10] [--json]: the notebook's next-token table — the model's probability for every
// possible next token after the prompt (softmax of the last position's raw logits), best first.
import type { Command } from 'commander';
import { nextTokens } from '../../interp/index.js'; // the same JSON as the server's /api/next
import { UsageError } from '../errors.js';
import { ablationFromOptions, ablationKind, addAblateOptions, type AblateCliOptions } from '../intervention-options.js';
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
    .addHelpText(
      'after',
      '\nExamples:\n  gpt2-lens next "The theory of relativity is" --top 5\n  gpt2-lens next "Hello" --model random:gpt2 --json\n' +
        '  gpt2-lens next "When Mary and John went to the store, John gave a drink to" --ablate 9.6,9.9 --ablation mean\n',
    );
  addAblateOptions(command);
  addEngineOptions(command).action(async (prompt: string, opts: EngineCliOptions & AblateCliOptions & { top: string; json?: boolean; model: string }) => {
    const top = positiveInt(opts.top, '--top');
    ablationKind(opts); // a bad --ablation fails before the model loads
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { quiet: opts.json, engine: opts });
    if (model.is_random) process.stderr.write(`gpt2-lens: note: ${opts.model} has RANDOM weights, so these probabilities mean nothing\n`);
    const input_ids = tokenizer.encode(prompt);
    if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
    if (input_ids.length > model.config.n_positions) throw new UsageError(`the prompt is ${input_ids.length} tokens, more than the model's n_positions (${model.config.n_positions})`);
    const ablation = await ablationFromOptions(opts, model, input_ids);
    const table = await nextTokens(model, tokenizer, input_ids, { top, ...(ablation ? { hooks: ablation.hooks } : {}) });
    if (opts.json) {
      process.stdout.write(JSON.stringify(table) + '\n');
      return;
    }
    const rows = table.top;
    const lines = [`${JSON.stringify(prompt)} → ${input_ids.length} tokens [${input_ids.join(', ')}]; the next token${ablation ? `, with ${ablation.label}` : ''}:`, ''];
    lines.push(`${'rank'.padStart(4)}  ${'id'.padStart(6)}  ${'token'.padEnd(18)}  ${'prob'.padStart(8)}  ${'logit'.padStart(9)}`);
    rows.forEach((r, i) => {
      const bar = '█'.repeat(Math.round(r.prob * 40));
      lines.push(`${String(i + 1).padStart(4)}  ${String(r.id).padStart(6)}  ${JSON.stringify(r.token).padEnd(18)}  ${(r.prob * 100).toFixed(2).padStart(7)}%  ${r.logit.toFixed(3).padStart(9)}  ${bar}`);
    });
    process.stdout.write(lines.join('\n') + '\n');
  });
}
