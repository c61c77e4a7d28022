// The tokenizer's public API (browser-safe). Node's file loaders are in ./node.ts.
export { GPT2Tokenizer } from './gpt2-tokenizer.js';
export { cleanUpTokenization } from './clean-up.js';
export { parseMergesText, MergesError } from './merges.js';
export type { AddedTokenSpec, SpecialTokenSetting, TokenizerConfig, EncodeOptions, DecodeOptions, CallOptions, BatchEncoding, TokenSpan, VocabEntry } from './types.js';
export { StreamingDecoder } from './streaming.js';
export type { StreamingDecoderOptions } from './streaming.js';
export { GPT2_PATTERN, preTokenize } from './pretokenize.js';
export { BYTE_TO_CHAR, bytesToTokenString, tokenStringToBytes } from './bytes.js';
