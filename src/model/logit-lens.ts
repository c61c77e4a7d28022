// The logit lens (nostalgebraist, 2020): read the residual stream after every layer as if it were the last,
// by applying the final LayerNorm and the tied unembedding: logits_ℓ = ln_f(resid_ℓ) @ wteᵀ.
// Layer 0 is the embeddings (blocks.0.hook_resid_pre); the last is the output of the last block, whose lens
// logits are exactly the model's logits.
import { lmHead } from './gpt2.js';
import { layerNorm } from './layernorm.js';
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

/** Runs the model once, capturing every layer's residual stream, and decodes each with ln_f + the LM head. */
export async function logitLens(model: GPT2Model | GPT2LMHeadModel, inputs: LensInputs, options: LogitLensOptions = {}): Promise<LogitLensResult> {
  const { config, weights } = model;
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
  const head = weights.lm_head ?? weights.wte;

  const top: LensTopK[][][] = [];
  for (const name of layers) {
    const resid = out.cache!.get(name)!.data; // [B, T, C]
    const rows = new Float32Array(B * positions.length * C); // [B, P, C]: the positions asked for
    for (let b = 0; b < B; b++) {
      positions.forEach((p, i) => rows.set(resid.subarray((b * T + p) * C, (b * T + p + 1) * C), (b * positions.length + i) * C));
    }
    const h = layerNorm(rows, B * positions.length, C, weights.ln_f, config.layer_norm_epsilon);
    const logits = lmHead(h, B * positions.length, head, V, C); // [B·P, V]
    const perRow: LensTopK[][] = [];
    for (let b = 0; b < B; b++) {
      const perPos: LensTopK[] = [];
      for (let i = 0; i < positions.length; i++) {
        const off = (b * positions.length + i) * V;
        const lse = logSumExp(logits, off, V);
        const t = topK(logits, k, off, V);
        perPos.push({ ids: t.ids, logits: t.values, probs: t.values.map((v) => Math.exp(v - lse)) });
      }
      perRow.push(perPos);
    }
    top.push(perRow);
  }
  return { layers, positions, top };
}
