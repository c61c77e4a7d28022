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
