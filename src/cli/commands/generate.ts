// gpt2-lens generate PROMPT [options] [--json]: continue a prompt with HF's generate() (greedy by default;
// --do-sample, --num-beams, ...). Text streams to stdout as it is generated (one sequence, no beams); every
// generation option is a flag named after HF's option in kebab case (--max-new-tokens for max_new_tokens).
import type { Command } from 'commander';
import { sequenceScores, type GenerateOptions, type GenerateOutput } from '../../generation/generate.js';
import { TextStreamer } from '../../generation/streamers.js';
import { UsageError } from '../errors.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

type Kind = 'int' | 'float' | 'bool' | 'early' | 'ids' | 'json-ids';

/** flag (kebab case) → HF option name, value kind, help */
const FLAGS: Array<[flag: string, name: keyof GenerateOptions, kind: Kind, help: string]> = [
  ['max-new-tokens', 'max_new_tokens', 'int', 'tokens to generate (default 20 in total with the prompt, as HF)'],
  ['max-length', 'max_length', 'int', 'total length, prompt included (max-new-tokens wins)'],
  ['min-new-tokens', 'min_new_tokens', 'int', 'forbid eos until this many new tokens'],
  ['min-length', 'min_length', 'int', 'forbid eos while the whole sequence is shorter'],
  ['do-sample', 'do_sample', 'bool', 'sample instead of taking the most likely token'],
  ['num-beams', 'num_beams', 'int', 'beam search with this many beams'],
  ['num-return-sequences', 'num_return_sequences', 'int', 'sequences to return (beams, or independent samples)'],
  ['temperature', 'temperature', 'float', 'sampling: divide the logits by this'],
  ['top-k', 'top_k', 'int', 'sampling: keep the k most likely tokens (HF default 50; 0 = off)'],
  ['top-p', 'top_p', 'float', 'sampling: keep the smallest head of the distribution with this much mass'],
  ['typical-p', 'typical_p', 'float', 'sampling: locally typical sampling mass'],
  ['min-p', 'min_p', 'float', 'sampling: drop tokens below min-p × the top probability'],
  ['epsilon-cutoff', 'epsilon_cutoff', 'float', 'sampling: drop tokens below this probability'],
  ['eta-cutoff', 'eta_cutoff', 'float', 'sampling: eta sampling cutoff'],
  ['repetition-penalty', 'repetition_penalty', 'float', 'penalise tokens already in the text (> 1 discourages repeats)'],
  ['no-repeat-ngram-size', 'no_repeat_ngram_size', 'int', 'never repeat an n-gram of this size'],
  ['bad-words-ids', 'bad_words_ids', 'json-ids', 'token sequences to ban, as JSON: [[1234],[56,78]]'],
  ['length-penalty', 'length_penalty', 'float', 'beam search: score = sum logprobs / length ** length-penalty'],
  ['early-stopping', 'early_stopping', 'early', 'beam search: true | false | never'],
  ['eos-token-id', 'eos_token_id', 'ids', 'end-of-sequence id(s), comma-separated (default: the model\'s, 50256)'],
  ['pad-token-id', 'pad_token_id', 'int', 'fills finished rows (default: the eos id)'],
  ['seed', 'seed', 'int', 'seed of the sampler (xoshiro128**): the same seed gives the same text'],
];

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
  addEngineOptions(cmd)
    .option('--json', 'print {"sequences":[{"ids":[...],"text":"...","score":-1.23}]} instead of streaming text')
    .addOption(modelOption())
    .addHelpText(
      'after',
      '\nscore: the beam score (sequences_scores) for beam search, else the sum of the chosen tokens\' log-probabilities.\n' +
        'Examples:\n  gpt2-lens generate "The theory of relativity is" --max-new-tokens 30\n' +
        '  gpt2-lens generate "Once upon a time" --do-sample --temperature 0.8 --top-p 0.9 --seed 1\n' +
        '  gpt2-lens generate "Hello" --num-beams 4 --num-return-sequences 2 --json\n',
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
      const { model, tokenizer } = await loadModelAndTokenizer(String(opts.model), { quiet: json, engine: opts as EngineCliOptions });
      if (model.is_random) process.stderr.write(`gpt2-lens: note: ${String(opts.model)} has RANDOM weights, so the text is gibberish\n`);
      const input_ids = tokenizer.encode(prompt);
      if (input_ids.length === 0) throw new UsageError('the prompt is empty: give at least one character of text');
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
          on_warning: (w) => void warnings.push(w),
        });
      } catch (e) {
        if (e instanceof Error && e.name === 'GenerationError') throw new UsageError(e.message);
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
