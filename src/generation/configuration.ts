// GenerationConfig: HF's generation options, their defaults (transformers 4.43, generation/configuration_utils.py),
// how a call's options override the model's generation_config.json, HF's validation (with its messages where HF
// raises), and the processor list each setting turns into (generation/utils.py `_get_logits_processor` and
// `_get_logits_warper`).
import {
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  LogitsProcessorList,
  MinLengthLogitsProcessor,
  MinNewTokensLengthLogitsProcessor,
  MinPLogitsWarper,
  NoBadWordsLogitsProcessor,
  NoRepeatNGramLogitsProcessor,
  RepetitionPenaltyLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
} from './logits-process.js';
import { floatRangeError, GENERATION_OPTIONS } from './options.js';

/** The generation settings gpt2-lens implements, with HF's names. */
export interface GenerationConfig {
  /** total length (prompt + new tokens); overridden by max_new_tokens. HF default 20. */
  max_length: number;
  /** how many tokens to generate, whatever the prompt length (takes precedence over max_length) */
  max_new_tokens: number | null;
  /** eos is forbidden while the whole sequence is shorter than this */
  min_length: number;
  /** eos is forbidden until this many new tokens exist */
  min_new_tokens: number | null;
  /** beam search stopping: true, false (a heuristic) or "never" (canonical) */
  early_stopping: boolean | 'never';
  /** sample instead of taking the most likely token(s) */
  do_sample: boolean;
  num_beams: number;
  num_return_sequences: number;
  temperature: number;
  /** 0 disables top-k; HF's default 50 applies whenever do_sample is true */
  top_k: number;
  top_p: number;
  typical_p: number;
  epsilon_cutoff: number;
  eta_cutoff: number;
  min_p: number | null;
  repetition_penalty: number;
  no_repeat_ngram_size: number;
  bad_words_ids: number[][] | null;
  /** beam scores are divided by generated_length ** length_penalty */
  length_penalty: number;
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  /** fills finished rows; HF uses the (first) eos when unset, with a warning */
  pad_token_id: number | null;
  /** return the processed scores of every step */
  output_scores: boolean;
  /** return `{sequences, scores, ...}` (gpt2-lens always returns an object; kept for HF compatibility) */
  return_dict_in_generate: boolean;
  /** keep keys and values of past positions (the KV cache); false recomputes the whole prefix every step */
  use_cache: boolean;
}

/**
 * `GenerationConfig()`'s defaults in transformers 4.43: those of the options the CLI and the API expose come from
 * their one definition (options.ts); the rest are set here.
 */
export const GENERATION_DEFAULTS: Readonly<GenerationConfig> = Object.freeze({
  ...(Object.fromEntries(GENERATION_OPTIONS.filter((o) => o.name !== 'seed').map((o) => [o.name, o.default])) as Partial<GenerationConfig>),
  bos_token_id: null,
  output_scores: false,
  return_dict_in_generate: false,
  use_cache: true,
} as GenerationConfig);

export const GENERATION_CONFIG_KEYS: ReadonlySet<string> = new Set(Object.keys(GENERATION_DEFAULTS));

/** A generate() setting HF would reject; the message follows HF's where HF has one. */
export class GenerationError extends Error {
  override name = 'GenerationError';
  constructor(
    message: string,
    /** where the bad value came from: the call's options (a usage error), or the model's generation_config.json */
    readonly source: 'options' | 'generation_config.json' = 'options',
  ) {
    super(message);
  }

  /** The setting the message is about: the first `name` in backquotes that is a GenerationConfig key. */
  get key(): string | undefined {
    for (const m of this.message.matchAll(/`([a-z_]+)`/g)) if (GENERATION_CONFIG_KEYS.has(m[1]!)) return m[1];
    return undefined;
  }
}

/**
 * The same error, said to come from the model's generation_config.json (named after the model's id or folder):
 * the user did not type that value, so it is not a usage error.
 */
export function generationConfigFileError(err: GenerationError, name: string): GenerationError {
  return new GenerationError(`the model's generation_config.json (${name}) is invalid: ${err.message}`, 'generation_config.json');
}

/** Keys a generation_config.json may hold that are bookkeeping, not settings. */
const FILE_ONLY_KEYS = new Set(['_from_model_config', 'transformers_version']);

/** HF generation options gpt2-lens does not implement, with HF's default (the value that means "off"). */
export const UNSUPPORTED_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({
  num_beam_groups: 1,
  diversity_penalty: 0.0,
  penalty_alpha: null,
  constraints: null,
  force_words_ids: null,
  forced_bos_token_id: null,
  forced_eos_token_id: null,
  remove_invalid_values: false,
  exponential_decay_length_penalty: null,
  suppress_tokens: null,
  begin_suppress_tokens: null,
  forced_decoder_ids: null,
  sequence_bias: null,
  guidance_scale: null,
  renormalize_logits: false,
  encoder_repetition_penalty: 1.0,
  encoder_no_repeat_ngram_size: 0,
  max_time: null,
  stop_strings: null,
  token_healing: false,
  dola_layers: null,
  watermarking_config: null,
  low_memory: null,
  num_assistant_tokens: 5,
  num_assistant_tokens_schedule: 'heuristic',
  prompt_lookup_num_tokens: null,
  cache_implementation: null,
  output_attentions: false,
  output_hidden_states: false,
});

/** The error for an HF option gpt2-lens does not implement. */
export function unsupportedOptionError(name: string, value: unknown): GenerationError {
  return new GenerationError(
    `\`${name}\`=${JSON.stringify(value)} is a transformers generate option that gpt2-lens does not implement (only its default, ${JSON.stringify(UNSUPPORTED_OPTIONS[name])}, is accepted)`,
  );
}

/** Whether `name` is one of UNSUPPORTED_OPTIONS (its own keys: not "constructor" or "toString"). */
export function isUnsupportedOption(name: string): boolean {
  return Object.hasOwn(UNSUPPORTED_OPTIONS, name);
}

/** Throws unsupportedOptionError when `name` is an unsupported option set to anything but HF's default. */
export function checkUnsupportedOption(name: string, value: unknown): void {
  if (isUnsupportedOption(name) && value !== undefined && JSON.stringify(value) !== JSON.stringify(UNSUPPORTED_OPTIONS[name])) {
    throw unsupportedOptionError(name, value);
  }
}

/**
 * Reads a generation_config.json object: known settings are kept, bookkeeping keys dropped; a setting
 * gpt2-lens does not implement is an error only if it differs from HF's default (so the Hub's files load).
 */
export function parseGenerationConfig(json: unknown): Partial<GenerationConfig> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new GenerationError('generation_config.json must hold a JSON object');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    if (FILE_ONLY_KEYS.has(k)) continue;
    if (GENERATION_CONFIG_KEYS.has(k)) out[k] = v;
    else checkUnsupportedOption(k, v);
  }
  return out as Partial<GenerationConfig>;
}

/**
 * The effective config: HF's defaults, then the model's generation_config, then the call's options
 * (an option given as `undefined` is ignored; `null` resets a nullable setting).
 */
export function resolveGenerationConfig(modelConfig: Partial<GenerationConfig> | undefined, options: Partial<GenerationConfig>): GenerationConfig {
  const cfg: Record<string, unknown> = { ...GENERATION_DEFAULTS };
  for (const src of [modelConfig ?? {}, options]) {
    for (const [k, v] of Object.entries(src)) if (v !== undefined && GENERATION_CONFIG_KEYS.has(k)) cfg[k] = v;
  }
  return cfg as unknown as GenerationConfig;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** The eos ids as a list ([] when none). */
export function eosIds(cfg: Pick<GenerationConfig, 'eos_token_id'>): number[] {
  const e = cfg.eos_token_id;
  if (e === null || e === undefined) return [];
  return typeof e === 'number' ? [e] : [...e];
}

/**
 * HF's GenerationConfig.validate() plus the warpers' own constructor checks, run up front so that a bad
 * setting fails before any forward pass. `vocab_size` bounds the token ids.
 */
export function validateGenerationConfig(cfg: GenerationConfig, vocab_size: number): void {
  const fail = (msg: string): never => {
    throw new GenerationError(msg);
  };
  const num = (name: keyof GenerationConfig): number => {
    const v = cfg[name];
    if (typeof v !== 'number' || Number.isNaN(v)) fail(`\`${name}\` must be a number, but is ${JSON.stringify(v)}`);
    return v as number;
  };
  const bool = (name: keyof GenerationConfig): void => {
    if (typeof cfg[name] !== 'boolean') fail(`\`${name}\` must be true or false, but is ${JSON.stringify(cfg[name])}`);
  };
  for (const b of ['do_sample', 'output_scores', 'return_dict_in_generate', 'use_cache'] as const) bool(b);
  if (cfg.early_stopping !== true && cfg.early_stopping !== false && cfg.early_stopping !== 'never') {
    fail(`\`early_stopping\` must be a boolean or 'never', but is ${JSON.stringify(cfg.early_stopping)}.`);
  }
  if (cfg.max_new_tokens !== null) {
    if (!Number.isInteger(cfg.max_new_tokens)) fail(`\`max_new_tokens\` must be an integer, but is ${JSON.stringify(cfg.max_new_tokens)}.`);
    if (cfg.max_new_tokens <= 0) fail(`\`max_new_tokens\` must be greater than 0, but is ${cfg.max_new_tokens}.`);
  }
  if (!isNonNegInt(cfg.max_length)) fail(`\`max_length\` must be a non-negative integer, but is ${JSON.stringify(cfg.max_length)}.`);
  if (!isNonNegInt(cfg.min_length)) fail(`\`min_length\` must be a non-negative integer, but is ${JSON.stringify(cfg.min_length)}.`);
  if (cfg.min_new_tokens !== null && !isNonNegInt(cfg.min_new_tokens)) {
    fail(`\`min_new_tokens\` must be a non-negative integer, but is ${JSON.stringify(cfg.min_new_tokens)}.`);
  }
  if (!Number.isInteger(cfg.num_beams) || cfg.num_beams < 1) fail(`\`num_beams\` has to be a positive integer, but is ${JSON.stringify(cfg.num_beams)}.`);
  if (!Number.isInteger(cfg.num_return_sequences) || cfg.num_return_sequences < 1) {
    fail(`\`num_return_sequences\` has to be a positive integer, but is ${JSON.stringify(cfg.num_return_sequences)}.`);
  }
  if (cfg.num_return_sequences !== 1) {
    if (cfg.num_beams === 1) {
      if (!cfg.do_sample) {
        fail(`Greedy methods without beam search do not support \`num_return_sequences\` different than 1 (got ${cfg.num_return_sequences}).`);
      }
    } else if (cfg.num_return_sequences > cfg.num_beams) {
      fail(`\`num_return_sequences\` (${cfg.num_return_sequences}) has to be smaller or equal to \`num_beams\` (${cfg.num_beams}).`);
    }
  }
  num('length_penalty');
  const rp = num('repetition_penalty');
  if (!(rp > 0)) fail(`\`repetition_penalty\` has to be a strictly positive float, but is ${rp}`);
  if (!isNonNegInt(cfg.no_repeat_ngram_size)) fail(`\`no_repeat_ngram_size\` has to be a non-negative integer, but is ${JSON.stringify(cfg.no_repeat_ngram_size)}`);
  // The warpers only exist when sampling, but a nonsensical value is an error either way.
  const t = num('temperature');
  if (cfg.do_sample && !(t > 0)) {
    let msg = `\`temperature\` (=${t}) has to be a strictly positive float, otherwise your next token scores will be invalid.`;
    if (t === 0) msg += " If you're looking for greedy decoding strategies, set `do_sample=False`.";
    fail(msg);
  }
  if (!(typeof cfg.top_k === 'number' && Number.isInteger(cfg.top_k) && cfg.top_k >= 0)) {
    fail(`\`top_k\` has to be a non-negative integer (0 disables top-k), but is ${JSON.stringify(cfg.top_k)}`);
  }
  // the float options with a range: their one definition (options.ts) gives the range and the message
  for (const name of ['top_p', 'typical_p', 'epsilon_cutoff', 'eta_cutoff', 'min_p'] as const) {
    if (name === 'min_p' && cfg.min_p === null) continue;
    const bad = floatRangeError(name, num(name));
    if (bad) fail(bad);
  }
  // token ids
  const tokenId = (name: 'bos_token_id' | 'pad_token_id', v: unknown): void => {
    if (v !== null && !(isNonNegInt(v) && v < vocab_size)) fail(`\`${name}\` must be a token id in [0, ${vocab_size - 1}], but is ${JSON.stringify(v)}`);
  };
  tokenId('bos_token_id', cfg.bos_token_id);
  tokenId('pad_token_id', cfg.pad_token_id);
  if (cfg.eos_token_id !== null) {
    const list = Array.isArray(cfg.eos_token_id) ? cfg.eos_token_id : [cfg.eos_token_id];
    if (list.length === 0 || !list.every((e) => isNonNegInt(e) && e < vocab_size)) {
      fail(`\`eos_token_id\` must be a token id in [0, ${vocab_size - 1}] or a non-empty list of them, but is ${JSON.stringify(cfg.eos_token_id)}`);
    }
  }
  if (cfg.bad_words_ids !== null) {
    try {
      new NoBadWordsLogitsProcessor(cfg.bad_words_ids, cfg.eos_token_id).checkVocabulary(vocab_size);
    } catch (e) {
      fail((e as Error).message);
    }
  }
}

/**
 * HF's `_get_logits_processor`: the processors every strategy applies, in HF's order.
 * `input_ids_seq_length` is the prompt length (left padding included).
 */
export function buildLogitsProcessors(cfg: GenerationConfig, input_ids_seq_length: number): LogitsProcessorList {
  const list = new LogitsProcessorList();
  const eos = eosIds(cfg);
  if (cfg.repetition_penalty !== 1.0) list.push(new RepetitionPenaltyLogitsProcessor(cfg.repetition_penalty));
  if (cfg.no_repeat_ngram_size > 0) list.push(new NoRepeatNGramLogitsProcessor(cfg.no_repeat_ngram_size));
  if (cfg.bad_words_ids !== null) list.push(new NoBadWordsLogitsProcessor(cfg.bad_words_ids, cfg.eos_token_id));
  if (eos.length > 0 && cfg.min_length > 0) list.push(new MinLengthLogitsProcessor(cfg.min_length, eos));
  if (eos.length > 0 && cfg.min_new_tokens !== null && cfg.min_new_tokens > 0) {
    list.push(new MinNewTokensLengthLogitsProcessor(input_ids_seq_length, cfg.min_new_tokens, eos));
  }
  return list;
}

/**
 * HF's `_get_logits_warper` (sampling only): Temperature → TopK → TopP → MinP → Typical → Epsilon → Eta.
 * Beam sampling keeps at least one non-eos token per beam: min_tokens_to_keep = 1 + number of eos ids (2 with none).
 */
export function buildLogitsWarpers(cfg: GenerationConfig): LogitsProcessorList {
  const list = new LogitsProcessorList();
  const min_tokens_to_keep = cfg.num_beams > 1 ? Math.max(2, eosIds(cfg).length + 1) : 1;
  if (cfg.temperature !== 1.0) list.push(new TemperatureLogitsWarper(cfg.temperature));
  if (cfg.top_k !== 0) list.push(new TopKLogitsWarper(cfg.top_k, -Infinity, min_tokens_to_keep));
  if (cfg.top_p < 1.0) list.push(new TopPLogitsWarper(cfg.top_p, -Infinity, min_tokens_to_keep));
  if (cfg.min_p !== null) list.push(new MinPLogitsWarper(cfg.min_p, -Infinity, min_tokens_to_keep));
  if (cfg.typical_p < 1.0) list.push(new TypicalLogitsWarper(cfg.typical_p, -Infinity, min_tokens_to_keep));
  if (cfg.epsilon_cutoff > 0 && cfg.epsilon_cutoff < 1) list.push(new EpsilonLogitsWarper(cfg.epsilon_cutoff, -Infinity, min_tokens_to_keep));
  if (cfg.eta_cutoff > 0 && cfg.eta_cutoff < 1) list.push(new EtaLogitsWarper(cfg.eta_cutoff, -Infinity, min_tokens_to_keep));
  return list;
}
