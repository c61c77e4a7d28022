// Logits that are not numbers. Broken weights (a NaN in a checkpoint, an overflow in float16) make the model's logits
// NaN or Infinity; a softmax of them is NaN everywhere, so a next-token table comes out empty and greedy decoding
// picks token 0 ("!") forever. This is checked wherever logits are turned into a choice (generate(), the
// next-token table) and said clearly, with where in the network the first non-finite value appears.
// One -Infinity among finite logits is allowed: it is how a token is ruled out; a row of only -Infinity is not.
import type { CausalLMOutput, ForwardInputs } from './types.js';

/** The model produced logits that are NaN or Infinity. `where` says where the first non-finite value appears. */
export class NonFiniteLogitsError extends Error {
  override name = 'NonFiniteLogitsError';
  constructor(
    message: string,
    /** e.g. "h.3" (the output of block 3), "embeddings", "lm_head"; null when it could not be told */
    readonly where: string | null,
  ) {
    super(message);
  }
}

/** Index of the first NaN or +Infinity in `data`, or of a row of `rowSize` holding only -Infinity; -1 when none. */
export function findNonFiniteLogit(data: Float32Array, rowSize: number = data.length): number {
  for (let start = 0; start + rowSize <= data.length; start += rowSize) {
    let allMinusInf = true;
    for (let i = start; i < start + rowSize; i++) {
      const x = data[i]!;
      if (Number.isNaN(x) || x === Infinity) return i;
      if (x !== -Infinity) allMinusInf = false;
    }
    if (allMinusInf && rowSize > 0) return start;
  }
  return -1;
}

function hasNonFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return true;
  return false;
}

interface ForwardModel {
  readonly config: { vocab_size: number; n_layer?: number };
  forward(inputs: ForwardInputs): Promise<CausalLMOutput>;
}

/**
 * Throws NonFiniteLogitsError when `logits` (rows of vocab_size) hold NaN, +Infinity, or a row of only -Infinity.
 * To say where, it runs `inputs` (whole sequences, no cache) once more with hidden states and names the first
 * one that is not finite: the embeddings, a block's output, or, when every hidden state is finite, the LM head.
 */
export async function assertFiniteLogits(model: ForwardModel, inputs: ForwardInputs, logits: Float32Array): Promise<void> {
  const V = model.config.vocab_size;
  const bad = findNonFiniteLogit(logits, V);
  if (bad < 0) return;
  const value = logits[bad]!;
  const what = Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : 'a row of only -Infinity';
  let where: string | null = null;
  let detail = 'where it starts could not be told';
  try {
    const out = await model.forward({ ...inputs, past_key_values: null, use_cache: false, output_hidden_states: true, num_logits_to_keep: 1 });
    const hs = out.hidden_states ?? [];
    const k = hs.findIndex((h) => hasNonFinite(h.data));
    const L = hs.length - 1; // hidden_states: the embeddings, then each block's output (the last one after ln_f)
    if (k === 0) {
      where = 'embeddings';
      detail = 'the embeddings (wte + wpe) already hold NaN or Infinity';
    } else if (k > 0 && k < L) {
      where = `h.${k - 1}`;
      detail = `the first non-finite values appear in the output of block h.${k - 1}`;
    } else if (k === L && L > 0) {
      where = `h.${L - 1}`;
      detail = `the first non-finite values appear in the output of the last block h.${L - 1} (after ln_f)`;
    } else if (hs.length > 0) {
      where = 'lm_head';
      detail = 'every hidden state is finite, so the LM head (wte, tied) holds NaN or Infinity';
    }
  } catch {
    // the diagnosis is a bonus: the error below is what matters
  }
  throw new NonFiniteLogitsError(
    `the model produced non-finite logits (${what}${value === -Infinity ? '' : ` for token ${bad % V}`} in row ${Math.floor(bad / V)}): ${detail}. ` +
      'The weights are broken (a NaN in the checkpoint, or an overflow), so no token can be chosen.',
    where,
  );
}
