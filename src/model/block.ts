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
  hooks.save(p + 'hook_resid_pre', x, dims);

  const a = layerNorm(x, M, C, w.ln_1, eps);
  hooks.save(p + 'ln1.hook_normalized', a, dims);
  const attn = causalSelfAttention(a, w.attn, { ...ctx, prefix: p + 'attn.' });
  hooks.save(p + 'hook_attn_out', attn.out, dims);
  const mid = add(x, attn.out); // residual
  hooks.save(p + 'hook_resid_mid', mid, dims);

  const m = layerNorm(mid, M, C, w.ln_2, eps);
  hooks.save(p + 'ln2.hook_normalized', m, dims);
  const mlpOut = mlp(m, M, w.mlp, hooks, p + 'mlp.', [B, T]);
  hooks.save(p + 'hook_mlp_out', mlpOut, dims);
  const out = add(mid, mlpOut); // residual
  hooks.save(p + 'hook_resid_post', out, dims);
  return attn.probs ? { out, probs: attn.probs } : { out };
}
