// The tokenizer's option and result types, named after HF's arguments (tokenizer_config.json fields, encode and
// decode keyword arguments).

/** An added token as HF describes it (tokenizer_config.json's `added_tokens_decoder`, tokenizer.json's `added_tokens`). */
export interface AddedTokenSpec {
  content: string;
  /** special tokens are skipped by decode(..., {skip_special_tokens: true}) */
  special?: boolean;
  /** eat the whitespace on the token's left / right when encoding */
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

/** A special-token setting: the token's text, HF's AddedToken-like object, or null for "none". */
export type SpecialTokenSetting = string | { content: string } | null;

/** The tokenizer_config.json fields this tokenizer understands (others are ignored). */
export interface TokenizerConfig {
  /** default 1024 for GPT-2's files; used by truncation=true and padding="max_length" without max_length */
  model_max_length?: number;
  /** prepend a space to the text before tokenising (default false) */
  add_prefix_space?: boolean;
  /** put bos_token before the ids (default false) */
  add_bos_token?: boolean;
  /** decode's default for clean_up_tokenization_spaces (default true in transformers 4.43.4) */
  clean_up_tokenization_spaces?: boolean;
  bos_token?: SpecialTokenSetting;
  eos_token?: SpecialTokenSetting;
  unk_token?: SpecialTokenSetting;
  pad_token?: SpecialTokenSetting;
  padding_side?: 'left' | 'right';
  truncation_side?: 'left' | 'right';
  /** id → added token (as tokenizer_config.json writes it) */
  added_tokens_decoder?: Record<string, AddedTokenSpec>;
  /** how decode treats invalid UTF-8: "replace" (U+FFFD, the default) or "strict" (throw) */
  errors?: 'replace' | 'strict';
  [key: string]: unknown;
}

export interface EncodeOptions {
  /** GPT-2 adds no special tokens unless add_bos_token is set; default true */
  add_special_tokens?: boolean;
  /** treat added tokens' text (`<|endoftext|>`) as ordinary text (default false) */
  split_special_tokens?: boolean;
  /** truncate to max_length (see CallOptions) */
  truncation?: boolean | 'longest_first' | 'only_first' | 'do_not_truncate';
  max_length?: number;
}

export interface DecodeOptions {
  /** drop special tokens (<|endoftext|>); default false */
  skip_special_tokens?: boolean;
  /** " ." → ".", " n't" → "n't", ...; default: the tokenizer's setting (true for GPT-2) */
  clean_up_tokenization_spaces?: boolean;
  /** HF joins added, non-special tokens to their neighbours with a space; default true */
  spaces_between_special_tokens?: boolean;
}

export interface CallOptions {
  /** true or "longest": pad to the longest text; "max_length": pad to max_length; false (default): no padding */
  padding?: boolean | 'longest' | 'max_length' | 'do_not_pad';
  /** where padding goes; default the tokenizer's padding_side ("right") */
  padding_side?: 'left' | 'right';
  /** cut each text's ids to max_length (true = "longest_first"); when omitted, a given max_length truncates (HF) */
  truncation?: boolean | 'longest_first' | 'only_first' | 'do_not_truncate';
  max_length?: number;
  add_special_tokens?: boolean;
}

/** The call form's result: one row per text (flat arrays for a single string). */
export interface BatchEncoding<T> {
  input_ids: T;
  attention_mask: T;
}

/**
 * One token with where it came from. `start`/`end` count UTF-16 code units of the input string (what JS string
 * indices, `slice` and DOM ranges use). A token that holds only part of a character (an emoji split into two
 * tokens) gets the whole character's span, so neighbouring tokens may share a character; `bytes` says exactly which
 * of its UTF-8 bytes the token holds, and `text` is `decode([id])`, with U+FFFD for an incomplete character.
 */
export interface TokenSpan {
  id: number;
  /** the token's own text: its bytes decoded as UTF-8 with errors="replace" */
  text: string;
  /** the UTF-8 bytes the token stands for */
  bytes: number[];
  /** UTF-16 offsets into the input: input.slice(start, end) is the text the token covers */
  start: number;
  end: number;
}

/** A vocabulary entry found by searchVocab. */
export interface VocabEntry {
  id: number;
  /** the byte-level form stored in vocab.json ("Ġthe") */
  token: string;
  /** what it stands for (" the"), UTF-8 decoded with U+FFFD for a partial character */
  text: string;
}
