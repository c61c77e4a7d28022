// What every request of a session works with: the model and tokenizer loaded once, the limits, and how to give
// the event loop a turn (between forward passes, so that a cancel or another request can be noticed).
import type { GPT2LMHeadModel } from '../model/model.js';
import type { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import { ApiError } from './errors.js';
import type { ServerLimits } from './types.js';

export interface SessionContext {
  model: GPT2LMHeadModel;
  tokenizer: GPT2Tokenizer;
  limits: ServerLimits;
  /** the name shown by model() (what --model said, or what the page loaded) */
  modelName: string;
  /** resolves on a later turn of the event loop (Node: setImmediate; a browser: a zero timeout) */
  yieldTurn: () => Promise<void>;
}

/**
 * The prompt's ids from `text` or `input_ids` (exactly one of them), non-empty and within `maxTokens`.
 * `param` in an error names the field the person gave.
 */
export function promptIds(ctx: SessionContext, body: { text?: string; input_ids?: number[] }, maxTokens: number): number[] {
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
export function tokenText(ctx: SessionContext, id: number): string {
  return ctx.tokenizer.decode([id]);
}
