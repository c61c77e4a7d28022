// What each API endpoint computes, given a checked request: tokens, the next-token table with its knobs, one
// forward pass (attention, hidden states, the logit lens). Generation lives in ./generate.ts.
import { logitLens } from '../model/logit-lens.js';
import { assertFiniteLogits } from '../model/non-finite.js';
import type { GPT2LMHeadModel } from '../model/model.js';
import type { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import {
  MinPLogitsWarper,
  RepetitionPenaltyLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  topKIndices,
  type LogitsProcessor,
} from '../generation/logits-process.js';
import { softmaxArray } from '../generation/math.js';
import { ApiError } from './errors.js';
import type { Schema } from './validate.js';
import type {
  Candidate,
  ForwardRequest,
  ForwardResponse,
  KnobName,
  LensEntry,
  ModelInfo,
  NextRequest,
  NextResponse,
  ProcessedCandidate,
  ServerLimits,
  TokenizeResponse,
} from './types.js';

/** What every endpoint works with: the model and tokenizer loaded once at start, and the limits. */
export interface Context {
  model: GPT2LMHeadModel;
  tokenizer: GPT2Tokenizer;
  limits: ServerLimits;
  /** the name shown by /api/model (what --model said) */
  modelName: string;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  max_body_bytes: 256 * 1024,
  max_prompt_tokens: 512,
  max_forward_tokens: 128,
  max_new_tokens: 256,
  num_beams: 8,
  num_return_sequences: 8,
  max_top: 100,
  max_queue: 64,
});

// ---- the prompt: text or input_ids ------------------------------------------------------------------------

export function promptSchema(ctx: Context): Schema {
  return {
    text: { type: 'string' },
    input_ids: { type: 'integers', min: 0, max: ctx.model.config.vocab_size - 1 },
  };
}

/**
 * The prompt's ids from `text` or `input_ids` (exactly one of them), non-empty and within `maxTokens`.
 * `param` in an error names the field the person gave.
 */
export function promptIds(ctx: Context, body: { text?: string; input_ids?: number[] }, maxTokens: number): number[] {
  if (body.text !== undefined && body.input_ids !== undefined) throw new ApiError('give either "text" or "input_ids", not both', 'input_ids');
  if (body.text === undefined && body.input_ids === undefined) throw new ApiError('the prompt is missing: give "text" or "input_ids"', 'text');
  const param = body.text !== undefined ? 'text' : 'input_ids';
  const ids = body.text !== undefined ? ctx.tokenizer.encode(body.text) : body.input_ids!;
  if (ids.length === 0) throw new ApiError('the prompt is empty: GPT-2 needs at least one token', param);
  if (ids.length > maxTokens) {
    throw new ApiError(`the prompt has ${ids.length} tokens, above this server's limit of ${maxTokens} for this endpoint`, param);
  }
  return ids;
}

/** A token's text as the CLI prints it: HF's decode([id]) (U+FFFD for a token holding part of a character). */
export function tokenText(ctx: Context, id: number): string {
  return ctx.tokenizer.decode([id]);
}

// ---- GET /api/model ----------------------------------------------------------------------------------------

export function modelInfo(ctx: Context): ModelInfo {
  const c = ctx.model.config;
  return {
    model: ctx.modelName,
    random: ctx.model.is_random,
    config: {
      vocab_size: c.vocab_size,
      n_positions: c.n_positions,
      n_embd: c.n_embd,
      n_layer: c.n_layer,
      n_head: c.n_head,
      n_inner: c.n_inner,
      bos_token_id: c.bos_token_id,
      eos_token_id: c.eos_token_id,
    },
    n_params: ctx.model.num_parameters(),
    generation_config: ctx.model.generation_config,
    limits: ctx.limits,
  };
}

// ---- POST /api/tokenize ------------------------------------------------------------------------------------

export function tokenizeSchema(ctx: Context): Schema {
  return { text: { type: 'string', maxLength: ctx.limits.max_body_bytes } };
}

export function tokenize(ctx: Context, body: { text?: string }): TokenizeResponse {
  if (body.text === undefined) throw new ApiError('"text" is missing', 'text');
  const tokens = ctx.tokenizer.encodeWithOffsets(body.text);
  if (tokens.length > ctx.limits.max_prompt_tokens) {
    throw new ApiError(`the text has ${tokens.length} tokens, above this server's limit of ${ctx.limits.max_prompt_tokens}`, 'text');
  }
  return { ids: tokens.map((t) => t.id), tokens: tokens.map((t) => ({ id: t.id, text: t.text, bytes: t.bytes, start: t.start, end: t.end })) };
}

// ---- POST /api/next ----------------------------------------------------------------------------------------

export function nextSchema(ctx: Context): Schema {
  return {
    ...promptSchema(ctx),
    top: { type: 'integer', min: 1, limit: ctx.limits.max_top },
    temperature: { type: 'number', exclusiveMin: 0 },
    top_k: { type: 'integer', min: 0 },
    top_p: { type: 'number', exclusiveMin: 0, max: 1 },
    min_p: { type: 'number', min: 0, max: 1 },
    repetition_penalty: { type: 'number', exclusiveMin: 0 },
  };
}

/** The `n` best ids, best first (as the CLI picks them), leaving out removed (-Infinity) tokens. */
function topIndices(values: Float32Array, n: number): number[] {
  return topKIndices(values, n).filter((id) => values[id] !== -Infinity);
}

/** The knobs as HF would chain them when sampling: processors (repetition penalty) first, then warpers in order. */
function knobChain(body: NextRequest): { name: KnobName; value: number; processor: LogitsProcessor }[] {
  const chain: { name: KnobName; value: number; processor: LogitsProcessor }[] = [];
  const add = (name: KnobName, value: number, processor: LogitsProcessor): void => void chain.push({ name, value, processor });
  if (body.repetition_penalty !== undefined && body.repetition_penalty !== 1) {
    add('repetition_penalty', body.repetition_penalty, new RepetitionPenaltyLogitsProcessor(body.repetition_penalty));
  }
  if (body.temperature !== undefined && body.temperature !== 1) add('temperature', body.temperature, new TemperatureLogitsWarper(body.temperature));
  if (body.top_k !== undefined && body.top_k > 0) add('top_k', body.top_k, new TopKLogitsWarper(body.top_k));
  if (body.top_p !== undefined && body.top_p < 1) add('top_p', body.top_p, new TopPLogitsWarper(body.top_p));
  if (body.min_p !== undefined) add('min_p', body.min_p, new MinPLogitsWarper(body.min_p));
  return chain;
}

export async function next(ctx: Context, body: NextRequest): Promise<NextResponse> {
  const ids = promptIds(ctx, body, ctx.limits.max_prompt_tokens);
  const n = body.top ?? 10;
  const chain = knobChain(body); // before the forward pass: a bad knob fails fast
  const out = await ctx.model.forward({ input_ids: [ids], use_cache: false, num_logits_to_keep: 1 });
  const logits = out.logits.data.slice(0, ctx.model.config.vocab_size); // [V], the last position
  await assertFiniteLogits(ctx.model, { input_ids: [ids] }, logits);
  const probs = softmaxArray(logits);
  const top: Candidate[] = topIndices(logits, n).map((id) => ({ id, token: tokenText(ctx, id), prob: probs[id]!, logit: logits[id]! }));

  // Apply the knobs one at a time, noting which one sent each token to -inf.
  const scores = logits.slice();
  const removedAt = new Int8Array(scores.length).fill(-1); // index into chain of the knob that removed it
  const removed_count: Partial<Record<KnobName, number>> = {};
  chain.forEach((k, i) => {
    k.processor.apply(ids, scores);
    let count = 0;
    for (let v = 0; v < scores.length; v++) {
      if (scores[v] === -Infinity && removedAt[v] === -1) {
        removedAt[v] = i;
        count++;
      }
    }
    removed_count[k.name] = count;
  });
  const after = softmaxArray(scores);
  const processed: ProcessedCandidate[] = topIndices(scores, n).map((id) => ({ id, token: tokenText(ctx, id), prob: after[id]!, score: scores[id]! }));
  const removed_by: Record<string, KnobName> = {};
  for (const c of [...top, ...processed]) if (removedAt[c.id]! >= 0) removed_by[String(c.id)] = chain[removedAt[c.id]!]!.name;
  let kept = 0;
  for (let v = 0; v < scores.length; v++) if (scores[v] !== -Infinity) kept++;
  return {
    input_ids: ids,
    top,
    knobs: chain.map((k) => ({ name: k.name, value: k.value, processor: String(k.processor) })),
    processed,
    removed_by,
    removed_count,
    kept,
  };
}

// ---- POST /api/forward -------------------------------------------------------------------------------------

export function forwardSchema(ctx: Context): Schema {
  return {
    ...promptSchema(ctx),
    attentions: { type: 'boolean' },
    hidden_states: { type: 'boolean' },
    lens: { type: 'boolean' },
    lens_top: { type: 'integer', min: 1, limit: 20 },
  };
}

/** Rounds to 6 decimals: attention weights and probabilities, short enough for JSON, exact enough to read. */
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export async function forward(ctx: Context, body: ForwardRequest): Promise<ForwardResponse> {
  const ids = promptIds(ctx, body, ctx.limits.max_forward_tokens);
  const T = ids.length;
  const { n_layer, n_head, n_embd } = ctx.model.config;
  const res: ForwardResponse = { input_ids: ids, tokens: ids.map((id) => tokenText(ctx, id)) };
  const wantAttn = body.attentions ?? true;
  const wantHidden = body.hidden_states ?? false;
  if (wantAttn || wantHidden) {
    const out = await ctx.model.forward({
      input_ids: [ids],
      use_cache: false,
      num_logits_to_keep: 1,
      output_attentions: wantAttn,
      output_hidden_states: wantHidden,
    });
    if (wantAttn) {
      // each layer's attentions: [1, n_head, T, T] -> [n_head][T][T]
      res.attentions = out.attentions!.map((a) =>
        Array.from({ length: n_head }, (_, h) =>
          Array.from({ length: T }, (_, q) => Array.from(a.data.subarray((h * T + q) * T, (h * T + q + 1) * T), r6)),
        ),
      );
    }
    if (wantHidden) {
      // each hidden state: [1, T, n_embd] -> [T][n_embd]
      res.hidden_states = out.hidden_states!.map((hs) =>
        Array.from({ length: T }, (_, t) => Array.from(hs.data.subarray(t * n_embd, (t + 1) * n_embd))),
      );
    }
  }
  if (body.lens ?? true) {
    const lens = await logitLens(ctx.model, { input_ids: [ids] }, { topk: body.lens_top ?? 3 });
    // lens.top[layer][batch row 0][position] -> [layer][position][k]
    res.lens = lens.top.map((layer) =>
      layer[0]!.map((pos): LensEntry[] => pos.ids.map((id, k) => ({ id, token: tokenText(ctx, id), prob: r6(pos.probs[k]!) }))),
    );
    if (res.lens.length !== n_layer + 1) throw new Error(`the logit lens returned ${res.lens.length} layers, expected ${n_layer + 1}`);
  }
  return res;
}
