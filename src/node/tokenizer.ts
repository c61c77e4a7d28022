// Node adapters for the tokenizer: the bundled GPT-2 vocabulary (assets/gpt2/, read synchronously, offline) and
// AutoTokenizer.from_pretrained for a folder or a Hub id. The core (./gpt2-tokenizer.ts) never touches files.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT2Tokenizer, type SpecialTokenSetting, type TokenizerConfig } from '../tokenizer/gpt2-tokenizer.js';
import { MergesError } from '../tokenizer/merges.js';
import { resolveModelFolder, type PretrainedOptions } from './hub/index.js';
import { fileExists, readTextFile } from './files.js';

/** The package root: the nearest folder above this file that holds package.json (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'assets', 'gpt2'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('gpt2-lens: cannot find the package folder (package.json with assets/gpt2/) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** The folder of the bundled vocabulary: vocab.json and merges.txt, byte-identical to the Hub's GPT-2 files. */
export function bundledVocabFolder(): string {
  return join(packageRoot(), 'assets', 'gpt2');
}

let bundled: GPT2Tokenizer | null = null;

/**
 * GPT-2's tokenizer from the vocabulary shipped in the package: synchronous, offline, made once and shared
 * (about 100 ms the first time). Settings are those of the Hub's tokenizer_config.json (model_max_length 1024,
 * clean_up_tokenization_spaces true, no pad token). The instance is shared: to change its settings (pad_token,
 * padding_side), make your own with `readTokenizerFolder(bundledVocabFolder())`.
 */
export function loadBundledTokenizer(): GPT2Tokenizer {
  return (bundled ??= readTokenizerFolder(bundledVocabFolder()));
}

function readJson(path: string): unknown {
  const text = readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * A tokenizer from a local folder, synchronously: vocab.json + merges.txt (+ tokenizer_config.json and
 * special_tokens_map.json when present), or else a lone tokenizer.json (HF's fast-tokenizer file).
 */
export function readTokenizerFolder(folder: string): GPT2Tokenizer {
  const config = fileExists(join(folder, 'tokenizer_config.json')) ? (readJson(join(folder, 'tokenizer_config.json')) as TokenizerConfig) : {};
  // special_tokens_map.json names the special tokens when tokenizer_config.json does not (older repos).
  if (fileExists(join(folder, 'special_tokens_map.json'))) {
    const map = readJson(join(folder, 'special_tokens_map.json')) as Partial<Record<'bos_token' | 'eos_token' | 'unk_token' | 'pad_token', SpecialTokenSetting>>;
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) if (config[key] === undefined && map[key] !== undefined) config[key] = map[key];
  }
  const vocabPath = join(folder, 'vocab.json');
  const mergesPath = join(folder, 'merges.txt');
  if (fileExists(vocabPath) && fileExists(mergesPath)) {
    const vocab = readJson(vocabPath) as Record<string, number>;
    const merges = readTextFile(mergesPath);
    try {
      return new GPT2Tokenizer(vocab, merges, config);
    } catch (err) {
      if (err instanceof MergesError) throw new Error(`${mergesPath} is not a merges file: ${err.message}`, { cause: err });
      throw err;
    }
  }
  const jsonPath = join(folder, 'tokenizer.json');
  if (fileExists(jsonPath)) return GPT2Tokenizer.fromTokenizerJson(readJson(jsonPath), config);
  throw new Error(`${folder} has no tokenizer files: expected vocab.json and merges.txt, or tokenizer.json`);
}

/** HF's AutoTokenizer, for GPT-2-style byte-level BPE tokenizers. */
export const AutoTokenizer = {
  /**
   * A tokenizer from a local folder, or from a Hub id (`openai-community/gpt2`) through the HF cache.
   * `AutoTokenizer.from_pretrained('gpt2-lens/bundled')` gives the bundled vocabulary without any download.
   */
  async from_pretrained(idOrFolder: string, options: PretrainedOptions = {}): Promise<GPT2Tokenizer> {
    if (typeof idOrFolder !== 'string' || idOrFolder.length === 0) throw new TypeError(`from_pretrained: expected a folder or a model id, got ${JSON.stringify(idOrFolder)}`);
    if (idOrFolder === 'gpt2-lens/bundled') return loadBundledTokenizer();
    const isFolder = existsSync(idOrFolder) && statSync(idOrFolder).isDirectory();
    const folder = isFolder ? idOrFolder : await resolveModelFolder(idOrFolder, options);
    return readTokenizerFolder(folder);
  },
};
