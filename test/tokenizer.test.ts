// The tokenizer against HF's goldens (golden-tokenizer.json: 348 strings made by transformers 4.43.4's slow
// GPT2Tokenizer), plus the API around it: the call form, offsets, streaming, vocabulary search, loading, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectCases, readGolden, fixturePath } from './helpers/fixtures.js';
import { GPT2Tokenizer, cleanUpTokenization, BYTE_TO_CHAR } from '../src/tokenizer/index.js';
import { loadBundledTokenizer, readTokenizerFolder, AutoTokenizer, bundledVocabFolder } from '../src/node/tokenizer.js';
import { MergeTable, bpeMergeHeap, bpeMergeSimple } from '../src/tokenizer/bpe.js';
import { WordCache } from '../src/tokenizer/word-cache.js';

interface GoldenCase {
  text: string;
  ids: number[];
  tokens: string[];
  decode_clean: string;
  decode_raw: string;
  decode_default: string;
  token_strings: string[];
  decode_skip_special?: string;
}
interface Golden {
  cases: GoldenCase[];
  notebook: { text: string; ids: number[]; token_strings: string[]; tokens: string[] };
  special: { eos_token: string; eos_token_id: number; bos_token_id: number; unk_token_id: number; pad_token_id: number | null; vocab_size: number; len: number };
}

const golden = readGolden<Golden>('golden-tokenizer.json');
const tok = loadBundledTokenizer();

test('golden-tokenizer.json: all 348 strings, every field identical', () => {
  expectCases(golden.cases, 'golden-tokenizer.json cases');
  let skipCases = 0;
  for (const c of golden.cases) {
    const what = JSON.stringify(c.text.slice(0, 60));
    assert.deepEqual(tok.encode(c.text), c.ids, `ids of ${what}`);
    assert.deepEqual(tok.tokenize(c.text), c.tokens, `tokenize ${what}`);
    assert.deepEqual(tok.convert_ids_to_tokens(c.ids), c.tokens, `tokens of ${what}`);
    assert.deepEqual(tok.convert_tokens_to_ids(c.tokens), c.ids, `convert_tokens_to_ids of ${what}`);
    assert.equal(tok.decode(c.ids, { clean_up_tokenization_spaces: true }), c.decode_clean, `decode_clean of ${what}`);
    assert.equal(tok.decode(c.ids, { clean_up_tokenization_spaces: false }), c.decode_raw, `decode_raw of ${what}`);
    assert.equal(tok.decode(c.ids), c.decode_default, `decode_default of ${what}`);
    assert.deepEqual(c.ids.map((id) => tok.decode([id])), c.token_strings, `token_strings of ${what}`);
    assert.deepEqual(tok.encodeWithOffsets(c.text).map((t) => t.id), c.ids, `encodeWithOffsets ids of ${what}`);
    if (c.decode_skip_special !== undefined) {
      skipCases++;
      assert.equal(tok.decode(c.ids, { skip_special_tokens: true }), c.decode_skip_special, `decode_skip_special of ${what}`);
    }
  }
  assert.equal(skipCases, 6);
});

test('the notebook prompt and the special tokens', () => {
  const nb = golden.notebook;
  assert.deepEqual(tok.encode(nb.text), [464, 4583, 286, 44449, 318]);
  assert.deepEqual(tok.encode(nb.text), nb.ids);
  assert.deepEqual(tok.tokenize(nb.text), nb.tokens);
  assert.deepEqual(nb.ids.map((id) => tok.decode([id])), nb.token_strings);
  const s = golden.special;
  assert.equal(tok.eos_token, s.eos_token);
  assert.equal(tok.eos_token_id, s.eos_token_id);
  assert.equal(tok.bos_token_id, s.bos_token_id);
  assert.equal(tok.unk_token_id, s.unk_token_id);
  assert.equal(tok.pad_token_id, s.pad_token_id);
  assert.equal(tok.vocab_size, s.vocab_size);
  assert.equal(tok.length, s.len);
  assert.equal(tok.model_max_length, 1024);
  assert.deepEqual(tok.all_special_ids, [50256]);
  assert.deepEqual(tok.all_special_tokens, ['<|endoftext|>']);
});

test('the bundled vocabulary is byte-identical to the fixture and loads the same from the fixture folder', () => {
  for (const f of ['vocab.json', 'merges.txt']) assert.ok(readFileSync(join(bundledVocabFolder(), f)).equals(readFileSync(fixturePath(f))), f);
  const fromFixture = readTokenizerFolder(fixturePath(''));
  assert.deepEqual(fromFixture.encode("Hello, world! It's <|endoftext|> 2024"), tok.encode("Hello, world! It's <|endoftext|> 2024"));
});

test('Python regex semantics: White_Space, case-sensitive contractions, whitespace runs', () => {
  // U+0085 is whitespace to Python's regex; U+FEFF and U+001C are not (JavaScript's \s says the opposite).
  assert.deepEqual(tok.tokenize('a\u0085\u0085b'), ['a', 'Â', 'ħ', 'Â', 'ħ', 'b']);
  assert.deepEqual(tok.encode('\n\n\ufeffx'), [198, 198, 171, 119, 123, 87]);
  assert.deepEqual(tok.encode('\n\n x'), [628, 2124]); // "\n\n" then " x": \s+(?!\S) leaves the last space
  assert.deepEqual(tok.tokenize("It's IT'S we'll WE'LL"), ['It', "'s", 'ĠIT', "'", 'S', 'Ġwe', "'ll", 'ĠWE', "'", 'LL']);
  assert.deepEqual(tok.tokenize('a   b'), ['a', 'Ġ', 'Ġ', 'Ġb']); // words "a", "  ", " b"; "ĠĠ" is not a GPT-2 token
  assert.deepEqual(tok.encode('a \t\n'), [64, 220, 197, 198]);
});

test('<|endoftext|> in text is the special token; split_special_tokens treats it as text', () => {
  assert.deepEqual(tok.encode('a<|endoftext|>b'), [64, 50256, 65]);
  assert.deepEqual(tok.encode('<|endoftext|><|endoftext|>'), [50256, 50256]);
  assert.deepEqual(tok.encode('<|endoftext|', {}), [27, 91, 437, 1659, 5239, 91]);
  assert.deepEqual(tok.encode('a<|endoftext|>b', { split_special_tokens: true }), [64, 27, 91, 437, 1659, 5239, 91, 29, 65]);
  assert.equal(tok.decode([64, 50256, 65]), 'a<|endoftext|>b');
  assert.equal(tok.decode([64, 50256, 65], { skip_special_tokens: true }), 'ab');
});

test('decode: errors="replace" gives one U+FFFD per invalid piece, no BOM is eaten, clean-up is exactly HF\'s', () => {
  assert.equal(tok.decode([47249]), '\ufffd'); // F0 9F 98: an incomplete emoji
  assert.equal(tok.decode([47249, 222]), '😀');
  assert.equal(tok.decode(tok.encode('\ufeffhi')), '\ufeffhi');
  // " ' " → "'" first, then " n't" → "n't": HF's passes run one after the other.
  assert.equal(tok.decode(tok.encode("a . b ? c ! d , e ' f n't g 'm 's 've 're 'll 'd")), "a. b? c! d, e'fn't g'm's've're 'll 'd");
  assert.equal(cleanUpTokenization("x  ' s"), "x's"); // " ' " → "'" makes " 's", which a later pass cleans
  assert.equal(tok.decode(tok.encode('x .'), { clean_up_tokenization_spaces: false }), 'x .');
  tok.clean_up_tokenization_spaces = false;
  assert.equal(tok.decode(tok.encode('x .')), 'x .');
  tok.clean_up_tokenization_spaces = true;
  assert.equal(tok.decode(new Int32Array([464, 4583])), 'The theory');
  assert.equal(tok.decode(464), 'The'); // a lone id, as HF accepts
  assert.deepEqual(tok.batch_decode([[464], [4583, 286]]), ['The', ' theory of']);
});

test('call form: padding left and right, truncation, the pad-token error', () => {
  const fwd = readGolden<{ batch_left_padded: { texts: string[]; input_ids: number[][]; attention_mask: number[][] } }>('golden-forward.json').batch_left_padded;
  const t = readTokenizerFolder(fixturePath(''));
  assert.throws(
    () => t.call(fwd.texts, { padding: true }),
    { message: "Asking to pad but the tokenizer does not have a padding token. Please select a token to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via `tokenizer.add_special_tokens({'pad_token': '[PAD]'})`." },
  );
  assert.throws(() => t.call(['Hello'], { padding: true }), /Asking to pad/); // HF raises even when nothing needs padding
  assert.deepEqual(t.call(['Hello']), { input_ids: [[15496]], attention_mask: [[1]] });
  t.pad_token = t.eos_token;
  assert.equal(t.pad_token_id, 50256);
  const left = t.call(fwd.texts, { padding: true, padding_side: 'left' });
  assert.deepEqual(left, { input_ids: fwd.input_ids, attention_mask: fwd.attention_mask });
  assert.deepEqual(t.call(['Hello', 'Hello world'], { padding: 'longest' }), { input_ids: [[15496, 50256], [15496, 995]], attention_mask: [[1, 0], [1, 1]] });
  assert.deepEqual(t.call(['Hello'], { padding: 'max_length', max_length: 3 }), { input_ids: [[15496, 50256, 50256]], attention_mask: [[1, 0, 0]] });
  assert.deepEqual(t.call('The theory of relativity is', { truncation: true, max_length: 2 }), { input_ids: [464, 4583], attention_mask: [1, 1] });
  assert.deepEqual(t.call(['The theory of', 'Hi'], { max_length: 2 }).input_ids, [[464, 4583], [17250]]); // HF: max_length alone truncates
  assert.deepEqual(t.call(['The theory of'], { max_length: 2, truncation: false }).input_ids, [[464, 4583, 286]]);
  // padding="max_length" with max_length and no truncation: pads short rows, leaves long ones (HF)
  assert.deepEqual(t.call(['The theory of', 'Hi'], { padding: 'max_length', max_length: 2 }).input_ids, [[464, 4583, 286], [17250, 50256]]);
  assert.deepEqual(t.call(['The theory of', 'Hi'], { padding: 'max_length', max_length: 2, truncation: true }).input_ids, [[464, 4583], [17250, 50256]]);
  assert.deepEqual(t.call(['The theory of', 'Hi'], { padding: true, max_length: 2 }).input_ids, [[464, 4583, 286], [17250, 50256, 50256]]);
  assert.throws(() => t.call(['a'], { padding: 'yes' as unknown as boolean }), { message: 'call: padding must be true, false, "longest", "max_length" or "do_not_pad", got string "yes"' });
  assert.deepEqual(t.call(['Hello', 'Hello world']), { input_ids: [[15496], [15496, 995]], attention_mask: [[1], [1, 1]] });
  assert.deepEqual(t.encode('The theory of relativity is', { truncation: true, max_length: 3 }), [464, 4583, 286]);
});

test('offsets: UTF-16 spans and bytes, partial characters share their character', () => {
  const text = 'Hi 😀 é\n<|endoftext|>x';
  const spans = tok.encodeWithOffsets(text);
  assert.deepEqual(spans.map((s) => s.id), tok.encode(text));
  assert.deepEqual(
    spans.map((s) => [s.id, s.start, s.end, s.bytes.length, s.text]),
    [
      [17250, 0, 2, 2, 'Hi'],
      [30325, 2, 5, 4, ' \ufffd'], // " " + F0 9F 98: the space and the emoji's first 3 bytes
      [222, 3, 5, 1, '\ufffd'], // 80: the emoji's last byte, same character span
      [38251, 5, 7, 3, ' é'],
      [198, 7, 8, 1, '\n'],
      [50256, 8, 21, 13, '<|endoftext|>'],
      [87, 21, 22, 1, 'x'],
    ],
  );
  const bytes = spans.flatMap((s) => s.bytes);
  assert.deepEqual(bytes, Array.from(new TextEncoder().encode(text)));
  assert.deepEqual(tok.encodeWithOffsets('The')[0], { id: 464, text: 'The', bytes: [84, 104, 101], start: 0, end: 3 });
  // A lone surrogate is encoded as U+FFFD's bytes (as TextEncoder does) and spans its one code unit.
  assert.deepEqual(tok.encodeWithOffsets('a\ud800').map((s) => [s.id, s.start, s.end, s.bytes]), [[64, 0, 1, [97]], [4210, 1, 2, [239, 191, 189]]]);
});

test('streaming decoder: text only once its UTF-8 is complete', () => {
  const text = 'Emoji 👍🏽 and 👨‍👩‍👧 flags 🇫🇷, done.';
  const ids = tok.encode(text);
  const stream = tok.createStreamDecoder();
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.flush());
  assert.equal(pieces.join(''), text);
  for (const p of pieces) assert.ok(!p.includes('\ufffd'), `piece ${JSON.stringify(p)} has U+FFFD`);
  assert.ok(pieces.some((p) => p === ''), 'some tokens hold only part of a character');
  // The two tokens of 😀 (F0 9F 98, then 80): nothing, then the emoji.
  const s2 = tok.createStreamDecoder();
  assert.equal(s2.push(47249), '');
  assert.equal(s2.pendingBytes, 3);
  assert.equal(s2.push(222), '😀');
  assert.equal(s2.pendingBytes, 0);
  // An unfinished character at the end comes out as U+FFFD on flush, like decode().
  assert.equal(s2.push(47249), '');
  assert.equal(s2.flush(), '\ufffd');
  // Special tokens: kept by default, dropped with skip_special_tokens.
  assert.equal(tok.createStreamDecoder().pushAll([64, 50256, 65]), 'a<|endoftext|>b');
  assert.equal(tok.createStreamDecoder({ skip_special_tokens: true }).pushAll([64, 50256, 65]), 'ab');
  assert.throws(() => tok.createStreamDecoder().push(50257), { message: 'tokenBytes: token id 50257 is out of range: valid ids are 0..50256' });
});

test('JavaScript traps are ordinary text and tokens', () => {
  for (const word of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype']) {
    const ids = tok.encode(word);
    assert.ok(ids.length > 0 && ids.every((id) => Number.isInteger(id) && id < 50257), word);
    assert.equal(tok.decode(ids), word);
    assert.equal(tok.decode(tok.encode(` ${word} ${word}`)), ` ${word} ${word}`);
  }
  // None of them is a GPT-2 token: unk's id, as HF (not Object.prototype's members).
  assert.deepEqual(tok.convert_tokens_to_ids(['constructor', 'toString', '__proto__', 'hasOwnProperty']), [50256, 50256, 50256, 50256]);
  assert.equal(tok.get_vocab().get('__proto__'), undefined);
  // A vocabulary that has them as tokens (parsed by JSON.parse, so "__proto__" is an own key).
  const vocab = JSON.parse('{"__proto__": 0, "constructor": 1, "t": 2, "o": 3, "S": 4, "r": 5, "i": 6, "n": 7, "g": 8, "c": 9, "s": 10, "u": 11, "_": 12, "p": 13, "e": 14, "h": 15, "a": 16, "O": 17, "w": 18, "P": 19, "y": 20, "<|endoftext|>": 21}') as Record<string, number>;
  const small = new GPT2Tokenizer(vocab, '#version: 0.2\n');
  assert.equal(small.convert_tokens_to_ids('__proto__'), 0);
  assert.equal(small.convert_tokens_to_ids('constructor'), 1);
  assert.deepEqual(small.convert_ids_to_tokens([0, 1]), ['__proto__', 'constructor']);
  assert.equal(small.decode(small.encode('toString')), 'toString');
});

test('vocabulary search: substrings and regexes over the text and the byte-level form', () => {
  const theory = tok.searchVocab(' theory');
  assert.ok(theory.some((e) => e.id === 4583 && e.token === 'Ġtheory' && e.text === ' theory'));
  assert.ok(theory.every((e) => e.text.includes(' theory') || e.token.includes(' theory')));
  assert.deepEqual(tok.searchVocab(/^ relativ/).map((e) => e.id).includes(44449), true);
  const firstTwo = tok.searchVocab('Ġthe', { limit: 2 });
  assert.deepEqual(firstTwo.map((e) => [e.id, e.token, e.text]), [[262, 'Ġthe', ' the'], [484, 'Ġthey', ' they']]);
  assert.deepEqual(tok.searchVocab(/^<\|endoftext\|>$/g), [{ id: 50256, token: '<|endoftext|>', text: '<|endoftext|>' }]);
  assert.deepEqual(tok.searchVocab('no such token in GPT-2'), []);
});

test('bad input: each error names the bad value', () => {
  const cases: Array<[() => unknown, string]> = [
    [() => tok.encode(42 as unknown as string), 'encode: text must be a string, got number 42'],
    [() => tok.encode(null as unknown as string), 'encode: text must be a string, got null'],
    [() => tok.encode(undefined as unknown as string), 'encode: text must be a string, got undefined'],
    [() => tok.encode(['a'] as unknown as string), 'encode: text must be a string, got an array of length 1'],
    [() => tok.tokenize({} as unknown as string), 'tokenize: text must be a string, got an object (Object)'],
    [() => tok.encodeWithOffsets(true as unknown as string), 'encodeWithOffsets: text must be a string, got boolean true'],
    [() => tok.call(['ok', 7] as unknown as string[]), 'call: texts[1] must be a string, got number 7'],
    [() => tok.decode([1, -1]), 'decode: token id -1 at index 1 is out of range: valid ids are 0..50256'],
    [() => tok.decode([50257]), 'decode: token id 50257 at index 0 is out of range: valid ids are 0..50256'],
    [() => tok.decode([1.5]), 'decode: token id at index 0 must be an integer, got number 1.5'],
    [() => tok.decode([NaN]), 'decode: token id at index 0 must be an integer, got number NaN'],
    [() => tok.decode(['5'] as unknown as number[]), 'decode: token id at index 0 must be an integer, got string "5"'],
    [() => tok.decode('5' as unknown as number[]), 'decode: ids must be an array of token ids, got string "5"'],
    [() => tok.decode(-5), 'decode: token id -5 at index 0 is out of range: valid ids are 0..50256'],
    [() => tok.convert_ids_to_tokens(-3), 'convert_ids_to_tokens: token id -3 is out of range: valid ids are 0..50256'],
    [() => tok.convert_ids_to_tokens([0, 2.5]), 'convert_ids_to_tokens: token id at index 1 must be an integer, got number 2.5'],
    [() => tok.tokenBytes(1e9), 'tokenBytes: token id 1000000000 is out of range: valid ids are 0..50256'],
  ];
  for (const [f, message] of cases) assert.throws(f, { message });
  assert.throws(() => tok.decode([50257]), RangeError);
  assert.throws(() => tok.decode([1.5]), TypeError);
});

test('long words and whitespace runs: the heap BPE equals HF\'s loop, and 100,000-character words are fine', () => {
  const z = tok.encode('z'.repeat(100_000));
  assert.equal(z.length, 50_000);
  assert.ok(z.every((id) => id === 3019)); // "zz", and "zz zz" is not a merge
  const spaces = ' '.repeat(100_001) + 'x';
  assert.equal(tok.decode(tok.encode(spaces)), spaces);
  const longLine = 'ab1,'.repeat(30_000);
  assert.equal(tok.decode(tok.encode(longLine), { clean_up_tokenization_spaces: false }), longLine);
  // Heap and simple loop on random long symbol strings built from real merges.
  const t = (tok as unknown as { merges: MergeTable }).merges;
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  const alphabets = [['a'], ['a', 'b'], ['e', 'r', 't', 'h', ' '], ['0', '1', '9'], ['\u00e9', 'x']];
  for (let k = 0; k < 300; k++) {
    const alpha = alphabets[k % alphabets.length]!;
    let word = '';
    const n = 2 + rand(160);
    for (let i = 0; i < n; i++) word += alpha[rand(alpha.length)];
    const bytes = new TextEncoder().encode(word);
    const syms = Int32Array.from(bytes, (b) => tok.convert_tokens_to_ids(BYTE_TO_CHAR[b]!)!);
    const a = syms.slice();
    const b = syms.slice();
    const na = bpeMergeSimple(t, a, a.length);
    const nb = bpeMergeHeap(t, b, b.length);
    assert.deepEqual(Array.from(b.subarray(0, nb)), Array.from(a.subarray(0, na)), JSON.stringify(word));
  }
});

test('the long-word BPE equals HF\'s loop on random merge tables, ill-formed ones included', () => {
  let seed = 99;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  // HF semantics that a naive heap gets wrong: "aa a" ranked before "a a" (an ill-formed merges file).
  const ill = new MergeTable(Int32Array.of(2, 0, 2), Int32Array.of(0, 0, 2), Int32Array.of(3, 2, 4)); // r0: aa+a, r1: a+a, r2: aa+aa
  const five = new Int32Array(5);
  assert.deepEqual(Array.from(five.subarray(0, bpeMergeSimple(ill, five, 5))), [2, 3]); // [aa, aa, a] then [aa, aaa]
  const five2 = new Int32Array(5);
  assert.deepEqual(Array.from(five2.subarray(0, bpeMergeHeap(ill, five2, 5))), [2, 3]);
  for (let t = 0; t < 40; t++) {
    const nBase = 2 + rand(3);
    const nMerges = 3 + rand(12);
    const left = new Int32Array(nMerges);
    const right = new Int32Array(nMerges);
    const result = new Int32Array(nMerges);
    for (let r = 0; r < nMerges; r++) {
      left[r] = rand(nBase + nMerges);
      right[r] = rand(nBase + nMerges);
      result[r] = nBase + rand(nMerges);
    }
    const table = new MergeTable(left, right, result);
    for (let k = 0; k < 50; k++) {
      const n = 2 + rand(120);
      const a = Int32Array.from({ length: n }, () => rand(nBase));
      const b = a.slice();
      const na = bpeMergeSimple(table, a, n);
      const nb = bpeMergeHeap(table, b, n);
      assert.deepEqual(Array.from(b.subarray(0, nb)), Array.from(a.subarray(0, na)), `table ${t}, word ${k}`);
    }
  }
});

test('loading: a lone tokenizer.json (merges as strings or pairs), AutoTokenizer on a folder, bad folders', async () => {
  const vocab = JSON.parse(readFileSync(fixturePath('vocab.json'), 'utf8')) as Record<string, number>;
  const mergeLines = readFileSync(fixturePath('merges.txt'), 'utf8').split('\n').slice(1, -1);
  const added = [{ id: 50256, content: '<|endoftext|>', special: true, lstrip: false, rstrip: false, single_word: false, normalized: true }];
  const text = "The theory of relativity isn't <|endoftext|> 😀!";
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges: mergeLines }, added_tokens: added }));
  const fromJson = await AutoTokenizer.from_pretrained(dir);
  assert.deepEqual(fromJson.encode(text), tok.encode(text));
  assert.equal(fromJson.eos_token_id, 50256);
  const pairs = GPT2Tokenizer.fromTokenizerJson({ model: { type: 'BPE', vocab, merges: mergeLines.map((l) => l.split(' ')) }, added_tokens: added });
  assert.deepEqual(pairs.encode(text), tok.encode(text));
  // special_tokens_map.json supplies a pad token that tokenizer_config.json lacks.
  const withMap = mkdtempSync(join(tmpdir(), 'gpt2-lens-map-'));
  writeFileSync(join(withMap, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(withMap, 'merges.txt'), readFileSync(fixturePath('merges.txt')));
  writeFileSync(join(withMap, 'special_tokens_map.json'), JSON.stringify({ eos_token: '<|endoftext|>', pad_token: { content: '<|endoftext|>' } }));
  assert.equal(readTokenizerFolder(withMap).pad_token_id, 50256);
  const fromFolder = await AutoTokenizer.from_pretrained(fixturePath(''));
  assert.deepEqual(fromFolder.encode(text), tok.encode(text));
  assert.equal(await AutoTokenizer.from_pretrained('gpt2-lens/bundled'), tok);
  const empty = mkdtempSync(join(tmpdir(), 'gpt2-lens-empty-'));
  await assert.rejects(AutoTokenizer.from_pretrained(empty), { message: `${empty} has no tokenizer files: expected vocab.json and merges.txt, or tokenizer.json` });
  assert.throws(() => GPT2Tokenizer.fromTokenizerJson({ model: { type: 'WordPiece', vocab: {}, merges: [] } }), { message: 'tokenizer.json: model type "WordPiece" is not BPE' });
});

test('config: add_prefix_space, add_bos_token, added non-special tokens are kept apart and joined with spaces', () => {
  const vocab = JSON.parse(readFileSync(fixturePath('vocab.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(fixturePath('merges.txt'), 'utf8');
  const prefixed = new GPT2Tokenizer(vocab, merges, { add_prefix_space: true, add_bos_token: true });
  assert.deepEqual(prefixed.encode('Hello'), [50256, 18435]); // bos, " Hello"
  assert.deepEqual(prefixed.encode('Hello', { add_special_tokens: false }), [18435]);
  assert.deepEqual(prefixed.encodeWithOffsets('Hello').map((s) => [s.id, s.start, s.end]), [[18435, 0, 5]]);
  const custom = new GPT2Tokenizer(vocab, merges, { added_tokens_decoder: { '50257': { content: '<tool>', special: false, rstrip: true } } });
  assert.equal(custom.length, 50258);
  assert.deepEqual(custom.encode('a<tool>  b'), [64, 50257, 65]); // rstrip eats the spaces after it
  assert.equal(custom.decode([64, 50257, 65]), 'a <tool> b'); // HF joins legacy added tokens with spaces
  assert.equal(custom.decode([64, 50257, 65], { spaces_between_special_tokens: false }), 'a<tool>b');
});

test('the word cache: lookups by text range, collisions, and emptying itself when half full', () => {
  const cache = new WordCache();
  const text = 'the cat the hat';
  const h = (a: number, b: number): number => WordCache.hash(text, a, b);
  assert.equal(cache.find(text, 0, 3, h(0, 3)), -1);
  const slot = cache.add(text, 0, 3, h(0, 3), Int32Array.of(1169));
  assert.equal(cache.find(text, 8, 11, h(8, 11)), slot); // the second "the" finds the first
  assert.equal(cache.find(text, 12, 15, h(12, 15)), -1); // "hat"
  // The same hash for different words must not match (a forced collision).
  assert.equal(cache.find(text, 12, 15, h(0, 3)), -1);
  const s2 = cache.add(text, 12, 15, h(0, 3), Int32Array.of(5, 6));
  assert.deepEqual(Array.from(cache.pool.subarray(cache.slotStart(s2), cache.slotStart(s2) + cache.slotCount(s2))), [5, 6]);
  assert.equal(cache.find(text, 0, 3, h(0, 3)), slot);
  // 300,000 distinct words: the table empties itself once half full (262,144 entries) and keeps working.
  const words = Array.from({ length: 300_000 }, (_, i) => `w${i}`).join(' ');
  const ids = tok.encode(words);
  assert.equal(tok.decode(ids), words);
  tok.clearCache();
  assert.deepEqual(tok.encode(words), ids);
});
