// The shapes every part of gpt2-lens agrees on: tensors, the config, the weights, and what a forward pass
// takes and returns. Names and meanings follow Hugging Face transformers' GPT-2 (models/gpt2/modeling_gpt2.py).

/** A dense row-major float32 tensor, as HF's torch tensors are, e.g. logits `dims: [B, T, vocab_size]`. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** GPT2Config, as read from config.json (HF's defaults fill missing fields). */
export interface GPT2Config {
  model_type: 'gpt2';
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** MLP width; null means 4 * n_embd. */
  n_inner: number | null;
  activation_function: 'gelu_new';
  layer_norm_epsilon: number;
  /** dropout probabilities (HF's nn.Dropout p). Inference never drops; they matter to `print(model)` only. */
  embd_pdrop: number;
  attn_pdrop: number;
  resid_pdrop: number;
  scale_attn_weights: boolean;
  tie_word_embeddings: boolean;
  bos_token_id: number;
  eos_token_id: number;
  use_cache: boolean;
}

/** A LayerNorm's gain and bias, each [n_embd]. */
export interface LayerNormWeights {
  weight: Float32Array;
  bias: Float32Array;
}

/** A Conv1D layer: `y = x @ weight + bias`. Unlike torch.nn.Linear, weight is stored [in, out]. */
export interface Conv1DWeights {
  weight: Float32Array;
  bias: Float32Array;
  nx: number; // in features
  nf: number; // out features
}

/** One transformer block `h.{i}`, named as in the checkpoint. */
export interface GPT2BlockWeights {
  ln_1: LayerNormWeights;
  attn: { c_attn: Conv1DWeights; c_proj: Conv1DWeights }; // c_attn: [C, 3C], columns [q | k | v]
  ln_2: LayerNormWeights;
  mlp: { c_fc: Conv1DWeights; c_proj: Conv1DWeights }; // c_fc: [C, n_inner], c_proj: [n_inner, C]
}

/** All of GPT-2's weights, as float32, named as in the Hub's model.safetensors. */
export interface GPT2Weights {
  wte: Float32Array; // [vocab_size, n_embd], also the tied LM head
  wpe: Float32Array; // [n_positions, n_embd]
  h: GPT2BlockWeights[];
  ln_f: LayerNormWeights;
  /** [vocab_size, n_embd]; only when the checkpoint has an explicit, untied lm_head.weight. */
  lm_head?: Float32Array;
}

// ---- What a forward pass takes and returns (HF's argument and output names) ----

/** A KV cache ("past_key_values"); the class lives in kv-cache.ts. */
export type { KVCache } from './kv-cache.js';
import type { KVCache } from './kv-cache.js';
import type { ForwardHooks } from './hooks.js';

/** `model.forward(...)`'s arguments, as HF's GPT2Model / GPT2LMHeadModel forward takes them. */
export interface ForwardInputs {
  /** token ids [B, T] (the new tokens only when past_key_values is given) */
  input_ids: number[][];
  /** [B, T_past + T] of 1 (attend) / 0 (padding); covers the cached positions too, as in HF. Default: all ones. */
  attention_mask?: number[][];
  /** [B, T]; default arange(T_past, T_past + T) for every row, whatever the mask says (HF). */
  position_ids?: number[][];
  /** a cache from an earlier call; it is extended in place and returned as past_key_values */
  past_key_values?: KVCache | null;
  /**
   * when this call makes a new cache (no past_key_values, use_cache on): room for this many positions, at most
   * n_positions (default: this call's positions + 64; a cache grows by doubling, copying what it holds). generate()
   * passes the prompt + max_new_tokens, so a decode loop never pays a growth (nor its engine mirror one).
   */
  cache_capacity?: number;
  /** return past_key_values (default config.use_cache, true) */
  use_cache?: boolean;
  /** return n_layer + 1 hidden states, [B, T, n_embd] each: the embeddings, each block's output, and ln_f's */
  output_hidden_states?: boolean;
  /** return n_layer attention probabilities, [B, n_head, T, T_past + T] each */
  output_attentions?: boolean;
  /** GPT2LMHeadModel: compute logits for the last N positions only (0 = all, the default) */
  num_logits_to_keep?: number;
  /**
   * GPT2LMHeadModel: an array of at least B × (num_logits_to_keep or T) × vocab_size floats to write the logits
   * into; `logits.data` is then a view of its start (`logits_buffer.subarray(0, n)`), overwritten by the next call
   * given the same array. A decode loop (generate()) passes one array every step instead of getting a fresh
   * 200 KB a row each time; copy what you keep. Default: a new array per call.
   */
  logits_buffer?: Float32Array;
  /** TransformerLens hook names (e.g. 'blocks.0.mlp.hook_post') whose activations are returned in `cache` */
  capture?: readonly string[] | ((name: string) => boolean);
  /**
   * write hooks, TransformerLens's run_with_hooks: hook name → (value, ctx) => replacement | void, run where the
   * activation is made; what a hook returns (same dims) or leaves in `value.data` flows on (docs/interventions.md)
   */
  hooks?: ForwardHooks;
}

/** GPT2Model's output. */
export interface BaseModelOutput {
  /** [B, T, n_embd], after ln_f */
  last_hidden_state: Tensor;
  past_key_values?: KVCache;
  hidden_states?: Tensor[];
  attentions?: Tensor[];
  /** captured activations by TransformerLens name (only with `capture`) */
  cache?: Map<string, Tensor>;
}

/** GPT2LMHeadModel's output. */
export interface CausalLMOutput {
  /** [B, T, vocab_size], or [B, num_logits_to_keep, vocab_size] */
  logits: Tensor;
  past_key_values?: KVCache;
  hidden_states?: Tensor[];
  attentions?: Tensor[];
  cache?: Map<string, Tensor>;
}
