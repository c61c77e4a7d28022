// gpt2-lens vocab PATTERN [--json] [--limit N]: browse GPT-2's 50,257 tokens. PATTERN is a case-sensitive substring
// of the token's text (" the") or of its byte-level form ("Ġthe"), or /a regex/flags.
import type { Command } from 'commander';
import { loadBundledTokenizer } from '../../node/tokenizer.js';
import { UsageError } from '../errors.js';
import { visibleText } from './tokenize.js';

/** "/^ the/i" → a RegExp; anything else stays a substring. */
export function parsePattern(pattern: string): string | RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (!m) return pattern;
  try {
    return new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
  } catch (err) {
    throw new UsageError(`PATTERN ${pattern} is not a valid regular expression (${err instanceof Error ? err.message : String(err)})`);
  }
}

export function register(program: Command): void {
  program
    .command('vocab')
    .description('find vocabulary tokens by substring or /regex/, with their ids')
    .argument('<pattern>', 'a substring of the token text (" the") or byte-level form ("Ġthe"), or /regex/flags')
    .option('--limit <n>', 'show at most n matches (0 = all)', '50')
    .option('--json', 'print {"count":N,"tokens":[{"id","token","text"},...]}')
    .addHelpText('after', '\nExamples:\n  gpt2-lens vocab relativ\n  gpt2-lens vocab "/^ [A-Z][a-z]+ist$/" --limit 20\n  gpt2-lens vocab "/😀|😂/" --json\n')
    .action((patternArg: string, opts: { limit: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.limit)) throw new UsageError(`--limit must be a non-negative integer, got "${opts.limit}"`);
      const limit = Number(opts.limit);
      if (patternArg === '') throw new UsageError('PATTERN is empty: give a substring or /regex/');
      const all = loadBundledTokenizer().searchVocab(parsePattern(patternArg));
      const shown = limit === 0 ? all : all.slice(0, limit);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ count: all.length, tokens: shown }) + '\n');
        return;
      }
      const lines = [`${all.length} token${all.length === 1 ? '' : 's'} match ${JSON.stringify(patternArg)}`, ''];
      if (shown.length > 0) lines.push(`${'id'.padStart(6)}  ${'text'.padEnd(24)}  token (byte-level)`);
      for (const e of shown) lines.push(`${String(e.id).padStart(6)}  ${visibleText(e.text).padEnd(24)}  ${e.token}`);
      if (shown.length < all.length) lines.push(`… and ${all.length - shown.length} more (--limit 0 shows all)`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
