// The request schema of each endpoint. The generation options' types and ranges come from their one definition
// (src/generation/options.ts); the session's limits add this server's (or this page's) own ceilings.
import { generationOption, GENERATION_OPTIONS, type GenerationOption } from '../generation/options.js';
import { ABLATION_KINDS, PATCH_HOOKS } from '../interp/index.js';
import type { ServerLimits } from './types.js';
import type { FieldSpec, Schema } from './validate.js';

/** The options whose ceiling is a limit of the session (a 400 that says "above this server's limit"). */
const OPTION_LIMITS: Partial<Record<string, keyof ServerLimits>> = {
  max_new_tokens: 'max_new_tokens',
  num_beams: 'num_beams',
  num_return_sequences: 'num_return_sequences',
};

/** One option's field in a request schema. */
export function optionField(o: GenerationOption, vocab_size: number, limits: ServerLimits): FieldSpec {
  const r = o.range ?? {};
  switch (o.type) {
    case 'int': {
      // the seed's rule is generate()'s own (options.ts seedError), so its message is the CLI's too
      if (o.name === 'seed') return { type: 'number' };
      const limit = OPTION_LIMITS[o.name];
      return { type: 'integer', min: r.min, max: r.max, limit: limit ? limits[limit] : undefined };
    }
    case 'float':
      return { type: 'number', min: r.min, exclusiveMin: r.exclusiveMin, max: r.max };
    case 'bool':
      return { type: 'boolean' };
    case 'early':
      return { type: 'enum', values: [true, false, 'never'] };
    case 'ids':
      return { type: 'integer-or-integers', min: 0, max: vocab_size - 1 };
    case 'id':
      return { type: 'integer', min: 0, max: vocab_size - 1 };
    case 'id-lists':
      throw new Error(`the API does not take ${o.name}`);
  }
}

/** The prompt: text, or token ids within the vocabulary. */
export function promptSchema(vocab_size: number): Schema {
  return {
    text: { type: 'string' },
    input_ids: { type: 'integers', min: 0, max: vocab_size - 1 },
  };
}

export function tokenizeSchema(limits: ServerLimits): Schema {
  return { text: { type: 'string', maxLength: limits.max_body_bytes } };
}

/** The knobs of the next-token table, by their HF names. */
export const NEXT_KNOBS = ['temperature', 'top_k', 'top_p', 'min_p', 'repetition_penalty'] as const;

/** `ablate` (heads as "L.H", at most every head once) and `ablation`, for /api/next and /api/generate. */
export function ablationSchema(config: { n_layer: number; n_head: number }): Schema {
  return {
    ablate: { type: 'strings', maxLength: config.n_layer * config.n_head },
    ablation: { type: 'enum', values: ABLATION_KINDS },
  };
}

/** Shape of the model, as the schemas need it. */
export interface SchemaModel {
  vocab_size: number;
  n_layer: number;
  n_head: number;
}

export function nextSchema(config: SchemaModel, limits: ServerLimits): Schema {
  const schema: Schema = {
    ...promptSchema(config.vocab_size),
    top: { type: 'integer', min: 1, limit: limits.max_top },
    ids: { type: 'integers', min: 0, max: config.vocab_size - 1, maxLength: limits.max_top },
  };
  for (const k of NEXT_KNOBS) schema[k] = optionField(generationOption(k), config.vocab_size, limits);
  return { ...schema, ...ablationSchema(config) };
}

/** A token field: an id within the vocabulary, or one token's text (a token is at most a few dozen characters). */
function tokenField(vocab_size: number): FieldSpec {
  return { type: 'integer-or-string', min: 0, max: vocab_size - 1, maxLength: 256 };
}

export function attributeSchema(vocab_size: number): Schema {
  return { ...promptSchema(vocab_size), target: tokenField(vocab_size) };
}

export function patchSchema(vocab_size: number, limits: ServerLimits): Schema {
  return {
    clean: { type: 'string', maxLength: limits.max_body_bytes },
    corrupted: { type: 'string', maxLength: limits.max_body_bytes },
    answer: tokenField(vocab_size),
    wrong: tokenField(vocab_size),
    hook: { type: 'enum', values: Object.keys(PATCH_HOOKS) },
  };
}

export function forwardSchema(vocab_size: number): Schema {
  return {
    ...promptSchema(vocab_size),
    attentions: { type: 'boolean' },
    hidden_states: { type: 'boolean' },
    lens: { type: 'boolean' },
    lens_top: { type: 'integer', min: 1, limit: 20 },
    capture: { type: 'strings', maxLength: 4096 },
  };
}

/** The generation options the API takes (options.ts marks them `api`), passed to generate() under their HF names. */
export const API_GENERATION_OPTIONS: readonly string[] = GENERATION_OPTIONS.filter((o) => o.api).map((o) => o.name);

export function generateSchema(config: SchemaModel, limits: ServerLimits): Schema {
  const schema: Schema = {
    ...promptSchema(config.vocab_size),
    stream: { type: 'boolean' },
    top: { type: 'integer', min: 1, limit: limits.max_top },
  };
  for (const o of GENERATION_OPTIONS) if (o.api) schema[o.name] = optionField(o, config.vocab_size, limits);
  return { ...schema, ...ablationSchema(config) };
}
