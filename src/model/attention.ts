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
    if (!hooks.touches(prefix + name)) continue;
    const t = new Float32Array(M * C); // [B, T, 3C] -> [B, T, n_head, hs]
    for (let m = 0; m < M; m++) t.set(qkv.subarray(m * 3 * C + part * C, m * 3 * C + (part + 1) * C), m * C);
    const e = hooks.point(prefix + name, t, [B, T, nh, hs]);
    if (hooks.edits(prefix + name)) for (let m = 0; m < M; m++) qkv.set(e.subarray(m * C, (m + 1) * C), m * 3 * C + part * C); // write the edit back
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
  const scoresName = prefix + 'hook_attn_scores';
  const patternName = prefix + 'hook_pattern';
  const wantScores = hooks.want(scoresName);
  const keepProbs = ctx.output_attentions || hooks.touches(patternName);
  let probs: Float32Array | null = keepProbs ? new Float32Array(B * nh * T * Tk) : null;
  let scoresOut: Float32Array | null = wantScores || hooks.edits(scoresName) ? new Float32Array(B * nh * T * Tk) : null;
  const y = new Float32Array(M * C); // merged heads: [B, T, nh, hs] = [B, T, C]
  const att = new Float64Array(Tk);
  const acc = new Float64Array(hs);

  // Row (b, h, i) of the scores into att: q @ kᵀ / sqrt(hs), masked like HF: causal → float32 min, then
  // + (1 - mask) · float32 min (causal + padding gives 2·min, which float32 rounds to -inf, as in HF).
  const scoreRow = (b: number, h: number, i: number): void => {
    const mask = ctx.attention_mask ? ctx.attention_mask[b]! : null;
    const kvBase = (b * nh + h) * stride * hs;
    const qOff = ((b * nh + h) * T + i) * hs;
    const qPos = past + i; // query i sits at key index past + i: it may see keys 0..past+i
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
    }
  };
  // y_i = Σ_j p_j · v_j for row (b, h, i), merged into [B, T, nh·hs]
  const weighValues = (b: number, h: number, i: number, p: ArrayLike<number>, pOff: number): void => {
    const kvBase = (b * nh + h) * stride * hs;
    acc.fill(0);
    for (let j = 0; j < Tk; j++) {
      const pj = p[pOff + j]!;
      if (pj === 0) continue;
      const vOff = kvBase + j * hs;
      for (let d = 0; d < hs; d++) acc[d] += pj * values[vOff + d]!;
    }
    const yOff = (b * T + i) * C + h * hs;
    for (let d = 0; d < hs; d++) y[yOff + d] = acc[d]!;
  };

  // A write hook on the scores sees them all first; rows it changed are then read back from its float32 tensor,
  // the others are recomputed in float64 exactly as without the hook.
  let scoresEdited: Float32Array | null = null;
  let rowEdited: Uint8Array | null = null;
  if (hooks.edits(scoresName)) {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < nh; h++) {
        for (let i = 0; i < T; i++) {
          scoreRow(b, h, i);
          const row = ((b * nh + h) * T + i) * Tk;
          for (let j = 0; j < Tk; j++) scoresOut![row + j] = att[j]!;
        }
      }
    }
    const before = scoresOut!.slice();
    scoresEdited = hooks.point(scoresName, scoresOut!, [B, nh, T, Tk]);
    rowEdited = changedRows(before, scoresEdited, Tk);
    scoresOut = null; // already captured by point()
  }

  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * nh + h) * T + i) * Tk;
        if (rowEdited && rowEdited[row / Tk]) for (let j = 0; j < Tk; j++) att[j] = scoresEdited![row + j]!;
        else scoreRow(b, h, i);
        if (scoresOut) for (let j = 0; j < Tk; j++) scoresOut[row + j] = att[j]!;
        // softmax over the keys
        let max = -Infinity;
        for (let j = 0; j < Tk; j++) if (att[j]! > max) max = att[j]!;
        let sum = 0;
        for (let j = 0; j < Tk; j++) {
          att[j] = Math.exp(att[j]! - max);
          sum += att[j]!;
        }
        for (let j = 0; j < Tk; j++) att[j] = att[j]! / sum;
        if (probs) for (let j = 0; j < Tk; j++) probs[row + j] = att[j]!;
        weighValues(b, h, i, att, 0);
      }
    }
  }
  if (scoresOut) hooks.save(scoresName, scoresOut, [B, nh, T, Tk]);
  if (probs) {
    if (hooks.edits(patternName)) {
      // rows of the pattern the hook changed weigh the values with its float32 probabilities; the others keep y
      const before = probs.slice();
      probs = hooks.point(patternName, probs, [B, nh, T, Tk]);
      const changed = changedRows(before, probs, Tk);
      for (let r = 0; r < changed.length; r++) {
        if (!changed[r]) continue;
        const i = r % T;
        const bh = (r - i) / T;
        weighValues(Math.floor(bh / nh), bh % nh, i, probs, r * Tk);
      }
    } else hooks.save(patternName, probs, [B, nh, T, Tk]);
  }
  const z = hooks.point(prefix + 'hook_z', y, [B, T, nh, hs]);

  const out = conv1d(z, M, w.c_proj); // [B·T, C] -> [B·T, C]
  return probs && ctx.output_attentions ? { out, probs } : { out };
}

/** Which rows (of `width` values) differ between two arrays; NaN compares equal to NaN. */
function changedRows(before: Float32Array, after: Float32Array, width: number): Uint8Array {
  const rows = new Uint8Array(before.length / width);
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    if (a !== b && !(a !== a && b !== b)) rows[(i / width) | 0] = 1;
  }
  return rows;
}
