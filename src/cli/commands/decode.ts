// gpt2-lens decode ID... [--json]: token ids back to text, with HF's default decode (clean_up_tokenization_spaces).
import type { Command } from 'commander';
import { loadBundledTokenizer } from '../../node/tokenizer.js';
import { UsageError } from '../errors.js';

/** Ids from the command line: separate arguments, or comma/space separated ("464,4583" or "[464, 4583]"). */
export function parseIds(args: string[], vocabSize: number): number[] {
  const ids: number[] = [];
  for (const arg of args) {
    for (const part of arg.replace(/^\[|\]$/g, '').split(/[\s,]+/)) {
      if (part === '') continue;
      if (!/^\d+$/.test(part)) throw new UsageError(`token id "${part}" is not a non-negative integer`);
      const id = Number(part);
      if (id >= vocabSize) throw new UsageError(`token id ${id} is out of range: valid ids are 0..${vocabSize - 1}`);
      ids.push(id);
    }
  }
  return ids;
}

export function register(program: Command): void {
  program
    .command('decode')
    .description("turn token ids back into text (HF's tokenizer.decode)")
    .argument('<ids...>', 'token ids: 464 4583 286, or "464,4583,286"')
    .option('--json', 'print {"text":"..."}')
    .option('--skip-special-tokens', 'drop <|endoftext|> (skip_special_tokens=True)')
    .option('--no-clean-up', 'keep spaces before punctuation (clean_up_tokenization_spaces=False)')
    .addHelpText('after', '\nExamples:\n  gpt2-lens decode 464 4583 286 44449 318\n  gpt2-lens decode 15496,11,995,0 --json\n')
    .action((args: string[], opts: { json?: boolean; skipSpecialTokens?: boolean; cleanUp: boolean }) => {
      const tok = loadBundledTokenizer();
      const ids = parseIds(args, tok.length);
      if (ids.length === 0) throw new UsageError('give at least one token id');
      const text = tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: opts.cleanUp });
      process.stdout.write(opts.json ? JSON.stringify({ text }) + '\n' : text + '\n');
    });
}
