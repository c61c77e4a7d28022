// GPT2Tokenizer: Hugging Face's slow `GPT2Tokenizer` (transformers 4.43.4) in TypeScript, browser-safe.
//
//   text ──split on added tokens (<|endoftext|>)──► pieces
//        ──pre-tokenise each piece with GPT-2's regex──► words ("Hello", " world", "!")
//        ──UTF-8 bytes of each word──► BPE merges (merges.txt order) ──► vocabulary ids
//
// decode goes back: ids ──► the bytes each token stands for ──► UTF-8 (errors="replace") ──► optional
// clean-up of tokenization spaces (" ." → "." ...).
import { BYTE_TO_CHAR, tokenStringToBytes, bytesToTokenString, writeTokenBytes } from './bytes.js';
import { MergeTable, bpeMerge } from './bpe.js';
import { nextWordEnd } from './pretokenize.js';
import { checkId, checkIds, checkText, describeValue } from './errors.js';
import { StreamingDecoder, type StreamingDecoderOptions } from './streaming.js';
import { WordCache } from './word-cache.js';
import { cleanUpTokenization } from './clean-up.js';
import { parseMergesText, splitMergeString } from './merges.js';
import type { AddedTokenSpec, BatchEncoding, CallOptions, DecodeOptions, EncodeOptions, SpecialTokenSetting, TokenizerConfig, TokenSpan, VocabEntry } from './types.js';

// Re-exported, so that importing them from this file (the tokenizer's main module) works too.
export type { AddedTokenSpec, BatchEncoding, CallOptions, DecodeOptions, EncodeOptions, SpecialTokenSetting, TokenizerConfig, TokenSpan, VocabEntry } from './types.js';
export { cleanUpTokenization, cleanUpSequential } from './clean-up.js';
export { parseMergesText } from './merges.js';

interface AddedToken extends Required<Pick<AddedTokenSpec, 'content' | 'special' | 'lstrip' | 'rstrip' | 'single_word'>> {
  id: number;
}

/** Python's str.isspace() characters, for AddedToken lstrip/rstrip (Python's str.strip()). */
// eslint-disable-next-line no-control-regex -- U+001C..U+001F are whitespace to Python's str.isspace()
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Words longer than this are not cached (long runs are rare, and would fill the cache's pool). */
const CACHE_MAX_WORD = 256;

function settingContent(s: SpecialTokenSetting | undefined): string | null | undefined {
  if (s === undefined) return undefined;
  if (s === null) return null;
  return typeof s === 'string' ? s : s.content;
}

/**
 * GPT-2's byte-level BPE tokenizer with the semantics of HF's `GPT2Tokenizer`.
 *
 *     const tok = new GPT2Tokenizer(vocab, mergesText, config);   // or loadBundledTokenizer() from 'gpt2-lens/node'
 *     tok.encode('The theory of relativity is');                   // [464, 4583, 286, 44449, 318]
 *     tok.decode([464, 4583]);                                     // 'The theory'
 *     tok.call(['Hello', 'The theory'], { padding: true });        // { input_ids, attention_mask }
 */
export class GPT2Tokenizer {
  /** vocab.json's entries (token string → id); a Map, so "__proto__" or "constructor" are ordinary keys */
  private readonly encoder: Map<string, number>;
  /** id → token string, for vocab.json's ids and the added tokens' ids */
  private readonly idToToken: (string | undefined)[];
  /** 1 where an id comes from vocab.json (BPE may only emit those) */
  private readonly inVocab: Uint8Array;
  /** the bytes of every id, flat: tokenBytes[offsets[id] .. offsets[id+1]) */
  private readonly tokenBytesFlat: Uint8Array;
  private readonly tokenOffsets: Int32Array;
  /** BPE symbols: ids below idToToken.length are vocabulary ids; above, strings merges make that vocab.json lacks */
  private readonly extraSymbols: string[] = [];
  private readonly extraSymbolIndex = new Map<string, number>();
  private readonly byteSymbol = new Int32Array(256);
  private readonly merges: MergeTable;
  private readonly added: AddedToken[] = [];
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly legacyAdded = new Set<string>();
  private readonly cache = new WordCache();
  /** The output id of each single ASCII character word (" ", ".", "\n" are among the most frequent words). */
  private readonly asciiWordId = new Int32Array(128).fill(-1);
  private scratch = new Int32Array(1024);
  private decodeBuffer = new Uint8Array(1 << 12);
  /** 1 for every valid id (a typed array, so knownId[1.5], knownId[-1] and knownId[NaN] are undefined) */
  private readonly knownId: Uint8Array;
  private readonly utf8: TextDecoder;

  readonly model_max_length: number;
  readonly add_prefix_space: boolean;
  readonly add_bos_token: boolean;
  clean_up_tokenization_spaces: boolean;
  padding_side: 'left' | 'right';
  truncation_side: 'left' | 'right';
  readonly errors: 'replace' | 'strict';
  bos_token: string | null;
  eos_token: string | null;
  unk_token: string | null;
  /** GPT-2 has none: set `tok.pad_token = tok.eos_token` before padding, as with HF */
  pad_token: string | null;

  constructor(vocab: Record<string, number> | Map<string, number>, merges: string | ReadonlyArray<string | readonly [string, string]>, config: TokenizerConfig = {}) {
    if (vocab === null || typeof vocab !== 'object') throw new TypeError(`GPT2Tokenizer: vocab must be an object of token → id, got ${describeValue(vocab)}`);
    if (vocab instanceof Map) this.encoder = new Map(vocab);
    else {
      this.encoder = new Map();
      const keys = Object.keys(vocab); // own keys only: "__proto__" from JSON.parse is one, Object.prototype's are not
      for (let i = 0; i < keys.length; i++) this.encoder.set(keys[i]!, vocab[keys[i]!]!);
    }
    let maxId = -1;
    for (const [token, id] of this.encoder) {
      if (!Number.isInteger(id) || id < 0) throw new TypeError(`GPT2Tokenizer: vocab entry ${JSON.stringify(token)} has id ${describeValue(id)}; ids must be integers >= 0`);
      if (id > maxId) maxId = id;
    }
    this.model_max_length = config.model_max_length ?? 1024;
    this.add_prefix_space = config.add_prefix_space ?? false;
    this.add_bos_token = config.add_bos_token ?? false;
    this.clean_up_tokenization_spaces = config.clean_up_tokenization_spaces ?? true;
    this.padding_side = config.padding_side ?? 'right';
    this.truncation_side = config.truncation_side ?? 'right';
    this.errors = config.errors ?? 'replace';
    if (this.errors !== 'replace' && this.errors !== 'strict') throw new Error(`GPT2Tokenizer: errors must be "replace" or "strict", got ${describeValue(this.errors)}`);
    this.utf8 = new TextDecoder('utf-8', { fatal: this.errors === 'strict', ignoreBOM: true });

    // Added tokens: those listed in the config, then any special token missing from the vocabulary (as HF does).
    const EOT = '<|endoftext|>';
    const special = (k: 'bos_token' | 'eos_token' | 'unk_token' | 'pad_token', dflt: string | null): string | null => {
      const v = settingContent(config[k]);
      return v === undefined ? dflt : v;
    };
    this.bos_token = special('bos_token', EOT);
    this.eos_token = special('eos_token', EOT);
    this.unk_token = special('unk_token', EOT);
    this.pad_token = special('pad_token', null);
    const pendingAdded: Array<[number, AddedTokenSpec]> = [];
    for (const [idText, spec] of Object.entries(config.added_tokens_decoder ?? {})) pendingAdded.push([Number(idText), spec]);
    pendingAdded.sort((a, b) => a[0] - b[0]);
    for (const [id, spec] of pendingAdded) {
      if (!Number.isInteger(id) || id < 0) throw new TypeError(`GPT2Tokenizer: added token ${JSON.stringify(spec.content)} has a bad id ${describeValue(id)}`);
      this.addToken(id, spec);
      if (id > maxId) maxId = id;
    }
    for (const tok of [this.bos_token, this.eos_token, this.unk_token, this.pad_token]) {
      if (tok === null || this.addedByContent.has(tok)) continue;
      const id = this.encoder.get(tok) ?? maxId + 1;
      this.addToken(id, { content: tok, special: true });
      if (id > maxId) maxId = id;
    }
    for (const t of this.added) if (!t.special) this.legacyAdded.add(t.content);

    // id → token, and each id's bytes.
    this.idToToken = new Array<string | undefined>(maxId + 1);
    this.inVocab = new Uint8Array(maxId + 1);
    for (const [token, id] of this.encoder) {
      this.idToToken[id] = token;
      this.inVocab[id] = 1;
    }
    for (const t of this.added) this.idToToken[t.id] = t.content;
    this.knownId = new Uint8Array(maxId + 1);
    for (let id = 0; id <= maxId; id++) if (this.idToToken[id] !== undefined) this.knownId[id] = 1;
    let flat = new Uint8Array(1 << 20);
    let o = 0;
    this.tokenOffsets = new Int32Array(maxId + 2);
    for (let id = 0; id <= maxId; id++) {
      this.tokenOffsets[id] = o;
      const t = this.idToToken[id];
      if (t === undefined) continue;
      if (o + 4 * t.length > flat.length) {
        const bigger = new Uint8Array(flat.length * 2 + 4 * t.length);
        bigger.set(flat.subarray(0, o));
        flat = bigger;
      }
      o = writeTokenBytes(t, flat, o);
    }
    this.tokenOffsets[maxId + 1] = o;
    this.tokenBytesFlat = flat.slice(0, o);

    // BPE symbols and the merge table.
    for (let b = 0; b < 256; b++) this.byteSymbol[b] = this.symbolOf(BYTE_TO_CHAR[b]!);
    const pairs = typeof merges === 'string' ? parseMergesText(merges) : merges.map((m) => (typeof m === 'string' ? splitMergeString(m) : m));
    const left = new Int32Array(pairs.length);
    const right = new Int32Array(pairs.length);
    const result = new Int32Array(pairs.length);
    for (let r = 0; r < pairs.length; r++) {
      const [a, b] = pairs[r]!;
      left[r] = this.symbolOf(a);
      right[r] = this.symbolOf(b);
      result[r] = this.symbolOf(a + b);
    }
    this.merges = new MergeTable(left, right, result);
    for (let c = 0; c < 128; c++) {
      const sym = this.byteSymbol[c]!;
      if (sym < this.inVocab.length && this.inVocab[sym]) this.asciiWordId[c] = sym;
    }
  }

  /**
   * Builds a tokenizer from HF's fast-tokenizer file (tokenizer.json, parsed or as text): `model.vocab`,
   * `model.merges` ("a b" strings or [a, b] pairs) and `added_tokens`. `config` (tokenizer_config.json) adds
   * the special-token names and defaults.
   */
  static fromTokenizerJson(json: unknown, config: TokenizerConfig = {}): GPT2Tokenizer {
    const data = (typeof json === 'string' ? JSON.parse(json) : json) as {
      model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
      added_tokens?: Array<AddedTokenSpec & { id: number }>;
    };
    const model = data?.model;
    if (!model || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new Error('tokenizer.json: expected a BPE "model" with "vocab" and "merges"');
    }
    if (model.type !== undefined && model.type !== 'BPE') throw new Error(`tokenizer.json: model type ${JSON.stringify(model.type)} is not BPE`);
    const added: Record<string, AddedTokenSpec> = { ...(config.added_tokens_decoder ?? {}) };
    for (const t of data.added_tokens ?? []) added[String(t.id)] = t;
    return new GPT2Tokenizer(model.vocab, model.merges, { ...config, added_tokens_decoder: added });
  }

  private addToken(id: number, spec: AddedTokenSpec): void {
    const t: AddedToken = {
      id,
      content: spec.content,
      special: spec.special ?? false,
      lstrip: spec.lstrip ?? false,
      rstrip: spec.rstrip ?? false,
      single_word: spec.single_word ?? false,
    };
    if (typeof t.content !== 'string' || t.content.length === 0) throw new TypeError(`GPT2Tokenizer: added token ${id} has no content`);
    const old = this.added.findIndex((a) => a.content === t.content);
    if (old >= 0) this.added.splice(old, 1);
    this.added.push(t);
    this.addedByContent.set(t.content, t);
  }

  /** The BPE symbol id of a string: its vocab.json id, or an extra id past the end of the vocabulary. */
  private symbolOf(s: string): number {
    const id = this.encoder.get(s);
    if (id !== undefined) return id;
    let k = this.extraSymbolIndex.get(s);
    if (k === undefined) {
      k = this.extraSymbols.push(s) - 1;
      this.extraSymbolIndex.set(s, k);
    }
    return this.idToToken.length + k; // extra symbols are numbered above every id
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sizes and special tokens

  /** vocab.json's size: 50257 for GPT-2 (HF's `vocab_size`). */
  get vocab_size(): number {
    return this.encoder.size;
  }

  /** Every id this tokenizer knows: vocab.json plus added tokens (HF's `len(tokenizer)`). */
  get length(): number {
    let n = this.encoder.size;
    for (const t of this.added) if (!this.encoder.has(t.content)) n++;
    return n;
  }

  /** One past the largest valid id. */
  private get idLimit(): number {
    return this.idToToken.length;
  }

  /** HF's convert_tokens_to_ids for a special token: a token the vocabulary lacks gives unk_token's id. */
  private idOf(token: string | null): number | null {
    if (token === null) return null;
    const id = this.addedByContent.get(token)?.id ?? this.encoder.get(token);
    if (id !== undefined) return id;
    if (this.unk_token === null || this.unk_token === token) return null;
    return this.idOf(this.unk_token);
  }

  get bos_token_id(): number | null {
    return this.idOf(this.bos_token);
  }
  get eos_token_id(): number | null {
    return this.idOf(this.eos_token);
  }
  get unk_token_id(): number | null {
    return this.idOf(this.unk_token);
  }
  get pad_token_id(): number | null {
    return this.idOf(this.pad_token);
  }

  /** The special tokens' texts (bos, eos, unk, pad and added tokens marked special), without repeats. */
  get all_special_tokens(): string[] {
    const out = new Set<string>();
    for (const t of [this.bos_token, this.eos_token, this.unk_token, this.pad_token]) if (t !== null) out.add(t);
    for (const t of this.added) if (t.special) out.add(t.content);
    return [...out];
  }

  get all_special_ids(): number[] {
    return this.all_special_tokens.map((t) => this.idOf(t)!).filter((id) => id !== null);
  }

  /** A copy of the vocabulary with the added tokens: token → id. */
  get_vocab(): Map<string, number> {
    const out = new Map(this.encoder);
    for (const t of this.added) out.set(t.content, t.id);
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Encoding

  /** Byte-level token strings: tokenize("Hello world") → ["Hello", "Ġworld"]. */
  tokenize(text: string, options: Pick<EncodeOptions, 'split_special_tokens'> = {}): string[] {
    checkText(text, 'tokenize');
    return this.encodeRaw(text, options.split_special_tokens ?? false).map((id) => this.idToToken[id]!);
  }

  /** Token ids of one text (GPT-2 adds no BOS/EOS): encode("The theory") → [464, 4583]. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    checkText(text, 'encode');
    let ids = this.encodeRaw(text, options.split_special_tokens ?? false);
    if (this.add_bos_token && (options.add_special_tokens ?? true) && this.bos_token_id !== null) ids.unshift(this.bos_token_id);
    const maxLength = truncationLength(options, this.model_max_length, 'encode');
    if (maxLength !== null && ids.length > maxLength) ids = this.truncation_side === 'left' ? ids.slice(ids.length - maxLength) : ids.slice(0, maxLength);
    return ids;
  }

  /**
   * HF's `tokenizer(texts, ...)`: a batch of texts → `{input_ids, attention_mask}`, padded left or right.
   * A single string gives flat arrays. Padding needs a pad token (`tok.pad_token = tok.eos_token` for GPT-2).
   */
  call(text: string, options?: CallOptions): BatchEncoding<number[]>;
  call(texts: string[], options?: CallOptions): BatchEncoding<number[][]>;
  call(texts: string | string[], options: CallOptions = {}): BatchEncoding<number[]> | BatchEncoding<number[][]> {
    const single = typeof texts === 'string';
    if (!single && !Array.isArray(texts)) throw new TypeError(`call: texts must be a string or an array of strings, got ${describeValue(texts)}`);
    const list = single ? [texts] : texts;
    list.forEach((t, i) => checkText(t, 'call', `texts[${i}]`));
    // HF's _get_padding_truncation_strategies: max_length alone (no padding, truncation unset) truncates;
    // padding="max_length" without max_length pads to model_max_length; padding=true ignores max_length.
    const padding = options.padding ?? false;
    if (![true, false, 'longest', 'max_length', 'do_not_pad'].includes(padding)) {
      throw new TypeError(`call: padding must be true, false, "longest", "max_length" or "do_not_pad", got ${describeValue(padding)}`);
    }
    const truncation = options.truncation ?? (options.max_length !== undefined && padding === false ? true : false);
    const rows = list.map((t) => this.encode(t, { add_special_tokens: options.add_special_tokens ?? true, truncation, max_length: options.max_length ?? this.model_max_length }));
    let target = -1;
    if (padding === true || padding === 'longest') target = rows.reduce((m, r) => Math.max(m, r.length), 0); // no spread: a batch may be long
    else if (padding === 'max_length') target = options.max_length ?? this.model_max_length;
    const side = options.padding_side ?? this.padding_side;
    if (side !== 'left' && side !== 'right') throw new TypeError(`call: padding_side must be "left" or "right", got ${describeValue(side)}`);
    const input_ids: number[][] = [];
    const attention_mask: number[][] = [];
    const pad = this.pad_token_id;
    if (target >= 0 && pad === null) {
      throw new Error(
        'Asking to pad but the tokenizer does not have a padding token. Please select a token to use as `pad_token` ' +
          "`(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via `tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.",
      );
    }
    for (const ids of rows) {
      const n = Math.max(0, target - ids.length);
      const padIds = new Array<number>(n).fill(pad ?? 0);
      const zeros = new Array<number>(n).fill(0);
      const ones = new Array<number>(ids.length).fill(1);
      input_ids.push(side === 'left' ? [...padIds, ...ids] : [...ids, ...padIds]);
      attention_mask.push(side === 'left' ? [...zeros, ...ones] : [...ones, ...zeros]);
    }
    return single ? { input_ids: input_ids[0]!, attention_mask: attention_mask[0]! } : { input_ids, attention_mask };
  }

  /** Splits text on the added tokens (HF's trie: earliest match first, the longest one there). */
  private splitAdded(text: string, split: boolean): Array<{ start: number; end: number; token: AddedToken | null }> {
    const pieces: Array<{ start: number; end: number; token: AddedToken | null }> = [];
    if (split || this.added.length === 0) return [{ start: 0, end: text.length, token: null }];
    const nextAt = this.added.map((t) => text.indexOf(t.content));
    let cursor = 0;
    for (;;) {
      let best = -1;
      for (let k = 0; k < this.added.length; k++) {
        if (nextAt[k]! >= 0 && nextAt[k]! < cursor) nextAt[k] = text.indexOf(this.added[k]!.content, cursor);
        const p = nextAt[k]!;
        if (p < 0) continue;
        if (best < 0 || p < nextAt[best]! || (p === nextAt[best]! && this.added[k]!.content.length > this.added[best]!.content.length)) best = k;
      }
      if (best < 0) break;
      const at = nextAt[best]!;
      const tok = this.added[best]!;
      pieces.push({ start: cursor, end: at, token: null });
      pieces.push({ start: at, end: at + tok.content.length, token: tok });
      cursor = at + tok.content.length;
    }
    pieces.push({ start: cursor, end: text.length, token: null });
    // lstrip / rstrip: the token eats the whitespace beside it (Python's str.rstrip / str.lstrip).
    for (let k = 0; k < pieces.length; k++) {
      const tok = pieces[k]!.token;
      if (!tok) continue;
      const left = pieces[k - 1];
      const right = pieces[k + 1];
      if (tok.rstrip && right && !right.token) while (right.start < right.end && PY_SPACE.test(text[right.start]!)) right.start++;
      if (tok.lstrip && left && !left.token) while (left.end > left.start && PY_SPACE.test(text[left.end - 1]!)) left.end--;
    }
    return pieces.filter((p) => p.token !== null || p.end > p.start);
  }

  /** The ids of text, without BOS or truncation. */
  private encodeRaw(text: string, split: boolean): number[] {
    if (this.add_prefix_space) text = ` ${text}`;
    const out: number[] = [];
    for (const piece of this.splitAdded(text, split)) {
      if (piece.token) out.push(piece.token.id);
      else this.encodePiece(text, piece.start, piece.end, out);
    }
    return out;
  }

  /** Pre-tokenises text[start, end) and appends each word's BPE ids to out. The hot loop. */
  private encodePiece(text: string, start: number, end: number, out: number[]): void {
    const cache = this.cache;
    for (let i = start; i < end; ) {
      const j = nextWordEnd(text, i, end);
      const c = text.charCodeAt(i);
      if (j === i + 1 && c < 128 && this.asciiWordId[c]! >= 0) {
        out.push(this.asciiWordId[c]!); // a one-character word is its byte's token
      } else if (j - i <= CACHE_MAX_WORD) {
        const h = WordCache.hash(text, i, j);
        let slot = cache.find(text, i, j, h);
        if (slot < 0) slot = cache.add(text, i, j, h, this.bpeWord(text, i, j));
        const pool = cache.pool;
        for (let k = cache.slotStart(slot), e = k + cache.slotCount(slot); k < e; k++) out.push(pool[k]!);
      } else {
        const ids = this.bpeWord(text, i, j);
        for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
      }
      i = j;
    }
  }

  /** UTF-8 bytes of text[i, j) as BPE symbols in this.scratch; returns their count. */
  private wordSymbols(text: string, i: number, j: number): number {
    if (this.scratch.length < (j - i) * 3) this.scratch = new Int32Array((j - i) * 3 + 16);
    const sym = this.scratch;
    const bs = this.byteSymbol;
    let n = 0;
    for (let k = i; k < j; k++) {
      let cp = text.charCodeAt(k);
      if (cp < 0x80) {
        sym[n++] = bs[cp]!;
        continue;
      }
      if (cp >= 0xd800 && cp <= 0xdbff && k + 1 < j) {
        const lo = text.charCodeAt(k + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          k++;
        }
      }
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate has no UTF-8: U+FFFD, like TextEncoder
      if (cp < 0x800) {
        sym[n++] = bs[0xc0 | (cp >> 6)]!;
      } else if (cp < 0x10000) {
        sym[n++] = bs[0xe0 | (cp >> 12)]!;
        sym[n++] = bs[0x80 | ((cp >> 6) & 63)]!;
      } else {
        sym[n++] = bs[0xf0 | (cp >> 18)]!;
        sym[n++] = bs[0x80 | ((cp >> 12) & 63)]!;
        sym[n++] = bs[0x80 | ((cp >> 6) & 63)]!;
      }
      sym[n++] = bs[0x80 | (cp & 63)]!;
    }
    return n;
  }

  /** BPE of one word → its symbols (vocabulary ids, or extra ids for strings vocab.json lacks). */
  private bpeSymbols(text: string, i: number, j: number): Int32Array {
    const count = this.wordSymbols(text, i, j); // may grow this.scratch: read it after
    const n = bpeMerge(this.merges, this.scratch, count);
    return this.scratch.slice(0, n);
  }

  /** BPE of one word → its ids (HF: a merged string missing from vocab.json becomes unk_token's id). */
  private bpeWord(text: string, i: number, j: number): Int32Array {
    const ids = this.bpeSymbols(text, i, j);
    for (let k = 0; k < ids.length; k++) {
      const s = ids[k]!;
      if (s < this.inVocab.length && this.inVocab[s]) continue;
      const unk = this.unk_token_id;
      if (unk === null) throw new Error(`encode: BPE produced ${JSON.stringify(this.symbolString(s))}, which is not in the vocabulary, and there is no unk_token`);
      ids[k] = unk;
    }
    return ids;
  }

  private symbolString(s: number): string {
    return s < this.idToToken.length ? this.idToToken[s]! : this.extraSymbols[s - this.idToToken.length]!;
  }

  /** Forgets the per-word cache (it holds at most 262,144 words). */
  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Every token with its bytes and its span in the input (UTF-16 code units; see TokenSpan). The ids equal
   * encode(text)'s. With add_prefix_space the added space belongs to no input character: spans are clamped at 0.
   */
  encodeWithOffsets(text: string, options: Pick<EncodeOptions, 'split_special_tokens'> = {}): TokenSpan[] {
    checkText(text, 'encodeWithOffsets');
    const shift = this.add_prefix_space ? 1 : 0;
    const full = shift ? ` ${text}` : text;
    const out: TokenSpan[] = [];
    const span = (id: number, start: number, end: number): void => {
      const bytes = Array.from(this.tokenBytes(id));
      out.push({ id, text: this.decodeBytes(Uint8Array.from(bytes)), bytes, start: Math.max(0, start - shift), end: Math.max(0, end - shift) });
    };
    for (const piece of this.splitAdded(full, options.split_special_tokens ?? false)) {
      if (piece.token) {
        span(piece.token.id, piece.start, piece.end);
        continue;
      }
      for (let i = piece.start; i < piece.end; ) {
        const j = nextWordEnd(full, i, piece.end);
        // For each UTF-8 byte of the word: the UTF-16 span of the character it belongs to.
        const charStart: number[] = [];
        const charEnd: number[] = [];
        for (let k = i; k < j; ) {
          const cp = full.codePointAt(k)!;
          const w = cp > 0xffff ? 2 : 1;
          const nBytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
          for (let b = 0; b < nBytes; b++) {
            charStart.push(k);
            charEnd.push(k + w);
          }
          k += w;
        }
        const symbols = this.bpeSymbols(full, i, j);
        const ids = this.bpeWord(full, i, j);
        let b = 0;
        symbols.forEach((s, k) => {
          const len = s < this.idLimit ? this.tokenOffsets[s + 1]! - this.tokenOffsets[s]! : tokenStringToBytes(this.symbolString(s)).length;
          span(ids[k]!, charStart[b]!, charEnd[b + len - 1]!);
          b += len;
        });
        i = j;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Ids ↔ tokens

  /** Byte-level token strings of ids (HF): convert_ids_to_tokens([464, 4583]) → ["The", "Ġtheory"]. */
  convert_ids_to_tokens(id: number, skip_special_tokens?: boolean): string;
  convert_ids_to_tokens(ids: ArrayLike<number>, skip_special_tokens?: boolean): string[];
  convert_ids_to_tokens(ids: number | ArrayLike<number>, skip_special_tokens = false): string | string[] {
    if (typeof ids === 'number') return this.idToToken[checkId(ids, -1, this.idLimit, 'convert_ids_to_tokens')]!;
    const list = this.checkedIds(ids, 'convert_ids_to_tokens');
    const special = skip_special_tokens ? new Set(this.all_special_ids) : null;
    const out: string[] = [];
    for (let i = 0; i < list.length; i++) if (!special?.has(list[i]!)) out.push(this.idToToken[list[i]!]!);
    return out;
  }

  /** Ids of byte-level token strings (HF): an unknown token gives unk_token's id (50256 for GPT-2). */
  convert_tokens_to_ids(token: string): number | null;
  convert_tokens_to_ids(tokens: readonly string[]): Array<number | null>;
  convert_tokens_to_ids(tokens: string | readonly string[]): number | null | Array<number | null> {
    const one = (t: unknown, i: number): number | null => {
      checkText(t, 'convert_tokens_to_ids', i >= 0 ? `tokens[${i}]` : 'token');
      return this.addedByContent.get(t)?.id ?? this.encoder.get(t) ?? this.unk_token_id;
    };
    if (typeof tokens === 'string') return one(tokens, -1);
    if (!Array.isArray(tokens)) throw new TypeError(`convert_tokens_to_ids: tokens must be a string or an array of strings, got ${describeValue(tokens)}`);
    return tokens.map((t, i) => one(t, i));
  }

  /** Joins byte-level tokens and decodes their bytes as UTF-8: ["The", "Ġtheory"] → "The theory". */
  convert_tokens_to_string(tokens: readonly string[]): string {
    const bytes: number[] = [];
    tokens.forEach((t, i) => {
      checkText(t, 'convert_tokens_to_string', `tokens[${i}]`);
      for (const b of tokenStringToBytes(t)) bytes.push(b);
    });
    return this.decodeBytes(Uint8Array.from(bytes));
  }

  /** The UTF-8 bytes one id stands for (a view; do not modify). */
  tokenBytes(id: number): Uint8Array {
    checkId(id, -1, this.idLimit, 'tokenBytes');
    return this.tokenBytesFlat.subarray(this.tokenOffsets[id]!, this.tokenOffsets[id + 1]!);
  }

  private checkedIds(ids: unknown, method: string): ArrayLike<number> {
    const list = checkIds(ids, this.idLimit, method);
    for (let i = 0; i < list.length; i++) {
      if (this.idToToken[list[i]!] === undefined) throw new RangeError(`${method}: token id ${list[i]} at index ${i} is not in the vocabulary`);
    }
    return list;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Decoding

  /** Bytes → text, UTF-8 with errors="replace" (one U+FFFD per invalid sequence, as Python does) or "strict". */
  decodeBytes(bytes: Uint8Array): string {
    try {
      return this.utf8.decode(bytes);
    } catch (err) {
      throw new Error(`decode: the tokens' bytes are not valid UTF-8 and errors="strict" (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }

  /**
   * HF's decode: ids → text. decode([464, 4583, 286]) → "The theory of". With skip_special_tokens the
   * special ids (50256) are dropped; clean_up_tokenization_spaces (default true) applies cleanUpTokenization.
   */
  decode(ids: ArrayLike<number> | number, options: DecodeOptions = {}): string {
    if (typeof ids === 'number') ids = [ids]; // HF accepts a lone id too
    const skip = options.skip_special_tokens ?? false;
    let text: string | null = null;
    if (this.legacyAdded.size === 0) text = this.decodeFast(ids, skip);
    if (text === null) text = this.decodeChecked(ids, skip, options);
    return (options.clean_up_tokenization_spaces ?? this.clean_up_tokenization_spaces) ? cleanUpTokenization(text) : text;
  }

  /**
   * The usual case in one pass: copy each id's bytes into a reusable buffer, then one UTF-8 decode. Returns null
   * when some id is not a valid one (decodeChecked then throws the precise error).
   */
  private decodeFast(ids: ArrayLike<number>, skip: boolean): string | null {
    if (!Array.isArray(ids) && !(ids instanceof Int32Array) && !(ids instanceof Uint32Array)) return null;
    const flat = this.tokenBytesFlat;
    const offsets = this.tokenOffsets;
    const known = this.knownId;
    const special = skip ? this.specialMask() : null;
    let buf = this.decodeBuffer;
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (typeof id !== 'number' || known[id] !== 1) return null; // also catches 1.5, NaN, -1, 50257
      if (special !== null && special[id] === 1) continue;
      const a = offsets[id]!;
      const b = offsets[id + 1]!;
      if (o + (b - a) > buf.length) {
        const bigger = new Uint8Array(Math.max(buf.length * 2, o + (b - a)));
        bigger.set(buf.subarray(0, o));
        buf = bigger;
      }
      for (let k = a; k < b; k++) buf[o++] = flat[k]!;
    }
    if (buf.length <= 1 << 24) this.decodeBuffer = buf; // keep a buffer of up to 16 MB for the next call
    return this.decodeBytes(buf.subarray(0, o));
  }

  private specialMask(): Uint8Array {
    const mask = new Uint8Array(this.idLimit);
    for (const id of this.all_special_ids) mask[id] = 1;
    return mask;
  }

  /** decode with every id checked first (precise errors) and HF's handling of added, non-special tokens. */
  private decodeChecked(ids: ArrayLike<number>, skip: boolean, options: DecodeOptions): string {
    const list = this.checkedIds(ids, 'decode');
    const special = skip ? new Set(this.all_special_ids) : null;
    let text: string;
    if (this.legacyAdded.size === 0) {
      text = this.decodeBytes(this.bytesOf(Array.from(list).filter((id) => !special?.has(id))));
    } else {
      // HF: added tokens that are not special stay as they are, and the pieces are joined with spaces.
      const subTexts: string[] = [];
      let current: number[] = [];
      const flush = (keepEmpty: boolean): void => {
        if (current.length === 0) return;
        const s = this.decodeBytes(this.bytesOf(current));
        if (keepEmpty || s.length > 0) subTexts.push(s);
        current = [];
      };
      for (let i = 0; i < list.length; i++) {
        const id = list[i]!;
        if (special?.has(id)) continue;
        const tok = this.idToToken[id]!;
        if (this.legacyAdded.has(tok)) {
          flush(false);
          subTexts.push(tok);
        } else current.push(id);
      }
      flush(true);
      text = subTexts.join((options.spaces_between_special_tokens ?? true) ? ' ' : '');
    }
    return text;
  }

  /** decode() for each row. */
  batch_decode(sequences: ReadonlyArray<ArrayLike<number>>, options: DecodeOptions = {}): string[] {
    if (!Array.isArray(sequences)) throw new TypeError(`batch_decode: sequences must be an array of id arrays, got ${describeValue(sequences)}`);
    return sequences.map((s) => this.decode(s, options));
  }

  private bytesOf(ids: readonly number[]): Uint8Array {
    const parts = ids.map((id) => this.tokenBytesFlat.subarray(this.tokenOffsets[id]!, this.tokenOffsets[id + 1]!));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** A decoder for ids arriving one at a time: text comes out only once its UTF-8 is complete. */
  createStreamDecoder(options: StreamingDecoderOptions = {}): StreamingDecoder {
    return new StreamingDecoder((id) => this.tokenBytes(id), new Set(this.all_special_ids), options);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Browsing the vocabulary

  /**
   * Vocabulary entries whose text (" the") or byte-level form ("Ġthe") contains `pattern` (a string, matched
   * case-sensitively) or matches it (a RegExp), in id order; at most `limit` (default: all).
   */
  searchVocab(pattern: string | RegExp, options: { limit?: number } = {}): VocabEntry[] {
    let test: (s: string) => boolean;
    if (typeof pattern === 'string') test = (s) => s.includes(pattern);
    else if (pattern instanceof RegExp) {
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      test = (s) => re.test(s);
    } else throw new TypeError(`searchVocab: pattern must be a string or a RegExp, got ${describeValue(pattern)}`);
    const limit = options.limit ?? Infinity;
    const out: VocabEntry[] = [];
    for (let id = 0; id < this.idToToken.length && out.length < limit; id++) {
      const token = this.idToToken[id];
      if (token === undefined) continue;
      const text = this.utf8Replace(this.tokenBytesFlat.subarray(this.tokenOffsets[id]!, this.tokenOffsets[id + 1]!));
      if (test(text) || test(token)) out.push({ id, token, text });
    }
    return out;
  }

  private utf8Replace(bytes: Uint8Array): string {
    return this.errors === 'replace' ? this.utf8.decode(bytes) : new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  }

  /** The byte-level string of a text (what BPE sees): "Hello world" → "HelloĠworld". */
  static byteLevel(text: string): string {
    return bytesToTokenString(new TextEncoder().encode(text));
  }
}

function truncationLength(options: EncodeOptions, modelMax: number, method: string): number | null {
  const t = options.truncation;
  const on = t === true || t === 'longest_first' || t === 'only_first' || (t === undefined && options.max_length !== undefined);
  if (!on) return null;
  const max = options.max_length ?? modelMax;
  if (!Number.isInteger(max) || max < 0) throw new TypeError(`${method}: max_length must be an integer >= 0, got ${describeValue(max)}`);
  return max;
}
