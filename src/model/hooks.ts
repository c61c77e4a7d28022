// Named intermediate activations ("hooks"), with TransformerLens's names, so learners and the explorer can
// look inside a forward pass: forward({..., capture: ['blocks.0.attn.hook_pattern']}) → cache.get(name).
import type { GPT2Config, Tensor } from './types.js';

/** Hook names inside block i (prefix `blocks.{i}.`), with the shape each captures. */
export const BLOCK_HOOKS: ReadonlyArray<[name: string, shape: string]> = [
  ['hook_resid_pre', '[B, T, n_embd] residual stream entering the block'],
  ['ln1.hook_normalized', '[B, T, n_embd] ln_1 output (gain and bias applied)'],
  ['attn.hook_q', '[B, T, n_head, head_dim] queries'],
  ['attn.hook_k', '[B, T, n_head, head_dim] keys of the new positions'],
  ['attn.hook_v', '[B, T, n_head, head_dim] values of the new positions'],
  ['attn.hook_attn_scores', '[B, n_head, T, T_past + T] scaled scores, masked entries = float32 min (HF)'],
  ['attn.hook_pattern', '[B, n_head, T, T_past + T] attention probabilities (softmax of the scores)'],
  ['attn.hook_z', '[B, T, n_head, head_dim] attention-weighted values, before c_proj'],
  ['hook_attn_out', '[B, T, n_embd] attention output (after c_proj)'],
  ['hook_resid_mid', '[B, T, n_embd] residual stream after the attention'],
  ['ln2.hook_normalized', '[B, T, n_embd] ln_2 output'],
  ['mlp.hook_pre', '[B, T, n_inner] c_fc output, before the GELU'],
  ['mlp.hook_post', '[B, T, n_inner] after the GELU'],
  ['hook_mlp_out', '[B, T, n_embd] MLP output (after c_proj)'],
  ['hook_resid_post', '[B, T, n_embd] residual stream leaving the block'],
];

/** Hook names outside the blocks. */
export const MODEL_HOOKS: ReadonlyArray<[name: string, shape: string]> = [
  ['hook_embed', '[B, T, n_embd] token embeddings wte[input_ids]'],
  ['hook_pos_embed', '[B, T, n_embd] position embeddings wpe[position_ids]'],
  ['ln_final.hook_normalized', '[B, T, n_embd] ln_f output (= last_hidden_state)'],
];

/** Every hook name of a model, in the order a forward pass produces them. */
export function hookNames(config: Pick<GPT2Config, 'n_layer'>): string[] {
  const names = ['hook_embed', 'hook_pos_embed'];
  for (let i = 0; i < config.n_layer; i++) for (const [n] of BLOCK_HOOKS) names.push(`blocks.${i}.${n}`);
  names.push('ln_final.hook_normalized');
  return names;
}

/** Turns a `capture` option into a predicate; unknown names are an error that lists the valid forms. */
export function capturePredicate(capture: readonly string[] | ((name: string) => boolean) | undefined, config: GPT2Config): ((name: string) => boolean) | null {
  if (capture === undefined) return null;
  if (typeof capture === 'function') return capture;
  if (capture.length === 0) return null;
  const valid = new Set(hookNames(config));
  for (const name of capture) {
    if (!valid.has(name)) {
      throw new Error(
        `unknown hook name "${name}": expected one of ${MODEL_HOOKS.map(([n]) => n).join(', ')} or ` +
          `blocks.{0..${config.n_layer - 1}}.{${BLOCK_HOOKS.map(([n]) => n).join(', ')}}`,
      );
    }
  }
  const wanted = new Set(capture);
  return (name) => wanted.has(name);
}

/** Where a forward pass saves what was asked for. */
export class HookRecorder {
  readonly saved = new Map<string, Tensor>();
  constructor(private readonly wants: ((name: string) => boolean) | null) {}

  /** true when `name` should be saved (lets callers skip building a tensor nobody asked for) */
  want(name: string): boolean {
    return this.wants !== null && this.wants(name);
  }

  /** Saves a copy of `data` under `name` if it was asked for. */
  save(name: string, data: Float32Array, dims: number[]): void {
    if (this.want(name)) this.saved.set(name, { data: data.slice(), dims });
  }
}
