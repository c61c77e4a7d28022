// Named activations as JSON: one forward pass with `capture: [hook names]`, each tensor returned as
// `{dims, data}` with the batch dimension dropped. This is what `/api/forward {capture}` and
// `gpt2-lens forward --capture NAME --json` print; both call captureActivations, so they cannot disagree.
import { capturePredicate } from './hooks.js';
import type { GPT2LMHeadModel } from './model.js';
import type { GPT2Config } from './types.js';

/** A capture request that cannot be served: an unknown hook name, or more floats than the limit. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

/** One captured tensor: row-major float32 values (as JSON numbers), batch dimension dropped. */
export interface CaptureJson {
  dims: number[];
  data: number[];
}

/**
 * The most floats one request may capture, all tensors together: 2^22 = 4,194,304 (16 MiB as float32, about
 * 40 MB of JSON). The explorer's walk through GPT-2 124M at 128 tokens asks for about 3.6 million.
 */
export const MAX_CAPTURE_FLOATS = 4_194_304;

/**
 * The shape one hook will have for a prompt of T tokens (batch dimension dropped), known before the forward pass
 * so that a request over the limit fails before any work. Throws on an unknown name (the message lists the forms).
 */
export function captureDims(config: GPT2Config, name: string, T: number): number[] {
  try {
    capturePredicate([name], config); // the one check of hook names (its message lists the valid forms)
  } catch (err) {
    throw new CaptureError(err instanceof Error ? err.message : String(err));
  }
  const C = config.n_embd;
  const H = config.n_head;
  const inner = config.n_inner ?? 4 * C;
  const local = name.replace(/^blocks\.\d+\./, '');
  if (['attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_z'].includes(local)) return [T, H, C / H];
  if (local === 'attn.hook_attn_scores' || local === 'attn.hook_pattern') return [H, T, T];
  if (local === 'mlp.hook_pre' || local === 'mlp.hook_post') return [T, inner];
  return [T, C]; // embeddings, LayerNorm outputs, the residual stream, attention and MLP outputs
}

/**
 * Runs one forward pass over `ids` (a batch of one) and returns each named activation as JSON.
 * Duplicate names are kept once. Throws, before computing anything, on an unknown name or when the tensors
 * together hold more than `maxFloats` values.
 */
export async function captureActivations(
  model: GPT2LMHeadModel,
  ids: readonly number[],
  names: readonly string[],
  maxFloats: number = MAX_CAPTURE_FLOATS,
): Promise<Record<string, CaptureJson>> {
  const wanted = [...new Set(names)];
  const dims = new Map(wanted.map((n) => [n, captureDims(model.config, n, ids.length)]));
  let total = 0;
  for (const d of dims.values()) total += d.reduce((a, b) => a * b, 1);
  if (total > maxFloats) {
    throw new CaptureError(
      `the captures hold ${total} floats for ${ids.length} tokens, above the limit of ${maxFloats}: ask for fewer hooks or a shorter prompt`,
    );
  }
  const out: Record<string, CaptureJson> = {};
  if (wanted.length === 0) return out;
  const res = await model.forward({ input_ids: [[...ids]], use_cache: false, num_logits_to_keep: 1, capture: wanted });
  for (const name of wanted) {
    const t = res.cache?.get(name);
    if (!t) throw new Error(`the forward pass did not capture "${name}"`);
    const want = dims.get(name)!;
    const got = t.dims.slice(1);
    if (t.dims[0] !== 1 || got.join() !== want.join()) throw new Error(`"${name}" came back as [${t.dims.join(', ')}], expected [1, ${want.join(', ')}]`);
    out[name] = { dims: got, data: Array.from(t.data) };
  }
  return out;
}
