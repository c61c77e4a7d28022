// From a checkpoint's named tensors to GPT2Weights, and back. Accepts both key layouts:
//   the Hub's model.safetensors:       wte.weight, h.0.ln_1.weight, ..., ln_f.bias
//   GPT2LMHeadModel.save_pretrained:   transformer.wte.weight, ..., transformer.ln_f.bias (+ maybe lm_head.weight)
// The causal-mask buffers h.{i}.attn.bias / h.{i}.attn.masked_bias are not weights and are ignored.
import { innerDim } from './config.js';
import { SafetensorsError, type TensorSource, type TensorToWrite } from './safetensors.js';
import type { Conv1DWeights, GPT2BlockWeights, GPT2Config, GPT2Weights, LayerNormWeights } from './types.js';

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Reads every weight the config needs from `source`, checking names and shapes. */
export function weightsFromSource(config: GPT2Config, source: TensorSource): GPT2Weights {
  const prefix = source.info('transformer.wte.weight') ? 'transformer.' : '';
  const C = config.n_embd;
  const inner = innerDim(config);

  const get = (name: string, shape: number[]): Float32Array => {
    const key = prefix + name;
    const info = source.info(key);
    if (!info) {
      const other = prefix ? name : 'transformer.' + name;
      throw new SafetensorsError(`${source.source}: missing tensor "${key}" (also looked for "${other}")`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new SafetensorsError(`${source.source}: tensor "${key}" has shape ${fmt(info.shape)}, but the config needs ${fmt(shape)}`);
    }
    return source.read(key);
  };
  const ln = (name: string): LayerNormWeights => ({ weight: get(`${name}.weight`, [C]), bias: get(`${name}.bias`, [C]) });
  const conv = (name: string, nx: number, nf: number): Conv1DWeights => ({
    weight: get(`${name}.weight`, [nx, nf]), // Conv1D: [in, out]
    bias: get(`${name}.bias`, [nf]),
    nx,
    nf,
  });

  const h: GPT2BlockWeights[] = [];
  for (let i = 0; i < config.n_layer; i++) {
    h.push({
      ln_1: ln(`h.${i}.ln_1`),
      attn: { c_attn: conv(`h.${i}.attn.c_attn`, C, 3 * C), c_proj: conv(`h.${i}.attn.c_proj`, C, C) },
      ln_2: ln(`h.${i}.ln_2`),
      mlp: { c_fc: conv(`h.${i}.mlp.c_fc`, C, inner), c_proj: conv(`h.${i}.mlp.c_proj`, inner, C) },
    });
  }
  const weights: GPT2Weights = {
    wte: get('wte.weight', [config.vocab_size, C]),
    wpe: get('wpe.weight', [config.n_positions, C]),
    h,
    ln_f: ln('ln_f'),
  };
  // lm_head.weight sits outside `transformer.`; an explicit one is used, otherwise the head is tied to wte.
  const head = source.info('lm_head.weight');
  if (head) {
    if (head.shape.length !== 2 || head.shape[0] !== config.vocab_size || head.shape[1] !== C) {
      throw new SafetensorsError(`${source.source}: tensor "lm_head.weight" has shape ${fmt(head.shape)}, but the config needs ${fmt([config.vocab_size, C])}`);
    }
    const data = source.read('lm_head.weight');
    if (data !== weights.wte) weights.lm_head = data;
  } else if (!config.tie_word_embeddings) {
    throw new SafetensorsError(`${source.source}: missing tensor "lm_head.weight" (config.json says tie_word_embeddings false)`);
  }
  return weights;
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
    for (const c of [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]) n += c.weight.length + c.bias.length;
  }
  if (weights.lm_head) n += weights.lm_head.length;
  return n;
}
