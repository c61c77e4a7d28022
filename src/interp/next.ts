// The next-token table (`gpt2-lens next`, /api/next): softmax of the last position's raw logits, best first.
import { topKIndices } from '../generation/logits-process.js';
import { softmaxArray } from '../generation/math.js';
import type { ForwardHooks } from '../model/hooks.js';
import { assertFiniteLogits } from '../model/non-finite.js';
import type { InterventionModel, TextCodec } from './types.js';

/** One row of the table; the API's `top` rows are these (Candidate in src/explorer/types.ts). */
export interface NextToken {
  id: number;
  token: string;
  prob: number;
  logit: number;
}

/** `{"input_ids":[…],"top":[{"id","token","prob","logit"},…]}` */
export interface NextTokens {
  input_ids: number[];
  top: NextToken[];
}

/**
 * The table of raw logits [vocab_size] (one position): the `top` most likely tokens, leaving out ruled-out
 * (-Infinity) ones. `probs` is their softmax, when the caller has it already.
 */
export function nextTokenRows(logits: Float32Array, top: number, tokenizer: Pick<TextCodec, 'decode'>, probs: ArrayLike<number> = softmaxArray(logits)): NextToken[] {
  return topKIndices(logits, top)
    .filter((id) => logits[id] !== -Infinity)
    .map((id) => ({ id, token: tokenizer.decode([id]), prob: probs[id]!, logit: logits[id]! }));
}

/** The next-token table after `input_ids`, optionally with write hooks in the forward pass (ablation). */
export async function nextTokens(model: InterventionModel, tokenizer: Pick<TextCodec, 'decode'>, input_ids: number[], options: { top?: number; hooks?: ForwardHooks } = {}): Promise<NextTokens> {
  const top = options.top ?? 10;
  if (!Number.isInteger(top) || top < 1) throw new Error(`top must be a positive integer, got ${top}`);
  const out = await model.forward({ input_ids: [input_ids], num_logits_to_keep: 1, use_cache: false, ...(options.hooks ? { hooks: options.hooks } : {}) });
  await assertFiniteLogits(model, { input_ids: [input_ids] }, out.logits.data); // NaN would make an empty table
  return { input_ids, top: nextTokenRows(out.logits.data, top, tokenizer) };
}
