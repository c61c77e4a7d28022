// gpt2-lens patch --clean TEXT --corrupted TEXT --answer TOK --wrong TOK --hook resid_pre|attn_out|mlp_out|z:
// activation patching — run the corrupted prompt with one activation taken from the clean run, and print how
// much of the clean logit difference (answer − wrong) each patch brings back.
import type { Command } from 'commander';
import { isPatchHook, patch, PATCH_HOOKS, resolveToken } from '../../interp/index.js';
import { UsageError } from '../errors.js';
import { asUsage } from '../intervention-options.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

interface PatchCliOptions extends EngineCliOptions {
  clean: string;
  corrupted: string;
  answer: string;
  wrong: string;
  hook: string;
  json?: boolean;
  model: string;
}

export function register(program: Command): void {
  const command = program
    .command('patch')
    .description('activation patching: which layer and position (or head) of the clean run restores the answer in the corrupted run')
    .requiredOption('--clean <text>', 'the prompt where the model gets it right')
    .requiredOption('--corrupted <text>', 'the same prompt with the decisive part changed (the same number of tokens)')
    .requiredOption('--answer <id-or-token>', 'the right next token after the clean prompt: an id or one token\'s text (" Mary")')
    .requiredOption('--wrong <id-or-token>', 'the competing token (" John")')
    .option('--hook <hook>', 'what to patch: resid_pre, attn_out, mlp_out (layer × position) or z (layer × head)', 'resid_pre')
    .option('--json', 'print {"clean_logit_diff","corrupted_logit_diff","hook","rows":["L0",...],"cols":["P0",...],"recovered":[[...]]}')
    .addOption(modelOption())
    .addHelpText(
      'after',
      '\nrecovered = (patched − corrupted) ÷ (clean − corrupted) of logit[answer] − logit[wrong] at the last position:\n' +
        '1 = that activation alone brings back the clean behaviour, 0 = it changes nothing.\n' +
        'Example (indirect object identification):\n' +
        '  gpt2-lens patch --clean "When Mary and John went to the store, John gave a drink to" \\\n' +
        '                  --corrupted "When John and Mary went to the store, Mary gave a drink to" \\\n' +
        '                  --answer " Mary" --wrong " John" --hook resid_pre\n',
    );
  addEngineOptions(command).action(async (opts: PatchCliOptions) => {
    if (!isPatchHook(opts.hook)) throw new UsageError(`--hook must be one of ${Object.keys(PATCH_HOOKS).join(', ')}, got "${opts.hook}"`);
    const hook = opts.hook;
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { quiet: opts.json, engine: opts });
    if (model.is_random) process.stderr.write(`gpt2-lens: note: ${opts.model} has RANDOM weights, so these numbers mean nothing\n`);
    const clean = tokenizer.encode(opts.clean);
    const corrupted = tokenizer.encode(opts.corrupted);
    const answer = await asUsage(() => resolveToken(opts.answer, tokenizer, model.config.vocab_size));
    const wrong = await asUsage(() => resolveToken(opts.wrong, tokenizer, model.config.vocab_size));
    const r = await asUsage(() => patch(model, { clean, corrupted, answer, wrong, hook }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    // columns: positions labelled with the clean token (the corrupted one after a slash where they differ), or heads
    const labels =
      hook === 'z'
        ? r.cols
        : clean.map((id, t) => {
            const a = JSON.stringify(tokenizer.decode([id])).slice(1, -1);
            return corrupted[t] === id ? a : `${a}/${JSON.stringify(tokenizer.decode([corrupted[t]!])).slice(1, -1)}`;
          });
    const width = Math.max(6, ...labels.map((l) => Math.min(l.length, 14))); // at most 1024 labels
    const cell = (s: string): string => (s.length > width ? s.slice(0, width - 1) + '…' : s).padStart(width);
    const lines = [
      `patching ${hook} (${hook === 'z' ? 'layer × head, every position' : 'layer × position'}): logit[${JSON.stringify(tokenizer.decode([answer]))}] − logit[${JSON.stringify(tokenizer.decode([wrong]))}]`,
      `clean ${r.clean_logit_diff.toFixed(4)}, corrupted ${r.corrupted_logit_diff.toFixed(4)}; recovered = (patched − corrupted) ÷ (clean − corrupted)`,
      '',
      `${''.padEnd(4)} ${labels.map(cell).join(' ')}`,
    ];
    r.recovered.forEach((row, l) => lines.push(`${r.rows[l]!.padEnd(4)} ${row.map((v) => cell(v.toFixed(3))).join(' ')}`));
    process.stdout.write(lines.join('\n') + '\n');
  });
}
