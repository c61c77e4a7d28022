// The weights as a stream of named tensors: what a loader hands to whatever holds the weights. The reference
// path builds GPT2Weights from it (readWeights: one Float32Array per tensor); the WebAssembly engine writes each
// tensor straight into its own memory instead (src/engine/engine.ts), so no second copy of the model is held.
// Names are the Hub's model.safetensors names ('wte.weight', 'h.0.attn.c_attn.weight', ..., 'lm_head.weight').
import { innerDim } from './config.js';
import { SafetensorsError, type AsyncTensorSource, type TensorSource } from './safetensors.js';
import type { Conv1DWeights, GPT2Config, GPT2Weights, LayerNormWeights } from './types.js';

/** A tensor of the checkpoint: its Hub name and shape. */
export interface WeightTensor {
  name: string;
  shape: number[];
}

/** Where a model's tensors come from, one at a time, in any order. */
export interface WeightReader {
  readonly config: GPT2Config;
  /** true when the checkpoint has its own lm_head.weight (an untied head) */
  readonly untiedHead: boolean;
  /**
   * writes tensor `name` into `out`, whose length is the tensor's element count; a checkpoint in a Blob (a browser's
   * File or cache entry) is read asynchronously and returns a promise: every caller awaits it before the next read
   */
  readInto(name: string, out: Float32Array): void | Promise<void>;
  /** releases file handles, if any */
  close?(): void;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Every tensor of the model in checkpoint order (wte, wpe, each block, ln_f, then an untied lm_head). */
export function weightTensors(config: GPT2Config, untiedHead: boolean): WeightTensor[] {
  const C = config.n_embd;
  const I = innerDim(config);
  const out: WeightTensor[] = [
    { name: 'wte.weight', shape: [config.vocab_size, C] },
    { name: 'wpe.weight', shape: [config.n_positions, C] },
  ];
  for (let i = 0; i < config.n_layer; i++) {
    const p = `h.${i}.`;
    out.push(
      { name: `${p}ln_1.weight`, shape: [C] }, { name: `${p}ln_1.bias`, shape: [C] },
      { name: `${p}attn.c_attn.weight`, shape: [C, 3 * C] }, { name: `${p}attn.c_attn.bias`, shape: [3 * C] },
      { name: `${p}attn.c_proj.weight`, shape: [C, C] }, { name: `${p}attn.c_proj.bias`, shape: [C] },
      { name: `${p}ln_2.weight`, shape: [C] }, { name: `${p}ln_2.bias`, shape: [C] },
      { name: `${p}mlp.c_fc.weight`, shape: [C, I] }, { name: `${p}mlp.c_fc.bias`, shape: [I] },
      { name: `${p}mlp.c_proj.weight`, shape: [I, C] }, { name: `${p}mlp.c_proj.bias`, shape: [C] },
    );
  }
  out.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  if (untiedHead) out.push({ name: 'lm_head.weight', shape: [config.vocab_size, C] });
  return out;
}

/**
 * A reader over a checkpoint (safetensors bytes, shards, a file on disk). Every tensor's presence and shape is
 * checked here, before anything is read; accepts the Hub's names and save_pretrained's `transformer.` prefix.
 */
export function readerFromSource(config: GPT2Config, source: TensorSource | AsyncTensorSource): WeightReader {
  const prefix = source.info('transformer.wte.weight') ? 'transformer.' : '';
  const head = source.info('lm_head.weight');
  if (!head && !config.tie_word_embeddings) {
    throw new SafetensorsError(`${source.source}: missing tensor "lm_head.weight" (config.json says tie_word_embeddings false)`);
  }
  const keys = new Map<string, string>();
  for (const { name, shape } of weightTensors(config, head !== undefined)) {
    const key = name === 'lm_head.weight' ? name : prefix + name; // lm_head.weight sits outside `transformer.`
    const info = source.info(key);
    if (!info) {
      const other = prefix ? name : 'transformer.' + name;
      throw new SafetensorsError(`${source.source}: missing tensor "${key}" (also looked for "${other}")`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new SafetensorsError(`${source.source}: tensor "${key}" has shape ${fmt(info.shape)}, but the config needs ${fmt(shape)}`);
    }
    keys.set(name, key);
  }
  return {
    config,
    untiedHead: head !== undefined,
    readInto(name, out) {
      const key = keys.get(name);
      if (key === undefined) throw new SafetensorsError(`${source.source}: no tensor "${name}" in a GPT-2 checkpoint`);
      if (source.readInto) return source.readInto(key, out);
      out.set((source as TensorSource).read(key));
    },
    close: () => source.close?.(),
  };
}

/** The tensor `name` of GPT2Weights (the same arrays, no copy). */
export function tensorOf(weights: GPT2Weights, name: string): Float32Array | undefined {
  if (name === 'wte.weight') return weights.wte;
  if (name === 'wpe.weight') return weights.wpe;
  if (name === 'lm_head.weight') return weights.lm_head;
  const m = /^(?:h\.(\d+)\.)?(ln_1|ln_2|ln_f|attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.(weight|bias)$/.exec(name);
  if (!m) return undefined;
  const part = m[3] as 'weight' | 'bias';
  if (m[1] === undefined) return m[2] === 'ln_f' ? weights.ln_f[part] : undefined;
  const b = weights.h[Number(m[1])];
  if (!b) return undefined;
  const layer: Conv1DWeights | LayerNormWeights | undefined =
    m[2] === 'ln_1' ? b.ln_1 : m[2] === 'ln_2' ? b.ln_2 : m[2] === 'attn.c_attn' ? b.attn.c_attn : m[2] === 'attn.c_proj' ? b.attn.c_proj : m[2] === 'mlp.c_fc' ? b.mlp.c_fc : m[2] === 'mlp.c_proj' ? b.mlp.c_proj : undefined;
  return layer?.[part];
}

/** A reader over weights already in memory. */
export function readerFromWeights(config: GPT2Config, weights: GPT2Weights): WeightReader {
  return {
    config,
    untiedHead: weights.lm_head !== undefined,
    readInto(name, out) {
      const t = tensorOf(weights, name);
      if (!t) throw new Error(`weights: no tensor "${name}"`);
      if (t.length !== out.length) throw new Error(`weights: tensor "${name}" has ${t.length} values, expected ${out.length}`);
      out.set(t);
    },
  };
}

/** GPT2Weights from a reader whose reads are synchronous: one Float32Array per tensor (the reference path's layout). */
export function readWeights(reader: WeightReader): GPT2Weights {
  return weightsFrom(reader.config, reader.untiedHead, (name, n) => {
    const out = new Float32Array(n);
    if (reader.readInto(name, out) instanceof Promise) {
      throw new Error(`weights: tensor "${name}" is read asynchronously (the checkpoint is a Blob): use readWeightsAsync`);
    }
    return out;
  });
}

/** GPT2Weights from any reader (a Blob's reads are asynchronous): one Float32Array per tensor. */
export async function readWeightsAsync(reader: WeightReader): Promise<GPT2Weights> {
  const arrays = new Map<string, Float32Array>();
  for (const { name, shape } of weightTensors(reader.config, reader.untiedHead)) {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    await reader.readInto(name, out);
    arrays.set(name, out);
  }
  return weightsFrom(reader.config, reader.untiedHead, (name) => arrays.get(name)!);
}

/** Assembles GPT2Weights from each tensor's array (`read(name, elementCount)`). */
function weightsFrom(config: GPT2Config, untiedHead: boolean, read: (name: string, n: number) => Float32Array): GPT2Weights {
  const C = config.n_embd;
  const I = innerDim(config);
  const ln = (name: string): LayerNormWeights => ({ weight: read(`${name}.weight`, C), bias: read(`${name}.bias`, C) });
  const conv = (name: string, nx: number, nf: number): Conv1DWeights => ({ weight: read(`${name}.weight`, nx * nf), bias: read(`${name}.bias`, nf), nx, nf });
  const weights: GPT2Weights = { wte: read('wte.weight', config.vocab_size * C), wpe: read('wpe.weight', config.n_positions * C), h: [], ln_f: ln('ln_f') };
  for (let i = 0; i < config.n_layer; i++) {
    weights.h.push({
      ln_1: ln(`h.${i}.ln_1`),
      attn: { c_attn: conv(`h.${i}.attn.c_attn`, C, 3 * C), c_proj: conv(`h.${i}.attn.c_proj`, C, C) },
      ln_2: ln(`h.${i}.ln_2`),
      mlp: { c_fc: conv(`h.${i}.mlp.c_fc`, C, I), c_proj: conv(`h.${i}.mlp.c_proj`, I, C) },
    });
  }
  if (untiedHead) weights.lm_head = read('lm_head.weight', config.vocab_size * C);
  return weights;
}
