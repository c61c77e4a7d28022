// The model classes, named as in Hugging Face transformers: GPT2Model (the transformer, → last_hidden_state),
// GPT2LMHeadModel (plus the tied LM head, → logits) and AutoModelForCausalLM. A model holds its config and
// weights and hands the arithmetic to a ForwardBackend (the readable reference one by default).
import type { BackendRequest, BackendResult, ForwardBackend } from './backend.js';
import { parseConfig } from './config.js';
import { referenceBackend } from './gpt2.js';
import { capturePredicate, checkHooks } from './hooks.js';
import { KVCache } from './kv-cache.js';
import { isRandomSpec, parseRandomSpec, randomConfig, randomReader } from './random.js';
import { BlobSafetensors, parseShardIndex, SafetensorsFile, ShardedSource, type AsyncTensorSource, type TensorSource } from './safetensors.js';
import type { BaseModelOutput, CausalLMOutput, ForwardInputs, GPT2Config, GPT2Weights } from './types.js';
import { countParameters } from './weights.js';
import { rowStatsReference, type RowStats } from './row-stats.js';
import { readerFromSource, readWeights, readWeightsAsync, type WeightReader } from './weight-reader.js';
import { moduleRepr, moduleTree, parameterTable, type ModelClassName, type ModuleNode } from './module-tree.js';
import { generate, type GenerateOptions, type GenerateOutput } from '../generation/generate.js';

/** What a model is made from once its files are at hand (in a browser: fetched bytes). */
export interface PretrainedFiles {
  /** config.json, parsed */
  config: unknown;
  /** generation_config.json, parsed (optional) */
  generation_config?: unknown;
  /**
   * model.safetensors' bytes; or a sharded checkpoint: the parsed model.safetensors.index.json and each shard's
   * bytes by file name; or any TensorSource (the Node loader reads tensors piecewise from disk); or, in a browser,
   * model.safetensors as a Blob (a picked File, a Cache API entry's blob()): from_pretrained then reads it slice
   * by slice, never holding the whole file (openFiles, being synchronous, cannot take a Blob).
   */
  weights: Uint8Array | ArrayBuffer | { index: unknown; shards: Record<string, Uint8Array | ArrayBuffer> } | TensorSource | AsyncTensorSource | Blob;
  /** the id or folder the files came from, for messages and `name_or_path` */
  name_or_path?: string;
}

/** from_pretrained's options: the Hub's (used by the Node loader) and the backend. */
export interface FromPretrainedOptions {
  /** the backend that computes forward passes (default: the reference backend) */
  backend?: ForwardBackend;
  /** Hub: branch, tag or commit (default "main") */
  revision?: string;
  /** Hub: the cache folder */
  cache_dir?: string;
  /** Hub: never touch the network */
  local_files_only?: boolean;
  /** Hub: access token */
  token?: string;
  /** no progress output */
  quiet?: boolean;
  /**
   * Takes the weights straight from the checkpoint (or the random generator) into a backend's own memory, tensor
   * by tensor, and returns that backend with the GPT2Weights the model keeps (which may read from the backend's
   * memory): the WebAssembly engine's `engineLoader()`. Without it the weights are read into Float32Arrays.
   */
  backendLoader?: BackendLoader;
}

/** See FromPretrainedOptions.backendLoader. */
export type BackendLoader = (reader: WeightReader) => Promise<{ backend: ForwardBackend; weights: GPT2Weights }>;

/** Turns a model id or folder into its files. Registered by the Node adapter (src/node/model.ts). */
export type PretrainedLoader = (idOrFolder: string, options: FromPretrainedOptions) => Promise<PretrainedFiles>;
let pretrainedLoader: PretrainedLoader | null = null;

/** Lets `from_pretrained('some/id' | './folder')` work: the Node adapter registers its file loader here. */
export function registerPretrainedLoader(loader: PretrainedLoader): void {
  pretrainedLoader = loader;
}

/** Everything a model is constructed from. */
export interface ModelInit {
  config: GPT2Config;
  weights: GPT2Weights;
  generation_config?: Record<string, unknown>;
  backend?: ForwardBackend;
  /** true for `random:` models: anything that shows their output must say the weights are random */
  is_random?: boolean;
  name_or_path?: string;
}

function isTensorSource(w: PretrainedFiles['weights']): w is TensorSource | AsyncTensorSource {
  return typeof (w as TensorSource).info === 'function' && (typeof (w as TensorSource).read === 'function' || typeof (w as TensorSource).readInto === 'function');
}

const isBlob = (w: unknown): w is Blob => typeof Blob !== 'undefined' && w instanceof Blob;

/** A checkpoint opened for reading: everything a model is made of, its weights still to be read through `reader`. */
export interface OpenedPretrained extends Omit<ModelInit, 'weights' | 'backend'> {
  config: GPT2Config;
  reader: WeightReader;
}

/** Opens files (checks the config and every tensor's name and shape; reads no weight yet). */
export function openFiles(files: PretrainedFiles): OpenedPretrained {
  const config = parseConfig(files.config);
  const name = files.name_or_path ?? 'model';
  let source: TensorSource | AsyncTensorSource;
  const w = files.weights;
  if (isBlob(w)) throw new Error(`${name}: the weights are a Blob, which is read asynchronously: load it with from_pretrained`);
  if (w instanceof Uint8Array || w instanceof ArrayBuffer) source = new SafetensorsFile(w, `${name}/model.safetensors`);
  else if (isTensorSource(w)) source = w;
  else {
    const { index, files: shardFiles } = parseShardIndex(w.index, `${name}/model.safetensors.index.json`);
    const shards = new Map<string, TensorSource>();
    for (const f of shardFiles) {
      const bytes = w.shards[f];
      if (!bytes) throw new Error(`${name}/model.safetensors.index.json names shard "${f}", which was not given`);
      shards.set(f, new SafetensorsFile(bytes, `${name}/${f}`));
    }
    source = new ShardedSource(index, shards, `${name}/model.safetensors.index.json`);
  }
  let reader: WeightReader;
  try {
    reader = readerFromSource(config, source);
  } catch (e) {
    source.close?.();
    throw e;
  }
  const gen = files.generation_config;
  const generation_config = gen && typeof gen === 'object' ? { ...(gen as Record<string, unknown>) } : { bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id };
  return { config, reader, generation_config, is_random: false, name_or_path: name };
}

/** Opens a `random:` spec's model (see random.ts): its tensors are generated when read. */
export function openRandom(spec: string): OpenedPretrained {
  const s = parseRandomSpec(spec);
  const config = randomConfig(s);
  return {
    config,
    reader: randomReader(config, s.seed),
    generation_config: { bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id },
    is_random: true,
    name_or_path: spec,
  };
}

/** Reads an opened checkpoint's weights into Float32Arrays and closes it. */
function readOpened(opened: OpenedPretrained): ModelInit {
  const { reader, ...init } = opened;
  try {
    return { ...init, weights: readWeights(reader) };
  } finally {
    reader.close?.();
  }
}

/** readOpened for a reader whose reads may be asynchronous (a Blob's). */
async function readOpenedAsync(opened: OpenedPretrained): Promise<ModelInit> {
  const { reader, ...init } = opened;
  try {
    return { ...init, weights: await readWeightsAsync(reader) };
  } finally {
    reader.close?.();
  }
}

/** files, with a Blob's header read and the Blob opened as an AsyncTensorSource. */
async function openBlobWeights(files: PretrainedFiles): Promise<PretrainedFiles> {
  if (!isBlob(files.weights)) return files;
  return { ...files, weights: await BlobSafetensors.open(files.weights, `${files.name_or_path ?? 'model'}/model.safetensors`) };
}

/** Builds config + weights from files (synchronous; the bytes are already in memory or readable). */
export function loadFromFiles(files: PretrainedFiles): ModelInit {
  return readOpened(openFiles(files));
}

/** A `random:` spec's model (see random.ts), built in memory. */
export function loadRandom(spec: string): ModelInit {
  return readOpened(openRandom(spec));
}

/** The part GPT2Model and GPT2LMHeadModel share: config, weights, backend, loading and input checks. */
export abstract class GPT2PreTrainedModel {
  readonly config: GPT2Config;
  readonly weights: GPT2Weights;
  /** generation_config.json (bos/eos, ...), for generate() */
  generation_config: Record<string, unknown>;
  backend: ForwardBackend;
  /** true when the weights are random (a `random:` model): say so wherever its output is shown */
  readonly is_random: boolean;
  readonly name_or_path: string;

  constructor(init: ModelInit) {
    this.config = init.config;
    this.weights = init.weights;
    this.generation_config = init.generation_config ?? { bos_token_id: init.config.bos_token_id, eos_token_id: init.config.eos_token_id };
    this.backend = init.backend ?? referenceBackend;
    this.is_random = init.is_random ?? false;
    this.name_or_path = init.name_or_path ?? 'model';
  }

  /**
   * Loads a model: `random:gpt2`, `random:EMBDxLAYERxHEAD[@SEED]`, files already in memory (PretrainedFiles),
   * or, with the Node adapter imported (`gpt2-lens/node`), a folder path or a Hub id such as `openai-community/gpt2`.
   */
  static async from_pretrained<M extends GPT2PreTrainedModel>(this: new (init: ModelInit) => M, source: string | PretrainedFiles, options: FromPretrainedOptions = {}): Promise<M> {
    let opened: OpenedPretrained;
    if (typeof source !== 'string') opened = openFiles(await openBlobWeights(source));
    else if (isRandomSpec(source)) opened = openRandom(source);
    else {
      if (!pretrainedLoader) {
        throw new Error(
          `cannot load "${source}": reading folders or the Hub needs the Node adapter (import from 'gpt2-lens/node'); ` +
            'in a browser pass the files themselves: from_pretrained({config, weights})',
        );
      }
      opened = openFiles(await pretrainedLoader(source, options));
    }
    if (options.backendLoader) {
      if (options.backend) throw new Error('from_pretrained: give backend or backendLoader, not both');
      const { reader, ...init } = opened;
      try {
        const { backend, weights } = await options.backendLoader(reader);
        return new this({ ...init, weights, backend });
      } finally {
        reader.close?.();
      }
    }
    return new this({ ...(await readOpenedAsync(opened)), ...(options.backend ? { backend: options.backend } : {}) });
  }

  /** A one-line description, e.g. "random:gpt2 (RANDOM weights), 124M parameters, 12 layers × 12 heads × 768". */
  get description(): string {
    const c = this.config;
    const n = this.num_parameters();
    const size = n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${Math.round(n / 1e6)}M` : `${Math.round(n / 1e3)}K`;
    return `${this.name_or_path}${this.is_random ? ' (RANDOM weights)' : ''}, ${size} parameters, ${c.n_layer} layers × ${c.n_head} heads × ${c.n_embd} wide`;
  }

  /** Parameter count (a tied LM head counted once, as HF's num_parameters()). */
  num_parameters(): number {
    return countParameters(this.weights);
  }

  /** HF's class name, as `print(model)` starts. */
  abstract get className(): ModelClassName;

  /** The module tree as PyTorch and HF build it (module-tree.ts): names, classes, parameters and their shapes. */
  moduleTree(): ModuleNode {
    return moduleTree(this.config, this.className, !this.weights.lm_head);
  }

  /** Exactly what PyTorch's `print(model)` prints for HF's model (module-tree.ts says which versions' format). */
  toString(): string {
    return moduleRepr(this.moduleTree());
  }

  /** `print(model)`'s tree, then the parameter count of every module and the total (what `gpt2-lens info` prints). */
  summary(): string {
    const tree = this.moduleTree();
    return `${moduleRepr(tree)}\n\n${parameterTable(tree)}`;
  }

  /** An empty KV cache for `batch` rows with room for `capacity` positions (it grows past that if needed). */
  createCache(batch: number, capacity?: number): KVCache {
    return KVCache.forConfig(this.config, batch, capacity);
  }

  /** Checks the arguments and fills HF's defaults. */
  protected request(inputs: ForwardInputs, lm_head: boolean): BackendRequest {
    const c = this.config;
    const ids = inputs.input_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !Array.isArray(ids[0]) || ids[0].length === 0) {
      throw new Error('input_ids must be a non-empty batch of token id rows, e.g. [[464, 4583]]');
    }
    const B = ids.length;
    const T = ids[0].length;
    ids.forEach((row, b) => {
      if (!Array.isArray(row) || row.length !== T) throw new Error(`input_ids rows must have the same length: row 0 has ${T}, row ${b} has ${Array.isArray(row) ? row.length : 'none'}`);
      for (const id of row) {
        if (!Number.isInteger(id) || id < 0 || id >= c.vocab_size) throw new Error(`input_ids[${b}] holds ${id}, not a token id in [0, ${c.vocab_size})`);
      }
    });

    const past = inputs.past_key_values ?? null;
    const pastLength = past ? past.length : 0;
    if (past && past.batch !== B) throw new Error(`past_key_values holds ${past.batch} rows but input_ids has ${B}`);
    if (past && (past.n_layer !== c.n_layer || past.n_head !== c.n_head || past.head_dim !== c.n_embd / c.n_head)) {
      throw new Error('past_key_values was made for a model of another shape');
    }
    const total = pastLength + T;
    if (total > c.n_positions) {
      throw new Error(`input of ${total} positions exceeds n_positions ${c.n_positions}${pastLength ? ` (${pastLength} cached + ${T} new)` : ''}`);
    }

    let attention_mask: number[][] | null = null;
    if (inputs.attention_mask) {
      const m = inputs.attention_mask;
      if (m.length !== B) throw new Error(`attention_mask has ${m.length} rows but input_ids has ${B}`);
      m.forEach((row, b) => {
        if (row.length !== total) throw new Error(`attention_mask[${b}] has ${row.length} columns, expected past + new = ${pastLength} + ${T} = ${total}`);
      });
      if (m.some((row) => row.some((x) => x !== 1))) attention_mask = m; // all ones: no mask needed
    }

    let position_ids: number[][];
    if (inputs.position_ids) {
      position_ids = inputs.position_ids;
      if (position_ids.length !== B) throw new Error(`position_ids has ${position_ids.length} rows but input_ids has ${B}`);
      position_ids.forEach((row, b) => {
        if (row.length !== T) throw new Error(`position_ids[${b}] has ${row.length} entries, expected ${T}`);
        for (const p of row) {
          if (!Number.isInteger(p) || p < 0 || p >= c.n_positions) throw new Error(`position_ids[${b}] holds ${p}, not a position in [0, ${c.n_positions})`);
        }
      });
    } else {
      // HF: arange(past, past + T) for every row, whatever the attention mask says.
      const row = Array.from({ length: T }, (_, t) => pastLength + t);
      position_ids = Array.from({ length: B }, () => row);
    }

    const use_cache = inputs.use_cache ?? c.use_cache;
    let cache: KVCache | null = null;
    const capacity = inputs.cache_capacity ?? total + 64;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`cache_capacity must be a positive integer, got ${capacity}`);
    if (use_cache) cache = past ?? KVCache.forConfig(c, B, Math.min(c.n_positions, Math.max(total, capacity)));
    else if (past) cache = past.clone(total); // read the past without changing the caller's cache

    const keep = inputs.num_logits_to_keep ?? 0;
    if (!Number.isInteger(keep) || keep < 0) throw new Error(`num_logits_to_keep must be a non-negative integer, got ${keep}`);
    const logits_out = inputs.logits_buffer ?? null;
    if (logits_out !== null) {
      if (!lm_head) throw new Error('logits_buffer is for GPT2LMHeadModel: GPT2Model computes no logits');
      if (!(logits_out instanceof Float32Array)) throw new Error('logits_buffer must be a Float32Array');
      const need = B * (keep > 0 ? Math.min(keep, T) : T) * c.vocab_size;
      if (logits_out.length < need) {
        throw new Error(`logits_buffer holds ${logits_out.length} floats; these logits need ${need} (${B} rows × ${keep > 0 ? Math.min(keep, T) : T} positions × vocab_size ${c.vocab_size})`);
      }
    }

    return {
      input_ids: ids,
      attention_mask,
      position_ids,
      cache,
      output_hidden_states: inputs.output_hidden_states ?? false,
      output_attentions: inputs.output_attentions ?? false,
      capture: capturePredicate(inputs.capture, c),
      hooks: checkHooks(inputs.hooks, c),
      lm_head,
      num_logits_to_keep: keep,
      logits_out,
    };
  }

  /** Runs the backend synchronously; an asynchronous backend is an error here (use `await forward`). */
  protected runSync(req: BackendRequest): BackendResult {
    const r = this.backend.forward(this.config, this.weights, req);
    if (r instanceof Promise) throw new Error(`backend "${this.backend.name}" is asynchronous: use await model.forward(...)`);
    return r;
  }
}

/**
 * The logits of `r`, in the caller's logits_buffer when one was given: a backend that ignored it returned its own
 * array, which is copied in, so that `logits.data` is always a view of the buffer.
 */
function logitsOf(r: BackendResult, req: BackendRequest): CausalLMOutput['logits'] {
  const logits = r.logits!;
  const out = req.logits_out;
  if (!out || (logits.data.buffer === out.buffer && logits.data.byteOffset === out.byteOffset)) return logits;
  out.set(logits.data);
  return { data: out.subarray(0, logits.data.length), dims: logits.dims };
}

function outputs<T extends BaseModelOutput | CausalLMOutput>(r: BackendResult, req: BackendRequest, use_cache: boolean, base: T): T {
  if (use_cache && req.cache) base.past_key_values = req.cache;
  if (r.hidden_states) base.hidden_states = r.hidden_states;
  if (r.attentions) base.attentions = r.attentions;
  if (r.cache) base.cache = r.cache;
  return base;
}

/** The bare transformer: embeddings, blocks, ln_f → last_hidden_state [B, T, n_embd]. */
export class GPT2Model extends GPT2PreTrainedModel {
  get className(): ModelClassName {
    return 'GPT2Model';
  }

  /** HF's GPT2Model.forward. A given past_key_values is extended in place and returned. */
  async forward(inputs: ForwardInputs): Promise<BaseModelOutput> {
    const req = this.request(inputs, false);
    const r = await this.backend.forward(this.config, this.weights, req);
    return outputs(r, req, inputs.use_cache ?? this.config.use_cache, { last_hidden_state: r.last_hidden_state });
  }

  /** The same, synchronously (the reference backend is synchronous). */
  forwardSync(inputs: ForwardInputs): BaseModelOutput {
    const req = this.request(inputs, false);
    const r = this.runSync(req);
    return outputs(r, req, inputs.use_cache ?? this.config.use_cache, { last_hidden_state: r.last_hidden_state });
  }
}

/** GPT-2 with its language-modelling head (tied to wte): → logits [B, T, vocab_size]. */
export class GPT2LMHeadModel extends GPT2PreTrainedModel {
  get className(): ModelClassName {
    return 'GPT2LMHeadModel';
  }

  /** HF's GPT2LMHeadModel.forward. A given past_key_values is extended in place and returned. */
  async forward(inputs: ForwardInputs): Promise<CausalLMOutput> {
    const req = this.request(inputs, true);
    const r = await this.backend.forward(this.config, this.weights, req);
    return outputs(r, req, inputs.use_cache ?? this.config.use_cache, { logits: logitsOf(r, req) });
  }

  /** The same, synchronously (the reference backend is synchronous). */
  forwardSync(inputs: ForwardInputs): CausalLMOutput {
    const req = this.request(inputs, true);
    const r = this.runSync(req);
    return outputs(r, req, inputs.use_cache ?? this.config.use_cache, { logits: logitsOf(r, req) });
  }

  /**
   * RowStats (row-stats.ts) of `rows` logits rows of vocab_size: the backend's (the engine's SIMD kernel) when it
   * has them, else rowStatsReference. generate() calls it every step (the non-finite check, log-softmax, argmax).
   */
  rowStats(data: Float32Array, rows: number, n: number, out: RowStats): void {
    if (this.backend.rowStats) this.backend.rowStats(data, rows, n, out);
    else rowStatsReference(data, rows, n, out);
  }

  /**
   * HF's `model.transformer`: the GPT2Model under the LM head (the same config, weights and current backend), whose
   * forward stops at last_hidden_state and skips the LM head (activation patching scores a logit difference from it).
   */
  get transformer(): GPT2Model {
    return new GPT2Model({ config: this.config, weights: this.weights, generation_config: this.generation_config, backend: this.backend, is_random: this.is_random, name_or_path: this.name_or_path });
  }

  /** HF's generate(): greedy, sampling, beam search, beam sampling (src/generation, docs/generation.md). */
  generate(options: GenerateOptions): Promise<GenerateOutput> {
    return generate(this, options);
  }
}

/** HF's AutoModelForCausalLM: for a gpt2 config, a GPT2LMHeadModel. */
export class AutoModelForCausalLM {
  static from_pretrained(source: string | PretrainedFiles, options: FromPretrainedOptions = {}): Promise<GPT2LMHeadModel> {
    return GPT2LMHeadModel.from_pretrained(source, options);
  }
}

/** HF's AutoModel: for a gpt2 config, a GPT2Model. */
export class AutoModel {
  static from_pretrained(source: string | PretrainedFiles, options: FromPretrainedOptions = {}): Promise<GPT2Model> {
    return GPT2Model.from_pretrained(source, options);
  }
}
