// From a checkpoint's named tensors to GPT2Weights, and back. Accepts both key layouts:
//   the Hub's model.safetensors:       wte.weight, h.0.ln_1.weight, ..., ln_f.bias
//   GPT2LMHeadModel.save_pretrained:   transformer.wte.weight, ..., transformer.ln_f.bias (+ maybe lm_head.weight)
// The causal-mask buffers h.{i}.attn.bias / h.{i}.attn.masked_bias are not weights and are ignored.
import type { TensorSource, TensorToWrite } from './safetensors.js';
import type { Conv1DWeights, GPT2Config, GPT2Weights, LayerNormWeights } from './types.js';
import { readerFromSource, readWeights } from './weight-reader.js';

/** Reads every weight the config needs from `source`, checking names and shapes (weight-reader.ts). */
export function weightsFromSource(config: GPT2Config, source: TensorSource): GPT2Weights {
  return readWeights(readerFromSource(config, source));
}

/** The named tensors of a model in the Hub's layout (or save_pretrained's with `transformer.`), for writing. */
export function weightsToTensors(config: GPT2Config, weights: GPT2Weights, layout: 'hub' | 'transformer' = 'hub'): TensorToWrite[] {
  const p = layout === 'transformer' ? 'transformer.' : '';
  const C = config.n_embd;
  const out: TensorToWrite[] = [
    { name: `${p}wte.weight`, shape: [config.vocab_size, C], data: weights.wte },
    { name: `${p}wpe.weight`, shape: [config.n_positions, C], data: weights.wpe },
    { name: `${p}ln_f.weight`, shape: [C], data: weights.ln_f.weight },
    { name: `${p}ln_f.bias`, shape: [C], data: weights.ln_f.bias },
  ];
  weights.h.forEach((b, i) => {
    const lnT = (n: string, w: LayerNormWeights) => [
      { name: `${p}h.${i}.${n}.weight`, shape: [C], data: w.weight },
      { name: `${p}h.${i}.${n}.bias`, shape: [C], data: w.bias },
    ];
    const convT = (n: string, w: Conv1DWeights) => [
      { name: `${p}h.${i}.${n}.weight`, shape: [w.nx, w.nf], data: w.weight },
      { name: `${p}h.${i}.${n}.bias`, shape: [w.nf], data: w.bias },
    ];
    out.push(...lnT('ln_1', b.ln_1), ...convT('attn.c_attn', b.attn.c_attn), ...convT('attn.c_proj', b.attn.c_proj));
    out.push(...lnT('ln_2', b.ln_2), ...convT('mlp.c_fc', b.mlp.c_fc), ...convT('mlp.c_proj', b.mlp.c_proj));
  });
  if (weights.lm_head) out.push({ name: 'lm_head.weight', shape: [config.vocab_size, C], data: weights.lm_head });
  return out;
}

/** Number of parameters (HF's num_parameters(): a tied head counted once). */
export function countParameters(weights: GPT2Weights): number {
  let n = weights.wte.length + weights.wpe.length + weights.ln_f.weight.length + weights.ln_f.bias.length;
  for (const b of weights.h) {
    for (const t of [b.ln_1.weight, b.ln_1.bias, b.ln_2.weight, b.ln_2.bias]) n += t.length;
    for (const c of [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]) n += c.nx * c.nf + c.nf; // not weight.length: an engine-backed weight is unpacked on access
  }
  if (weights.lm_head) n += weights.lm_head.length;
  return n;
}
