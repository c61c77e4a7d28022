// The MLP: c_fc (C → n_inner), GELU (tanh form, "gelu_new"), c_proj (n_inner → C).
import { conv1d } from './conv1d.js';
import type { HookRecorder } from './hooks.js';
import type { GPT2BlockWeights } from './types.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), HF's NewGELUActivation. */
export function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** x: [M, C] → [M, C]; `dims` [B, T] only labels the hooked tensors. */
export function mlp(x: Float32Array, M: number, w: GPT2BlockWeights['mlp'], hooks: HookRecorder, prefix: string, dims: [number, number]): Float32Array {
  const inner = w.c_fc.nf;
  const pre = hooks.point(prefix + 'hook_pre', conv1d(x, M, w.c_fc), [...dims, inner]); // [M, C] -> [M, n_inner]
  const g = new Float32Array(pre.length);
  for (let i = 0; i < pre.length; i++) g[i] = geluNew(pre[i]!);
  const post = hooks.point(prefix + 'hook_post', g, [...dims, inner]);
  return conv1d(post, M, w.c_proj); // [M, n_inner] -> [M, C]
}
