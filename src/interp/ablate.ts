// Head ablation: replace some heads' output (their slice of blocks.{L}.attn.hook_z, before c_proj) by zero, or
// by the head's mean over the prompt's positions (as TransformerLens's tutorials do), and see what the model
// predicts without them.
import { InterventionError } from './errors.js';
import type { ForwardHooks } from '../model/hooks.js';
import { checkHead } from './heads.js';
import { nextTokens, type NextTokens } from './next.js';
import type { HeadRef, InterventionModel, TextCodec } from './types.js';

export type AblationKind = 'zero' | 'mean';
export const ABLATION_KINDS: readonly AblationKind[] = ['zero', 'mean'];

/** The layers the heads are in, ascending. */
function layersOf(heads: readonly HeadRef[]): number[] {
  return [...new Set(heads.map((h) => h.layer))].sort((a, b) => a - b);
}

/**
 * Each listed layer's hook_z averaged over the prompt's positions: layer → [n_head · head_dim] (head h at
 * h·head_dim), from one forward pass over `input_ids` (a single row).
 */
export async function meanHeadOutputs(model: InterventionModel, input_ids: number[], layers: readonly number[]): Promise<Map<number, Float32Array>> {
  const out = await model.forward({ input_ids: [input_ids], capture: layers.map((l) => `blocks.${l}.attn.hook_z`), num_logits_to_keep: 1, use_cache: false });
  const means = new Map<number, Float32Array>();
  for (const l of layers) {
    const z = out.cache!.get(`blocks.${l}.attn.hook_z`)!; // [1, T, n_head, head_dim]
    const [, T, nh, hs] = z.dims as [number, number, number, number];
    const sum = new Float64Array(nh * hs);
    for (let t = 0; t < T; t++) for (let i = 0; i < nh * hs; i++) sum[i] += z.data[t * nh * hs + i]!;
    means.set(l, Float32Array.from(sum, (s) => s / T));
  }
  return means;
}

/**
 * Write hooks that ablate `heads`: at blocks.{L}.attn.hook_z, every row and position of head H is set to 0
 * (kind 'zero') or to `means.get(L)`'s slice for H (kind 'mean', see meanHeadOutputs). In place; no other head moves.
 */
export function ablationHooks(config: { n_layer: number; n_head: number }, heads: readonly HeadRef[], kind: AblationKind, means?: ReadonlyMap<number, Float32Array>): ForwardHooks {
  if (!ABLATION_KINDS.includes(kind)) throw new InterventionError(`ablation kind must be zero or mean, got "${String(kind)}"`);
  const hooks: Record<string, (value: { data: Float32Array; dims: number[] }) => void> = {};
  for (const layer of layersOf(heads)) {
    const inLayer = heads.filter((h) => checkHead(h, config).layer === layer).map((h) => h.head);
    const mean = kind === 'mean' ? means?.get(layer) : undefined;
    if (kind === 'mean' && !mean) throw new InterventionError(`mean ablation of layer ${layer} needs its mean hook_z (meanHeadOutputs)`);
    hooks[`blocks.${layer}.attn.hook_z`] = ({ data, dims }) => {
      const [B, T, nh, hs] = dims as [number, number, number, number];
      for (let r = 0; r < B * T; r++) {
        for (const h of inLayer) {
          const at = (r * nh + h) * hs;
          if (mean) data.set(mean.subarray(h * hs, (h + 1) * hs), at);
          else data.fill(0, at, at + hs);
        }
      }
    };
  }
  return hooks;
}

/** The hooks for ablating `heads` on this prompt: means are computed from `input_ids` when kind is 'mean'. */
export async function ablationHooksFor(model: InterventionModel, input_ids: number[], heads: readonly HeadRef[], kind: AblationKind = 'zero'): Promise<ForwardHooks> {
  for (const h of heads) checkHead(h, model.config);
  const means = kind === 'mean' ? await meanHeadOutputs(model, input_ids, layersOf(heads)) : undefined;
  return ablationHooks(model.config, heads, kind, means);
}

export interface AblateOptions {
  /** 'zero' (default) or 'mean' (the head's mean over the prompt's positions) */
  kind?: AblationKind;
  /** rows of the table (default 10) */
  top?: number;
  /** decodes each row's token */
  tokenizer: Pick<TextCodec, 'decode'>;
}

/** The next-token table with `heads` ablated: the same JSON as `gpt2-lens next` ({input_ids, top}). */
export async function ablate(model: InterventionModel, input_ids: number[], heads: readonly HeadRef[], options: AblateOptions): Promise<NextTokens> {
  const hooks = await ablationHooksFor(model, input_ids, heads, options.kind ?? 'zero');
  return nextTokens(model, options.tokenizer, input_ids, { top: options.top ?? 10, hooks });
}
