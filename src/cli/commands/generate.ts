// gpt2-lens generate PROMPT [options] [--json]: continue a prompt with HF's generate() (greedy by default;
// --do-sample, --num-beams, ...). Text streams to stdout as it is generated (one sequence, no beams); every
// generation option is a flag named after HF's option in kebab case (--max-new-tokens for max_new_tokens).
import type { Command } from 'commander';
import { sequenceScores, type GenerateOptions, type GenerateOutput } from '../../generation/generate.js';
import { GenerationError } from '../../generation/configuration.js';
import { GENERATION_OPTIONS, rangeText, type OptionType } from '../../generation/options.js';
import { TextStreamer } from '../../generation/streamers.js';
import { UsageError } from '../errors.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';
import { ablationFromOptions, ablationKind, addAblateOptions, type AblateCliOptions } from '../intervention-options.js';

type Kind = 'int' | 'float' | 'bool' | 'early' | 'ids' | 'json-ids';

/** How the command line writes each option type of options.ts. */
const KIND: Record<OptionType, Kind> = { int: 'int', float: 'float', bool: 'bool', early: 'early', ids: 'ids', id: 'int', 'id-lists': 'json-ids' };

/**
 * flag (kebab case) → HF option name, value kind, help: every option of the one table (src/generation/options.ts).
 * The seed is read as any number, so that its range error is generate()'s own, word for word the API's.
 */
const FLAGS: Array<[flag: string, name: keyof GenerateOptions, kind: Kind, help: string]> = GENERATION_OPTIONS.map((o) => [
  o.name.replace(/_/g, '-'),
  o.name as keyof GenerateOptions,
  o.name === 'seed' ? 'float' : KIND[o.type],
  o.range ? `${o.help} (${rangeText(o.range)})` : o.help,
]);

/** Commander treats a flag starting with --no- as the negation of the rest: read it back under that name. */
function attributeName(flag: string): string {
  const f = flag.startsWith('no-') ? flag.slice(3) : flag;
  return f.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseValue(flag: string, kind: Kind, raw: string | boolean): unknown {
  const bad = (what: string): never => {
    throw new UsageError(`--${flag} must be ${what}, got "${String(raw)}"`);
  };
  if (kind === 'bool') return raw === true;
  const s = String(raw).trim();
  switch (kind) {
    case 'int':
      return /^-?\d+$/.test(s) ? Number(s) : bad('an integer');
    case 'float': {
      const n = Number(s);
      return s !== '' && Number.isFinite(n) ? n : bad('a number');
    }
    case 'early':
      return s === 'true' ? true : s === 'false' ? false : s === 'never' ? 'never' : bad('true, false or never');
    case 'ids': {
      const parts = s.split(',').map((p) => p.trim());
      if (!parts.every((p) => /^\d+$/.test(p))) bad('a token id or a comma-separated list of ids');
      const ids = parts.map(Number);
      return ids.length === 1 ? ids[0] : ids;
    }
    case 'json-ids': {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        return bad('JSON such as [[1234],[56,78]]');
      }
      return v;
    }
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('generate')
    .description("continue a prompt with HF's generate(): greedy, sampling or beam search; text streams as it comes")
    .argument('<prompt>', 'the text to continue');
  for (const [flag, , kind, help] of FLAGS) {
    if (kind === 'bool') cmd.option(`--${flag}`, help);
    else cmd.option(`--${flag} <value>`, help);
  }
  addAblateOptions(cmd);
  addEngineOptions(cmd)
    .option('--json', 'print {"sequences":[{"ids":[...],"text":"...","score":-1.23}]} instead of streaming text')
    .addOption(modelOption())
    .addHelpText(
      'after',
      '\nscore: the beam score (sequences_scores) for beam search, else the sum of the chosen tokens\' log-probabilities.\n' +
        'Examples:\n  gpt2-lens generate "The theory of relativity is" --max-new-tokens 30\n' +
        '  gpt2-lens generate "Once upon a time" --do-sample --temperature 0.8 --top-p 0.9 --seed 1\n' +
        '  gpt2-lens generate "Hello" --num-beams 4 --num-return-sequences 2 --json\n' +
        '  gpt2-lens generate "The Eiffel Tower is in" --ablate 0.1,5.3   (heads ablated at every step; mean: over the prompt)\n',
    )
    .action(async (prompt: string, opts: Record<string, string | boolean | undefined>) => {
      const options: Partial<GenerateOptions> = {};
      for (const [flag, name, kind] of FLAGS) {
        const raw = opts[attributeName(flag)];
        // a --no-* flag defaults to true in commander: that means "not given"
        if (raw === undefined || (flag.startsWith('no-') && raw === true)) continue;
        (options as Record<string, unknown>)[name] = parseValue(flag, kind, raw);
      }
      const json = opts.json === true;
      ablationKind(opts as AblateCliOptions); // a bad --ablation fails before the model loads
      const { model, tokenizer } = await loadModelAndTokenizer(String(opts.model), { quiet: json, engine: opts as EngineCliOptions });
      if (model.is_random) process.stderr.write(`gpt2-lens: note: ${String(opts.model)} has RANDOM weights, so the text is gibberish\n`);
      const input_ids = tokenizer.encode(prompt);
      if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
      const ablation = await ablationFromOptions(opts as AblateCliOptions, model, input_ids);
      if (ablation && !json) process.stderr.write(`gpt2-lens: ${ablation.label}\n`);
      const single = (options.num_beams ?? 1) === 1 && (options.num_return_sequences ?? 1) === 1;
      const stream = !json && single;
      // Warnings wait until generation has started (its first text) or ended: when the settings are refused, the
      // error is printed alone, not after warnings about settings that no longer matter.
      const warnings: string[] = [];
      const flushWarnings = (): void => {
        for (const w of warnings.splice(0)) process.stderr.write(`gpt2-lens: warning: ${w}\n`);
      };
      const streamer = stream
        ? new TextStreamer(tokenizer, (s) => {
            flushWarnings();
            process.stdout.write(s);
          })
        : undefined;
      let out: GenerateOutput;
      try {
        out = await model.generate({
          ...options,
          input_ids,
          ...(streamer ? { streamer } : {}),
          ...(ablation ? { hooks: ablation.hooks } : {}),
          on_warning: (w) => void warnings.push(w),
        });
      } catch (e) {
        // a bad option is a usage error (exit 2); a bad value in the model's generation_config.json is not
        if (e instanceof GenerationError && e.source === 'options') throw new UsageError(e.message);
        flushWarnings();
        throw e;
      }
      flushWarnings();
      const scores = sequenceScores(out);
      if (json) {
        const sequences = out.sequences.map((ids, i) => ({ ids, text: tokenizer.decode(ids), score: scores[i]! }));
        process.stdout.write(JSON.stringify({ sequences }) + '\n');
        return;
      }
      if (stream) {
        process.stdout.write('\n');
        return;
      }
      out.sequences.forEach((ids, i) => {
        process.stdout.write(`--- sequence ${i + 1} (score ${scores[i]!.toFixed(4)}) ---\n${tokenizer.decode(ids)}\n`);
      });
    });
}
