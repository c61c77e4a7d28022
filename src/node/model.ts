// The Node adapter of the model: loads config.json, generation_config.json and the safetensors weights from a
// folder (or a Hub id through src/node/hub), reading each tensor straight from disk into its own Float32Array, so
// no second copy of the file is ever held (peak memory ≈ the weights' bytes). Importing this module registers
// the loader, so GPT2LMHeadModel.from_pretrained('openai-community/gpt2') works in Node.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repairCommand, resolveModelFolder } from './hub/index.js';
import { fileExists, readTextFile } from './files.js';
import { registerPretrainedLoader, type FromPretrainedOptions, type GPT2PreTrainedModel, type PretrainedFiles } from '../model/model.js';
import { decodeTensor, noSuchTensor, parseHeader, parseShardIndex, readHeaderLength, SafetensorsError, ShardedSource, writeSafetensors, type SafetensorsHeader, type TensorInfo, type TensorSource } from '../model/safetensors.js';
import { weightsToTensors } from '../model/weights.js';

/**
 * A damaged safetensors file in the HF cache (truncated by an interrupted copy, a full disk…): the message says
 * which command downloads it again.
 */
function withRepairHint(err: unknown, source: string): unknown {
  if (!(err instanceof SafetensorsError)) return err;
  const repair = repairCommand(source);
  return repair ? new SafetensorsError(`${err.message}. Repair the cache with: ${repair}`) : err;
}

/** A safetensors file on disk, read tensor by tensor through a file handle. */
export class SafetensorsFileReader implements TensorSource {
  readonly header: SafetensorsHeader;
  private fd: number | null;

  constructor(readonly source: string) {
    this.fd = openSync(source, 'r');
    try {
      const size = fstatSync(this.fd).size;
      const first8 = new Uint8Array(8);
      readSync(this.fd, first8, 0, Math.min(8, size), 0);
      const n = readHeaderLength(first8, size, source);
      const headerBytes = new Uint8Array(n);
      readSync(this.fd, headerBytes, 0, n, 8);
      this.header = parseHeader(headerBytes, size, source);
    } catch (e) {
      this.close();
      throw withRepairHint(e, source);
    }
  }

  info(name: string): TensorInfo | undefined {
    return this.header.tensors.get(name);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  read(name: string): Float32Array {
    const info = this.info(name);
    if (!info) throw noSuchTensor(this.source, name);
    // F32: read into the Float32Array's own bytes (decodeTensor then returns a view on them, no copy).
    const bytes = info.dtype === 'F32' ? new Uint8Array(new Float32Array((info.end - info.begin) / 4).buffer) : new Uint8Array(info.end - info.begin);
    return this.decode(info, this.readBytes(info, bytes));
  }

  /** F32 goes from the file straight into `out`'s bytes (e.g. the engine's memory); other dtypes are converted. */
  readInto(name: string, out: Float32Array): void {
    const info = this.info(name);
    if (!info) throw noSuchTensor(this.source, name);
    if (info.dtype === 'F32' && out.length * 4 === info.end - info.begin) {
      this.readBytes(info, new Uint8Array(out.buffer, out.byteOffset, out.length * 4));
    } else {
      out.set(this.read(name));
    }
  }

  private decode(info: TensorInfo, bytes: Uint8Array): Float32Array {
    try {
      return decodeTensor(info, bytes, this.source);
    } catch (e) {
      throw withRepairHint(e, this.source);
    }
  }

  /** Reads the tensor's bytes into `bytes` (its exact length). */
  private readBytes(info: TensorInfo, bytes: Uint8Array): Uint8Array {
    const name = info.name;
    if (this.fd === null) throw new Error(`${this.source} is closed`);
    const length = info.end - info.begin;
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, bytes, done, length - done, this.header.dataStart + info.begin + done);
      if (got === 0) throw withRepairHint(new SafetensorsError(`${this.source} is truncated while reading tensor "${name}"`), this.source);
      done += got;
    }
    return bytes;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readJson(path: string): unknown {
  const text = readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** A model folder's files: config.json, generation_config.json (optional), model.safetensors or its shards. */
export function readModelFolder(folder: string, name = folder): PretrainedFiles {
  const configPath = join(folder, 'config.json');
  if (!fileExists(configPath)) throw new Error(`no config.json in ${folder}`);
  const genPath = join(folder, 'generation_config.json');
  const files: PretrainedFiles = { config: readJson(configPath), name_or_path: name, weights: new Uint8Array(0) };
  if (fileExists(genPath)) files.generation_config = readJson(genPath);
  const single = join(folder, 'model.safetensors');
  const indexPath = join(folder, 'model.safetensors.index.json');
  if (fileExists(single)) files.weights = new SafetensorsFileReader(single);
  else if (fileExists(indexPath)) {
    const { index, files: shardFiles } = parseShardIndex(readJson(indexPath), indexPath);
    const shards = new Map<string, TensorSource>();
    try {
      for (const f of shardFiles) {
        const p = join(folder, f);
        if (!fileExists(p)) throw new SafetensorsError(`${indexPath} names shard "${f}", which is not in ${folder}`);
        shards.set(f, new SafetensorsFileReader(p));
      }
      files.weights = new ShardedSource(index, shards, indexPath);
    } catch (e) {
      for (const s of shards.values()) s.close?.();
      throw e;
    }
  } else {
    throw new Error(`no model.safetensors or model.safetensors.index.json in ${folder} (only safetensors weights are supported)`);
  }
  return files;
}

/** The Node loader: a folder path is read as is; anything else is a Hub id resolved through src/node/hub. */
export async function loadPretrainedFiles(idOrFolder: string, options: FromPretrainedOptions = {}): Promise<PretrainedFiles> {
  let folder: string;
  if (existsSync(idOrFolder) && statSync(idOrFolder).isDirectory()) folder = idOrFolder;
  else {
    const hubOptions: Record<string, unknown> = {};
    for (const k of ['revision', 'cache_dir', 'local_files_only', 'token', 'quiet'] as const) if (options[k] !== undefined) hubOptions[k] = options[k];
    folder = await resolveModelFolder(idOrFolder, hubOptions);
  }
  return readModelFolder(folder, idOrFolder);
}

registerPretrainedLoader(loadPretrainedFiles);

/**
 * Writes a model as HF's save_pretrained would: config.json, generation_config.json and model.safetensors
 * (Hub key layout by default; `layout: 'transformer'` for the `transformer.`-prefixed keys).
 */
export function savePretrained(model: GPT2PreTrainedModel, folder: string, options: { layout?: 'hub' | 'transformer'; dtype?: 'F32' | 'F16' | 'BF16' } = {}): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...model.config, architectures: ['GPT2LMHeadModel'] }, null, 2) + '\n');
  writeFileSync(join(folder, 'generation_config.json'), JSON.stringify(model.generation_config, null, 2) + '\n');
  const tensors = weightsToTensors(model.config, model.weights, options.layout ?? 'hub').map((t) => ({ ...t, dtype: options.dtype ?? 'F32' }));
  writeFileSync(join(folder, 'model.safetensors'), writeSafetensors(tensors));
}
