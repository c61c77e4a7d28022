// The next-token table (/api/next): the raw softmax of the last position, then the knobs applied one processor at
// a time, noting which one removed each token. The processors are generate()'s own: HF's processor and warper lists
// built from a GenerationConfig (buildLogitsProcessors, buildLogitsWarpers), so their order is HF's by construction.
import {
  buildLogitsProcessors,
  buildLogitsWarpers,
  resolveGenerationConfig,
  validateGenerationConfig,
} from '../generation/configuration.js';
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
import { nextTokenRows } from '../interp/next.js';
import { assertFiniteLogits } from '../model/non-finite.js';
import { promptIds, tokenText, type SessionContext } from './context.js';
import { asApiError } from './generate.js';
import { ablationHooks, checkAblation, headNames } from './interventions.js';
import type { Candidate, KnobName, NextRequest, NextResponse, ProcessedCandidate, ReportedToken, UnablatedToken } from './types.js';

/** The knob a processor of the table stands for. */
function knobOf(p: LogitsProcessor): KnobName {
  if (p instanceof RepetitionPenaltyLogitsProcessor) return 'repetition_penalty';
  if (p instanceof TemperatureLogitsWarper) return 'temperature';
  if (p instanceof TopKLogitsWarper) return 'top_k';
  if (p instanceof TopPLogitsWarper) return 'top_p';
  if (p instanceof MinPLogitsWarper) return 'min_p';
  throw new Error(`the next-token table has no knob for ${String(p)}`);
}

/**
 * The knobs as sampling would apply them: a sampling config whose only settings are the knobs (an absent knob is
 * off: top_k 0, not HF's 50), through the builders generate() uses.
 */
function knobChain(body: NextRequest, promptLength: number, vocab_size: number): { name: KnobName; value: number; processor: LogitsProcessor }[] {
  const cfg = resolveGenerationConfig(
    {},
    {
      do_sample: true,
      temperature: body.temperature ?? 1,
      top_k: body.top_k ?? 0,
      top_p: body.top_p ?? 1,
      min_p: body.min_p ?? null,
      repetition_penalty: body.repetition_penalty ?? 1,
    },
  );
  try {
    validateGenerationConfig(cfg, vocab_size);
  } catch (err) {
    throw asApiError(err);
  }
  return [...buildLogitsProcessors(cfg, promptLength), ...buildLogitsWarpers(cfg)].map((processor) => {
    const name = knobOf(processor);
    return { name, value: body[name]!, processor };
  });
}

/** The `n` best ids, best first (as the CLI picks them), leaving out removed (-Infinity) tokens. */
function topIndices(values: Float32Array, n: number): number[] {
  return topKIndices(values, n).filter((id) => values[id] !== -Infinity);
}

/** Checks the request (prompt and knobs) and returns the job that computes the table. */
export function prepareNext(ctx: SessionContext, body: NextRequest): () => Promise<NextResponse> {
  const ids = promptIds(ctx, body, ctx.limits.max_prompt_tokens);
  const chain = knobChain(body, ids.length, ctx.model.config.vocab_size); // before the forward pass: a bad knob fails fast
  const ablation = checkAblation(ctx, body);
  /** the last position's logits [V], with the ablation's write hooks or without */
  const lastLogits = async (ablated: boolean): Promise<Float32Array> => {
    const hooks = ablated ? await ablationHooks(ctx, ids, ablation) : undefined;
    const out = await ctx.model.forward({ input_ids: [ids], use_cache: false, num_logits_to_keep: 1, ...(hooks ? { hooks } : {}) });
    const logits = out.logits.data.slice(0, ctx.model.config.vocab_size);
    await assertFiniteLogits(ctx.model, { input_ids: [ids] }, logits);
    return logits;
  };
  return async () => {
    const logits = await lastLogits(true);
    const table = nextTable(ctx, body, ids, chain, logits);
    if (!ablation) return table;
    // the same ids' numbers without the ablation (the same pass when no head is ablated)
    const plain = ablation.heads.length ? await lastLogits(false) : logits;
    const base = knobbed(ids, chain, plain);
    const unablated: UnablatedToken[] = table.reported.map(({ id }) => ({ id, logit: plain[id]!, raw_prob: base.probs[id]!, prob: base.after[id]! }));
    return { ...table, ablation: { heads: headNames(ablation.heads), kind: ablation.kind, unablated } };
  };
}

/** The raw softmax, and the knobs' scores and softmax, of one position's logits. */
function knobbed(ids: number[], chain: ReturnType<typeof knobChain>, logits: Float32Array): { probs: Float64Array; after: Float64Array } {
  const scores = logits.slice();
  for (const k of chain) k.processor.apply(ids, scores);
  return { probs: softmaxArray(logits), after: softmaxArray(scores) };
}

/** The table of one position's logits: raw, then the knobs one at a time, noting which one removed each token. */
function nextTable(ctx: SessionContext, body: NextRequest, ids: number[], chain: ReturnType<typeof knobChain>, logits: Float32Array): NextResponse {
  const n = body.top ?? 10;
  const probs = softmaxArray(logits);
  const top: Candidate[] = nextTokenRows(logits, n, ctx.tokenizer, probs); // the CLI's table

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
  // every id the page shows: the two tables' rows and the ids it asked about, each once
  const reportIds = [...new Set([...top.map((c) => c.id), ...processed.map((c) => c.id), ...(body.ids ?? [])])];
  for (const id of reportIds) if (removedAt[id]! >= 0) removed_by[String(id)] = chain[removedAt[id]!]!.name;
  let kept = 0;
  for (let v = 0; v < scores.length; v++) if (scores[v] !== -Infinity) kept++;
  const reported: ReportedToken[] = reportIds.map((id) => {
    let cumulative = 0; // after-knob probability of every token scoring >= this one (ties count, as top-p's sort may keep them)
    for (let v = 0; v < scores.length; v++) if (scores[v]! >= scores[id]!) cumulative += after[v]!;
    const s = scores[id]!;
    return { id, token: tokenText(ctx, id), logit: logits[id]!, raw_prob: probs[id]!, score: s === -Infinity ? null : s, prob: after[id]!, cumulative: Math.min(1, cumulative) };
  });
  return {
    input_ids: ids,
    top,
    knobs: chain.map((k) => ({ name: k.name, value: k.value, processor: String(k.processor) })),
    processed,
    removed_by,
    removed_count,
    kept,
    reported,
  };
}
