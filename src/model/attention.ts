// CausalSelfAttention (HF's GPT2Attention, eager path): c_attn → split heads → scaled dot products with the
// causal and padding masks → softmax → weighted sum of values → merge heads → c_proj.
import { conv1d } from './conv1d.js';
import type { HookRecorder } from './hooks.js';
import type { KVCache } from './kv-cache.js';
import type { GPT2BlockWeights } from './types.js';

/** torch.finfo(torch.float32).min: HF masks with this value, not with -inf (fact 3). */
export const FLOAT32_MIN = -3.4028234663852886e38;

export interface AttentionContext {
  B: number;
  /** new positions per row */
  T: number;
  n_head: number;
  /** divide scores by sqrt(head_dim) (config.scale_attn_weights) */
  scale: boolean;
  /** [B, T_past + T] of 1/0, or null for all ones */
  attention_mask: number[][] | null;
  /** past keys/values (and where the new ones go), or null */
  cache: KVCache | null;
  layer: number;
  /** also return the probabilities [B, n_head, T, T_past + T] */
  output_attentions: boolean;
  hooks: HookRecorder;
  /** hook name prefix, `blocks.{i}.attn.` */
  prefix: string;
}

/** x: [B·T, C] → { out: [B·T, C], probs?: [B, n_head, T, T_past + T] } */
export function causalSelfAttention(x: Float32Array, w: GPT2BlockWeights['attn'], ctx: AttentionContext): { out: Float32Array; probs?: Float32Array } {
  const { B, T, n_head: nh, cache, hooks, prefix } = ctx;
  const C = w.c_attn.nx;
  const hs = C / nh;
  const M = B * T;

  const qkv = conv1d(x, M, w.c_attn); // [B·T, C] -> [B·T, 3C], columns [q | k | v]
  for (const [name, part] of [['hook_q', 0], ['hook_k', 1], ['hook_v', 2]] as const) {
    if (!hooks.want(prefix + name)) continue;
    const t = new Float32Array(M * C); // [B, T, 3C] -> [B, T, n_head, hs]
    for (let m = 0; m < M; m++) t.set(qkv.subarray(m * 3 * C + part * C, m * 3 * C + (part + 1) * C), m * C);
    hooks.save(prefix + name, t, [B, T, nh, hs]);
  }

  // Split heads: [B, T, 3C] -> 3 x [B, nh, T, hs]
  const q = new Float32Array(M * C);
  const k = new Float32Array(M * C);
  const v = new Float32Array(M * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * 3 * C;
      for (let h = 0; h < nh; h++) {
        const dst = ((b * nh + h) * T + t) * hs;
        for (let d = 0; d < hs; d++) {
          q[dst + d] = qkv[src + h * hs + d]!;
          k[dst + d] = qkv[src + C + h * hs + d]!;
          v[dst + d] = qkv[src + 2 * C + h * hs + d]!;
        }
      }
    }
  }

  // Keys and values of every position, past and new: from the cache (after appending the new ones), or k, v.
  const past = cache ? cache.length : 0;
  const Tk = past + T; // key positions
  let keys: Float32Array = k;
  let values: Float32Array = v;
  let stride = T; // positions per (b, h) slice of keys/values
  if (cache) {
    cache.write(ctx.layer, k, v, T);
    keys = cache.keys[ctx.layer]!;
    values = cache.values[ctx.layer]!;
    stride = cache.capacity;
  }

  const scale = ctx.scale ? 1 / Math.sqrt(hs) : 1;
  const wantScores = hooks.want(prefix + 'hook_attn_scores');
  const keepProbs = ctx.output_attentions || hooks.want(prefix + 'hook_pattern');
  const probs = keepProbs ? new Float32Array(B * nh * T * Tk) : null;
  const scoresOut = wantScores ? new Float32Array(B * nh * T * Tk) : null;
  const y = new Float32Array(M * C); // merged heads: [B, T, nh, hs] = [B, T, C]
  const att = new Float64Array(Tk);
  const acc = new Float64Array(hs);

  for (let b = 0; b < B; b++) {
    const mask = ctx.attention_mask ? ctx.attention_mask[b]! : null;
    for (let h = 0; h < nh; h++) {
      const kvBase = (b * nh + h) * stride * hs;
      for (let i = 0; i < T; i++) {
        const qOff = ((b * nh + h) * T + i) * hs;
        const qPos = past + i; // query i sits at key index past + i: it may see keys 0..past+i
        // att = q @ kᵀ / sqrt(hs); masked like HF: causal → float32 min, then + (1 - mask) * float32 min
        let max = -Infinity;
        for (let j = 0; j < Tk; j++) {
          let s: number;
          if (j > qPos) s = FLOAT32_MIN;
          else {
            s = 0;
            const kOff = kvBase + j * hs;
            for (let d = 0; d < hs; d++) s += q[qOff + d]! * keys[kOff + d]!;
            s *= scale;
          }
          if (mask) s += (1 - mask[j]!) * FLOAT32_MIN;
          att[j] = s;
          if (s > max) max = s;
        }
        const row = ((b * nh + h) * T + i) * Tk;
        // (causal + padding gives 2·min, which float32 rounds to -inf, as in HF)
        if (scoresOut) for (let j = 0; j < Tk; j++) scoresOut[row + j] = att[j]!;
        // softmax over the keys
        let sum = 0;
        for (let j = 0; j < Tk; j++) {
          att[j] = Math.exp(att[j]! - max);
          sum += att[j]!;
        }
        for (let j = 0; j < Tk; j++) att[j] = att[j]! / sum;
        if (probs) for (let j = 0; j < Tk; j++) probs[row + j] = att[j]!;
        // y_i = Σ_j att_j · v_j
        acc.fill(0);
        for (let j = 0; j < Tk; j++) {
          const p = att[j]!;
          if (p === 0) continue;
          const vOff = kvBase + j * hs;
          for (let d = 0; d < hs; d++) acc[d] += p * values[vOff + d]!;
        }
        const yOff = (b * T + i) * C + h * hs; // merge heads: [B, nh, T, hs] -> [B, T, nh·hs]
        for (let d = 0; d < hs; d++) y[yOff + d] = acc[d]!;
      }
    }
  }
  if (scoresOut) hooks.save(prefix + 'hook_attn_scores', scoresOut, [B, nh, T, Tk]);
  if (probs) hooks.save(prefix + 'hook_pattern', probs, [B, nh, T, Tk]);
  hooks.save(prefix + 'hook_z', y, [B, T, nh, hs]);

  const out = conv1d(y, M, w.c_proj); // [B·T, C] -> [B·T, C]
  return probs && ctx.output_attentions ? { out, probs } : { out };
}
