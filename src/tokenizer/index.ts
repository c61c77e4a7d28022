// The tokenizer's public API (browser-safe). Node's file loaders are in ./node.ts.
export { GPT2Tokenizer, cleanUpTokenization, parseMergesText } from './gpt2-tokenizer.js';
export type { AddedTokenSpec, SpecialTokenSetting, TokenizerConfig, EncodeOptions, DecodeOptions, CallOptions, BatchEncoding, TokenSpan, VocabEntry } from './gpt2-tokenizer.js';
export { StreamingDecoder } from './streaming.js';
export type { StreamingDecoderOptions } from './streaming.js';
export { GPT2_PATTERN, preTokenize } from './pretokenize.js';
export { BYTE_TO_CHAR, bytesToTokenString, tokenStringToBytes } from './bytes.js';
