// Activation patching: run the corrupted prompt, but take one activation from the clean run, and see how much
// of the clean behaviour comes back. Score: the logit difference d = logit[answer] − logit[wrong] at the last
// position; recovered = (d_patched − d_corrupted) ÷ (d_clean − d_corrupted): 0 = nothing, 1 = all of it.
// For resid_pre, attn_out and mlp_out, one cell patches one layer at one position; for z, one head of one
// layer at every position.
//
// Speed: a patch at position p cannot change positions before p (attention is causal), so those come from the
// corrupted run's KV cache, and the layers are batched: for each p one forward pass of n_layer rows over
// positions p..T−1, row l patched at layer l, all passes sharing one expanded copy of that cache. For z, one pass per layer with one row per head.
import { InterventionError } from './errors.js';
import type { ForwardHooks } from '../model/hooks.js';
import type { KVCache } from '../model/kv-cache.js';
import type { ForwardInputs, Tensor } from '../model/types.js';
import type { InterventionModel } from './types.js';

/** What can be patched, and the hook point each names. */
export const PATCH_HOOKS = { resid_pre: 'hook_resid_pre', attn_out: 'hook_attn_out', mlp_out: 'hook_mlp_out', z: 'attn.hook_z' } as const;
export type PatchHook = keyof typeof PATCH_HOOKS;

/** Whether `name` is one of PATCH_HOOKS' keys (its own: not "toString" or "__proto__"). */
export function isPatchHook(name: unknown): name is PatchHook {
  return typeof name === 'string' && Object.hasOwn(PATCH_HOOKS, name);
}

/** `{"clean_logit_diff","corrupted_logit_diff","hook","rows":["L0",…],"cols":[…],"recovered":[[…]]}` */
export interface PatchResult {
  clean_logit_diff: number;
  corrupted_logit_diff: number;
  hook: PatchHook;
  /** one per layer: "L0", "L1", … */
  rows: string[];
  /** one per position ("P0", "P1", …), or for z one per head ("H0", …) */
  cols: string[];
  /** [layer][position or head] */
  recovered: number[][];
}

export interface PatchArgs {
  clean: number[];
  corrupted: number[];
  answer: number;
  wrong: number;
  hook: PatchHook;
}

/** At most this many token rows in one batched forward pass (rows × positions), to bound memory. */
const MAX_BATCH_TOKENS = 4096;

/** The activation patching grid of `hook` for a clean/corrupted pair of the same length. */
export async function patch(model: InterventionModel, args: PatchArgs): Promise<PatchResult> {
  const { clean, corrupted, answer, wrong, hook } = args;
  const { n_layer: L, n_head: nh, vocab_size: V } = model.config;
  if (!isPatchHook(hook)) throw new InterventionError(`hook must be one of ${Object.keys(PATCH_HOOKS).join(', ')}, got "${String(hook)}"`);
  if (clean.length !== corrupted.length) {
    throw new InterventionError(`the clean and corrupted prompts must have the same number of tokens: clean has ${clean.length}, corrupted has ${corrupted.length}`);
  }
  if (clean.length === 0) throw new InterventionError('the prompts are empty');
  for (const [name, id] of [['answer', answer], ['wrong', wrong]] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new InterventionError(`${name} ${id} is not a token id in [0, ${V})`);
  }
  const T = clean.length;
  const point = (l: number): string => `blocks.${l}.${PATCH_HOOKS[hook]}`;
  const { C, run } = lastHidden(model);
  // The score needs two logits, not vocab_size of them: logit[i] = ln_f(x) · W[i] (W: the LM head, wte when tied),
  // summed here in float64 for every run alike, from each row's last position.
  const head = model.weights.lm_head ?? model.weights.wte;
  const diff = (hidden: Float32Array, row: number): number => {
    const h = (row + 1) * C - C;
    let d = 0;
    for (let c = 0; c < C; c++) d += hidden[h + c]! * (head[answer * C + c]! - head[wrong * C + c]!);
    return d;
  };

  const cleanRun = await run({ input_ids: [clean], capture: Array.from({ length: L }, (_, l) => point(l)), use_cache: false });
  const corruptedRun = await run({ input_ids: [corrupted], use_cache: true });
  const clean_logit_diff = diff(cleanRun.hidden, 0);
  const corrupted_logit_diff = diff(corruptedRun.hidden, 0);
  const denominator = clean_logit_diff - corrupted_logit_diff;
  if (denominator === 0) {
    throw new InterventionError(
      `the clean and corrupted prompts give the same logit difference (${clean_logit_diff}), so recovered = ` +
        '(patched − corrupted) ÷ (clean − corrupted) has a zero denominator: pick prompts, answer and wrong tokens that the model tells apart',
    );
  }
  const recover = (d: number): number => (d - corrupted_logit_diff) / denominator;
  const cleanAct = (l: number): Float32Array => cleanRun.cache!.get(point(l))!.data;
  const rows = Array.from({ length: L }, (_, l) => `L${l}`);

  if (hook === 'z') {
    // one pass per layer: row h has head h's z (every position) from the clean run
    const recovered: number[][] = [];
    for (let l = 0; l < L; l++) {
      const src = cleanAct(l); // [1, T, nh, hs]
      const hooks: ForwardHooks = {
        [point(l)]: ({ data, dims }) => {
          const [, Tn, , hs] = dims as [number, number, number, number];
          for (let h = 0; h < nh; h++) {
            for (let t = 0; t < Tn; t++) data.set(src.subarray((t * nh + h) * hs, (t * nh + h + 1) * hs), ((h * Tn + t) * nh + h) * hs);
          }
        },
      };
      const out = await run({ input_ids: Array.from({ length: nh }, () => corrupted), hooks, use_cache: false });
      recovered.push(Array.from({ length: nh }, (_, h) => recover(diff(out.hidden, h))));
    }
    return { clean_logit_diff, corrupted_logit_diff, hook, rows, cols: Array.from({ length: nh }, (_, h) => `H${h}`), recovered };
  }

  // [B, T, C] hook points: for position p, row i of a batch patches layer layers[i] at position p
  const past = corruptedRun.past!;
  // One cache of n_layer rows for every full-width pass, visited from the last position down: the pass for p
  // crops it to p and writes positions p..T−1, and every later pass (p' < p) crops below p again, so the
  // positions it reads were never written by a patched pass. The engine's mirror of it follows the crops
  // without copying (a fresh cache per pass meant a fresh upload of the whole prefix each time).
  const shared = T > 1 ? past.clone().expand(L) : null;
  const recovered: number[][] = Array.from({ length: L }, () => new Array<number>(T).fill(0));
  for (let p = T - 1; p >= 0; p--) {
    const tokens = T - p;
    const perPass = Math.max(1, Math.floor(MAX_BATCH_TOKENS / tokens));
    for (let first = 0; first < L; first += perPass) {
      const layers = Array.from({ length: Math.min(perPass, L - first) }, (_, i) => first + i);
      const hooks: Record<string, ForwardHooks[string]> = {};
      layers.forEach((l, row) => {
        const src = cleanAct(l); // [1, T, C]
        hooks[point(l)] = ({ data, dims }, ctx) => {
          const [, Tn, C] = dims as [number, number, number];
          const t = p - ctx.past; // position p within this pass's positions
          data.set(src.subarray(p * C, (p + 1) * C), (row * Tn + t) * C);
        };
      });
      let cache: KVCache | null = null;
      if (p > 0) cache = layers.length === L ? shared!.crop(p) : past.clone().crop(p).expand(layers.length);
      const out = await run({ input_ids: layers.map(() => corrupted.slice(p)), past_key_values: cache, use_cache: cache !== null, hooks });
      layers.forEach((l, row) => (recovered[l]![p] = recover(diff(out.hidden, row))));
    }
  }
  return { clean_logit_diff, corrupted_logit_diff, hook, rows, cols: Array.from({ length: T }, (_, t) => `P${t}`), recovered };
}

/** What patch() keeps of a forward pass: ln_f's output at each row's last position ([B, n_embd]), captures, cache. */
interface LastHidden {
  hidden: Float32Array;
  cache?: Map<string, Tensor>;
  past?: KVCache;
}

/**
 * Forward passes that end at ln_f: through `model.transformer` when the model has one (no LM head at all),
 * otherwise the LM-head pass with ln_f's output captured (the same numbers, one row of logits more per pass).
 */
function lastHidden(model: InterventionModel): { C: number; run: (inputs: ForwardInputs) => Promise<LastHidden> } {
  const C = model.config.n_embd;
  const FINAL = 'ln_final.hook_normalized';
  const last = ({ data, dims }: Tensor): Float32Array => {
    const [B, T] = dims as [number, number];
    const out = new Float32Array(B * C);
    for (let b = 0; b < B; b++) out.set(data.subarray((b * T + T - 1) * C, (b * T + T) * C), b * C);
    return out;
  };
  const body = model.transformer;
  if (body) {
    return {
      C,
      run: async (inputs) => {
        const r = await body.forward(inputs);
        return { hidden: last(r.last_hidden_state), ...(r.cache ? { cache: r.cache } : {}), ...(r.past_key_values ? { past: r.past_key_values } : {}) };
      },
    };
  }
  return {
    C,
    run: async (inputs) => {
      const capture = [...((inputs.capture as readonly string[] | undefined) ?? []), FINAL];
      const r = await model.forward({ ...inputs, capture, num_logits_to_keep: 1 });
      return { hidden: last(r.cache!.get(FINAL)!), cache: r.cache!, ...(r.past_key_values ? { past: r.past_key_values } : {}) };
    },
  };
}
