// generate(): HF's GenerationMixin.generate for GPT-2 (transformers 4.43, generation/utils.py), token for token.
//
//   greedy        num_beams 1, do_sample false: argmax of the processed scores
//   sampling      num_beams 1, do_sample true:  draw from softmax(processors → warpers)
//   beam search   num_beams > 1:                 keep the num_beams best running sums of log-probabilities
//   beam sampling num_beams > 1, do_sample true: draw the candidates instead of taking the best ones
//
// Each step runs the model on the newest token only (the KV cache holds the rest), asks for the logits of the
// last position only (num_logits_to_keep 1), and edits those logits in place through the processors. The logits
// land in one array per generate() call (forward's logits_buffer), overwritten every step: whatever is kept
// (output_scores, output_logits, a trace's numbers) is copied out of it first.
import type { CausalLMOutput, ForwardInputs, Tensor } from '../model/types.js';
import type { KVCache } from '../model/kv-cache.js';
import type { ForwardHooks } from '../model/hooks.js';
import { assertFiniteLogits, findNonFiniteLogit } from '../model/non-finite.js';
import { newRowStats, rowStatsReference, type RowStats, type RowStatsFunction } from '../model/row-stats.js';
import { BeamSearchScorer, type BeamCandidate } from './beam-search.js';
import {
  GENERATION_CONFIG_KEYS,
  GenerationError,
  generationConfigFileError,
  checkUnsupportedOption,
  isUnsupportedOption,
  buildLogitsProcessors,
  buildLogitsWarpers,
  eosIds,
  parseGenerationConfig,
  resolveGenerationConfig,
  validateGenerationConfig,
  type GenerationConfig,
} from './configuration.js';
import { LogitsProcessorList, topKIndices } from './logits-process.js';
import { logSoftmaxInPlace, softmaxInto, topBeamCandidates } from './math.js';
import { Xoshiro128, randomSeed, sampleFromScores, sampleWithoutReplacement } from './random.js';
import type { BaseStreamer } from './streamers.js';
import { seedError } from './options.js';

/** What generate() needs from a model: GPT2LMHeadModel satisfies it. */
export interface GenerationModel {
  readonly config: { vocab_size: number; n_positions: number; bos_token_id?: number | null; eos_token_id?: number | null };
  /** the model's generation_config.json (its settings become the defaults of every call) */
  generation_config?: Record<string, unknown>;
  /** the id or folder the model came from, named in errors about its generation_config.json */
  readonly name_or_path?: string;
  forward(inputs: ForwardInputs): Promise<CausalLMOutput>;
  /**
   * Optional: RowStats of logits rows (src/model/row-stats.ts), faster than rowStatsReference (GPT2LMHeadModel
   * passes on its backend's: the engine's SIMD kernel). generate() uses it every step for the non-finite check,
   * the log-softmax shift, greedy's argmax and the token log-probabilities.
   */
  rowStats?(data: Float32Array, rows: number, n: number, out: RowStats): void;
}

/** The model's rowStats, or the reference. */
function rowStatsOf(model: GenerationModel): RowStatsFunction {
  return model.rowStats ? (data, rows, n, out) => model.rowStats!(data, rows, n, out) : rowStatsReference;
}

/** generate()'s arguments: the prompt, any GenerationConfig setting (HF's names), and gpt2-lens extras. */
export interface GenerateOptions extends Partial<GenerationConfig> {
  /** the prompt ids: one row (`[464, 4583]`) or a batch of equal-length rows, left-padded */
  input_ids: readonly number[] | readonly (readonly number[])[];
  /** 1 for real tokens, 0 for (left) padding; default: all ones (HF infers it only when pad != eos) */
  attention_mask?: readonly number[] | readonly (readonly number[])[];
  /** replaces the model's generation_config as the base of this call (HF's `generation_config=` argument) */
  generation_config?: Partial<GenerationConfig> | Record<string, unknown>;
  /** seeds the sampler (xoshiro128**, see random.ts); the same seed gives the same tokens on every platform */
  seed?: number;
  /** receives the prompt, then each step's tokens (HF's streamer protocol) */
  streamer?: BaseStreamer;
  /** aborting it stops generation before the next forward pass; generate() then rejects with signal.reason */
  signal?: AbortSignal;
  /** record, per step, the top candidates before and after the processors (and every beam); a number sets how many */
  trace?: boolean | number;
  /** called with each step of the trace as soon as that step is complete (implies `trace`); a throw aborts generate() */
  on_trace_step?: (step: TraceStep) => void;
  /** also return the raw logits of every step (HF's output_logits) */
  output_logits?: boolean;
  /**
   * write hooks (forward()'s `hooks`, TransformerLens's run_with_hooks), run at every step's forward pass: the first
   * sees the whole prompt, later ones (with the KV cache) only the new position, at `ctx.past`
   */
  hooks?: ForwardHooks;
  /** where HF's warnings go (default console.warn); they are also returned in `warnings` */
  on_warning?: (message: string) => void;
}

/** One candidate token in a trace step. */
export interface TraceCandidate {
  id: number;
  /** raw logit */
  logit: number;
  /** softmax of the raw logits */
  prob: number;
  /** the score after every processor (-Infinity when removed) */
  score: number;
  /** softmax of the processed scores (0 when removed) */
  processed_prob: number;
  /** the processor that set it to -inf, e.g. "TopKLogitsWarper(top_k=50)"; null if it survived */
  removed_by: string | null;
}

export interface TraceRow {
  /** the row of the batch (beam search: batch_index * num_beams + beam) */
  row: number;
  /**
   * the `trace` best by raw logit, then the `trace` most probable after the processors not already listed, then
   * (greedy and sampling) the chosen token if neither list holds it
   */
  candidates: TraceCandidate[];
  /** the token this row appended (beam search: see `beams`) */
  chosen?: number;
}

export interface TraceBeam {
  /** the beam's row after this step */
  row: number;
  /** the row it continues (its parent beam) */
  parent: number;
  token: number;
  /** running sum of log-probabilities */
  score: number;
  /** the beam's generated tokens so far */
  tokens: number[];
}

/** A finished beam-search hypothesis, as it stands in HF's n-best list (BeamHypotheses). */
export interface TraceHypothesis {
  /** the row of the beam it extended when it chose eos (it ended at step `tokens.length`) */
  parent: number;
  /** its generated tokens, without the eos */
  tokens: number[];
  /** sum_logprobs / generated_len ** length_penalty */
  score: number;
}

export interface TraceStep {
  step: number;
  rows: TraceRow[];
  beams?: TraceBeam[];
  /** beam search: every batch item's n-best list of hypotheses ended by eos, after this step (in the order added) */
  finished?: TraceHypothesis[];
}

export interface GenerationTrace {
  strategy: 'greedy' | 'sample' | 'beam_search' | 'beam_sample';
  processors: string[];
  steps: TraceStep[];
}

/** generate()'s result: HF's GenerateOutput fields, always as an object. */
export interface GenerateOutput {
  /** [rows][prompt + new tokens]; finished rows are padded with pad_token_id */
  sequences: number[][];
  /** beam search: each returned hypothesis's score, sum_logprobs / generated_len ** length_penalty */
  sequences_scores?: number[];
  /** with output_scores: per step, the processed scores [rows, vocab_size] the choice was made from */
  scores?: Tensor[];
  /** with output_logits: per step, the raw logits [rows, vocab_size] */
  logits?: Tensor[];
  /** beam search: per returned sequence, the beam row each new token came from, -1 padded (HF's layout) */
  beam_indices?: number[][];
  /** greedy and sampling: per row, the log-probability (log_softmax of the processed scores) of each token chosen before the row finished */
  token_logprobs?: number[][];
  /** the seed used (sampling only; a random one when none was given) */
  seed?: number;
  trace?: GenerationTrace;
  /** HF's warnings for this call */
  warnings: string[];
}

/**
 * One score per returned sequence, as the CLI and the server report it: beam search's sequences_scores, otherwise
 * the sum of the sequence's token_logprobs.
 */
export function sequenceScores(out: GenerateOutput): number[] {
  return out.sequences.map((_, i) => out.sequences_scores?.[i] ?? (out.token_logprobs?.[i] ?? []).reduce((a, b) => a + b, 0));
}

const EXTRA_KEYS = new Set(['input_ids', 'attention_mask', 'generation_config', 'seed', 'streamer', 'signal', 'trace', 'on_trace_step', 'output_logits', 'on_warning', 'hooks']);

function toRows(x: readonly number[] | readonly (readonly number[])[], name: string): number[][] {
  if (!Array.isArray(x)) throw new GenerationError(`\`${name}\` must be an array of token ids or an array of rows`);
  if (x.length === 0) return [];
  return Array.isArray(x[0]) ? (x as readonly (readonly number[])[]).map((r) => [...r]) : [[...(x as readonly number[])]];
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('generation was aborted', 'AbortError');
}

/** position_ids as generate() builds them: cumsum(mask) - 1, and 1 at padded positions. */
export function positionIdsFromMask(mask: readonly number[]): number[] {
  let c = 0;
  return mask.map((m) => {
    c += m;
    return m === 0 ? 1 : c - 1;
  });
}

/** Runs HF's validation and length resolution; returns the effective config and the prompt rows. */
export function prepareGeneration(model: GenerationModel, options: GenerateOptions, warn: (m: string) => void): {
  cfg: GenerationConfig;
  input_ids: number[][];
  attention_mask: number[][];
} {
  for (const [k, v] of Object.entries(options)) checkUnsupportedOption(k, v);
  const unknown = Object.keys(options).filter((k) => !GENERATION_CONFIG_KEYS.has(k) && !EXTRA_KEYS.has(k) && !isUnsupportedOption(k));
  if (unknown.length > 0) {
    throw new GenerationError(
      `The following \`model_kwargs\` are not used by the model: [${unknown.map((k) => `'${k}'`).join(', ')}] (note: typos in the generate arguments will also show up in this list)`,
    );
  }
  if (options.seed !== undefined) {
    const bad = seedError(options.seed); // the one seed rule (options.ts), also the CLI's and the API's
    if (bad) throw new GenerationError(bad);
  }
  const V = model.config.vocab_size;
  const callOptions: Partial<GenerationConfig> = {};
  for (const [k, v] of Object.entries(options)) if (GENERATION_CONFIG_KEYS.has(k)) (callOptions as Record<string, unknown>)[k] = v;
  // HF: generate(generation_config=...) replaces the model's generation_config; keyword options override either
  const base = options.generation_config ?? model.generation_config;
  // A bad value that comes from the model's generation_config.json (not overridden by this call) is reported as
  // the file's, naming it and the key, not as if the caller had typed it.
  const fromFile = options.generation_config === undefined && base !== undefined;
  const asFileError = (e: unknown): unknown => (fromFile && e instanceof GenerationError ? generationConfigFileError(e, model.name_or_path ?? 'model') : e);
  let modelDefaults: Partial<GenerationConfig>;
  try {
    modelDefaults = base ? parseGenerationConfig(base) : {};
  } catch (e) {
    throw asFileError(e);
  }
  const cfg = resolveGenerationConfig(modelDefaults, callOptions);
  try {
    validateGenerationConfig(cfg, V);
  } catch (e) {
    const key = e instanceof GenerationError ? e.key : undefined;
    if (key !== undefined && (modelDefaults as Record<string, unknown>)[key] !== undefined && (callOptions as Record<string, unknown>)[key] === undefined) throw asFileError(e);
    throw e;
  }
  // HF's validate() warnings: settings that do nothing in the chosen mode
  if (!cfg.do_sample) {
    const unused: Array<[string, unknown, boolean]> = [
      ['temperature', cfg.temperature, cfg.temperature !== 1.0],
      ['top_p', cfg.top_p, cfg.top_p !== 1.0],
      ['min_p', cfg.min_p, cfg.min_p !== null],
      ['typical_p', cfg.typical_p, cfg.typical_p !== 1.0],
      ['top_k', cfg.top_k, cfg.top_k !== 50],
      ['epsilon_cutoff', cfg.epsilon_cutoff, cfg.epsilon_cutoff !== 0.0],
      ['eta_cutoff', cfg.eta_cutoff, cfg.eta_cutoff !== 0.0],
    ];
    for (const [name, value, set] of unused) {
      if (set) warn(`\`do_sample\` is set to \`False\`. However, \`${name}\` is set to \`${String(value)}\` -- this flag is only used in sample-based generation modes. You should set \`do_sample=True\` or unset \`${name}\`.`);
    }
  }
  if (cfg.num_beams === 1) {
    const unused: Array<[string, unknown, boolean]> = [
      ['early_stopping', cfg.early_stopping, cfg.early_stopping !== false],
      ['length_penalty', cfg.length_penalty, cfg.length_penalty !== 1.0],
    ];
    for (const [name, value, set] of unused) {
      if (set) warn(`\`num_beams\` is set to 1. However, \`${name}\` is set to \`${String(value)}\` -- this flag is only used in beam-based generation modes. You should set \`num_beams>1\` or unset \`${name}\`.`);
    }
  }

  const input_ids = toRows(options.input_ids, 'input_ids');
  if (input_ids.length === 0 || input_ids[0]!.length === 0) {
    throw new GenerationError('`input_ids` is empty: GPT-2 needs at least one prompt token (for an unconditional start, pass the bos token, e.g. [50256])');
  }
  const T = input_ids[0]!.length;
  input_ids.forEach((row, b) => {
    if (row.length !== T) throw new GenerationError(`\`input_ids\` rows must all have the same length (left-pad shorter prompts and pass attention_mask): row 0 has ${T}, row ${b} has ${row.length}`);
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new GenerationError(`\`input_ids\`[${b}][${t}] = ${id} is outside the vocabulary: token ids go from 0 to ${V - 1}`);
    });
  });

  // HF's _prepare_special_tokens: pad defaults to the first eos, with a warning
  const eos = eosIds(cfg);
  if (cfg.pad_token_id === null && eos.length > 0) {
    warn(`Setting \`pad_token_id\` to \`eos_token_id\`:${eos[0]} for open-end generation.`);
    cfg.pad_token_id = eos[0]!;
  }

  let attention_mask: number[][];
  if (options.attention_mask !== undefined) {
    attention_mask = toRows(options.attention_mask, 'attention_mask');
    if (attention_mask.length !== input_ids.length || attention_mask.some((r) => r.length !== T || r.some((m) => m !== 0 && m !== 1))) {
      throw new GenerationError(`\`attention_mask\` must have the shape of input_ids [${input_ids.length}, ${T}] and hold only 0 and 1`);
    }
    if (attention_mask.some((r) => !r.includes(1))) throw new GenerationError('`attention_mask` has a row with no token (all zeros)');
  } else {
    // HF infers the mask from pad tokens only when pad is set and differs from every eos
    const pad = cfg.pad_token_id;
    const infer = pad !== null && input_ids.some((r) => r.includes(pad)) && !eos.includes(pad);
    attention_mask = input_ids.map((r) => r.map((id) => (infer && id === pad ? 0 : 1)));
  }
  if (cfg.pad_token_id !== null && input_ids.length > 1 && input_ids.some((r) => r[T - 1] === cfg.pad_token_id)) {
    warn("A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.");
  }

  // HF's _prepare_generated_length
  if (cfg.max_new_tokens !== null) {
    if (callOptions.max_length !== undefined) {
      warn(`Both \`max_new_tokens\` (=${cfg.max_new_tokens}) and \`max_length\`(=${callOptions.max_length}) seem to have been set. \`max_new_tokens\` will take precedence.`);
    }
    cfg.max_length = cfg.max_new_tokens + T;
  }
  if (cfg.min_new_tokens !== null) cfg.min_length = cfg.min_new_tokens + T;
  // Too long for the model is checked first: that error alone, not after a warning about max_length.
  const finalLength = Math.max(cfg.max_length, T + 1);
  if (finalLength > model.config.n_positions) {
    throw new GenerationError(
      `The prompt (${T} tokens) plus the new tokens (${finalLength - T}) make ${finalLength} positions, more than the model's n_positions (${model.config.n_positions}). Shorten the prompt or lower max_new_tokens.`,
    );
  }
  if (T >= cfg.max_length) {
    warn(
      `Input length of input_ids is ${T}, but \`max_length\` is set to ${cfg.max_length}. This can lead to unexpected behavior. ` +
        'You should consider increasing `max_length` or, better yet, setting `max_new_tokens`.',
    );
  }
  if (options.streamer && cfg.num_beams > 1) {
    throw new GenerationError('`streamer` cannot be used with beam search (yet!). Make sure that `num_beams` is set to 1.');
  }
  return { cfg, input_ids, attention_mask };
}

/** How many candidates the trace records per row (0: no trace); `on_trace_step` alone means the default 10. */
function traceSize(options: GenerateOptions): number {
  if (typeof options.trace === 'number') return options.trace;
  return options.trace === true || (options.trace === undefined && options.on_trace_step) ? 10 : 0;
}

function repeatInterleave<T>(rows: T[][], n: number): T[][] {
  const out: T[][] = [];
  for (const r of rows) for (let i = 0; i < n; i++) out.push([...r]);
  return out;
}

/** The step's model inputs: the whole prompt first, then only the newest token (the cache holds the rest). */
async function step(
  model: GenerationModel,
  ids: number[][],
  mask: number[][],
  past: KVCache | null,
  use_cache: boolean,
  hooks: ForwardHooks | undefined,
  rowStats: RowStatsFunction,
  stats: RowStats | null,
  logits_buffer: Float32Array,
  cache_capacity: number,
): Promise<{ logits: Float32Array; past: KVCache | null }> {
  const cached = use_cache && past !== null && past.length > 0;
  const positions = mask.map(positionIdsFromMask);
  const input_ids = cached ? ids.map((r) => [r[r.length - 1]!]) : ids;
  const position_ids = cached ? positions.map((p) => [p[p.length - 1]!]) : positions;
  const out = await model.forward({
    input_ids,
    attention_mask: mask,
    position_ids,
    past_key_values: cached ? past : null,
    use_cache,
    num_logits_to_keep: 1,
    logits_buffer,
    // the first step's new cache has room for the whole run: no growth (a copy of every position) mid-generation
    ...(cached ? {} : { cache_capacity }),
    ...(hooks ? { hooks } : {}),
  });
  // every row's max, log-sum-exp, argmax and non-finite check in one call (the engine's kernel where it has one);
  // `stats` null: the caller needs only the check (findNonFiniteLogit, one pass without exp)
  const V = model.config.vocab_size;
  const rows = out.logits.data.subarray(0, ids.length * V);
  if (stats) rowStats(rows, ids.length, V, stats);
  const bad = stats ? stats.bad.subarray(0, ids.length).some((b) => b >= 0) : findNonFiniteLogit(rows, V) >= 0;
  // NaN or Infinity would become token 0 forever: stop with where the network broke (whole sequences, no cache)
  if (bad) {
    await assertFiniteLogits(model, { input_ids: ids, attention_mask: mask, position_ids: positions }, rows);
  }
  return { logits: out.logits.data, past: use_cache ? (out.past_key_values ?? null) : null };
}

/** Applies the processors to one row in place (no trace). */
function processRow(lists: LogitsProcessorList[], history: readonly number[], row: Float32Array): void {
  for (const l of lists) l.apply(history, row);
}

/**
 * Applies the processors to a row while recording its trace row. Its vocabulary-sized buffers are made once per
 * generate() call and reused row after row: a row's `addChosen` must come before the next row's `process`.
 *
 * A row's candidates: the `top` best by raw logit, then the `top` most probable after the processors not yet listed,
 * then (addChosen) the chosen token when neither list holds it. Probabilities are softmaxInto's (math.ts) over the
 * whole vocabulary, raw and processed: the numbers the explorer's token events and next-token tables report.
 */
class RowTracer {
  private readonly raw: Float32Array;
  private readonly rawProbs: Float64Array;
  private readonly probs: Float64Array;
  private scores: Float32Array | null = null;

  constructor(vocab_size: number, readonly top: number) {
    this.raw = new Float32Array(vocab_size);
    this.rawProbs = new Float64Array(vocab_size);
    this.probs = new Float64Array(vocab_size);
  }

  process(lists: LogitsProcessorList[], history: readonly number[], row: Float32Array, rowIndex: number): TraceRow {
    const raw = this.raw;
    raw.set(row);
    softmaxInto(raw, this.rawProbs);
    const ids = topKIndices(raw, this.top);
    const removed_by = new Map<number, string>();
    for (const l of lists) {
      for (const p of l) {
        p.apply(history, row);
        for (const id of ids) if (!removed_by.has(id) && row[id] === -Infinity && raw[id] !== -Infinity) removed_by.set(id, String(p));
      }
    }
    softmaxInto(row, this.probs);
    for (const id of topKIndices(this.probs, this.top)) if (!ids.includes(id) && row[id]! > -Infinity) ids.push(id);
    this.scores = row;
    return { row: rowIndex, candidates: ids.map((id) => this.candidate(id, removed_by.get(id) ?? null)) };
  }

  /** Lists the row's chosen token among its candidates when it is not there yet (a sampled token far down). */
  addChosen(t: TraceRow, id: number): void {
    if (!t.candidates.some((c) => c.id === id)) t.candidates.push(this.candidate(id, null));
  }

  private candidate(id: number, removed_by: string | null): TraceCandidate {
    const score = this.scores![id]!;
    return { id, logit: this.raw[id]!, prob: this.rawProbs[id]!, score, processed_prob: score > -Infinity ? this.probs[id]! : 0, removed_by };
  }
}

/**
 * Generates continuations of `input_ids` with HF's semantics. The settings come from HF's defaults, then the
 * model's generation_config, then `options`. See docs/generation.md.
 */
export async function generate(model: GenerationModel, options: GenerateOptions): Promise<GenerateOutput> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    (options.on_warning ?? ((s: string) => console.warn(s)))(m);
  };
  const { cfg, input_ids, attention_mask } = prepareGeneration(model, options, warn);
  if (options.signal?.aborted) throw abortError(options.signal);
  if (cfg.num_beams > 1) return beamSearch(model, cfg, input_ids, attention_mask, options, warnings);
  return greedyOrSample(model, cfg, input_ids, attention_mask, options, warnings);
}

async function greedyOrSample(
  model: GenerationModel,
  cfg: GenerationConfig,
  prompt: number[][],
  promptMask: number[][],
  options: GenerateOptions,
  warnings: string[],
): Promise<GenerateOutput> {
  const V = model.config.vocab_size;
  const T = prompt[0]!.length;
  const expand = cfg.do_sample ? cfg.num_return_sequences : 1;
  const ids = repeatInterleave(prompt, expand);
  const mask = repeatInterleave(promptMask, expand);
  const rows = ids.length;
  const processors = buildLogitsProcessors(cfg, T);
  const warpers = cfg.do_sample ? buildLogitsWarpers(cfg) : new LogitsProcessorList();
  const seed = cfg.do_sample ? (options.seed ?? randomSeed()) : undefined;
  const rng = seed !== undefined ? new Xoshiro128(seed) : null;
  const probsBuffer = new Float64Array(V);
  const eos = eosIds(cfg);
  const pad = cfg.pad_token_id;
  const unfinished = new Array<boolean>(rows).fill(true);
  const token_logprobs: number[][] = Array.from({ length: rows }, () => []);
  const scores: Tensor[] = [];
  const logitsOut: Tensor[] = [];
  const traceTop = traceSize(options);
  const trace: GenerationTrace | undefined = traceTop > 0
    ? { strategy: cfg.do_sample ? 'sample' : 'greedy', processors: [...processors, ...warpers].map(String), steps: [] }
    : undefined;
  const tracer = trace ? new RowTracer(V, traceTop) : null;
  const streamer = options.streamer;
  streamer?.put(ids.length === 1 ? ids[0]! : ids.flat());
  const rowStats = rowStatsOf(model);
  const stats = newRowStats(rows); // of the raw logits (step)
  // with no processor the raw logits are the scores: their argmax and lse are the step's; else each processed row's
  const rowAfter = processors.length + warpers.length > 0 ? newRowStats(1) : null;
  // the raw logits' statistics are read only without processors; else the check alone (findNonFiniteLogit, no exp)
  const rawStats = rowAfter ? null : stats;
  const logitsBuffer = new Float32Array(rows * V); // every step's logits (step)

  let past: KVCache | null = null;
  for (let s = 0; ; s++) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const out = await step(model, ids, mask, past, cfg.use_cache, options.hooks, rowStats, rawStats, logitsBuffer, cfg.max_length);
    past = out.past;
    if (options.signal?.aborted) throw abortError(options.signal);
    if (options.output_logits) logitsOut.push({ data: out.logits.slice(0, rows * V), dims: [rows, V] });
    const next: number[] = [];
    const traceStep: TraceStep | undefined = trace ? { step: s, rows: [] } : undefined;
    for (let r = 0; r < rows; r++) {
      const row = out.logits.subarray(r * V, (r + 1) * V); // edited in place: the buffer is this call's own
      const t = tracer ? tracer.process([processors, warpers], ids[r]!, row, r) : processRow([processors, warpers], ids[r]!, row);
      let argmax = stats.argmax[r]!;
      let lse = stats.lse[r]!;
      if (rowAfter) {
        rowStats(row, 1, V, rowAfter);
        argmax = rowAfter.argmax[0]!;
        lse = rowAfter.lse[0]!;
      }
      let token = rng ? sampleFromScores(row, rng, probsBuffer) : argmax;
      if (unfinished[r]) {
        token_logprobs[r]!.push(row[token]! - lse);
        if (t) tracer!.addChosen(t, token);
      } else if (eos.length > 0 && pad !== null) token = pad; // finished rows are filled with pad
      if (t && traceStep) traceStep.rows.push({ ...t, chosen: token });
      next.push(token);
    }
    if (cfg.output_scores) scores.push({ data: out.logits.slice(0, rows * V), dims: [rows, V] });
    if (traceStep) {
      trace!.steps.push(traceStep);
      options.on_trace_step?.(traceStep);
    }
    for (let r = 0; r < rows; r++) {
      ids[r]!.push(next[r]!);
      mask[r]!.push(1);
      if (eos.includes(next[r]!)) unfinished[r] = false;
    }
    streamer?.put(next);
    if (ids[0]!.length >= cfg.max_length || !unfinished.some(Boolean)) break;
  }
  streamer?.end();
  const result: GenerateOutput = { sequences: ids, token_logprobs, warnings };
  if (seed !== undefined) result.seed = seed;
  if (cfg.output_scores) result.scores = scores;
  if (options.output_logits) result.logits = logitsOut;
  if (trace) result.trace = trace;
  return result;
}

async function beamSearch(
  model: GenerationModel,
  cfg: GenerationConfig,
  prompt: number[][],
  promptMask: number[][],
  options: GenerateOptions,
  warnings: string[],
): Promise<GenerateOutput> {
  const V = model.config.vocab_size;
  const nb = cfg.num_beams;
  const batch = prompt.length;
  const T = prompt[0]!.length;
  let ids = repeatInterleave(prompt, nb);
  const mask = repeatInterleave(promptMask, nb); // HF never reorders the mask (beams of an item share it)
  const rows = ids.length;
  const processors = buildLogitsProcessors(cfg, T);
  const warpers = cfg.do_sample ? buildLogitsWarpers(cfg) : new LogitsProcessorList();
  const seed = cfg.do_sample ? (options.seed ?? randomSeed()) : undefined;
  const rng = seed !== undefined ? new Xoshiro128(seed) : null;
  const eos = eosIds(cfg);
  const scorer = new BeamSearchScorer(batch, nb, cfg.length_penalty, cfg.early_stopping, cfg.num_return_sequences, cfg.max_length);
  // running sums: [0, -1e9, ...] per batch item, so the first step expands beam 0 only
  let beam_scores: Float32Array = new Float32Array(rows);
  for (let r = 0; r < rows; r++) if (r % nb !== 0) beam_scores[r] = -1e9;
  let beam_indices: number[][] = Array.from({ length: rows }, () => []);
  const n_keep = Math.max(2, 1 + eos.length) * nb;
  // beam sampling draws from the softmax of one batch item's sums [beams × vocab]; beam search needs only the best
  // n_keep of them, selected in one pass without building the sums
  const flat = rng ? new Float32Array(nb * V) : null;
  const weights = rng ? new Float64Array(nb * V) : null;
  const topIndex = new Int32Array(n_keep);
  const topScore = new Float32Array(n_keep);
  const scores: Tensor[] = [];
  const logitsOut: Tensor[] = [];
  const traceTop = traceSize(options);
  const trace: GenerationTrace | undefined = traceTop > 0
    ? { strategy: cfg.do_sample ? 'beam_sample' : 'beam_search', processors: [...processors, ...warpers].map(String), steps: [] }
    : undefined;
  const tracer = trace ? new RowTracer(V, traceTop) : null;
  const rowStats = rowStatsOf(model);
  const stats = newRowStats(rows);
  const logitsBuffer = new Float32Array(rows * V); // every step's logits (step)
  // HF scores log_softmax(logits) and runs the processors on them. When nothing reads the log-probabilities (no
  // trace, no output_scores, no sampling) and every processor only masks (commutes with a per-row shift), the
  // masks go on the raw logits and the candidates take the shift (stats.lse) on the fly: the same float32 scores.
  const lazyLogSoftmax = !rng && !trace && !cfg.output_scores && processors.processors.every((p) => p.masksOnly === true);

  let past: KVCache | null = null;
  for (let s = 0; ; s++) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const out = await step(model, ids, mask, past, cfg.use_cache, options.hooks, rowStats, stats, logitsBuffer, cfg.max_length);
    past = out.past;
    if (options.signal?.aborted) throw abortError(options.signal);
    if (options.output_logits) logitsOut.push({ data: out.logits.slice(0, rows * V), dims: [rows, V] });
    const traceStep: TraceStep | undefined = trace ? { step: s, rows: [], beams: [] } : undefined;
    for (let r = 0; r < rows; r++) {
      const row = out.logits.subarray(r * V, (r + 1) * V);
      let raw: Float32Array | undefined;
      if (traceStep) raw = row.slice();
      if (!lazyLogSoftmax) logSoftmaxInPlace(row, stats.lse[r]!); // beam search scores log-probabilities; the processors run on them
      const t = tracer ? tracer.process([processors, warpers], ids[r]!, row, r) : processRow([processors, warpers], ids[r]!, row);
      if (t && raw) {
        // report raw logits (not log-probs) as `logit` in the trace
        for (const c of t.candidates) c.logit = raw[c.id]!;
        traceStep!.rows.push(t);
      }
    }
    if (cfg.output_scores) scores.push({ data: out.logits.slice(0, rows * V), dims: [rows, V] });

    const candidates: BeamCandidate[][] = [];
    for (let b = 0; b < batch; b++) {
      // next_token_scores = processed + running sum, flattened over [beams × vocab]
      if (rng && flat && weights) {
        for (let j = 0; j < nb; j++) {
          const r = b * nb + j;
          const src = out.logits.subarray(r * V, (r + 1) * V);
          const bs = beam_scores[r]!;
          for (let v = 0; v < V; v++) flat[j * V + v] = src[v]! + bs;
        }
        softmaxInto(flat, weights);
        const picked = sampleWithoutReplacement(weights, n_keep, rng);
        picked.sort((x, y) => flat[y]! - flat[x]! || x - y);
        candidates.push(picked.map((i) => ({ beam: Math.floor(i / V), token: i % V, score: flat[i]! })));
      } else {
        // the n_keep best sums, best first, ties by flat index: HF's topk over the flattened row
        const n = topBeamCandidates(out.logits, b * nb, nb, V, beam_scores, n_keep, topIndex, topScore, lazyLogSoftmax ? stats.lse : undefined);
        const picked: BeamCandidate[] = [];
        for (let i = 0; i < n; i++) picked.push({ beam: Math.floor(topIndex[i]! / V), token: topIndex[i]! % V, score: topScore[i]! });
        candidates.push(picked);
      }
    }
    const res = scorer.process(ids, candidates, cfg.pad_token_id, eos, beam_indices, T);
    beam_scores = res.next_beam_scores;
    const parents = res.next_beam_indices;
    ids = parents.map((p, i) => [...ids[p]!, res.next_beam_tokens[i]!]);
    for (const m of mask) m.push(1);
    beam_indices = parents.map((p) => [...beam_indices[p]!, p]);
    // HF's _reorder_cache: row i of the cache becomes old row parents[i] (skipped when nothing moves)
    if (past && parents.some((p, i) => p !== i)) past.reorder(parents);
    if (traceStep) {
      traceStep.beams = parents.map((p, i) => ({ row: i, parent: p, token: res.next_beam_tokens[i]!, score: beam_scores[i]!, tokens: ids[i]!.slice(T) }));
      traceStep.finished = scorer.beam_hyps.flatMap((hyps) => hyps.beams.map((h) => ({ parent: h.beam_indices!.at(-1)!, tokens: h.tokens.slice(T), score: h.score })));
      trace!.steps.push(traceStep);
      options.on_trace_step?.(traceStep);
    }
    const allEos = eos.length > 0 && ids.every((r) => eos.includes(r[r.length - 1]!));
    if (scorer.is_done || ids[0]!.length >= cfg.max_length || allEos) break;
  }
  const final = scorer.finalize(ids, beam_scores, cfg.max_length, cfg.pad_token_id, eos, beam_indices, T);
  const result: GenerateOutput = {
    sequences: final.sequences,
    sequences_scores: final.sequences_scores,
    beam_indices: final.beam_indices ?? [],
    warnings,
  };
  if (seed !== undefined) result.seed = seed;
  if (cfg.output_scores) result.scores = scores;
  if (options.output_logits) result.logits = logitsOut;
  if (trace) result.trace = trace;
  return result;
}

/** A token as streamGenerate yields it. */
export interface StreamedToken {
  /** the token id */
  id: number;
  /** the row it belongs to (0 for a single prompt) */
  row: number;
  /** 0 for the first new token */
  step: number;
}

/**
 * generate() as an async iterator of the new tokens, as they are chosen (greedy or sampling):
 *
 *     for await (const tok of streamGenerate(model, { input_ids, max_new_tokens: 20 })) console.log(tok.id);
 *
 * Breaking out of the loop aborts the generation. The iterator's return value is the GenerateOutput.
 */
export async function* streamGenerate(model: GenerationModel, options: Omit<GenerateOptions, 'streamer'>): AsyncGenerator<StreamedToken, GenerateOutput | undefined> {
  const queue: StreamedToken[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  let output: GenerateOutput | undefined;
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', onOuterAbort, { once: true });
  }
  let stepIndex = -1;
  const streamer: BaseStreamer = {
    put(tokens) {
      if (stepIndex >= 0) tokens.forEach((id, row) => queue.push({ id, row, step: stepIndex }));
      stepIndex++;
      wake?.();
    },
    end() {},
  };
  const run = generate(model, { ...options, streamer, signal: controller.signal }).then(
    (o) => {
      output = o;
    },
    (e: unknown) => {
      failure = e;
    },
  ).finally(() => {
    finished = true;
    outer?.removeEventListener('abort', onOuterAbort);
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    await run;
    if (failure !== null) throw failure;
    return output;
  } finally {
    if (!finished) {
      controller.abort(new DOMException('the token stream was closed', 'AbortError'));
      await run;
    }
  }
}
