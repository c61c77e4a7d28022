// The whole network, readable top to bottom (the reference backend):
//   x = wte[input_ids] + wpe[position_ids]
//   for each block: x = block(x)
//   h = ln_f(x)
//   logits = h @ wteᵀ          (tied LM head, no bias)
import type { BackendRequest, BackendResult, ForwardBackend } from './backend.js';
import { block } from './block.js';
import { HookRecorder } from './hooks.js';
import { layerNorm } from './layernorm.js';
import type { GPT2Config, GPT2Weights, Tensor } from './types.js';

/** Token embeddings + position embeddings: ids, positions [B, T] → { tok, pos }: [B·T, C] each. */
export function embed(weights: GPT2Weights, C: number, input_ids: number[][], position_ids: number[][]): { tok: Float32Array; pos: Float32Array } {
  const B = input_ids.length;
  const T = input_ids[0]!.length;
  const tok = new Float32Array(B * T * C);
  const pos = new Float32Array(B * T * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const id = input_ids[b]![t]!;
      const p = position_ids[b]![t]!;
      tok.set(weights.wte.subarray(id * C, (id + 1) * C), (b * T + t) * C); // wte[id]: one row [C]
      pos.set(weights.wpe.subarray(p * C, (p + 1) * C), (b * T + t) * C); // wpe[p]
    }
  }
  return { tok, pos };
}

/**
 * The LM head: logits = h @ headᵀ, head = wte [V, C] (tied) or lm_head. h: [M, C] → [M, V].
 * Each vocabulary row is read once and dotted with every row of h. Written into `out` (its first M·V floats,
 * returned as a view) when given, else into a new array.
 */
export function lmHead(h: Float32Array, M: number, head: Float32Array, V: number, C: number, out?: Float32Array): Float32Array {
  const logits = out ? out.subarray(0, M * V) : new Float32Array(M * V);
  for (let v = 0; v < V; v++) {
    const w = v * C;
    for (let i = 0; i < M; i++) {
      const x = i * C;
      // four independent partial sums keep the multiply-adds pipelined
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        s0 += h[x + c]! * head[w + c]!;
        s1 += h[x + c + 1]! * head[w + c + 1]!;
        s2 += h[x + c + 2]! * head[w + c + 2]!;
        s3 += h[x + c + 3]! * head[w + c + 3]!;
      }
      for (; c < C; c++) s0 += h[x + c]! * head[w + c]!;
      logits[i * V + v] = s0 + s1 + s2 + s3;
    }
  }
  return logits;
}

/** Rows [B, T, C] → the last `keep` positions of each row: [B, keep, C]. */
export function lastPositions(x: Float32Array, B: number, T: number, C: number, keep: number): Float32Array {
  if (keep === T) return x;
  const out = new Float32Array(B * keep * C);
  for (let b = 0; b < B; b++) out.set(x.subarray((b * T + T - keep) * C, (b * T + T) * C), b * keep * C);
  return out;
}

/** The reference forward pass: plain TypeScript over Float32Arrays, float64 accumulation. */
export function gpt2Forward(config: GPT2Config, weights: GPT2Weights, req: BackendRequest): BackendResult {
  const B = req.input_ids.length;
  const T = req.input_ids[0]!.length;
  const C = config.n_embd;
  const dims = [B, T, C];
  const past = req.cache ? req.cache.length : 0;
  const hooks = new HookRecorder(req.capture, req.hooks ?? null, past);

  const e = embed(weights, C, req.input_ids, req.position_ids);
  const tok = hooks.point('hook_embed', e.tok, dims);
  const pos = hooks.point('hook_pos_embed', e.pos, dims);
  let x: Float32Array = new Float32Array(B * T * C); // [B·T, C]
  for (let i = 0; i < x.length; i++) x[i] = tok[i]! + pos[i]!;

  const hidden: Tensor[] = [];
  const attentions: Tensor[] = [];
  const Tk = past + T;
  for (let l = 0; l < config.n_layer; l++) {
    x = hooks.point(`blocks.${l}.hook_resid_pre`, x, dims);
    if (req.output_hidden_states) hidden.push({ data: x, dims: [...dims] });
    const r = block(x, weights.h[l]!, config.layer_norm_epsilon, {
      B,
      T,
      n_head: config.n_head,
      scale: config.scale_attn_weights,
      attention_mask: req.attention_mask,
      cache: req.cache,
      layer: l,
      output_attentions: req.output_attentions,
      hooks,
    });
    x = r.out;
    if (r.probs) attentions.push({ data: r.probs, dims: [B, config.n_head, T, Tk] });
  }
  req.cache?.advance(T);

  const h = hooks.point('ln_final.hook_normalized', layerNorm(x, B * T, C, weights.ln_f, config.layer_norm_epsilon), dims); // [B·T, C]
  if (req.output_hidden_states) hidden.push({ data: h, dims: [...dims] });

  const result: BackendResult = { last_hidden_state: { data: h, dims: [...dims] } };
  if (req.lm_head) {
    const keep = req.num_logits_to_keep > 0 ? Math.min(req.num_logits_to_keep, T) : T;
    const rows = lastPositions(h, B, T, C, keep); // [B, keep, C]
    const head = weights.lm_head ?? weights.wte;
    result.logits = { data: lmHead(rows, B * keep, head, config.vocab_size, C, req.logits_out ?? undefined), dims: [B, keep, config.vocab_size] };
  }
  if (req.output_hidden_states) result.hidden_states = hidden;
  if (req.output_attentions) result.attentions = attentions;
  if (req.capture) result.cache = hooks.saved;
  return result;
}

/** ln_f then the LM head over rows of the residual stream: hidden [M, C] → logits [M, V] (what the logit lens reads). */
export function unembed(config: GPT2Config, weights: GPT2Weights, hidden: Float32Array, rows: number): Float32Array {
  const C = config.n_embd;
  if (hidden.length !== rows * C) throw new Error(`unembed: ${rows} rows of n_embd ${C} need ${rows * C} values, got ${hidden.length}`);
  const h = layerNorm(hidden, rows, C, weights.ln_f, config.layer_norm_epsilon); // [M, C]
  return lmHead(h, rows, weights.lm_head ?? weights.wte, config.vocab_size, C); // [M, V]
}

/** The default backend: gpt2Forward, synchronous, one thread. */
export const referenceBackend: ForwardBackend = {
  name: 'reference (TypeScript)',
  threads: 1,
  forward: gpt2Forward,
  unembed,
};
