// HF's clean_up_tokenization (transformers 4.43.4): decode's default clean-up of spaces before punctuation and
// English contractions. Fact 10 of the fixtures' README: exactly these ten replacements, nothing else.

/** HF's clean_up_tokenization: exactly these ten replacements, in this order (not 'll or 'd). */
export function cleanUpTokenization(text: string): string {
  // Exactly `text.replaceAll(" .", ".").replaceAll(" ?", "?")...` over the whole text, but fast: the ten
  // replacements are applied only to small windows around the places that can change. A window is a run of
  // characters that occur in some pattern (space . ? ! , ' n t m s v e r); any other character is never matched
  // nor removed, so no match of any of the ten passes can cross it, and each window can be cleaned on its own.
  CLEAN_UP_ANY.lastIndex = 0;
  let m = CLEAN_UP_ANY.exec(text);
  if (m === null) return text;
  const parts: string[] = [];
  let last = 0;
  while (m !== null) {
    let a = m.index;
    while (a > last && isCleanUpChar(text.charCodeAt(a - 1))) a--;
    let b = m.index + m[0].length;
    while (b < text.length && isCleanUpChar(text.charCodeAt(b))) b++;
    parts.push(text.slice(last, a), cleanUpSequential(text.slice(a, b)));
    last = b;
    CLEAN_UP_ANY.lastIndex = b;
    m = CLEAN_UP_ANY.exec(text);
  }
  parts.push(text.slice(last));
  return parts.join('');
}

/** HF's clean_up_tokenization, literally: ten replaceAll passes, in this order. */
export function cleanUpSequential(text: string): string {
  for (const [from, to] of CLEAN_UPS) text = text.replaceAll(from, to);
  return text;
}

const CLEAN_UPS: ReadonlyArray<readonly [string, string]> = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];
// Matches wherever one of the patterns starts in the original text; nothing changes elsewhere.
const CLEAN_UP_ANY = / [.?!,]| '[ msvr]| n't/g;
const CLEAN_UP_CHARS = new Uint8Array(128);
for (const ch of " .?!,'ntmsver") CLEAN_UP_CHARS[ch.charCodeAt(0)] = 1;
function isCleanUpChar(c: number): boolean {
  return c < 128 && CLEAN_UP_CHARS[c] === 1;
}
