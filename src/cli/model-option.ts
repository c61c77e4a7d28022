// The --model option every command shares, and the one call that loads a model with its tokenizer.
import { Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModelFolder } from '../hub/index.js';
import { GPT2LMHeadModel } from '../model/index.js';
import { isRandomSpec } from '../model/random.js';
import '../model/node.js'; // registers the folder / Hub loader for from_pretrained
import type { GPT2Tokenizer } from '../tokenizer/index.js';
import { loadBundledTokenizer, readTokenizerFolder } from '../tokenizer/node.js';

/** The model a command uses when --model is not given (downloaded once into the HF cache, ~550 MB). */
export const DEFAULT_MODEL = 'openai-community/gpt2';

/** `--model <spec>`: a Hub id, a local folder, or random weights (`random:gpt2`, `random:64x2x4@seed`). */
export function modelOption(): Option {
  return new Option('--model <spec>', 'a Hub id (downloaded once into the HF cache), a local folder, or random:gpt2 for random weights').default(DEFAULT_MODEL);
}

export interface LoadOptions {
  /** no progress bar */
  quiet?: boolean;
  /** Hub revision: branch, tag or commit */
  revision?: string;
}

/**
 * The model and its tokenizer from one spec. A Hub id is resolved once (one snapshot folder for both); random
 * weights and a folder without tokenizer files use the GPT-2 vocabulary bundled with gpt2-lens.
 */
export async function loadModelAndTokenizer(spec: string, options: LoadOptions = {}): Promise<{ model: GPT2LMHeadModel; tokenizer: GPT2Tokenizer }> {
  if (isRandomSpec(spec)) return { model: await GPT2LMHeadModel.from_pretrained(spec), tokenizer: loadBundledTokenizer() };
  const folder = await resolveModelFolder(spec, { quiet: options.quiet, revision: options.revision });
  const model = await GPT2LMHeadModel.from_pretrained(folder);
  const hasTokenizer = ['vocab.json', 'tokenizer.json'].some((f) => existsSync(join(folder, f)));
  const tokenizer = hasTokenizer || model.config.vocab_size !== 50257 ? readTokenizerFolder(folder) : loadBundledTokenizer();
  return { model, tokenizer };
}
