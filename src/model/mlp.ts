// The MLP: c_fc (C → n_inner), GELU (tanh form, "gelu_new"), c_proj (n_inner → C).
import { conv1d } from './conv1d.js';
import type { HookRecorder } from './hooks.js';
import type { GPT2BlockWeights } from './types.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), HF's NewGELUActivation. */
export function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** x: [M, C] → [M, C]; `dims` [B, T] only labels the captured tensors. */
export function mlp(x: Float32Array, M: number, w: GPT2BlockWeights['mlp'], hooks: HookRecorder, prefix: string, dims: [number, number]): Float32Array {
  const inner = w.c_fc.nf;
  const h = conv1d(x, M, w.c_fc); // [M, C] -> [M, n_inner]
  hooks.save(prefix + 'hook_pre', h, [...dims, inner]);
  for (let i = 0; i < h.length; i++) h[i] = geluNew(h[i]!);
  hooks.save(prefix + 'hook_post', h, [...dims, inner]);
  return conv1d(h, M, w.c_proj); // [M, n_inner] -> [M, C]
}
