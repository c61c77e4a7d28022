// The JSON the explorer's API speaks, request and response, endpoint by endpoint (docs/api.md shows examples).
// Types only: the web page imports this file too, so the page and the server cannot drift apart.
import type { CaptureJson } from '../model/captures.js';
import type { AblationKind, Attribution, AttributionComponent, NextToken, PatchHook, PatchResult } from '../interp/index.js';

export type { CaptureJson, AblationKind, Attribution, AttributionComponent, PatchHook, PatchResult };

/** Ceilings this server puts on a request; beyond them the answer is a 400 that names the field. */
export interface ServerLimits {
  /** request body, bytes */
  max_body_bytes: number;
  /** prompt, tokens (for /api/next, /api/generate and /api/tokenize) */
  max_prompt_tokens: number;
  /** prompt, tokens, for /api/forward (its answer grows as n_layer x n_head x T x T) */
  max_forward_tokens: number;
  max_new_tokens: number;
  num_beams: number;
  num_return_sequences: number;
  /** rows of a next-token table, and alternatives per streamed token */
  max_top: number;
  /** each prompt of /api/patch, tokens (a grid is about T batched passes over n_layer rows) */
  max_patch_tokens: number;
  /** requests waiting behind the running one; more get a 503 */
  max_queue: number;
}

export interface ApiErrorBody {
  error: { message: string; param: string | null };
}

/** GET /api/model */
export interface ModelInfo {
  /** what --model named: a Hub id, a folder, or a random: spec */
  model: string;
  /** true when the weights are random (a random: spec): the text means nothing */
  random: boolean;
  config: {
    vocab_size: number;
    n_positions: number;
    n_embd: number;
    n_layer: number;
    n_head: number;
    n_inner: number | null;
    bos_token_id: number;
    eos_token_id: number;
  };
  n_params: number;
  /** generation defaults the model ships (generation_config.json) */
  generation_config: Record<string, unknown>;
  limits: ServerLimits;
}

/** One token as the CLI's `tokenize --json` prints it. start/end count UTF-16 code units of the input. */
export interface TokenInfo {
  id: number;
  text: string;
  bytes: number[];
  start: number;
  end: number;
}

/** POST /api/tokenize {text} → the CLI's tokenize JSON. */
export interface TokenizeRequest {
  text: string;
}
export interface TokenizeResponse {
  ids: number[];
  tokens: TokenInfo[];
}

/** The knobs of the next-token table; absent means "off" (temperature 1, top_k 0, top_p 1, penalty 1). */
export interface Knobs {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repetition_penalty?: number;
}

/** POST /api/next */
export interface NextRequest extends Knobs {
  text?: string;
  input_ids?: number[];
  /** rows in the table (default 10) */
  top?: number;
  /** more ids to report in `reported` (besides the rows of `top` and `processed`) */
  ids?: number[];
  /** heads to ablate, as the CLI's --ablate writes them: ["9.6", "9.9"] (layer.head); [] ablates none */
  ablate?: string[];
  /** with `ablate`: "zero" (default; the head's hook_z is 0) or "mean" (its mean over the prompt's positions) */
  ablation?: AblationKind;
}

/** The unablated numbers of one reported token: what the same request gives without `ablate`. */
export interface UnablatedToken {
  id: number;
  logit: number;
  raw_prob: number;
  /** after the knobs */
  prob: number;
}

/** With `ablate`: which heads, how, and the unablated run's numbers for every id of `reported` (same order). */
export interface AblationEffect {
  heads: string[];
  kind: AblationKind;
  unablated: UnablatedToken[];
}

/** A row of the CLI's `next --json` table: the raw softmax (the library's NextToken, src/interp/next.ts). */
export type Candidate = NextToken;

/** A token after the knobs: its probability under the distribution that sampling would draw from. */
export interface ProcessedCandidate {
  id: number;
  token: string;
  prob: number;
  /** its score after the knobs (the processed logit) */
  score: number;
}

/** The knob name used in `removed_by` and `removed_count`. */
export type KnobName = 'repetition_penalty' | 'temperature' | 'top_k' | 'top_p' | 'min_p';

export interface NextResponse {
  input_ids: number[];
  /** the CLI's table: raw softmax, sorted descending */
  top: Candidate[];
  /** the knobs as applied, in HF's order (processors first, then warpers) */
  knobs: { name: KnobName; value: number; processor: string }[];
  /** the top rows after the knobs */
  processed: ProcessedCandidate[];
  /** for each id in `top`, `processed` or the request's `ids` that some knob removed: which knob (the first one that did) */
  removed_by: Record<string, KnobName>;
  /** how many of the vocabulary's tokens each knob removed */
  removed_count: Partial<Record<KnobName, number>>;
  /** tokens left after every knob */
  kept: number;
  /** the ids of `top`, then of `processed`, then of the request's `ids` (each once), with every number of each */
  reported: ReportedToken[];
  /** only with `ablate`: every number above is the ablated run's; this is the unablated run's, for comparison */
  ablation?: AblationEffect;
}

/** Every number the table shows for one token: before and after the knobs. */
export interface ReportedToken {
  id: number;
  token: string;
  /** the raw logit and its softmax */
  logit: number;
  raw_prob: number;
  /** the score after every knob (-Infinity when removed; JSON null) and its softmax (0 when removed) */
  score: number | null;
  prob: number;
  /** the probability after the knobs of this token and of every token scoring at least as high (top-p's running sum) */
  cumulative: number;
}

/** POST /api/forward */
export interface ForwardRequest {
  text?: string;
  input_ids?: number[];
  /** attention probabilities per layer and head (default true) */
  attentions?: boolean;
  /** the residual stream after each layer (default false; n_layer + 1 entries, HF's hidden_states) */
  hidden_states?: boolean;
  /** the logit lens (default true) */
  lens?: boolean;
  /** tokens per position in the lens (default 3) */
  lens_top?: number;
  /** TransformerLens hook names to return under `captures` (docs/model.md lists them) */
  capture?: string[];
}

export interface LensEntry {
  id: number;
  token: string;
  prob: number;
}

export interface ForwardResponse {
  input_ids: number[];
  /** each position's token text */
  tokens: string[];
  /** [n_layer][n_head][T][T]: row t = how position t spreads its attention over positions 0..t */
  attentions?: number[][][][];
  /** [n_layer + 1][T][n_embd], HF's hidden_states (the last after ln_f) */
  hidden_states?: number[][][];
  /**
   * The logit lens: for the residual stream after each layer, ln_f + the tied head, softmax.
   * [n_layer + 1][T][lens_top]; entry 0 is the embeddings, entry n_layer is the model's real prediction.
   */
  lens?: LensEntry[][][];
  /** each hook of `capture`: `{dims, data}`, batch dimension dropped (e.g. attn.hook_q: [T, n_head, head_dim]) */
  captures?: Record<string, CaptureJson>;
}

/** POST /api/generate: HF's generate options (their names and defaults), plus the prompt and stream. */
export interface GenerateRequest {
  text?: string;
  input_ids?: number[];
  stream?: boolean;
  /** alternatives listed per streamed token (default 5) */
  top?: number;
  max_new_tokens?: number;
  min_new_tokens?: number;
  do_sample?: boolean;
  num_beams?: number;
  num_return_sequences?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  typical_p?: number;
  repetition_penalty?: number;
  no_repeat_ngram_size?: number;
  length_penalty?: number;
  early_stopping?: boolean | 'never';
  eos_token_id?: number | number[];
  pad_token_id?: number;
  /** seeds the sampler (xoshiro128**): the same seed gives the same text */
  seed?: number;
  /** heads to ablate at every step, as in /api/next */
  ablate?: string[];
  ablation?: AblationKind;
}

/** POST /api/attribute → `gpt2-lens attribute --json` (an Attribution). */
export interface AttributeRequest {
  text?: string;
  input_ids?: number[];
  /** the token whose logit to split: an id, or the text of one token (" Paris") */
  target: number | string;
}

/** POST /api/patch → `gpt2-lens patch --json` (a PatchResult). */
export interface PatchRequest {
  /** the prompt the model gets right, and the same with the decisive part changed (as many tokens) */
  clean: string;
  corrupted: string;
  /** the right token after the clean prompt, and the competing one: ids or one token's text */
  answer: number | string;
  wrong: number | string;
  /** resid_pre (default), attn_out, mlp_out: layer × position; z: layer × head */
  hook?: PatchHook;
}

/** The CLI's `generate --json`. score: sequences_score for beam search, else the sum of chosen log-probs. */
export interface GenerateResponse {
  sequences: { ids: number[]; text: string; score: number }[];
}

/** SSE `event: token`: one new token of one sequence (greedy or sampling). */
export interface TokenEvent {
  step: number;
  /** which returned sequence (num_return_sequences > 1) */
  row: number;
  id: number;
  token: string;
  /** its probability in the distribution it was chosen from (after the knobs) */
  prob: number;
  /** its probability in the raw softmax */
  raw_prob: number;
  /** the best candidates of that distribution */
  top: LensEntry[];
}

/** One beam alive after a step of beam search. */
export interface BeamInfo {
  /** the beam's new tokens so far */
  ids: number[];
  /** the running sum of log-probabilities */
  score: number;
  /** index of the beam (in the previous step's list) it grew from */
  parent: number;
  /** the token it just added */
  id: number;
  token: string;
}

/** A hypothesis that ended with eos, or a beam still running when generation stopped. */
export interface FinishedBeam {
  /** its new tokens (HF stores a hypothesis without its eos) */
  ids: number[];
  text: string;
  /** sum_logprobs / generated_len ** length_penalty */
  score: number;
  /** the step at which it finished */
  step: number;
  /** 'eos': it chose eos at `step`; 'length': it was a beam still running at the end */
  ended: 'eos' | 'length';
  /** 'eos': the beam of step - 1 it extended; 'length': its own index among the beams of `step` */
  parent: number;
  /** the token it ended with (the eos token's text for 'eos') */
  token: string;
}

/** SSE `event: beam`: the beams after one step of beam search. */
export interface BeamEvent {
  step: number;
  beams: BeamInfo[];
  /** candidates that were considered this step but not kept */
  pruned: { parent: number; id: number; token: string; score: number }[];
  /** hypotheses finished so far */
  finished: FinishedBeam[];
}
