// The API's interventions (docs/interventions.md): head ablation for /api/next and /api/generate (`ablate`,
// `ablation`), direct logit attribution (/api/attribute) and activation patching (/api/patch), answering with the
// CLI's `--json` shapes. The work is src/interp's; this file checks requests and turns the library's
// InterventionError (a person's mistake) into a 400 that names the field.
import type { ForwardHooks } from '../model/hooks.js';
import { ablationHooksFor, attribute, InterventionError, parseHeads, patch, resolveToken, type AblationKind, type Attribution, type HeadRef, type InterventionModel, type PatchResult } from '../interp/index.js';
import { promptIds, type SessionContext } from './context.js';
import { ApiError } from './errors.js';
import type { AttributeRequest, PatchRequest } from './types.js';

/** Runs `f`; an InterventionError becomes a 400 naming `param`. */
export function asField<T>(param: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InterventionError) throw new ApiError(err.message, param);
    throw err;
  }
}

/** The same, for a job: an InterventionError raised while it runs (a zero denominator) is a 400 too. */
async function asFieldAsync<T>(param: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof InterventionError) throw new ApiError(err.message, param);
    throw err;
  }
}

/** A checked `ablate` / `ablation` pair: which heads, and how. */
export interface Ablation {
  heads: HeadRef[];
  kind: AblationKind;
}

/**
 * `ablate`: a list of heads written as the CLI's `--ablate` writes them, "L.H" ("9.6"); `ablation`: "zero" (default)
 * or "mean". `ablation` without `ablate` is an error (as `--ablation` without `--ablate` is); `ablate: []` ablates
 * nothing. Returns null when neither is given.
 */
export function checkAblation(ctx: SessionContext, body: { ablate?: string[]; ablation?: AblationKind }): Ablation | null {
  if (body.ablate === undefined) {
    if (body.ablation !== undefined) throw new ApiError('"ablation" needs "ablate" (which heads, e.g. ["9.6", "9.9"])', 'ablation');
    return null;
  }
  const heads: HeadRef[] = [];
  const seen = new Set<string>();
  body.ablate.forEach((item, i) => {
    if (item.length > 16) throw new ApiError(`bad head in "ablate[${i}]" (${item.length} characters): expected L.H (layer.head, e.g. "9.6")`, 'ablate');
    // the CLI's own rule and messages (parseHeads), one head per item
    for (const h of asField('ablate', () => parseHeads(item, ctx.model.config))) {
      if (!seen.has(`${h.layer}.${h.head}`)) heads.push(h);
      seen.add(`${h.layer}.${h.head}`);
    }
  });
  heads.sort((a, b) => a.layer - b.layer || a.head - b.head);
  return { heads, kind: body.ablation ?? 'zero' };
}

/** The write hooks of an ablation on this prompt (mean ablation: the prompt's own means), or undefined for no heads. */
export async function ablationHooks(ctx: SessionContext, ids: number[], ablation: Ablation | null): Promise<ForwardHooks | undefined> {
  if (!ablation || ablation.heads.length === 0) return undefined;
  return ablationHooksFor(ctx.model, ids, ablation.heads, ablation.kind);
}

/** "L.H" of each head (checkAblation sorts them, once each). */
export function headNames(heads: readonly HeadRef[]): string[] {
  return heads.map((h) => `${h.layer}.${h.head}`);
}

/**
 * The model as an intervention job sees it: before each forward pass it gives the event loop a turn and stops if the
 * job was cancelled (a patching grid is many passes).
 */
function cancellable(ctx: SessionContext, signal: AbortSignal | undefined): InterventionModel {
  const { model } = ctx;
  const turn = async (): Promise<void> => {
    await ctx.yieldTurn();
    signal?.throwIfAborted();
  };
  return {
    config: model.config,
    weights: model.weights,
    forward: async (inputs) => (await turn(), model.forward(inputs)),
    transformer: { forward: async (inputs) => (await turn(), model.transformer.forward(inputs)) },
  };
}

/** A token of the request: an id (6342) or the text of exactly one token (" Paris"), as the CLI's --target takes. */
function token(ctx: SessionContext, param: string, spec: number | string | undefined): number {
  if (spec === undefined) throw new ApiError(`"${param}" is missing: give a token id or the text of one token (" Paris")`, param);
  return asField(param, () => resolveToken(spec, ctx.tokenizer, ctx.model.config.vocab_size));
}

/** POST /api/attribute: checks the prompt and the target; the job answers `gpt2-lens attribute --json`. */
export function prepareAttribute(ctx: SessionContext, body: AttributeRequest): (signal?: AbortSignal) => Promise<Attribution> {
  const ids = promptIds(ctx, body, ctx.limits.max_prompt_tokens);
  const target = token(ctx, 'target', body.target);
  return (signal) => attribute(cancellable(ctx, signal), ids, target);
}

/** One prompt of a patching pair, within max_patch_tokens. */
function patchPrompt(ctx: SessionContext, param: 'clean' | 'corrupted', text: string | undefined): number[] {
  if (text === undefined) throw new ApiError(`"${param}" is missing: give the ${param} prompt's text`, param);
  const ids = ctx.tokenizer.encode(text);
  if (ids.length === 0) throw new ApiError(`the ${param} prompt is empty: GPT-2 needs at least one token`, param);
  if (ids.length > ctx.limits.max_patch_tokens) {
    throw new ApiError(`the ${param} prompt has ${ids.length} tokens, above this server's limit of ${ctx.limits.max_patch_tokens} for /api/patch`, param);
  }
  return ids;
}

/** POST /api/patch: checks the pair, the tokens and the hook; the job answers `gpt2-lens patch --json`. */
export function prepareApiPatch(ctx: SessionContext, body: PatchRequest): (signal?: AbortSignal) => Promise<PatchResult> {
  const clean = patchPrompt(ctx, 'clean', body.clean);
  const corrupted = patchPrompt(ctx, 'corrupted', body.corrupted);
  if (clean.length !== corrupted.length) {
    throw new ApiError(`the clean and corrupted prompts must have the same number of tokens: clean has ${clean.length}, corrupted has ${corrupted.length}`, 'corrupted');
  }
  const answer = token(ctx, 'answer', body.answer);
  const wrong = token(ctx, 'wrong', body.wrong);
  const hook = body.hook ?? 'resid_pre';
  // a zero denominator is known only once both runs are done: the error names the pair
  return (signal) => asFieldAsync('corrupted', () => patch(cancellable(ctx, signal), { clean, corrupted, answer, wrong, hook }));
}
