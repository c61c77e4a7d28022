// Random models for tests, demos and benchmarks, built in memory with a seeded PRNG:
//   random:gpt2[@SEED]                the exact 124M shape (768 wide, 12 layers, 12 heads, 1024 positions, 50257 tokens)
//   random:EMBDxLAYERxHEAD[@SEED]     any shape, e.g. random:64x2x4@7 (the real vocabulary, 1024 positions)
// Initialisation follows HF's GPT2PreTrainedModel._init_weights: weights ~ N(0, 0.02), the residual projections
// (attn.c_proj, mlp.c_proj) ~ N(0, 0.02/√(2·n_layer)), biases 0, LayerNorm gains 1 and biases 0.
// PRNG: mulberry32 (32-bit state) seeded with SEED (default 0); normals by inverse transform through a 4097-point
// quantile table (see fillNormal); tensors filled in checkpoint order (wte, wpe, then each block, then ln_f). Same spec and seed → the same weights, everywhere.
import { GPT2_DEFAULTS, innerDim } from './config.js';
import type { GPT2Config, GPT2Weights } from './types.js';
import { readWeights, weightTensors, type WeightReader } from './weight-reader.js';

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
  const spec = { n_embd, n_layer, n_head, seed };
  const n = randomParameterCount(spec);
  if (n > RANDOM_MAX_PARAMETERS) {
    throw new Error(
      `bad random model "${name}": ${grouped(n)} parameters (${grouped(4 * n)} bytes as float32), above the limit of ` +
        `${grouped(RANDOM_MAX_PARAMETERS)} for random models, which are built in memory (GPT-2 XL has 1,557,611,200)`,
    );
  }
  return spec;
}

/** The most parameters a random: model may have: 8 GB of float32 weights, a little above GPT-2 XL's 1.56B. */
export const RANDOM_MAX_PARAMETERS = 2_000_000_000;

/** The parameter count of a random spec's model (the LM head tied to wte, counted once), without building it. */
export function randomParameterCount(spec: RandomSpec): number {
  const c = randomConfig(spec);
  const C = c.n_embd;
  const I = innerDim(c);
  // per block: ln_1, c_attn [C, 3C], attn.c_proj [C, C], ln_2, c_fc [C, I], mlp.c_proj [I, C], with their biases
  const block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (C * I + I) + (I * C + C);
  return c.vocab_size * C + c.n_positions * C + c.n_layer * block + 2 * C;
}

/** 1234567 → "1,234,567"; beyond 2^53, 1.23e+24. */
function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toExponential(2);
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** The config of a random spec: GPT-2's defaults (real vocabulary, 1024 positions) with the spec's shape. */
export function randomConfig(spec: RandomSpec): GPT2Config {
  return { ...GPT2_DEFAULTS, n_embd: spec.n_embd, n_layer: spec.n_layer, n_head: spec.n_head };
}

/** mulberry32: a small, fast 32-bit PRNG; returns uniforms in [0, 1). `skip`: start as if that many were drawn. */
export function mulberry32(seed: number, skip = 0): () => number {
  // The state only advances by a constant per draw, so draw n starts from seed + n·0x6d2b79f5 (mod 2^32):
  // any tensor of a random model can be generated alone (randomReader), without the ones before it.
  let a = (seed + Math.imul(skip, 0x6d2b79f5)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Acklam's rational approximation of the standard normal quantile Φ⁻¹(p), |error| < 1.2e-9. */
function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Φ⁻¹ at 4097 evenly spaced probabilities (the ends at 1/8192 from 0 and 1): a piecewise-linear inverse CDF. */
const QUANTILES = Float64Array.from({ length: 4097 }, (_, i) => probit(Math.min(Math.max(i / 4096, 1 / 8192), 1 - 1 / 8192)));

/**
 * Fills `out` with N(0, std²) samples by inverse transform: one 32-bit uniform per sample, its top 12 bits pick
 * a segment of the quantile table and the low 20 bits interpolate inside it (tails cut at ±3.67σ). Much faster
 * than Box–Muller, which matters for 124M weights.
 */
function fillNormal(out: Float32Array, std: number, rand: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const u = rand() * 4096; // [0, 4096)
    const k = u | 0;
    const lo = QUANTILES[k]!;
    out[i] = std * (lo + (u - k) * (QUANTILES[k + 1]! - lo));
  }
  return out;
}

/**
 * A random model's tensors, each generated on request: HF's GPT-2 initialisation (see the file comment). The
 * normal tensors draw from one mulberry32 sequence in checkpoint order; each starts where the ones before it end.
 */
export function randomReader(config: GPT2Config, seed = 0): WeightReader {
  const std = 0.02;
  const projStd = std / Math.sqrt(2 * config.n_layer);
  const draws = new Map<string, { start: number; std: number }>(); // the tensors drawn from N(0, std²)
  let next = 0;
  for (const { name, shape } of weightTensors(config, false)) {
    if (!/(wte|wpe|c_attn|c_proj|c_fc)\.weight$/.test(name)) continue;
    draws.set(name, { start: next, std: /c_proj\.weight$/.test(name) ? projStd : std });
    next += shape.reduce((a, b) => a * b, 1);
  }
  return {
    config,
    untiedHead: false,
    readInto(name, out) {
      const d = draws.get(name);
      if (d) fillNormal(out, d.std, mulberry32(seed, d.start));
      else if (/^(h\.\d+\.ln_[12]|ln_f)\.weight$/.test(name)) out.fill(1); // LayerNorm gains
      else if (/\.bias$/.test(name)) out.fill(0);
      else throw new Error(`random model: no tensor "${name}"`);
    },
  };
}

/** Weights for `config`, seeded: HF's GPT-2 initialisation (see the file comment). */
export function randomWeights(config: GPT2Config, seed = 0): GPT2Weights {
  return readWeights(randomReader(config, seed));
}
