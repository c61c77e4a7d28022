// GPT2Config from a config.json object, with Hugging Face's defaults for missing fields
// (transformers 4.43.4, models/gpt2/configuration_gpt2.py and PretrainedConfig), and a clear error for the
// settings this implementation does not support.
import type { GPT2Config } from './types.js';

/** HF's GPT2Config() defaults: the 124M model `openai-community/gpt2`. */
export const GPT2_DEFAULTS: Readonly<GPT2Config> = Object.freeze({
  model_type: 'gpt2',
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  embd_pdrop: 0.1,
  attn_pdrop: 0.1,
  resid_pdrop: 0.1,
  scale_attn_weights: true,
  tie_word_embeddings: true,
  bos_token_id: 50256,
  eos_token_id: 50256,
  use_cache: true,
});

/** A config.json we cannot run faithfully; the message names the field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveInt(raw: Record<string, unknown>, field: keyof GPT2Config, fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.json: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(raw: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`config.json: ${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function probability(raw: Record<string, unknown>, field: 'embd_pdrop' | 'attn_pdrop' | 'resid_pdrop'): number {
  const v = raw[field] ?? GPT2_DEFAULTS[field];
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(`config.json: ${field} must be a probability between 0 and 1, got ${JSON.stringify(v)}`);
  return v;
}

function tokenId(raw: Record<string, unknown>, field: 'bos_token_id' | 'eos_token_id', fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ConfigError(`config.json: ${field} must be a token id (a non-negative integer), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Settings that change the math in ways gpt2-lens does not implement: field → the only accepted value. */
const UNSUPPORTED: Array<[field: string, accepted: unknown, why: string]> = [
  ['add_cross_attention', false, 'cross-attention (encoder-decoder use) is not implemented'],
  ['scale_attn_by_inverse_layer_idx', false, 'scaling attention by 1/(layer_idx+1) is not implemented'],
  ['reorder_and_upcast_attn', false, 'the reordered, upcast attention of Mistral/Stanford GPT-2 is not implemented'],
  ['is_encoder_decoder', false, 'encoder-decoder models are not GPT-2'],
];

/**
 * Reads a config.json object (already parsed) into a GPT2Config, filling HF's defaults for missing fields.
 * Throws a ConfigError naming the field for anything unsupported or malformed.
 */
export function parseConfig(json: unknown): GPT2Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`config.json must hold a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type ?? 'gpt2';
  if (modelType !== 'gpt2') {
    throw new ConfigError(`config.json: model_type "${String(modelType)}" is not supported (gpt2-lens runs model_type "gpt2" only)`);
  }
  const act = raw.activation_function ?? GPT2_DEFAULTS.activation_function;
  if (act !== 'gelu_new') {
    throw new ConfigError(`config.json: activation_function "${String(act)}" is not supported (gpt2-lens implements "gelu_new", GPT-2's tanh GELU)`);
  }
  for (const [field, accepted, why] of UNSUPPORTED) {
    if (raw[field] !== undefined && raw[field] !== null && raw[field] !== accepted) {
      throw new ConfigError(`config.json: ${field} ${JSON.stringify(raw[field])} is not supported (${why})`);
    }
  }
  const pruned = raw.pruned_heads;
  if (pruned !== undefined && pruned !== null && (typeof pruned !== 'object' || Object.keys(pruned).length > 0)) {
    throw new ConfigError('config.json: pruned_heads is not supported (every layer must have n_head heads)');
  }

  const n_embd = positiveInt(raw, 'n_embd', GPT2_DEFAULTS.n_embd);
  const n_head = positiveInt(raw, 'n_head', GPT2_DEFAULTS.n_head);
  if (n_embd % n_head !== 0) {
    throw new ConfigError(`config.json: n_embd ${n_embd} is not divisible by n_head ${n_head}`);
  }
  const innerRaw = raw.n_inner ?? null;
  if (innerRaw !== null && (typeof innerRaw !== 'number' || !Number.isInteger(innerRaw) || innerRaw <= 0)) {
    throw new ConfigError(`config.json: n_inner must be null or a positive integer, got ${JSON.stringify(innerRaw)}`);
  }
  const eps = raw.layer_norm_epsilon ?? GPT2_DEFAULTS.layer_norm_epsilon;
  if (typeof eps !== 'number' || !(eps > 0)) {
    throw new ConfigError(`config.json: layer_norm_epsilon must be a positive number, got ${JSON.stringify(eps)}`);
  }

  return {
    model_type: 'gpt2',
    vocab_size: positiveInt(raw, 'vocab_size', GPT2_DEFAULTS.vocab_size),
    n_positions: positiveInt(raw, 'n_positions', GPT2_DEFAULTS.n_positions),
    n_embd,
    n_layer: positiveInt(raw, 'n_layer', GPT2_DEFAULTS.n_layer),
    n_head,
    n_inner: innerRaw as number | null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: eps,
    embd_pdrop: probability(raw, 'embd_pdrop'),
    attn_pdrop: probability(raw, 'attn_pdrop'),
    resid_pdrop: probability(raw, 'resid_pdrop'),
    scale_attn_weights: bool(raw, 'scale_attn_weights', GPT2_DEFAULTS.scale_attn_weights),
    tie_word_embeddings: bool(raw, 'tie_word_embeddings', GPT2_DEFAULTS.tie_word_embeddings),
    bos_token_id: tokenId(raw, 'bos_token_id', GPT2_DEFAULTS.bos_token_id),
    eos_token_id: tokenId(raw, 'eos_token_id', GPT2_DEFAULTS.eos_token_id),
    use_cache: bool(raw, 'use_cache', GPT2_DEFAULTS.use_cache),
  };
}

/** The MLP's hidden width: n_inner, or 4 * n_embd when n_inner is null (HF's rule). */
export function innerDim(config: GPT2Config): number {
  return config.n_inner ?? 4 * config.n_embd;
}

/** Width of one attention head: n_embd / n_head. */
export function headDim(config: GPT2Config): number {
  return config.n_embd / config.n_head;
}
