// Starting the static site's model: its files (from the Hub, the visitor's own files, or none for random:) become
// an init message for a dedicated Web Worker running src/explorer/worker.ts, which loads the model into the
// WebAssembly engine and answers the explorer's API. model.safetensors goes to the worker as a Blob (the Cache API's
// entry, or the picked File: both on disk), which the worker reads slice by slice into the engine, so no copy of
// the file is ever in the tab's memory; the small files (config, tokenizer) are read here.
import type { EngineDType } from '../../../src/engine/engine.ts';
import type { PretrainedFiles } from '../../../src/model/model.ts';
import type { InitMessage, TokenizerFiles } from '../../../src/explorer/protocol.ts';
import { WorkerExplorerClient } from '../../../src/explorer/worker-client.ts';
import type { TokenizerConfig } from '../../../src/tokenizer/gpt2-tokenizer.ts';
import vocabUrl from '../../../assets/gpt2/vocab.json?url';
import mergesUrl from '../../../assets/gpt2/merges.txt?url';
import { loadHubFiles, type DownloadProgress, type HubSource } from './hub-browser.ts';

export type ModelChoice = { kind: 'hub'; src: HubSource } | { kind: 'random'; spec: string } | { kind: 'files'; files: File[] };

export interface Loaded {
  client: WorkerExplorerClient;
  worker: Worker;
  /** bytes of the weights file (0 for random:) */
  fileBytes: number;
  /** whether the files came from the browser's cache (Hub models) */
  fromCache: boolean;
  /** the commit the Hub files are at */
  commit: string | null;
  /** a note about the files (e.g. the bundled tokenizer was used) */
  note: string | null;
}

type Bytes = Record<string, ArrayBuffer>;

const text = (b: ArrayBuffer): string => new TextDecoder().decode(b);
const json = (b: ArrayBuffer, name: string): unknown => {
  try {
    return JSON.parse(text(b));
  } catch (err) {
    throw new Error(`${name} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
};

/** GPT-2's own vocabulary, shipped with the page (assets/gpt2): random: models and files without a tokenizer. */
async function bundledTokenizer(): Promise<TokenizerFiles> {
  const [vocab, merges] = await Promise.all([fetch(vocabUrl).then((r) => r.json() as Promise<Record<string, number>>), fetch(mergesUrl).then((r) => r.text())]);
  return { vocab, merges };
}

/** The tokenizer from a repo's files: vocab.json + merges.txt, or tokenizer.json; settings from tokenizer_config.json. */
function tokenizerFrom(files: Bytes): TokenizerFiles | null {
  const config = (files['tokenizer_config.json'] ? json(files['tokenizer_config.json'], 'tokenizer_config.json') : {}) as TokenizerConfig;
  // special_tokens_map.json names the special tokens when tokenizer_config.json does not (older repos), as the Node loader reads it
  if (files['special_tokens_map.json']) {
    const map = json(files['special_tokens_map.json'], 'special_tokens_map.json') as Partial<Record<'bos_token' | 'eos_token' | 'unk_token' | 'pad_token', TokenizerConfig['bos_token']>>;
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) if (config[key] === undefined && map[key] !== undefined) config[key] = map[key];
  }
  if (files['vocab.json'] && files['merges.txt']) return { vocab: json(files['vocab.json'], 'vocab.json') as Record<string, number>, merges: text(files['merges.txt']), config };
  if (files['tokenizer.json']) return { tokenizer_json: json(files['tokenizer.json'], 'tokenizer.json'), config };
  return null;
}

function modelFiles(files: Bytes, weights: Blob | undefined, name: string): PretrainedFiles {
  if (!files['config.json']) throw new Error('config.json is missing: pick the model folder\'s config.json with its weights');
  if (!weights) throw new Error('model.safetensors is missing: the page reads safetensors weights (not pytorch_model.bin)');
  return {
    config: json(files['config.json'], 'config.json'),
    ...(files['generation_config.json'] ? { generation_config: json(files['generation_config.json'], 'generation_config.json') } : {}),
    weights,
    name_or_path: name,
  };
}

/** The files a visitor picked or dropped, by name (a folder's path is dropped: only the file name counts). */
export function picked(list: File[]): Record<string, Blob> {
  const out: Record<string, Blob> = {};
  for (const f of list) out[f.name] = f;
  return out;
}

/** The small files' bytes (config, tokenizer); the weights stay a Blob. */
async function smallFiles(files: Record<string, Blob>): Promise<Bytes> {
  const out: Bytes = {};
  for (const [name, blob] of Object.entries(files)) if (name !== 'model.safetensors') out[name] = await blob.arrayBuffer();
  return out;
}

/** Loads `choice` into a new explorer worker. `onProgress` follows a Hub download; `signal` cancels it. */
export async function loadModel(choice: ModelChoice, engine: { dtype: EngineDType; threads: number }, onProgress: (p: DownloadProgress) => void, signal: AbortSignal): Promise<Loaded> {
  let model: InitMessage['model'];
  let tokenizer: TokenizerFiles;
  let modelName: string;
  let fileBytes = 0;
  let fromCache = false;
  let commit: string | null = null;
  let note: string | null = null;
  if (choice.kind === 'random') {
    model = choice.spec;
    modelName = choice.spec;
    tokenizer = await bundledTokenizer();
  } else {
    let files: Record<string, Blob>;
    if (choice.kind === 'hub') {
      const got = await loadHubFiles(choice.src, onProgress, signal);
      files = got.files;
      fromCache = got.fromCache;
      commit = got.commit;
      modelName = choice.src.repo;
    } else {
      files = picked(choice.files);
      modelName = 'your files';
    }
    const weights = files['model.safetensors'];
    const small = await smallFiles(files);
    model = modelFiles(small, weights, modelName);
    fileBytes = weights!.size;
    const tok = tokenizerFrom(small);
    if (!tok) note = 'No tokenizer files were given (vocab.json + merges.txt, or tokenizer.json): using GPT-2\'s own vocabulary.';
    tokenizer = tok ?? (await bundledTokenizer());
  }
  signal.throwIfAborted();
  const worker = new Worker(new URL('../../../src/explorer/worker.ts', import.meta.url), { type: 'module', name: 'gpt2-lens explorer' });
  try {
    const failed = new Promise<never>((_, reject) =>
      worker.addEventListener('error', (e) => reject(new Error(`the explorer worker failed to start: ${e.message || 'its script did not load'}`)), { once: true }),
    );
    const client = await Promise.race([WorkerExplorerClient.start(worker, { type: 'init', model, tokenizer, modelName, engine }), failed]);
    // a worker that dies later fails the requests waiting on it instead of leaving them pending
    worker.addEventListener('error', (e) => client.fail(`the explorer worker stopped${e.message ? `: ${e.message}` : ''}`));
    return { client, worker, fileBytes, fromCache, commit, note };
  } catch (err) {
    worker.terminate();
    throw err;
  }
}
