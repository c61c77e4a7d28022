// Property tests over 10,000 seeded random Unicode strings (reproducible: a tiny PRNG below, fixed seed).
// For every string:
//   - the hand-written pre-tokeniser gives exactly the words of GPT-2's regex (JavaScript, \p{White_Space});
//   - ids equal tiktoken's gpt2 encoding (the WASM build of OpenAI's Rust code, whose regex `\s` is Unicode
//     White_Space like Python's) on every string, and js-tiktoken's (an independent JS implementation) wherever
//     the comparison means something: js-tiktoken uses JavaScript's \s, which (unlike Python's) matches U+FEFF and
//     not U+0085, so strings containing either are left out of that comparison (and counted). Both are called
//     with allowed_special "all", so <|endoftext|> in the text is 50256 as with HF (their default throws); both
//     encode a lone surrogate as U+FFFD's UTF-8 (TextEncoder), as we do;
//   - decode(encode(s)) === s for well-formed strings (no lone surrogate; those encode as U+FFFD, as TextEncoder);
//   - encodeWithOffsets gives the same ids, bytes that concatenate to the text's UTF-8, and valid spans;
//   - the streaming decoder's pieces join to decode(ids, {clean_up_tokenization_spaces: false}), with no U+FFFD
//     in the middle of a character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEncoding } from 'js-tiktoken';
import { get_encoding } from 'tiktoken';
import { GPT2_PATTERN, preTokenize, cleanUpTokenization } from '../src/tokenizer/index.js';
import { cleanUpSequential } from '../src/tokenizer/clean-up.js';
import { loadBundledTokenizer } from '../src/node/tokenizer.js';
import { mulberry32 } from '../src/model/random.js';

const prng = mulberry32; // the seeded 32-bit PRNG the random models use

const UNICODE_SPACES = ['\u00a0', '\u0085', '\u1680', '\u2000', '\u2007', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u180e', '\u001c', '\u001d', '\u001e', '\u001f', '\u000b', '\u000c', '\r'];
const PIECES = [
  ...["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "'", "n't", "N'T"],
  'the', 'The', ' the', 'Hello', 'world', 'relativity', 'GPT', 'x', 'A', 'zz', 'ß', 'straße', 'naïve', 'ﬁ',
  '0', '7', '42', '1999', '3.14', '½', '²', '٣', '४', 'Ⅻ',
  '.', ',', '!', '?', '...', '--', '(', ')', '{', '}', '"', '#', '$', '%', '&', '*', '+', '-', '/', ':', ';', '<', '=', '>', '@', '[', '\\', ']', '^', '_', '`', '|', '~',
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\t\t ',
  '\u0301', '\u0308', '\u20dd', 'e\u0301', 'a\u0308\u0301', // combining marks
  '中文', '日本語', '한국어', 'العربية', 'עברית', 'हिन्दी', 'தமிழ்', 'ไทย', 'Ελληνικά', 'русский',
  '😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '❤️', '\u200d', '\ufe0f', '𝔘𝔫𝔦', '𠀀',
  '<|endoftext|>', '<|', '|>', 'endoftext', '<|endoftext', 'endoftext|>', '<|endoftext|><|endoftext|>',
  'toString', 'constructor', '__proto__', 'hasOwnProperty',
  '\ud800', '\udfff', '\udbff', // lone surrogates
];

function randomCodePoint(rand: () => number): string {
  // Every plane: 0 (BMP), 1 (SMP), 2 (SIP), 3, 14 (SSP), 15-16 (private use), and the unassigned ones in between.
  const plane = Math.floor(rand() * 17);
  const cp = plane * 0x10000 + Math.floor(rand() * 0x10000);
  if (cp >= 0xd800 && cp <= 0xdfff) return String.fromCharCode(cp); // a lone surrogate
  return String.fromCodePoint(cp);
}

function randomString(rand: () => number): string {
  const n = Math.floor(rand() * 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.55) s += PIECES[Math.floor(rand() * PIECES.length)];
    else if (r < 0.7) s += UNICODE_SPACES[Math.floor(rand() * UNICODE_SPACES.length)]!.repeat(1 + Math.floor(rand() * 3));
    else if (r < 0.85) s += randomCodePoint(rand);
    else if (r < 0.95) s += String.fromCharCode(Math.floor(rand() * 128));
    else s += ' '.repeat(1 + Math.floor(rand() * 6));
  }
  return s;
}

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hasLoneSurrogate = (s: string): boolean => /\p{Cs}/u.test(s);

test('10,000 random Unicode strings: regex words, tiktoken and js-tiktoken ids, round trip, offsets, streaming', () => {
  const tok = loadBundledTokenizer();
  const tiktoken = getEncoding('gpt2');
  const rand = prng(20240601);
  const utf8 = new TextEncoder();
  const wasm = get_encoding('gpt2');
  const wasmMismatches: string[] = [];
  let compared = 0;
  let notCompared = 0;
  let roundTrips = 0;
  for (let k = 0; k < 10_000; k++) {
    const s = randomString(rand);
    const what = `string #${k} ${JSON.stringify(s)}`;

    assert.deepEqual(preTokenize(s), s.match(GPT2_PATTERN) ?? [], `words of ${what}`);

    const ids = tok.encode(s);
    wasmMismatches.push(...(sameIds(ids, wasm.encode(s, 'all')) ? [] : [what]));
    if (/[\u0085\ufeff]/.test(s)) notCompared++;
    else {
      assert.deepEqual(ids, tiktoken.encode(s, 'all'), `ids of ${what} vs js-tiktoken`);
      compared++;
    }

    const raw = tok.decode(ids, { clean_up_tokenization_spaces: false });
    if (!hasLoneSurrogate(s)) {
      assert.equal(raw, s, `round trip of ${what}`);
      roundTrips++;
    } else assert.equal(raw, new TextDecoder('utf-8', { ignoreBOM: true }).decode(utf8.encode(s)), `round trip (lone surrogates as U+FFFD) of ${what}`);
    assert.equal(tok.decode(ids), cleanUpTokenization(raw));

    const spans = tok.encodeWithOffsets(s);
    assert.deepEqual(spans.map((t) => t.id), ids, `offset ids of ${what}`);
    assert.deepEqual(spans.flatMap((t) => t.bytes), Array.from(utf8.encode(s)), `offset bytes of ${what}`);
    let prevStart = 0;
    for (const t of spans) {
      assert.ok(t.start >= prevStart && t.start < t.end && t.end <= s.length, `span ${t.start}..${t.end} of ${what}`);
      prevStart = t.start;
    }
    if (spans.length > 0) assert.equal(spans[spans.length - 1]!.end, s.length);

    const stream = tok.createStreamDecoder();
    const pieces = ids.map((id) => stream.push(id));
    pieces.push(stream.flush());
    assert.equal(pieces.join(''), raw, `stream of ${what}`);
    if (!hasLoneSurrogate(s) && !s.includes('\ufffd')) for (const p of pieces) assert.ok(!p.includes('\ufffd'), `stream piece of ${what}`);
  }
  wasm.free();
  assert.deepEqual(wasmMismatches.slice(0, 5), [], `${wasmMismatches.length} strings differ from tiktoken (WASM)`);
  assert.ok(compared >= 8_000, `compared with js-tiktoken on ${compared} strings`);
  assert.ok(notCompared > 100, `${notCompared} strings with U+0085/U+FEFF`);
  assert.ok(roundTrips >= 8_000, `${roundTrips} round trips`);
});

test('clean-up of tokenization spaces equals HF\'s ten sequential replacements on 200,000 random strings', () => {
  const rand = prng(7);
  const alphabet = " .?!,'ntmsverxa\n";
  for (let k = 0; k < 200_000; k++) {
    let s = '';
    const n = Math.floor(rand() * 14);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    assert.equal(cleanUpTokenization(s), cleanUpSequential(s), JSON.stringify(s));
  }
});
