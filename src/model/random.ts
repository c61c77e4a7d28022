// Random models for tests, demos and benchmarks, built in memory with a seeded PRNG:
//   random:gpt2[@SEED]                the exact 124M shape (768 wide, 12 layers, 12 heads, 1024 positions, 50257 tokens)
//   random:EMBDxLAYERxHEAD[@SEED]     any shape, e.g. random:64x2x4@7 (the real vocabulary, 1024 positions)
// Initialisation follows HF's GPT2PreTrainedModel._init_weights: weights ~ N(0, 0.02), the residual projections
// (attn.c_proj, mlp.c_proj) ~ N(0, 0.02/√(2·n_layer)), biases 0, LayerNorm gains 1 and biases 0.
// PRNG: mulberry32 (32-bit state) seeded with SEED (default 0), normals by Box–Muller, tensors filled in
// checkpoint order (wte, wpe, then each block, then ln_f). Same spec and seed → the same weights, everywhere.
import { GPT2_DEFAULTS, innerDim } from './config.js';
import type { Conv1DWeights, GPT2Config, GPT2Weights, LayerNormWeights } from './types.js';

export interface RandomSpec {
  n_embd: number;
  n_layer: number;
  n_head: number;
  seed: number;
}

const SPEC = /^random:(?:(gpt2)|(\d+)x(\d+)x(\d+))(?:@(\d+))?$/;

/** true for "random:..." model names */
export function isRandomSpec(name: string): boolean {
  return name.startsWith('random:');
}

/** Parses "random:gpt2[@SEED]" or "random:EMBDxLAYERxHEAD[@SEED]"; a malformed spec is an error saying the syntax. */
export function parseRandomSpec(name: string): RandomSpec {
  const m = SPEC.exec(name);
  if (!m) throw new Error(`bad random model "${name}": expected random:gpt2[@SEED] or random:EMBDxLAYERxHEAD[@SEED], e.g. random:64x2x4@7`);
  const seed = m[5] === undefined ? 0 : Number(m[5]);
  if (!Number.isSafeInteger(seed) || seed > 0xffffffff) throw new Error(`bad random model "${name}": SEED must be an integer from 0 to 4294967295`);
  if (m[1]) return { n_embd: 768, n_layer: 12, n_head: 12, seed };
  const [n_embd, n_layer, n_head] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (n_embd <= 0 || n_layer <= 0 || n_head <= 0) throw new Error(`bad random model "${name}": EMBD, LAYER and HEAD must be positive`);
  if (n_embd % n_head !== 0) throw new Error(`bad random model "${name}": EMBD ${n_embd} is not divisible by HEAD ${n_head}`);
  return { n_embd, n_layer, n_head, seed };
}

/** The config of a random spec: GPT-2's defaults (real vocabulary, 1024 positions) with the spec's shape. */
export function randomConfig(spec: RandomSpec): GPT2Config {
  return { ...GPT2_DEFAULTS, n_embd: spec.n_embd, n_layer: spec.n_layer, n_head: spec.n_head };
}

/** mulberry32: a small, fast 32-bit PRNG; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with N(0, std²) samples (Box–Muller, two per pair of uniforms). */
function fillNormal(out: Float32Array, std: number, rand: () => number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rand(); // (0, 1]: log is finite
    const u2 = rand();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Weights for `config`, seeded: HF's GPT-2 initialisation (see the file comment). */
export function randomWeights(config: GPT2Config, seed = 0): GPT2Weights {
  const rand = mulberry32(seed);
  const C = config.n_embd;
  const inner = innerDim(config);
  const std = 0.02;
  const projStd = std / Math.sqrt(2 * config.n_layer);
  const ln = (): LayerNormWeights => ({ weight: new Float32Array(C).fill(1), bias: new Float32Array(C) });
  const conv = (nx: number, nf: number, s: number): Conv1DWeights => ({ weight: fillNormal(new Float32Array(nx * nf), s, rand), bias: new Float32Array(nf), nx, nf });
  const wte = fillNormal(new Float32Array(config.vocab_size * C), std, rand);
  const wpe = fillNormal(new Float32Array(config.n_positions * C), std, rand);
  const h = [];
  for (let i = 0; i < config.n_layer; i++) {
    h.push({
      ln_1: ln(),
      attn: { c_attn: conv(C, 3 * C, std), c_proj: conv(C, C, projStd) },
      ln_2: ln(),
      mlp: { c_fc: conv(C, inner, std), c_proj: conv(inner, C, projStd) },
    });
  }
  return { wte, wpe, h, ln_f: ln() };
}
