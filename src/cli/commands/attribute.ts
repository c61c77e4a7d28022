// gpt2-lens attribute PROMPT --target ID_OR_TOKEN [--json]: direct logit attribution at the last position — how
// much each component (embeddings, every head, every attention bias, every MLP, ln_f's bias) writes into the
// target token's logit, with ln_f's scale frozen at the real residual's; the values sum to the logit.
import type { Command } from 'commander';
import { attribute, resolveToken } from '../../interp/index.js';
import { UsageError } from '../errors.js';
import { asUsage } from '../intervention-options.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

export function register(program: Command): void {
  const command = program
    .command('attribute')
    .description("direct logit attribution: each component's share of one token's logit at the last position (they sum to it)")
    .argument('<prompt>', 'the text; the logit is the one for the token after it')
    .requiredOption('--target <id-or-token>', 'the token whose logit to split: an id (6342) or the text of one token, spaces included (" Paris")')
    .option('--top <n>', 'the table lists the N largest components by size (--json lists them all)', '20')
    .option('--json', 'print {"input_ids":[...],"target":ID,"logit":X,"components":[{"name":"embed","value":...},...]}')
    .addOption(modelOption())
    .addHelpText(
      'after',
      '\nComponents: embed, pos_embed, L{layer}H{head} (a head through its slice of c_proj), L{layer}_attn_bias,\n' +
        'L{layer}_mlp, ln_final_bias. Each goes through ln_f with the real residual\'s σ frozen, then · wte[target].\n' +
        'Examples:\n  gpt2-lens attribute "The Eiffel Tower is in" --target " Paris"\n  gpt2-lens attribute "Hello" --target 11 --model random:gpt2 --json\n',
    );
  addEngineOptions(command).action(async (prompt: string, opts: EngineCliOptions & { target: string; top: string; json?: boolean; model: string }) => {
    if (!/^\d+$/.test(opts.top) || Number(opts.top) < 1) throw new UsageError(`--top must be a positive integer, got "${opts.top}"`);
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { quiet: opts.json, engine: opts });
    if (model.is_random) process.stderr.write(`gpt2-lens: note: ${opts.model} has RANDOM weights, so these numbers mean nothing\n`);
    const input_ids = tokenizer.encode(prompt);
    if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
    const target = await asUsage(() => resolveToken(opts.target, tokenizer, model.config.vocab_size));
    const r = await asUsage(() => attribute(model, input_ids, target));
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    const top = Number(opts.top);
    const sum = r.components.reduce((a, c) => a + c.value, 0);
    const shown = [...r.components].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, top);
    const scale = Math.abs(shown[0]?.value ?? 1) || 1;
    const lines = [
      `${JSON.stringify(prompt)} → ${input_ids.length} tokens; the logit of ${JSON.stringify(tokenizer.decode([target]))} (${target}) after it: ${r.logit.toFixed(4)}`,
      `${r.components.length} components sum to ${sum.toFixed(4)}; the ${shown.length} largest:`,
      '',
      `${'component'.padEnd(16)}  ${'value'.padStart(9)}`,
    ];
    for (const c of shown) {
      const bar = (c.value < 0 ? '-' : '+').repeat(Math.max(1, Math.round((Math.abs(c.value) / scale) * 30)));
      lines.push(`${c.name.padEnd(16)}  ${c.value.toFixed(4).padStart(9)}  ${bar}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  });
}
