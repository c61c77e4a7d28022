// One definition per generation option: its HF name, its type, its range, HF's default and a line of help. The CLI's
// flags (src/cli/commands/generate.ts), the explorer API's request schema (src/explorer/schema.ts) and generate()'s
// own validation (configuration.ts, logits-process.ts) are all derived from this table, so a range is written once.
//
// Ranges are the math's (HF's checks); a server's own ceilings (max_new_tokens, num_beams, ...) are its limits.

/** How a value is written: on the command line and in JSON. */
export type OptionType =
  /** an integer */
  | 'int'
  /** a finite number */
  | 'float'
  | 'bool'
  /** true, false or "never" (early_stopping) */
  | 'early'
  /** a token id or a non-empty list of them (eos_token_id) */
  | 'ids'
  /** a token id (pad_token_id) */
  | 'id'
  /** a list of token sequences (bad_words_ids), JSON on the command line */
  | 'id-lists';

/** An interval; a missing bound is unbounded. */
export interface OptionRange {
  min?: number;
  exclusiveMin?: number;
  max?: number;
  exclusiveMax?: number;
}

export interface GenerationOption {
  /** HF's name (the CLI flag is its kebab case: --max-new-tokens) */
  name: string;
  type: OptionType;
  range?: OptionRange;
  /** HF's default in transformers 4.43 (GenerationConfig()); null: unset */
  default: number | boolean | null;
  help: string;
  /** the explorer's API takes it (the others are CLI and library only) */
  api: boolean;
}

/** The largest seed: what transformers.set_seed accepts (it seeds numpy too, whose seeds are 32-bit). */
export const MAX_SEED = 2 ** 32 - 1;

/** Every generation option the CLI and the API expose, in the CLI's --help order. */
export const GENERATION_OPTIONS: readonly GenerationOption[] = Object.freeze([
  { name: 'max_new_tokens', type: 'int', range: { min: 1 }, default: null, api: true, help: 'tokens to generate (default 20 in total with the prompt, as HF)' },
  { name: 'max_length', type: 'int', range: { min: 0 }, default: 20, api: false, help: 'total length, prompt included (max-new-tokens wins)' },
  { name: 'min_new_tokens', type: 'int', range: { min: 0 }, default: null, api: true, help: 'forbid eos until this many new tokens' },
  { name: 'min_length', type: 'int', range: { min: 0 }, default: 0, api: false, help: 'forbid eos while the whole sequence is shorter' },
  { name: 'do_sample', type: 'bool', default: false, api: true, help: 'sample instead of taking the most likely token' },
  { name: 'num_beams', type: 'int', range: { min: 1 }, default: 1, api: true, help: 'beam search with this many beams' },
  { name: 'num_return_sequences', type: 'int', range: { min: 1 }, default: 1, api: true, help: 'sequences to return (beams, or independent samples)' },
  { name: 'temperature', type: 'float', range: { exclusiveMin: 0 }, default: 1.0, api: true, help: 'sampling: divide the logits by this' },
  { name: 'top_k', type: 'int', range: { min: 0 }, default: 50, api: true, help: 'sampling: keep the k most likely tokens (HF default 50; 0 = off)' },
  { name: 'top_p', type: 'float', range: { exclusiveMin: 0, max: 1 }, default: 1.0, api: true, help: 'sampling: keep the smallest head of the distribution with this much mass' },
  { name: 'min_p', type: 'float', range: { min: 0, max: 1 }, default: null, api: true, help: 'sampling: drop tokens below min-p × the top probability' },
  { name: 'typical_p', type: 'float', range: { exclusiveMin: 0, max: 1 }, default: 1.0, api: true, help: 'sampling: locally typical sampling mass' },
  { name: 'epsilon_cutoff', type: 'float', range: { min: 0, exclusiveMax: 1 }, default: 0.0, api: false, help: 'sampling: drop tokens below this probability' },
  { name: 'eta_cutoff', type: 'float', range: { min: 0, exclusiveMax: 1 }, default: 0.0, api: false, help: 'sampling: eta sampling cutoff' },
  { name: 'repetition_penalty', type: 'float', range: { exclusiveMin: 0 }, default: 1.0, api: true, help: 'penalise tokens already in the text (> 1 discourages repeats)' },
  { name: 'no_repeat_ngram_size', type: 'int', range: { min: 0 }, default: 0, api: true, help: 'never repeat an n-gram of this size' },
  { name: 'bad_words_ids', type: 'id-lists', default: null, api: false, help: 'token sequences to ban, as JSON: [[1234],[56,78]]' },
  { name: 'length_penalty', type: 'float', default: 1.0, api: true, help: 'beam search: score = sum logprobs / length ** length-penalty' },
  { name: 'early_stopping', type: 'early', default: false, api: true, help: 'beam search: true | false | never' },
  { name: 'eos_token_id', type: 'ids', default: null, api: true, help: "end-of-sequence id(s), comma-separated (default: the model's, 50256)" },
  { name: 'pad_token_id', type: 'id', default: null, api: true, help: 'fills finished rows (default: the eos id)' },
  {
    name: 'seed',
    type: 'int',
    range: { min: 0, max: MAX_SEED },
    default: null,
    api: true,
    help: 'seed of the sampler (xoshiro128**): the same seed gives the same text',
  },
] satisfies GenerationOption[]);

const BY_NAME = new Map(GENERATION_OPTIONS.map((o) => [o.name, o]));

/** The option called `name` (an HF name from the table). */
export function generationOption(name: string): GenerationOption {
  const o = BY_NAME.get(name);
  if (!o) throw new Error(`no generation option named "${name}"`);
  return o;
}

/** The range of option `name` ({} when unbounded). */
export function optionRange(name: string): OptionRange {
  return generationOption(name).range ?? {};
}

/** Whether `v` lies in `range`. */
export function inRange(v: number, range: OptionRange): boolean {
  return (
    (range.min === undefined || v >= range.min) &&
    (range.exclusiveMin === undefined || v > range.exclusiveMin) &&
    (range.max === undefined || v <= range.max) &&
    (range.exclusiveMax === undefined || v < range.exclusiveMax)
  );
}

/** The range in words, as HF's messages write it: "> 0 and <= 1", or "in the [0, 1] interval" when closed. */
export function rangeText(range: OptionRange): string {
  if (range.min !== undefined && range.max !== undefined) return `in the [${range.min}, ${range.max}] interval`;
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`>= ${range.min}`);
  if (range.exclusiveMin !== undefined) parts.push(`> ${range.exclusiveMin}`);
  if (range.max !== undefined) parts.push(`<= ${range.max}`);
  if (range.exclusiveMax !== undefined) parts.push(`< ${range.exclusiveMax}`);
  return parts.join(' and ');
}

/**
 * HF's message for a float option outside its range: "`top_p` has to be a float > 0 and <= 1, but is 1.5".
 * The one check behind generate()'s validation and the warpers' constructors; null when `v` is fine.
 */
export function floatRangeError(name: string, v: unknown): string | null {
  const range = optionRange(name);
  if (typeof v === 'number' && inRange(v, range)) return null;
  return `\`${name}\` has to be a float ${rangeText(range)}, but is ${typeof v === 'number' ? v : JSON.stringify(v)}`;
}

/**
 * The seed rule, the same for the library, the CLI (exit 2) and the API (400): an integer from 0 to 2^32 - 1,
 * the range transformers.set_seed accepts. null when `seed` is fine.
 */
export function seedError(seed: unknown): string | null {
  if (typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED) return null;
  const shown = typeof seed === 'number' ? String(seed) : JSON.stringify(seed);
  return `\`seed\` must be an integer from 0 to ${MAX_SEED} (the range transformers.set_seed accepts), but is ${shown}`;
}
