// gpt2-lens: the browser-safe core (tokenizer, model, generation). Node-only adapters (files, the Hub cache,
// threads) are exported from 'gpt2-lens/node'.
export type { Tensor, GPT2Config, GPT2Weights, GPT2BlockWeights, Conv1DWeights, LayerNormWeights } from './model/types.js';
export * from './tokenizer/index.js';
export * from './model/index.js';
export * from './generation/index.js';
export * from './engine/index.js';
export * from './interp/index.js';
