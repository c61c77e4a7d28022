// The Hugging Face Hub and its local cache (Node only). resolveModelFolder(idOrFolder) returns a local folder
// holding config.json, generation_config.json (when the repo has one), the tokenizer's files and the safetensors
// weights: a local folder as is, or the snapshot folder of a Hub id in the HF cache, downloading what is missing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { validateRepoId, validateRevision } from './cache.js';
import { getToken, hubEndpoint, isOffline } from './env.js';
import { HubError, downloadCommand } from '../../hub/errors.js';
import { hfHubDownload, hubFileUrl, type HubDownloadOptions } from './download.js';
import { terminalProgressBar } from './progress.js';

export { hfHubDownload, hubFileUrl, normalizeEtag, cacheWriteError, type HubDownloadOptions, type DownloadedFile } from './download.js';
export { HubError, type HubErrorCode } from '../../hub/errors.js';
export { hubCacheDir, hfHome, hubEndpoint, isOffline, getToken, tokenPath } from './env.js';
export { scanCache, repoFolderName, validateRepoId, validateRevision, cachedRepoOfPath, repairCommand, type CachedRepo, type CachedSnapshot, type ScanOptions } from './cache.js';
export { formatBytes, terminalProgressBar, type DownloadProgress, type ProgressCallback } from './progress.js';

export interface PretrainedOptions extends HubDownloadOptions {
  /** no progress bar (it is drawn only when stderr is a terminal anyway) */
  quiet?: boolean;
}

/** The files gpt2-lens reads from a model repo, in the order they are fetched. */
export const MODEL_FILES = {
  config: 'config.json',
  generationConfig: 'generation_config.json',
  tokenizer: ['vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'],
  weights: 'model.safetensors',
  weightsIndex: 'model.safetensors.index.json',
} as const;

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Fetches one file of the repo at the pinned commit; undefined when the repo does not have it. */
type Fetcher = (filename: string) => Promise<string | undefined>;

/**
 * A folder path is returned as is; a Hub id (`openai-community/gpt2`, `gpt2`) is resolved through the HF cache:
 * the files are downloaded once (with a progress bar on a terminal) and the snapshot folder
 * `<cache>/models--org--name/snapshots/<commit>` is returned. Offline (`HF_HUB_OFFLINE=1`, `local_files_only`)
 * it makes no request at all and says which file is missing and how to download it.
 */
export async function resolveModelFolder(idOrFolder: string, options: PretrainedOptions = {}): Promise<string> {
  if (isDirectory(idOrFolder)) return idOrFolder;
  if (looksLikePath(idOrFolder)) throw new Error(`model folder ${idOrFolder} does not exist`);
  validateRepoId(idOrFolder);
  validateRevision(options.revision ?? 'main');
  const repoId = idOrFolder;
  const revision = options.revision ?? 'main';
  const onProgress = options.onProgress ?? (options.quiet || !process.stderr.isTTY ? undefined : terminalProgressBar());

  // config.json first: its answer pins the commit, and every other file is fetched at that same commit
  // (a push to main in the middle cannot mix two versions). When the Hub could not be reached, the rest
  // comes from the cache alone.
  const first = await hfHubDownload(repoId, MODEL_FILES.config, { ...options, onProgress });
  const pinned: HubDownloadOptions = { ...options, onProgress, revision: first.commit };
  if (first.networkError !== undefined) pinned.local_files_only = true;
  const offline = Boolean(pinned.local_files_only) || isOffline(options.env ?? process.env);
  const notCachedWhy = first.networkError ?? (options.local_files_only ? 'local_files_only is set' : 'offline mode is on (HF_HUB_OFFLINE=1)');

  const fetchOptional: Fetcher = async (filename) => {
    try {
      return (await hfHubDownload(repoId, filename, pinned)).path;
    } catch (err) {
      // Absent from the repo, or (offline) never cached: an optional file is simply skipped. Online, a network
      // failure on one file is an error, not a silently missing file.
      if (err instanceof HubError && (err.code === 'EntryNotFound' || (offline && err.code === 'LocalEntryNotFound'))) return undefined;
      throw err;
    }
  };
  const missing = (what: string): HubError =>
    offline
      ? new HubError(
          `${what} of ${repoId} (revision "${revision}") is not in the Hugging Face cache, and ${notCachedWhy}. ` +
            `Download the model first, with the network on: ${downloadCommand(repoId, revision)}`,
          'LocalEntryNotFound',
        )
      : new HubError(`${repoId} (revision "${revision}") has no ${what}`, 'EntryNotFound');

  await fetchOptional(MODEL_FILES.generationConfig);

  const tok: Record<string, string | undefined> = {};
  for (const f of MODEL_FILES.tokenizer) tok[f] = await fetchOptional(f);
  if (!(tok['vocab.json'] && tok['merges.txt']) && !tok['tokenizer.json']) {
    throw missing('tokenizer (vocab.json + merges.txt, or tokenizer.json)');
  }

  await resolveWeights(repoId, fetchOptional, pinned, missing);
  return dirname(first.path);
}

/** model.safetensors, else model.safetensors.index.json and every shard it names; pytorch_model.bin alone is refused. */
async function resolveWeights(repoId: string, fetchOptional: Fetcher, pinned: HubDownloadOptions, missing: (what: string) => HubError): Promise<void> {
  if (await fetchOptional(MODEL_FILES.weights)) return;
  const indexPath = await fetchOptional(MODEL_FILES.weightsIndex);
  if (indexPath) {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map ?? {}))].sort();
    if (shards.length === 0) throw new HubError(`${MODEL_FILES.weightsIndex} of ${repoId} lists no shards (no weight_map)`, 'BadResponse');
    for (const shard of shards) {
      if (!(await fetchOptional(shard))) throw missing(`weights shard ${shard} (listed in ${MODEL_FILES.weightsIndex})`);
    }
    return;
  }
  if (!pinned.local_files_only && !isOffline(pinned.env ?? process.env)) {
    for (const legacy of ['pytorch_model.bin', 'pytorch_model.bin.index.json']) {
      if (await hasFile(repoId, legacy, pinned)) {
        throw new HubError(
          `${repoId} has only PyTorch weights (${legacy}); gpt2-lens reads safetensors (model.safetensors). ` +
            'Pick a repo or revision that has model.safetensors, or convert the weights with Python: ' +
            'AutoModelForCausalLM.from_pretrained(id).save_pretrained(folder, safe_serialization=True), then pass that folder.',
          'SafetensorsRequired',
        );
      }
    }
  }
  throw missing(`weights (${MODEL_FILES.weights} or ${MODEL_FILES.weightsIndex})`);
}

/** Whether the repo has `filename`, asked with a HEAD request only (no download). */
async function hasFile(repoId: string, filename: string, o: HubDownloadOptions): Promise<boolean> {
  const env = o.env ?? process.env;
  const url = hubFileUrl(o.endpoint ?? hubEndpoint(env), repoId, o.revision ?? 'main', filename);
  const token = typeof o.token === 'string' ? o.token : o.token === false ? undefined : getToken(env);
  try {
    const res = await (o.fetch ?? globalThis.fetch)(url, {
      method: 'HEAD',
      redirect: 'manual',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout((o.timeout ?? 10) * 1000),
    });
    return res.status < 400;
  } catch {
    return false; // unknown: the caller reports the missing safetensors weights
  }
}

/** A path rather than a Hub id: `.`, `..`, `./x`, `../x`, `/x`, `~/x` or anything with a backslash. */
export function looksLikePath(spec: string): boolean {
  return spec === '.' || spec === '..' || /^\.\.?\//.test(spec) || spec.startsWith('/') || spec.startsWith('~') || spec.includes('\\');
}

/** true when `spec` names a local folder (so no Hub lookup is needed). */
export function isLocalModelFolder(spec: string): boolean {
  return existsSync(spec) && isDirectory(spec);
}
