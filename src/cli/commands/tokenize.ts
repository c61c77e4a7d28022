// gpt2-lens tokenize [TEXT] [--json]: how GPT-2 cuts a text into tokens — each token's id, its text with visible
// whitespace, its UTF-8 bytes and where it sits in the input. Reads stdin when TEXT is omitted.
import type { Command } from 'commander';
import { loadBundledTokenizer } from '../../node/tokenizer.js';
import type { TokenSpan } from '../../tokenizer/index.js';
import { UsageError } from '../errors.js';

/** A token's text made readable in a terminal: space ·, newline ↵, tab →, other invisible characters as ⟨U+XXXX⟩. */
export function visibleText(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === ' ') out += '·';
    else if (ch === '\n') out += '↵';
    else if (ch === '\t') out += '→';
    else if (ch === '\r') out += '␍';
    else if (cp < 0x20) out += String.fromCodePoint(0x2400 + cp); // ␀ .. ␟
    else if (cp === 0x7f) out += '␡';
    else if (/[\p{White_Space}\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Mn}\p{Me}]/u.test(ch)) out += `⟨U+${cp.toString(16).toUpperCase().padStart(4, '0')}⟩`;
    else out += ch;
  }
  return out;
}

/** Reads all of stdin as UTF-8 (the text is tokenized exactly, a trailing newline included). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Display width of a string (wide CJK and emoji count 2) so the table's columns line up. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\p{Extended_Pictographic}\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

export function formatTable(text: string, spans: TokenSpan[]): string {
  const lines = [`${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)} → ${spans.length} token${spans.length === 1 ? '' : 's'}`, ''];
  // A token holding part of a character decodes to U+FFFD; say which character(s) of the input it is part of.
  const shown = spans.map((s) => {
    const source = text.slice(s.start, s.end);
    return s.text.includes('\ufffd') && !source.includes('\ufffd') ? `${visibleText(s.text)} (part of ${visibleText(source)})` : visibleText(s.text);
  });
  let col = 5; // a loop, not Math.max(...spread): a long text has more tokens than a call takes arguments
  for (const s of shown) col = Math.max(col, width(s));
  lines.push(`${'#'.padStart(5)}  ${'id'.padStart(6)}  ${'token'.padEnd(col)}  ${'start-end'.padEnd(11)}  bytes`);
  spans.forEach((s, i) => {
    const tokenCol = shown[i]! + ' '.repeat(col - width(shown[i]!));
    lines.push(`${String(i).padStart(5)}  ${String(s.id).padStart(6)}  ${tokenCol}  ${`${s.start}-${s.end}`.padEnd(11)}  ${hex(s.bytes)}`);
  });
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description("split a text into GPT-2 tokens: ids, token text (· space, ↵ newline, → tab), UTF-8 bytes, offsets")
    .argument('[text]', 'the text to tokenize; read from stdin when omitted (exactly, a trailing newline included)')
    .option('--json', 'print {"ids":[...],"tokens":[{"id","text","bytes","start","end"},...]}; start/end count UTF-16 code units')
    .addHelpText(
      'after',
      '\nExamples:\n  gpt2-lens tokenize "The theory of relativity is"\n  printf "Hello 😀" | gpt2-lens tokenize --json\n\n' +
        'A token that holds only part of a character (an emoji split in two) shows U+FFFD and that character\'s span.\n',
    )
    .action(async (textArg: string | undefined, opts: { json?: boolean }) => {
      let text = textArg;
      if (text === undefined) {
        if (process.stdin.isTTY) throw new UsageError('give the TEXT to tokenize, or pipe it on stdin (gpt2-lens tokenize "Hello world")');
        text = await readStdin();
      }
      const spans = loadBundledTokenizer().encodeWithOffsets(text);
      if (opts.json) {
        const tokens = spans.map((s) => ({ id: s.id, text: s.text, bytes: s.bytes, start: s.start, end: s.end }));
        process.stdout.write(JSON.stringify({ ids: spans.map((s) => s.id), tokens }) + '\n');
        return;
      }
      process.stdout.write(formatTable(text, spans));
    });
}
