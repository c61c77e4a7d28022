// Pre-tokenisation: GPT-2 first cuts text into "words" with this regex (Python's `regex` module), then runs BPE
// inside each word, never across words:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Python's `\s` is Unicode White_Space (it matches U+0085, and not U+FEFF or U+001C..U+001F), which is not
// JavaScript's `\s`. GPT2_PATTERN below is the same regex written for JavaScript; `nextWordEnd` is a hand-written
// scanner that gives exactly the same words, several times faster (the tests compare the two on random text).

/** The pre-tokenisation regex in JavaScript syntax (the `u` flag; `\p{White_Space}` for Python's `\s`). */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

// Character classes: every code point is exactly one of these, as far as the regex is concerned.
const UNKNOWN = 0;
const LETTER = 1; // \p{L}
const NUMBER = 2; // \p{N}
const SPACE = 3; // Python's \s = \p{White_Space}
const OTHER = 4; // everything else, lone surrogates included

const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_SPACE = /^\p{White_Space}$/u;

// One byte per code point, filled lazily (0 = not classified yet). 1.1 MB, allocated on first use.
let classTable: Uint8Array | null = null;

function classifySlow(cp: number): number {
  const table = (classTable ??= new Uint8Array(0x110000));
  let c = table[cp]!;
  if (c !== UNKNOWN) return c;
  const ch = String.fromCodePoint(cp);
  c = IS_LETTER.test(ch) ? LETTER : IS_NUMBER.test(ch) ? NUMBER : IS_SPACE.test(ch) ? SPACE : OTHER;
  table[cp] = c;
  return c;
}

const ASCII_CLASS = new Uint8Array(128);
for (let cp = 0; cp < 128; cp++) ASCII_CLASS[cp] = classifySlow(cp);

/** The class of the code point starting at UTF-16 index i (a lone surrogate counts as OTHER). */
function classAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c < 128) return ASCII_CLASS[c]!;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return classifySlow(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  if (c >= 0xd800 && c <= 0xdfff) return OTHER;
  return classifySlow(c);
}

/** UTF-16 length (1 or 2) of the code point starting at index i. */
function widthAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** The end of the run of code points of class `cls` that starts at i. */
function runEnd(s: string, i: number, end: number, cls: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if (ASCII_CLASS[c] !== cls) return i;
      i++;
    } else {
      if (classAt(s, i, end) !== cls) return i;
      i += widthAt(s, i, end);
    }
  }
  return end;
}

/**
 * Where the word that starts at UTF-16 index `i` ends (exclusive), for the text `s` cut at `end`.
 * The regex's alternatives, tried in its order:
 *   1. a contraction ('s 't 're 've 'm 'll 'd, lower case only);
 *   2. an optional space, then a run of letters / of numbers / of "other" characters;
 *   3. a run of whitespace: all of it at the end of the text, else all but its last character (`\s+(?!\S)`
 *      backtracks one character so that the last space can start the next word), or the single whitespace
 *      character before a non-space (`\s+`).
 */
export function nextWordEnd(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x27 /* ' */ && i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d === 0x73 /* s */ || d === 0x74 /* t */ || d === 0x6d /* m */ || d === 0x64 /* d */) return i + 2;
    if (i + 2 < end) {
      const e = s.charCodeAt(i + 2);
      if ((d === 0x72 /* r */ && e === 0x65) || (d === 0x76 /* v */ && e === 0x65) || (d === 0x6c /* l */ && e === 0x6c)) return i + 3;
    }
  }
  let start = i;
  if (c === 0x20 && i + 1 < end) {
    const next = classAt(s, i + 1, end);
    if (next !== SPACE) start = i + 1; // " ?" takes the space, then the run of `next`'s class
  }
  const cls = classAt(s, start, end);
  if (cls !== SPACE) return runEnd(s, start + widthAt(s, start, end), end, cls);
  // Whitespace (every White_Space character is one UTF-16 unit).
  const j = runEnd(s, i + 1, end, SPACE);
  if (j === end || j - 1 === i) return j;
  return j - 1;
}

/** Splits text into GPT-2's pre-tokens (the words BPE runs on). For tests and teaching; the tokenizer calls nextWordEnd. */
export function preTokenize(text: string): string[] {
  const words: string[] = [];
  for (let i = 0; i < text.length; ) {
    const j = nextWordEnd(text, i, text.length);
    words.push(text.slice(i, j));
    i = j;
  }
  return words;
}
