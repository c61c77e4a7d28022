// Generation (/api/generate): HF's generate() (src/generation) with the CLI's JSON as the answer, and, when the
// request says `stream: true`, its progress as events:
//
//   token  one new token of greedy or sampled text, as soon as it is chosen: its id, text, probability and the best
//          alternatives of the distribution it was drawn from
//   beam   beam search, one event per step, as soon as the step is done: the beams kept, the candidates pruned, the
//          hypotheses finished so far
//
// Every event is built from generate()'s own trace (on_trace_step): the probabilities are those generate() chose
// from, computed once. A beam step's event waits only until the next forward pass begins: if none does, the step
// was the last, and its event is sent once generate() returns, with the hypotheses it returns (finalize()).
import { eosIds, GenerationError } from '../generation/configuration.js';
import { generate, prepareGeneration, sequenceScores, type GenerateOptions, type GenerateOutput, type GenerationModel, type TraceRow, type TraceStep } from '../generation/generate.js';
import type { ForwardInputs } from '../model/types.js';
import { promptIds, tokenText, type SessionContext } from './context.js';
import { ApiError } from './errors.js';
import { ablationHooks, checkAblation, type Ablation } from './interventions.js';
import { API_GENERATION_OPTIONS } from './schema.js';
import type { BeamEvent, FinishedBeam, GenerateRequest, GenerateResponse, TokenEvent } from './types.js';

/** An event of a streamed generation, named as its SSE event is. */
export type ExplorerEvent = { event: 'token'; data: TokenEvent } | { event: 'beam'; data: BeamEvent };

/** A checked generate request: the body, and generate()'s options built from it. */
export interface CheckedGenerate {
  body: GenerateRequest;
  options: GenerateOptions;
  /** `ablate`: heads ablated at every step (mean ablation: the prompt's means) */
  ablation: Ablation | null;
}

/** generate()'s validation messages name the setting in backquotes: `top_p` has to be ... */
export function asApiError(err: unknown): unknown {
  if (!(err instanceof GenerationError)) return err;
  // a bad value in the model's own generation_config.json is not the request's fault: a 500 that names the file
  // (without the folder's path: a client learns nothing of this machine's files)
  if (err.source !== 'options') return new ApiError(err.message.replace(/^the model's generation_config\.json \([^)]*\)/, "the model's generation_config.json"), null, 500);
  const m = /`([a-z_]+)`/.exec(err.message);
  return new ApiError(err.message, m ? m[1]! : null);
}

/** The settings of one generate() call, checked: HF's validation errors become 400s naming the setting. */
export function checkGenerate(ctx: SessionContext, body: GenerateRequest): CheckedGenerate {
  const ids = promptIds(ctx, body, ctx.limits.max_prompt_tokens);
  const ablation = checkAblation(ctx, body);
  const options: GenerateOptions = { input_ids: ids, on_warning: () => {} };
  const given = body as Record<string, unknown>;
  for (const k of API_GENERATION_OPTIONS) if (given[k] !== undefined) (options as unknown as Record<string, unknown>)[k] = given[k];
  // The API's default length: HF's max_length 20 counts the prompt, which surprises people; 20 new tokens do not.
  if (body.max_new_tokens === undefined) options.max_new_tokens = Math.min(20, ctx.limits.max_new_tokens);
  try {
    prepareGeneration(ctx.model, options, () => {});
  } catch (err) {
    throw asApiError(err);
  }
  return { body, options, ablation };
}

/** The CLI's generate JSON: each sequence's ids (prompt + new), its text, and its score. */
export function generateJson(ctx: SessionContext, out: GenerateOutput): GenerateResponse {
  const scores = sequenceScores(out); // beam search: sequences_scores; otherwise the sum of the chosen tokens' log-probabilities
  return { sequences: out.sequences.map((ids, i) => ({ ids, text: ctx.tokenizer.decode(ids), score: scores[i]! })) };
}

/**
 * Runs generate() and, when `onEvent` is given, reports its progress. Greedy and sampling: a token event per new
 * token, as it is chosen. Beam search: a beam event per step, as it is done. Stops when `signal` aborts.
 */
export async function runGenerate(ctx: SessionContext, checked: CheckedGenerate, onEvent: ((e: ExplorerEvent) => void) | null, signal?: AbortSignal): Promise<GenerateResponse> {
  const { body } = checked;
  const hooks = await ablationHooks(ctx, checked.options.input_ids as number[], checked.ablation);
  const options: GenerateOptions = hooks ? { ...checked.options, hooks } : checked.options;
  const base: GenerateOptions = signal ? { ...options, signal } : { ...options };
  if (!onEvent) return generateJson(ctx, await callGenerate(ctx, base));
  if ((options.num_beams ?? 1) > 1) {
    const steps: TraceStep[] = [];
    let pending = false; // the newest step's event, held until we know whether the step was the last
    const sendPending = (): void => {
      if (pending) onEvent({ event: 'beam', data: beamEvent(ctx, options, steps, eosFinished(ctx, options, steps.at(-1)!)) });
      pending = false;
    };
    const traced: GenerateOptions = {
      ...base,
      trace: Math.max(10, 2 * options.num_beams!),
      on_trace_step: (st) => {
        steps.push(st);
        pending = true;
      },
    };
    const out = await callGenerate(ctx, traced, sendPending);
    // the last step: its event names the hypotheses generate() returns, the running beams included
    if (pending) onEvent({ event: 'beam', data: beamEvent(ctx, options, steps, returnedHypotheses(ctx, options, out, steps)) });
    return generateJson(ctx, out);
  }

  // Greedy or sampling: each step's trace rows are the events (a finished row is padded, and has none).
  const top = body.top ?? 5;
  const eos = eosSet(ctx, options);
  const finished = new Set<number>();
  const traced: GenerateOptions = {
    ...base,
    trace: top,
    on_trace_step: (st) => {
      for (const row of st.rows) {
        if (finished.has(row.row)) continue;
        onEvent({ event: 'token', data: tokenEvent(ctx, st.step, row, top) });
        if (eos.has(row.chosen!)) finished.add(row.row);
      }
    },
  };
  return generateJson(ctx, await callGenerate(ctx, traced));
}

/**
 * A token event from its trace row: the row lists the `top` most probable tokens after the processors and the
 * chosen one, with softmax probabilities over the whole vocabulary (raw and processed).
 */
function tokenEvent(ctx: SessionContext, step: number, row: TraceRow, top: number): TokenEvent {
  const id = row.chosen!;
  const chosen = row.candidates.find((c) => c.id === id)!;
  // best first, ties by id: topKIndices' order over the whole vocabulary
  const best = row.candidates
    .filter((c) => c.processed_prob > 0)
    .sort((a, b) => b.processed_prob - a.processed_prob || a.id - b.id)
    .slice(0, top);
  return {
    step,
    row: row.row,
    id,
    token: tokenText(ctx, id),
    prob: chosen.processed_prob,
    raw_prob: chosen.prob,
    top: best.map((c) => ({ id: c.id, token: tokenText(ctx, c.id), prob: c.processed_prob })),
  };
}

/**
 * The model as generate() sees it, giving the event loop a turn before every forward pass. A forward pass is
 * synchronous work; without this turn a whole generation would run without noticing a client that left, sending
 * its events, or reading other requests. `beforeForward` runs first (the previous step is done).
 */
function yielding(ctx: SessionContext, beforeForward?: () => void): GenerationModel {
  const model = ctx.model;
  return {
    config: model.config,
    generation_config: model.generation_config,
    forward: async (inputs: ForwardInputs) => {
      beforeForward?.();
      await ctx.yieldTurn();
      return model.forward(inputs);
    },
    rowStats: (data, rows, n, out) => model.rowStats(data, rows, n, out), // the engine's kernel where the model has it
  };
}

async function callGenerate(ctx: SessionContext, options: GenerateOptions, beforeForward?: () => void): Promise<GenerateOutput> {
  try {
    return await generate(yielding(ctx, beforeForward), options);
  } catch (err) {
    throw asApiError(err);
  }
}

/** The eos ids of this request, as generate() resolves them. */
function eosSet(ctx: SessionContext, options: GenerateOptions): Set<number> {
  return new Set(eosIds({ eos_token_id: (options.eos_token_id ?? ctx.model.generation_config.eos_token_id ?? null) as number | number[] | null }));
}

/** While the search runs: the hypotheses ended by eos so far (HF's n-best list after `step`), best first. */
export function eosFinished(ctx: SessionContext, options: GenerateOptions, step: TraceStep): FinishedBeam[] {
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
export function returnedHypotheses(ctx: SessionContext, options: GenerateOptions, out: GenerateOutput, steps: TraceStep[]): FinishedBeam[] {
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
export function beamEvent(ctx: SessionContext, options: GenerateOptions, steps: TraceStep[], finished: FinishedBeam[]): BeamEvent {
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
