// Reading merges: merges.txt (one "a b" pair per line, in merge order) and tokenizer.json's model.merges.

const OTHER_SPACE = /[^\S ]/;

/** A merges.txt that is not one: the message names the first bad line (1-based, as an editor shows it). */
export class MergesError extends Error {
  override name = 'MergesError';
  constructor(
    message: string,
    /** the first bad line, counting the `#version` line as line 1 */
    readonly line: number,
  ) {
    super(message);
  }
}

/** A merges.txt line split as Python's str.split() does, or undefined when it is not exactly two tokens. */
function splitMergeLine(line: string): [string, string] | undefined {
  const sp = line.indexOf(' ');
  if (sp > 0 && sp < line.length - 1 && line.indexOf(' ', sp + 1) < 0 && !OTHER_SPACE.test(line)) return [line.slice(0, sp), line.slice(sp + 1)]; // the usual "a b"
  const parts = line.split(/\s+/).filter((p) => p.length > 0);
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined;
}

function badLine(line: string, index: number): MergesError {
  const shown = line.length > 60 ? `${line.slice(0, 60)}…` : line;
  const what = line.trim() === '' ? 'empty' : `not a merge (${JSON.stringify(shown)})`;
  return new MergesError(`line ${index + 1} is ${what}: each line after the first must be two tokens separated by a space, e.g. "Ġ t"`, index + 1);
}

/**
 * Parses merges.txt as HF's slow tokenizer does: drop the first line (`#version: 0.2`) and the last (empty) one,
 * split each line on whitespace. Every line must be exactly two tokens, as HF's fast tokenizer requires ("Merges
 * text file invalid at line N"), except a first line starting with `#version` and a last empty one: a file that is
 * not a merges file (JSON, an HTML error page, a vocab saved under the wrong name) is refused with its first bad
 * line instead of tokenizing text into single bytes.
 */
export function parseMergesText(text: string): Array<[string, string]> {
  const lines = text.split('\n');
  const last = lines.length - 1;
  if (lines.length > 0 && !lines[0]!.startsWith('#version') && splitMergeLine(lines[0]!) === undefined && !(last === 0 && lines[0] === '')) throw badLine(lines[0]!, 0);
  if (last > 0 && lines[last] !== '' && splitMergeLine(lines[last]!) === undefined) throw badLine(lines[last]!, last);
  const out: Array<[string, string]> = [];
  for (let i = 1; i < last; i++) {
    const pair = splitMergeLine(lines[i]!);
    if (pair === undefined) throw badLine(lines[i]!, i);
    out.push(pair);
  }
  return out;
}

/** One tokenizer.json merge written as a string: "a b". */
export function splitMergeString(m: string): [string, string] {
  const parts = m.split(' ');
  if (parts.length !== 2) throw new Error(`tokenizer.json: merge ${JSON.stringify(m)} is not two tokens separated by one space`);
  return [parts[0]!, parts[1]!];
}
