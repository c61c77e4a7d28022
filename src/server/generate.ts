// POST /api/generate: HF's generate() (src/generation) with the CLI's JSON as the answer, or as Server-Sent Events:
//
//   event: token  one new token of greedy or sampled text, sent as soon as it is chosen: its id, text, probability
//                 and the best alternatives of the distribution it was drawn from
//   event: beam   beam search, one event per step, sent as soon as the step is done: the beams kept, the
//                 candidates pruned, the hypotheses finished so far
//   event: done   the CLI's generate JSON
//   event: error  {"error":{"message","param"}} when generation fails after the stream began
//
// Token events are computed beside generate(): the model is wrapped so that each step's raw logits are seen, and
// the same HF processors generate() uses (buildLogitsProcessors / buildLogitsWarpers on the resolved config) are
// applied to a copy, giving the probabilities it chose from. Beam events come from generate()'s trace, step by step
// (on_trace_step). A step's event waits only until the next forward pass begins: if none does, the step was the
// last, and its event is sent once generate() returns, with the hypotheses it returns (finalize()).
import {
  buildLogitsProcessors,
  buildLogitsWarpers,
  eosIds,
  generate,
  GenerationError,
  prepareGeneration,
  type GenerateOptions,
  type GenerateOutput,
  type GenerationModel,
  type TraceStep,
  topKIndices,
} from '../generation/index.js';
import { sequenceScores } from '../generation/generate.js';
import { softmaxInto } from '../generation/math.js';
import type { ForwardInputs } from '../model/types.js';
import { ApiError } from './errors.js';
import { promptIds, promptSchema, tokenText, type Context } from './endpoints.js';
import type { Schema } from './validate.js';
import type { BeamEvent, FinishedBeam, GenerateRequest, GenerateResponse, LensEntry, TokenEvent } from './types.js';

export function generateSchema(ctx: Context): Schema {
  const V = ctx.model.config.vocab_size;
  return {
    ...promptSchema(ctx),
    stream: { type: 'boolean' },
    top: { type: 'integer', min: 1, limit: ctx.limits.max_top },
    max_new_tokens: { type: 'integer', min: 1, limit: ctx.limits.max_new_tokens },
    min_new_tokens: { type: 'integer', min: 0 },
    do_sample: { type: 'boolean' },
    num_beams: { type: 'integer', min: 1, limit: ctx.limits.num_beams },
    num_return_sequences: { type: 'integer', min: 1, limit: ctx.limits.num_return_sequences },
    temperature: { type: 'number', exclusiveMin: 0 },
    top_k: { type: 'integer', min: 0 },
    top_p: { type: 'number', exclusiveMin: 0, max: 1 },
    min_p: { type: 'number', min: 0, max: 1 },
    typical_p: { type: 'number', exclusiveMin: 0, max: 1 },
    repetition_penalty: { type: 'number', exclusiveMin: 0 },
    no_repeat_ngram_size: { type: 'integer', min: 0 },
    length_penalty: { type: 'number' },
    early_stopping: { type: 'enum', values: [true, false, 'never'] },
    eos_token_id: { type: 'integer-or-integers', min: 0, max: V - 1 },
    pad_token_id: { type: 'integer', min: 0, max: V - 1 },
    seed: { type: 'integer', min: 0, max: 2 ** 32 - 1 },
  };
}

/** The fields passed to generate() unchanged (HF's names). */
const HF_OPTIONS = [
  'max_new_tokens',
  'min_new_tokens',
  'do_sample',
  'num_beams',
  'num_return_sequences',
  'temperature',
  'top_k',
  'top_p',
  'min_p',
  'typical_p',
  'repetition_penalty',
  'no_repeat_ngram_size',
  'length_penalty',
  'early_stopping',
  'eos_token_id',
  'pad_token_id',
  'seed',
] as const;

/** The settings of one generate() call, checked: HF's validation errors become 400s naming the setting. */
export function generateOptions(ctx: Context, body: GenerateRequest): GenerateOptions {
  const ids = promptIds(ctx, body, ctx.limits.max_prompt_tokens);
  const options: GenerateOptions = { input_ids: ids, on_warning: () => {} };
  for (const k of HF_OPTIONS) if (body[k] !== undefined) (options as unknown as Record<string, unknown>)[k] = body[k];
  // The server's default length: HF's max_length 20 counts the prompt, which surprises people; 20 new tokens do not.
  if (body.max_new_tokens === undefined) options.max_new_tokens = Math.min(20, ctx.limits.max_new_tokens);
  try {
    prepareGeneration(ctx.model, options, () => {});
  } catch (err) {
    throw asApiError(err);
  }
  return options;
}

/** generate()'s validation messages name the setting in backquotes: `top_p` has to be ... */
export function asApiError(err: unknown): unknown {
  if (!(err instanceof GenerationError)) return err;
  const m = /`([a-z_]+)`/.exec(err.message);
  return new ApiError(err.message, m ? m[1]! : null);
}

/** The CLI's generate JSON: each sequence's ids (prompt + new), its text, and its score. */
export function generateJson(ctx: Context, out: GenerateOutput): GenerateResponse {
  const scores = sequenceScores(out); // beam search: sequences_scores; otherwise the sum of the chosen tokens' log-probabilities
  return { sequences: out.sequences.map((ids, i) => ({ ids, text: ctx.tokenizer.decode(ids), score: scores[i]! })) };
}

export interface GenerateEvents {
  token(e: TokenEvent): void;
  beam(e: BeamEvent): void;
}

/** the `n` most probable ids, best first, leaving out removed tokens */
function best(p: Float64Array, n: number): number[] {
  return topKIndices(p, n).filter((id) => p[id]! > 0);
}

/**
 * Runs generate() and reports its progress through `on`. Greedy and sampling: a token event per new token, as it
 * is chosen. Beam search: a beam event per step, as it is done. Stops when `signal` aborts.
 */
export async function runGenerate(ctx: Context, body: GenerateRequest, options: GenerateOptions, on: GenerateEvents | null, signal: AbortSignal): Promise<GenerateResponse> {
  const top = body.top ?? 5;
  const beams = (options.num_beams ?? 1) > 1;
  if (!on) return generateJson(ctx, await callGenerate(ctx, { ...options, signal }));
  if (beams) {
    const steps: TraceStep[] = [];
    let pending = false; // the newest step's event, held until we know whether the step was the last
    const sendPending = (): void => {
      if (pending) on.beam(beamEvent(ctx, options, steps, eosFinished(ctx, options, steps.at(-1)!)));
      pending = false;
    };
    const traced: GenerateOptions = {
      ...options,
      signal,
      trace: Math.max(10, 2 * options.num_beams!),
      on_trace_step: (st) => {
        steps.push(st);
        pending = true;
      },
    };
    const out = await callGenerate(ctx, traced, yielding(ctx.model, undefined, sendPending));
    // the last step: its event names the hypotheses generate() returns, the running beams included
    if (pending) on.beam(beamEvent(ctx, options, steps, returnedHypotheses(ctx, options, out, steps)));
    return generateJson(ctx, out);
  }

  // Greedy or sampling: see each step's raw logits, and rebuild the processors generate() applies to them.
  const { cfg, input_ids } = prepareGeneration(ctx.model, options, () => {});
  const T = input_ids[0]!.length;
  const processors = buildLogitsProcessors(cfg, T);
  const warpers = cfg.do_sample ? buildLogitsWarpers(cfg) : null;
  const V = ctx.model.config.vocab_size;
  const eos = eosIds(cfg);
  let raw: Float32Array | null = null;
  // [rows, 1, V]: a copy (into one reused buffer), since generate() edits its logits in place
  const watched = yielding(ctx.model, (logits) => {
    if (raw?.length !== logits.length) raw = new Float32Array(logits.length);
    raw.set(logits);
  });
  // one row's raw probabilities, processed scores and their probabilities, reused for every token
  const rawProbs = new Float64Array(V);
  const scores = new Float32Array(V);
  const probs = new Float64Array(V);
  const rows = cfg.do_sample ? cfg.num_return_sequences : 1;
  const history: number[][] = Array.from({ length: rows }, () => [...input_ids[0]!]);
  const finished = new Array<boolean>(rows).fill(false);
  let step = -1;
  const streamer = {
    put(ids: readonly number[]): void {
      step++;
      if (step === 0) return; // the prompt
      for (let r = 0; r < rows; r++) {
        const id = ids[r]!;
        if (finished[r]) continue; // a finished row is padded
        const logits = raw!.subarray(r * V, (r + 1) * V);
        softmaxInto(logits, rawProbs);
        scores.set(logits);
        processors.apply(history[r]!, scores);
        warpers?.apply(history[r]!, scores);
        softmaxInto(scores, probs);
        const alts: LensEntry[] = best(probs, top).map((a) => ({ id: a, token: tokenText(ctx, a), prob: probs[a]! }));
        on.token({ step: step - 1, row: r, id, token: tokenText(ctx, id), prob: probs[id]!, raw_prob: rawProbs[id]!, top: alts });
        history[r]!.push(id);
        if (eos.includes(id)) finished[r] = true;
      }
    },
    end(): void {},
  };
  return generateJson(ctx, await callGenerate(ctx, { ...options, signal, streamer }, watched));
}

/**
 * The model as generate() sees it, giving the event loop a turn before every forward pass. A forward pass is
 * synchronous work; without this turn a whole generation would run without the server noticing a client that left,
 * sending its events, or reading other requests. `beforeForward` runs first (the previous step is done).
 */
function yielding(model: GenerationModel, onLogits?: (logits: Float32Array) => void, beforeForward?: () => void): GenerationModel {
  return {
    config: model.config,
    generation_config: model.generation_config,
    forward: async (inputs: ForwardInputs) => {
      beforeForward?.();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const out = await model.forward(inputs);
      onLogits?.(out.logits.data);
      return out;
    },
  };
}

async function callGenerate(ctx: Context, options: GenerateOptions, model: GenerationModel = yielding(ctx.model)): Promise<GenerateOutput> {
  try {
    return await generate(model, options);
  } catch (err) {
    throw asApiError(err);
  }
}

/** The eos ids of this request, as generate() resolves them. */
function eosSet(ctx: Context, options: GenerateOptions): Set<number> {
  return new Set(eosIds({ eos_token_id: (options.eos_token_id ?? ctx.model.generation_config.eos_token_id ?? null) as number | number[] | null }));
}

/** While the search runs: the hypotheses ended by eos so far (HF's n-best list after `step`), best first. */
export function eosFinished(ctx: Context, options: GenerateOptions, step: TraceStep): FinishedBeam[] {
  const eos = [...eosSet(ctx, options)][0]!;
  return step.finished!
    .map((h) => ({
      ids: h.tokens,
      text: ctx.tokenizer.decode(h.tokens),
      score: Math.fround(h.score), // as sequences_scores reports it
      step: h.tokens.length, // its eos was the token after these
      ended: 'eos' as const,
      parent: h.parent,
      token: tokenText(ctx, eos),
    }))
    .sort((a, b) => b.score - a.score);
}

/**
 * At the end: the returned hypotheses, from generate()'s result and trace (every step's beams with their parents).
 * Running beams never hold eos, so the first eos in a sequence's new tokens is where its hypothesis ended
 * (finalize() writes it there, then pads); a hypothesis without eos was a beam still running at the end, and is
 * never padded (it is as long as the longest).
 */
export function returnedHypotheses(ctx: Context, options: GenerateOptions, out: GenerateOutput, steps: TraceStep[]): FinishedBeam[] {
  const T = (options.input_ids as number[]).length;
  const eos = eosSet(ctx, options);
  return out.sequences.map((seq, i) => {
    const fresh = seq.slice(T);
    const at = fresh.findIndex((id) => eos.has(id));
    const n = at >= 0 ? at : fresh.length;
    const ids = fresh.slice(0, n);
    const endedEos = at >= 0;
    const step = endedEos ? n : n - 1;
    const key = ids.join(',');
    let parent = 0;
    if (endedEos) {
      if (step > 0) parent = Math.max(0, steps[step - 1]?.beams?.findIndex((b) => b.tokens.join(',') === key) ?? 0);
    } else {
      parent = Math.max(0, steps[step]?.beams?.findIndex((b) => b.tokens.join(',') === key) ?? 0);
    }
    return {
      ids,
      text: ctx.tokenizer.decode(ids),
      score: out.sequences_scores?.[i] ?? 0,
      step,
      ended: endedEos ? 'eos' : 'length',
      parent,
      token: tokenText(ctx, endedEos ? [...eos][0]! : (ids[n - 1] ?? 0)),
    };
  });
}

/**
 * The beam event of the newest of `steps`, with `finished` as its hypotheses. Pruned: the best 2 x num_beams
 * candidates of the step (HF's shortlist) that neither became a beam nor ended a hypothesis.
 */
export function beamEvent(ctx: Context, options: GenerateOptions, steps: TraceStep[], finished: FinishedBeam[]): BeamEvent {
  const nb = options.num_beams!;
  const eos = eosSet(ctx, options);
  const s = steps.length - 1;
  const st = steps[s]!;
  const prevScores = s === 0 ? [0] : steps[s - 1]!.beams!.map((b) => b.score); // step 0 expands beam 0 only
  const kept = new Set(st.beams!.map((b) => `${b.parent}:${b.token}`));
  const shortlist: { parent: number; id: number; score: number }[] = [];
  st.rows.forEach((row, r) => {
    if (r >= prevScores.length) return;
    for (const c of row.candidates) if (c.score > -Infinity) shortlist.push({ parent: r, id: c.id, score: prevScores[r]! + c.score });
  });
  shortlist.sort((a, b) => b.score - a.score);
  const pruned = shortlist
    .slice(0, 2 * nb)
    // an eos candidate that ended a listed hypothesis is shown as that hypothesis, not as pruned
    .filter((c) => !kept.has(`${c.parent}:${c.id}`) && !(eos.has(c.id) && finished.some((f) => f.ended === 'eos' && f.step === s && f.parent === c.parent)))
    .map((c) => ({ ...c, token: tokenText(ctx, c.id) }));
  return {
    step: s,
    beams: st.beams!.map((b) => ({ ids: b.tokens, score: b.score, parent: b.parent, id: b.token, token: tokenText(ctx, b.token) })),
    pruned,
    finished,
  };
}
