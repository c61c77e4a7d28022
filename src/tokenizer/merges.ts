// Reading merges: merges.txt (one "a b" pair per line, in merge order) and tokenizer.json's model.merges.

const OTHER_SPACE = /[^\S ]/;

/** Parses merges.txt as HF's slow tokenizer does: drop the first line (`#version: 0.2`) and the last (empty) one. */
export function parseMergesText(text: string): Array<[string, string]> {
  const lines = text.split('\n').slice(1, -1);
  const out: Array<[string, string]> = [];
  for (const line of lines) {
    const sp = line.indexOf(' ');
    if (sp > 0 && sp < line.length - 1 && line.indexOf(' ', sp + 1) < 0 && !OTHER_SPACE.test(line)) {
      out.push([line.slice(0, sp), line.slice(sp + 1)]); // the usual "a b"
      continue;
    }
    const parts = line.split(/\s+/).filter((p) => p.length > 0); // Python's str.split()
    if (parts.length === 2) out.push([parts[0]!, parts[1]!]);
  }
  return out;
}

/** One tokenizer.json merge written as a string: "a b". */
export function splitMergeString(m: string): [string, string] {
  const parts = m.split(' ');
  if (parts.length !== 2) throw new Error(`tokenizer.json: merge ${JSON.stringify(m)} is not two tokens separated by one space`);
  return [parts[0]!, parts[1]!];
}
