// gpt2-lens forward TEXT --capture NAME... [--json]: one forward pass, printing the named activations (TransformerLens
// hook names) as the explorer's /api/forward {capture} returns them: {"input_ids", "tokens", "captures": {name: {dims, data}}}.
import type { Command } from 'commander';
import { captureActivations, CaptureError, MAX_CAPTURE_FLOATS } from '../../model/captures.js';
import type { ForwardResponse } from '../../server/types.js';
import { UsageError } from '../errors.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

/** The first and last few values of a tensor, for the table the command prints without --json. */
function preview(data: number[]): string {
  const f = (x: number): string => (Math.abs(x) >= 1e6 ? x.toExponential(2) : x.toFixed(4));
  if (data.length <= 6) return data.map(f).join(', ');
  return `${data.slice(0, 3).map(f).join(', ')}, …, ${data.slice(-3).map(f).join(', ')}`;
}

export function register(program: Command): void {
  const command = program
    .command('forward')
    .description('run one forward pass and print named activations (TransformerLens hook names), as /api/forward does')
    .argument('<text>', 'the prompt')
    .option('--capture <names...>', 'hook names to capture, e.g. hook_embed blocks.0.attn.hook_pattern ln_final.hook_normalized')
    .option('--json', 'print {"input_ids":[...],"tokens":[...],"captures":{"NAME":{"dims":[...],"data":[...]}}}')
    .addOption(modelOption())
    .addHelpText(
      'after',
      `\nHook names (docs/model.md): hook_embed, hook_pos_embed, blocks.{i}.hook_resid_pre, blocks.{i}.ln1.hook_normalized,\n` +
        `blocks.{i}.attn.hook_q / hook_k / hook_v / hook_attn_scores / hook_pattern / hook_z, blocks.{i}.hook_attn_out,\n` +
        `blocks.{i}.hook_resid_mid, blocks.{i}.ln2.hook_normalized, blocks.{i}.mlp.hook_pre / hook_post, blocks.{i}.hook_mlp_out,\n` +
        `blocks.{i}.hook_resid_post, ln_final.hook_normalized. The batch dimension is dropped; at most ${MAX_CAPTURE_FLOATS} floats in all.\n` +
        '\nExample:\n  gpt2-lens forward "The theory of relativity is" --capture hook_embed blocks.0.attn.hook_pattern --model random:gpt2\n' +
        '  gpt2-lens forward "Hello" --capture ln_final.hook_normalized --json\n',
    );
  addEngineOptions(command).action(async (text: string, opts: EngineCliOptions & { capture?: string[]; json?: boolean; model: string }) => {
    const names = opts.capture ?? [];
    if (names.length === 0) throw new UsageError('give at least one hook name with --capture (see gpt2-lens forward --help)');
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { quiet: opts.json, engine: opts });
    if (model.is_random) process.stderr.write(`gpt2-lens: note: ${opts.model} has RANDOM weights\n`);
    const input_ids = tokenizer.encode(text);
    if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
    if (input_ids.length > model.config.n_positions) throw new UsageError(`the prompt is ${input_ids.length} tokens, more than the model's n_positions (${model.config.n_positions})`);
    let captures: ForwardResponse['captures'];
    try {
      captures = await captureActivations(model, input_ids, names);
    } catch (err) {
      if (err instanceof CaptureError) throw new UsageError(err.message);
      throw err;
    }
    const res: ForwardResponse = { input_ids, tokens: input_ids.map((id) => tokenizer.decode([id])), captures };
    if (opts.json) {
      process.stdout.write(JSON.stringify(res) + '\n');
      return;
    }
    const lines = [`${JSON.stringify(text)} → ${input_ids.length} tokens [${input_ids.join(', ')}]`, ''];
    for (const [name, t] of Object.entries(captures)) lines.push(`${name}  [${t.dims.join(', ')}]  ${preview(t.data)}`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}
