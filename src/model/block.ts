// One transformer block (HF's GPT2Block), pre-LayerNorm:
//   x = x + attn(ln_1(x))
//   x = x + mlp(ln_2(x))
import { causalSelfAttention, type AttentionContext } from './attention.js';
import { layerNorm } from './layernorm.js';
import { mlp } from './mlp.js';
import type { GPT2BlockWeights } from './types.js';

export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** x: [B·T, C] → { out: [B·T, C] (a new array), probs? } */
export function block(x: Float32Array, w: GPT2BlockWeights, eps: number, ctx: Omit<AttentionContext, 'prefix'>): { out: Float32Array; probs?: Float32Array } {
  const { B, T, hooks, layer } = ctx;
  const M = B * T;
  const C = w.ln_1.weight.length;
  const p = `blocks.${layer}.`;
  const dims = [B, T, C];
  // (hook_resid_pre runs in gpt2.ts, before output_hidden_states records the block's input)
  const a = hooks.point(p + 'ln1.hook_normalized', layerNorm(x, M, C, w.ln_1, eps), dims);
  const attn = causalSelfAttention(a, w.attn, { ...ctx, prefix: p + 'attn.' });
  const attnOut = hooks.point(p + 'hook_attn_out', attn.out, dims);
  const mid = hooks.point(p + 'hook_resid_mid', add(x, attnOut), dims); // residual

  const m = hooks.point(p + 'ln2.hook_normalized', layerNorm(mid, M, C, w.ln_2, eps), dims);
  const mlpOut = hooks.point(p + 'hook_mlp_out', mlp(m, M, w.mlp, hooks, p + 'mlp.', [B, T]), dims);
  const out = hooks.point(p + 'hook_resid_post', add(mid, mlpOut), dims); // residual
  return attn.probs ? { out, probs: attn.probs } : { out };
}
