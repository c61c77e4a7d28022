// The --model option every command shares, and the one call that loads a model with its tokenizer.
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { resolveModelFolder } from '../node/hub/index.js';
import { GPT2LMHeadModel } from '../model/index.js';
import { isRandomSpec } from '../model/random.js';
import type { EngineDType } from '../engine/index.js';
import { defaultThreads, nodeEngineLoader } from '../node/threads.js';
import { UsageError } from './errors.js';
import '../node/model.js'; // registers the folder / Hub loader for from_pretrained
import type { GPT2Tokenizer } from '../tokenizer/index.js';
import { loadBundledTokenizer, readTokenizerFolder } from '../node/tokenizer.js';

/** The model a command uses when --model is not given (downloaded once into the HF cache, ~550 MB). */
export const DEFAULT_MODEL = 'openai-community/gpt2';

/** `--model <spec>`: a Hub id, a local folder, or random weights (`random:gpt2`, `random:64x2x4@seed`). */
export function modelOption(): Option {
  return new Option('--model <spec>', 'a Hub id (downloaded once into the HF cache), a local folder, or random:gpt2 for random weights').default(DEFAULT_MODEL);
}

/** What the engine options (`addEngineOptions`) parse to. */
export interface EngineCliOptions {
  threads?: string;
  dtype?: string;
  reference?: boolean;
}

/** `--threads`, `--dtype`, `--reference`: how the model computes. Every command that runs the model takes them. */
export function addEngineOptions(command: Command): Command {
  return command
    .option('--threads <n>', 'threads of the WebAssembly engine (default: every core)')
    .option('--dtype <dtype>', 'weights in the engine: fp32, fp16 (half the memory) or int8 (a quarter)', 'fp32')
    .option('--reference', 'compute with the readable JavaScript reference path instead of the WebAssembly engine');
}

const DTYPES: readonly EngineDType[] = ['fp32', 'fp16', 'int8'];

/** Every engine thread is a worker with its own memory; more than a few per core only costs. */
export const MAX_THREADS_PER_CORE = 4;

/** The most --threads accepts on this machine: MAX_THREADS_PER_CORE x its cores. */
export function maxThreads(): number {
  return MAX_THREADS_PER_CORE * availableParallelism();
}

/** Checks the engine options; throws UsageError (exit 2) on a bad value. */
export function parseEngineOptions(opts: EngineCliOptions): { reference: boolean; threads: number; dtype: EngineDType } {
  let threads = defaultThreads();
  if (opts.threads !== undefined) {
    threads = Number(opts.threads);
    if (!/^\d+$/.test(opts.threads) || threads < 1) throw new UsageError(`--threads must be a whole number >= 1, got "${opts.threads}"`);
    const max = maxThreads();
    if (threads > max) {
      throw new UsageError(`--threads ${opts.threads} is more than this machine can use: at most ${max} (${MAX_THREADS_PER_CORE} per core, ${availableParallelism()} cores)`);
    }
  }
  const dtype = (opts.dtype ?? 'fp32') as EngineDType;
  if (!DTYPES.includes(dtype)) throw new UsageError(`--dtype must be fp32, fp16 or int8, got "${opts.dtype}"`);
  return { reference: opts.reference === true, threads, dtype };
}

export interface LoadOptions {
  /** no progress bar */
  quiet?: boolean;
  /** Hub revision: branch, tag or commit */
  revision?: string;
  /** the parsed engine options; without them the model keeps the reference path */
  engine?: EngineCliOptions;
}

/**
 * The model and its tokenizer from one spec. A Hub id is resolved once (one snapshot folder for both); random
 * weights and a folder without tokenizer files use the GPT-2 vocabulary bundled with gpt2-lens.
 */
export async function loadModelAndTokenizer(spec: string, options: LoadOptions = {}): Promise<{ model: GPT2LMHeadModel; tokenizer: GPT2Tokenizer }> {
  const engine = options.engine ? parseEngineOptions(options.engine) : undefined; // bad flags fail before any download
  // The WebAssembly engine computes logits, hidden states, attentions, the logit lens and captures / write hooks at
  // its hook points (ENGINE_HOOKS); a pass that touches any other hook point falls back to the reference path inside it.
  // The weights go from the file (or the random generator) straight into engine memory: no second copy.
  const load = engine && !engine.reference ? { backendLoader: nodeEngineLoader({ threads: engine.threads, dtype: engine.dtype }) } : {};
  let model: GPT2LMHeadModel;
  let tokenizer: GPT2Tokenizer;
  if (isRandomSpec(spec)) {
    model = await GPT2LMHeadModel.from_pretrained(spec, load);
    tokenizer = loadBundledTokenizer();
  } else {
    const folder = await resolveModelFolder(spec, { quiet: options.quiet, revision: options.revision });
    model = await GPT2LMHeadModel.from_pretrained(folder, load);
    const hasTokenizer = ['vocab.json', 'tokenizer.json'].some((f) => existsSync(join(folder, f)));
    tokenizer = hasTokenizer || model.config.vocab_size !== 50257 ? readTokenizerFolder(folder) : loadBundledTokenizer();
  }
  return { model, tokenizer };
}
