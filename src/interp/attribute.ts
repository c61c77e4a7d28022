// Direct logit attribution at the last position. The final residual stream is a sum of parts, each written by
// one component: the token and position embeddings, each head's output through its slice of attn.c_proj, each
// attn.c_proj bias, each MLP's output. ln_f is not linear, but with the scale of the real residual frozen
// (centre, divide by the real σ, times the gain) it is, so the logit splits into one term per part, plus
// ln_f.bias · w[target] for ln_f's bias:
//   logit = Σ_parts ((part − mean(part)) / σ · gain) · w[target]  +  ln_f.bias · w[target]
// (w = the LM head: wte, tied, or lm_head.) The terms sum to the logit up to float32 rounding.
import { InterventionError } from './errors.js';
import type { InterventionModel } from './types.js';

/** One term of the sum. Names: embed, pos_embed, L{l}H{h}, L{l}_attn_bias, L{l}_mlp, ln_final_bias. */
export interface AttributionComponent {
  name: string;
  value: number;
}

/** `{"input_ids":[…],"target":ID,"logit":X,"components":[{"name","value"},…]}` */
export interface Attribution {
  input_ids: number[];
  target: number;
  /** the model's logit for `target` at the last position */
  logit: number;
  /** in forward order: embed, pos_embed, then per layer its heads, its attention bias, its MLP; then ln_final_bias */
  components: AttributionComponent[];
}

/** The direct logit attribution of `target` at the last position of `input_ids` (one row, no cache). */
export async function attribute(model: InterventionModel, input_ids: number[], target: number): Promise<Attribution> {
  const { n_layer: L, n_head: nh, n_embd: C, vocab_size: V, layer_norm_epsilon: eps } = model.config;
  if (!Number.isInteger(target) || target < 0 || target >= V) throw new InterventionError(`target ${target} is not a token id in [0, ${V})`);
  const capture = [`blocks.${L - 1}.hook_resid_post`];
  for (let l = 0; l < L; l++) capture.push(`blocks.${l}.attn.hook_z`, `blocks.${l}.hook_mlp_out`);
  const out = await model.forward({ input_ids: [input_ids], capture, num_logits_to_keep: 1, use_cache: false });
  const cache = out.cache!;
  const T = input_ids.length;
  const t = T - 1;
  const w = model.weights;
  const head = (w.lm_head ?? w.wte).subarray(target * C, (target + 1) * C); // w[target]
  const gain = w.ln_f.weight;

  // σ of the real final residual (ln_f's input), as LayerNorm computes it: biased variance, eps inside the root
  const x = cache.get(`blocks.${L - 1}.hook_resid_post`)!.data.subarray(t * C, (t + 1) * C);
  let mean = 0;
  for (let c = 0; c < C; c++) mean += x[c]!;
  mean /= C;
  let variance = 0;
  for (let c = 0; c < C; c++) variance += (x[c]! - mean) ** 2;
  const sigma = Math.sqrt(variance / C + eps);
  // one part's term: ((part − mean(part)) / σ · gain) · w[target]  =  Σ part_c·u_c − mean(part)·Σ u_c, u = gain·w/σ
  const u = new Float64Array(C);
  let uSum = 0;
  for (let c = 0; c < C; c++) {
    u[c] = (gain[c]! * head[c]!) / sigma;
    uSum += u[c]!;
  }
  const term = (part: ArrayLike<number>): number => {
    let dot = 0;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      dot += part[c]! * u[c]!;
      sum += part[c]!;
    }
    return dot - (sum / C) * uSum;
  };

  const components: AttributionComponent[] = [
    { name: 'embed', value: term(w.wte.subarray(input_ids[t]! * C, (input_ids[t]! + 1) * C)) },
    { name: 'pos_embed', value: term(w.wpe.subarray(t * C, (t + 1) * C)) },
  ];
  const hs = C / nh;
  const part = new Float64Array(C);
  for (let l = 0; l < L; l++) {
    const z = cache.get(`blocks.${l}.attn.hook_z`)!.data; // [1, T, nh, hs]
    const proj = w.h[l]!.attn.c_proj; // weight [C in, C out]: head h reads input rows h·hs .. (h+1)·hs
    for (let h = 0; h < nh; h++) {
      part.fill(0);
      for (let d = 0; d < hs; d++) {
        const zd = z[(t * nh + h) * hs + d]!;
        const row = (h * hs + d) * C;
        for (let c = 0; c < C; c++) part[c] += zd * proj.weight[row + c]!;
      }
      components.push({ name: `L${l}H${h}`, value: term(part) });
    }
    components.push({ name: `L${l}_attn_bias`, value: term(proj.bias) });
    const mlp = cache.get(`blocks.${l}.hook_mlp_out`)!.data;
    components.push({ name: `L${l}_mlp`, value: term(mlp.subarray(t * C, (t + 1) * C)) });
  }
  let bias = 0;
  for (let c = 0; c < C; c++) bias += w.ln_f.bias[c]! * head[c]!;
  components.push({ name: 'ln_final_bias', value: bias });
  return { input_ids, target, logit: out.logits.data[target]!, components };
}
