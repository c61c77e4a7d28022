// The logit lens (nostalgebraist, 2020): read the residual stream after every layer as if it were the last,
// by applying the final LayerNorm and the tied unembedding: logits_ℓ = ln_f(resid_ℓ) @ wteᵀ.
// Layer 0 is the embeddings (blocks.0.hook_resid_pre); the last is the output of the last block, whose lens
// logits are exactly the model's logits.
import { unembed } from './gpt2.js';
import type { GPT2LMHeadModel, GPT2Model } from './model.js';
import { logSumExp, topK } from './topk.js';

export interface LogitLensOptions {
  /** tokens to keep per layer and position (default 5) */
  topk?: number;
  /** positions to read (default all); the last position alone is `[T - 1]` */
  positions?: number[];
}

export interface LensTopK {
  ids: number[];
  logits: number[];
  /** softmax over the whole vocabulary */
  probs: number[];
}

export interface LogitLensResult {
  /** the residual streams read: blocks.0.hook_resid_pre (the embeddings), blocks.{i}.hook_resid_post for every block */
  layers: string[];
  positions: number[];
  /** top[layer][batch row][k-th entry of positions] */
  top: LensTopK[][][];
}

export interface LensInputs {
  input_ids: number[][];
  attention_mask?: number[][];
  position_ids?: number[][];
}

/** Rows unembedded at once: the logits of a chunk are at most ~16 MB of floats, whatever T and the number of layers. */
const CHUNK_FLOATS = 2 ** 22;

/**
 * Runs the model once, capturing every layer's residual stream, and decodes each with ln_f + the LM head:
 * `model.backend.unembed` when the backend has one (the WASM engine), else the reference code (gpt2.ts: unembed).
 * Rows (layer, batch row, position) go through in chunks, and only their top-k is kept.
 */
export async function logitLens(model: GPT2Model | GPT2LMHeadModel, inputs: LensInputs, options: LogitLensOptions = {}): Promise<LogitLensResult> {
  const { config, weights, backend } = model;
  const L = config.n_layer;
  const layers = ['blocks.0.hook_resid_pre', ...Array.from({ length: L }, (_, i) => `blocks.${i}.hook_resid_post`)];
  const out = await model.forward({ ...inputs, use_cache: false, capture: layers, num_logits_to_keep: 1 });
  const B = inputs.input_ids.length;
  const T = inputs.input_ids[0]!.length;
  const C = config.n_embd;
  const V = config.vocab_size;
  const k = options.topk ?? 5;
  const positions = options.positions ?? Array.from({ length: T }, (_, t) => t);
  for (const p of positions) if (!Number.isInteger(p) || p < 0 || p >= T) throw new Error(`logitLens: position ${p} is not in [0, ${T})`);
  const P = positions.length;
  const decode = backend.unembed ? backend.unembed.bind(backend) : unembed;

  // Row r = (layer, b, i) in that order; each chunk gathers its rows' residuals [n, C] and decodes them to [n, V].
  const top: LensTopK[][][] = layers.map(() => Array.from({ length: B }, (): LensTopK[] => []));
  const total = layers.length * B * P;
  const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / V));
  for (let r0 = 0; r0 < total; r0 += chunk) {
    const n = Math.min(chunk, total - r0);
    const rows = new Float32Array(n * C); // [n, C]
    for (let j = 0; j < n; j++) {
      const { l, b, i } = rowAt(r0 + j, B, P);
      const resid = out.cache!.get(layers[l]!)!.data; // [B, T, C]
      const src = (b * T + positions[i]!) * C;
      rows.set(resid.subarray(src, src + C), j * C);
    }
    const logits = await decode(config, weights, rows, n); // [n, V]
    for (let j = 0; j < n; j++) {
      const { l, b } = rowAt(r0 + j, B, P);
      const lse = logSumExp(logits, j * V, V);
      const t = topK(logits, k, j * V, V);
      top[l]![b]!.push({ ids: t.ids, logits: t.values, probs: t.values.map((v) => Math.exp(v - lse)) });
    }
  }
  return { layers, positions, top };
}

/** Row r of the lens, laid out [layer, B, P], as its layer, batch row and index into positions. */
function rowAt(r: number, B: number, P: number): { l: number; b: number; i: number } {
  return { l: Math.floor(r / (B * P)), b: Math.floor(r / P) % B, i: r % P };
}
