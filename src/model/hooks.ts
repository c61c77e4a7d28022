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

/** The error for a name that is not a hook: lists the valid forms. */
function unknownHook(name: string, config: Pick<GPT2Config, 'n_layer'>): Error {
  return new Error(
    `unknown hook name "${name}": expected one of ${MODEL_HOOKS.map(([n]) => n).join(', ')} or ` +
      `blocks.{0..${config.n_layer - 1}}.{${BLOCK_HOOKS.map(([n]) => n).join(', ')}}`,
  );
}

/** Turns a `capture` option into a predicate; unknown names are an error that lists the valid forms. */
export function capturePredicate(capture: readonly string[] | ((name: string) => boolean) | undefined, config: GPT2Config): ((name: string) => boolean) | null {
  if (capture === undefined) return null;
  if (typeof capture === 'function') return capture;
  if (capture.length === 0) return null;
  const valid = new Set(hookNames(config));
  for (const name of capture) if (!valid.has(name)) throw unknownHook(name, config);
  const wanted = new Set(capture);
  return (name) => wanted.has(name);
}

// ---- Write hooks: TransformerLens's run_with_hooks ----

/** What a write hook is told besides the activation. */
export interface HookContext {
  /** the hook point, e.g. 'blocks.3.attn.hook_z' */
  name: string;
  /** the block the hook point is in; null for hook_embed, hook_pos_embed and ln_final.hook_normalized */
  layer: number | null;
  /**
   * positions already in the KV cache: index t along the tensor's T axis is absolute position `past + t`
   * (0 without a cache; during cached generation each step's tensors hold only the new positions)
   */
  past: number;
  /** which path runs the hook: the readable reference path, or the WebAssembly engine (see docs/interventions.md) */
  path: 'reference' | 'engine';
}

/**
 * A write hook. It sees the activation and may edit it: return a replacement of the same dims, or change
 * `value.data` in place and return nothing (both count). A replacement is copied, so it may be an array the caller
 * keeps (a clean run's activation); `value` itself is only valid during the call: copy what you keep.
 */
export type HookFn = (value: Tensor, ctx: HookContext) => Tensor | void;

/** forward()'s / generate()'s `hooks`: hook name → write hook. */
export type ForwardHooks = Readonly<Record<string, HookFn>>;

/** Checks a `hooks` option (known names, functions); returns null when there are none. */
export function checkHooks(hooks: ForwardHooks | undefined, config: Pick<GPT2Config, 'n_layer'>): ForwardHooks | null {
  if (hooks === undefined || hooks === null) return null;
  if (typeof hooks !== 'object') throw new Error('hooks must be an object of hook name → function');
  const names = Object.keys(hooks);
  if (names.length === 0) return null;
  const valid = new Set(hookNames(config));
  for (const name of names) {
    if (!valid.has(name)) throw unknownHook(name, config);
    if (typeof hooks[name] !== 'function') throw new Error(`hooks["${name}"] must be a function (value, ctx) => Tensor | void, got ${typeof hooks[name]}`);
  }
  return hooks;
}

/** The block index in a hook name (`blocks.{i}.…`), or null. */
export function hookLayer(name: string): number | null {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Runs the write hook of `name`, if there is one, on `data` (with `dims`): returns the array to go on with,
 * `data` itself (possibly edited in place) or the hook's replacement, after checking its shape.
 */
export function runHook(hooks: ForwardHooks | null, name: string, data: Float32Array, dims: number[], past: number, path: HookContext['path']): Float32Array {
  const fn = hooks?.[name];
  if (!fn) return data;
  const value: Tensor = { data, dims: [...dims] };
  const out = fn(value, { name, layer: hookLayer(name), past, path });
  if (out === undefined || out === null) return data;
  if (typeof out !== 'object' || !(out.data instanceof Float32Array) || !Array.isArray(out.dims)) {
    throw new Error(`hook "${name}" must return a tensor {data: Float32Array, dims} or nothing, got ${typeof out === 'object' ? 'an object without them' : typeof out}`);
  }
  if (out.dims.length !== dims.length || out.dims.some((d, i) => d !== dims[i])) {
    throw new Error(`hook "${name}" returned a tensor of dims [${out.dims.join(', ')}], expected [${dims.join(', ')}] (a hook may not change the shape)`);
  }
  if (out.data.length !== data.length) throw new Error(`hook "${name}" returned ${out.data.length} values for dims [${dims.join(', ')}] (${data.length})`);
  return out.data.slice(); // a copy: the forward pass may reuse it, and the hook may keep what it returned
}

/** Where a forward pass saves what was asked for and runs the write hooks. */
export class HookRecorder {
  readonly saved = new Map<string, Tensor>();
  constructor(
    private readonly wants: ((name: string) => boolean) | null,
    /** write hooks (checked), or null */
    readonly hooks: ForwardHooks | null = null,
    /** positions already cached (HookContext.past) */
    readonly past = 0,
  ) {}

  /** true when `name` should be saved (lets callers skip building a tensor nobody asked for) */
  want(name: string): boolean {
    return this.wants !== null && this.wants(name);
  }

  /** true when `name` has a write hook */
  edits(name: string): boolean {
    return this.hooks !== null && this.hooks[name] !== undefined;
  }

  /** true when `name` is captured or edited (the activation must be built) */
  touches(name: string): boolean {
    return this.edits(name) || this.want(name);
  }

  /** Saves a copy of `data` under `name` if it was asked for. */
  save(name: string, data: Float32Array, dims: number[]): void {
    if (this.want(name)) this.saved.set(name, { data: data.slice(), dims });
  }

  /**
   * A hook point: runs the write hook of `name` (if any) on `data`, saves the result if captured (captures see
   * what flows on, after the edit) and returns the array to go on with.
   */
  point(name: string, data: Float32Array, dims: number[]): Float32Array {
    const out = runHook(this.hooks, name, data, dims, this.past, 'reference');
    this.save(name, out, dims);
    return out;
  }
}
