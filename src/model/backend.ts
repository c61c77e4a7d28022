// The seam between a model (weights + config) and the code that does the arithmetic. The reference backend
// (reference-backend.ts) is plain readable TypeScript; a faster one (WASM, threads) implements the same
// interface and must give the same numbers within float32 tolerance.
import type { ForwardHooks } from './hooks.js';
import type { GPT2Config, GPT2Weights, KVCache, Tensor } from './types.js';
import type { RowStats } from './row-stats.js';

/** One forward pass, with every argument already checked and defaulted by the model. */
export interface BackendRequest {
  /** [B, T] token ids, each < vocab_size */
  input_ids: number[][];
  /** [B, T_past + T] (1 = attend, 0 = padding), or null for all ones */
  attention_mask: number[][] | null;
  /** [B, T], each < n_positions */
  position_ids: number[][];
  /**
   * The cache to read the past from and to extend: the backend writes each layer's new keys/values
   * (`cache.write`) and calls `cache.advance(T)` once at the end. null: no past and no cache wanted.
   */
  cache: KVCache | null;
  output_hidden_states: boolean;
  output_attentions: boolean;
  /** which TransformerLens hook names to capture, or null for none */
  capture: ((name: string) => boolean) | null;
  /**
   * write hooks by TransformerLens hook name (checked), or null. A backend that cannot run one of them in flight
   * must hand the request to the reference backend (gpt2Forward), never ignore it.
   */
  hooks?: ForwardHooks | null;
  /** compute the LM head (tied to wte, or lm_head when untied) */
  lm_head: boolean;
  /** with lm_head: logits for the last N positions of each row only (0 = all) */
  num_logits_to_keep: number;
  /**
   * with lm_head: the caller's array (checked to hold at least B × kept positions × vocab_size floats) to write
   * the logits into, so that a decode loop reuses one array instead of a fresh one a step (ForwardInputs
   * .logits_buffer). A backend may ignore it and return a new array; the model then copies the logits into it.
   */
  logits_out?: Float32Array | null;
}

export interface BackendResult {
  /** [B, T, n_embd], after ln_f */
  last_hidden_state: Tensor;
  /** [B, T or num_logits_to_keep, vocab_size], when lm_head was requested (a view of logits_out when the backend used it) */
  logits?: Tensor;
  /** n_layer + 1 tensors [B, T, n_embd] (the last is ln_f's output) */
  hidden_states?: Tensor[];
  /** n_layer tensors [B, n_head, T, T_past + T] */
  attentions?: Tensor[];
  /** captured activations, by TransformerLens hook name */
  cache?: Map<string, Tensor>;
}

export interface ForwardBackend {
  /** shown by benchmarks and the CLI, e.g. "reference (TypeScript)" */
  readonly name: string;
  /** threads the backend computes with (1 for the reference) */
  readonly threads: number;
  /** Runs the network. May return a Promise (a threaded backend); the reference backend returns synchronously. */
  forward(config: GPT2Config, weights: GPT2Weights, request: BackendRequest): BackendResult | Promise<BackendResult>;
  /**
   * Optional: the end of the network on rows taken from anywhere: ln_f, then the LM head (lm_head, or wte when tied).
   * hidden [rows, n_embd] -> logits [rows, vocab_size]. The logit lens decodes every layer's residual stream with it;
   * without it, the lens uses the reference backend's.
   */
  unembed?(config: GPT2Config, weights: GPT2Weights, hidden: Float32Array, rows: number): Float32Array | Promise<Float32Array>;
  /**
   * Optional: RowStats (row-stats.ts: max, log-sum-exp, argmax, non-finite check) of `rows` logits rows of `n`,
   * numbers as rowStatsReference's: max, argmax and bad exactly, lse within 2e-7 (the engine's exp is float32, so
   * a float32 log-probability may move by an ulp). generate() asks for them every step; without it, the model uses
   * rowStatsReference.
   */
  rowStats?(data: Float32Array, rows: number, n: number, out: RowStats): void;
}
