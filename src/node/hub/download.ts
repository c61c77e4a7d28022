// hfHubDownload: one file of a Hub repo, through the HF cache (huggingface_hub's hf_hub_download, file_download.py).
//
//   1. a commit-hash revision whose snapshot already has the file: done, no network (unless force_download/verify)
//   2. offline (HF_HUB_OFFLINE / local_files_only): refs/<revision> -> snapshots/<commit>/<file>, or an error
//   3. HEAD /{repo}/resolve/{revision}/{file}, redirects not followed: X-Repo-Commit, X-Linked-Etag or ETag,
//      X-Linked-Size or Content-Length, and Location (the CDN) for LFS files.
//      The Hub unreachable (or 5xx, 401…) -> fall back to what the cache has for that revision.
//   4. refs/<revision> = commit; a file already cached (its size, and with `verify` its hash, matching the Hub's
//      answer) -> just link the snapshot; a damaged one is deleted and downloaded again (`force_download`: always)
//   5. under <cache>/.locks/<repo>/<etag>.lock: GET into blobs/<etag>.incomplete (resuming with Range), check
//      the size and the hash the ETag names (sha256 for LFS files, git blob sha1 for the others), rename to
//      blobs/<etag>, link snapshots/<commit>/<file> to it.
// The repo id and the revision are checked before any path is built from them; a full disk or a cache that cannot
// be written stops at once with a message naming the path (no retries).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  COMMIT_HASH,
  SHA256_HEX,
  blobPath,
  linkSnapshotFile,
  lockPath,
  lookupCachedFile,
  noExistPath,
  pointerPath,
  storageFolder,
  validateRepoId,
  validateRevision,
  writeRef,
} from './cache.js';
import { getToken, hubCacheDir, hubEndpoint, isOffline, timeoutSeconds, type Env } from './env.js';
import { HubError, downloadCommand } from '../../hub/errors.js';
import {
  USER_AGENT,
  backoffDelay,
  describeNetworkError,
  hubErrorFromResponse,
  isRetryableError,
  requestWithRetries,
  sleep,
  type FailureContext,
  type FetchFn,
  type RetryPolicy,
} from './http.js';
import { hubFileUrl, normalizeEtag } from '../../hub/names.js';
import { acquireLock, type LockOptions } from './lock.js';
import type { ProgressCallback } from './progress.js';

export interface HubDownloadOptions {
  /** branch, tag or commit hash; default "main" */
  revision?: string;
  /** the cache folder; default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cache_dir?: string;
  /** use only the cache, never the network (also implied by HF_HUB_OFFLINE=1) */
  local_files_only?: boolean;
  /** a Hub token, or false to send none; default $HF_TOKEN, else the file at $HF_TOKEN_PATH / $HF_HOME/token */
  token?: string | false;
  /** the Hub's address; default $HF_ENDPOINT, else https://huggingface.co */
  endpoint?: string;
  /** called as bytes arrive */
  onProgress?: ProgressCallback;
  /** seconds without data before a request is abandoned (default $HF_HUB_ETAG_TIMEOUT / $HF_HUB_DOWNLOAD_TIMEOUT, 10) */
  timeout?: number;
  /** retries of the download GET (5 by default; HEAD gets 2) and their backoff */
  retry?: Partial<RetryPolicy>;
  /** lock settings (stale lock detection) */
  lock?: LockOptions;
  /** the fetch implementation (default: Node's global fetch) */
  fetch?: FetchFn;
  /** the environment to read HF_* variables from (default process.env) */
  env?: Env;
  /** download the file again even when it is cached (huggingface_hub's force_download); needs the network */
  force_download?: boolean;
  /**
   * before reusing a cached file, check its hash too (sha256 for LFS files, git blob sha1 for the others); its size
   * is always checked. A file that does not match is deleted and downloaded again. `gpt2-lens download` sets it.
   */
  verify?: boolean;
  /** told when a damaged cached file is being downloaded again (default: nothing is said) */
  onWarning?: (message: string) => void;
}

/** Where a file came from, for callers that resolve many files of one repo at one commit. */
export interface DownloadedFile {
  /** snapshots/<commit>/<file> */
  path: string;
  commit: string;
  /** true when no request was made (offline, a commit already cached, or the Hub unreachable) */
  fromCache: boolean;
  /** why the cache was used instead of the Hub, when the Hub failed */
  networkError?: string;
}

interface Metadata {
  commit: string;
  etag: string;
  size: number;
  /** the URL to GET: the resolve URL, or the CDN location it redirects to */
  location: string;
}

export { normalizeEtag, hubFileUrl } from '../../hub/names.js';

interface Resolved {
  env: Env;
  revision: string;
  cacheDir: string;
  storage: string;
  endpoint: string;
  offline: boolean;
  offlineWhy: string;
  token: string | undefined;
  tokenSource: string | undefined;
  fetch: FetchFn;
  headTimeoutMs: number;
  getTimeoutMs: number;
  retry: RetryPolicy;
}

function resolveOptions(repoId: string, o: HubDownloadOptions): Resolved {
  const env = o.env ?? process.env;
  const cacheDir = o.cache_dir ?? hubCacheDir(env);
  let token: string | undefined;
  let tokenSource: string | undefined;
  if (typeof o.token === 'string' && o.token) {
    token = o.token;
    tokenSource = 'the token option';
  } else if (o.token !== false) {
    token = getToken(env);
    tokenSource = token ? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN ? 'HF_TOKEN' : 'the token file') : undefined;
  }
  const offline = Boolean(o.local_files_only) || isOffline(env);
  return {
    env,
    revision: o.revision ?? 'main',
    cacheDir,
    storage: storageFolder(cacheDir, repoId),
    endpoint: (o.endpoint ?? hubEndpoint(env)).replace(/\/+$/, ''),
    offline,
    offlineWhy: o.local_files_only ? 'local_files_only is set' : 'offline mode is on (HF_HUB_OFFLINE=1)',
    token,
    tokenSource,
    fetch: o.fetch ?? globalThis.fetch,
    headTimeoutMs: (o.timeout ?? timeoutSeconds('HF_HUB_ETAG_TIMEOUT', env)) * 1000,
    getTimeoutMs: (o.timeout ?? timeoutSeconds('HF_HUB_DOWNLOAD_TIMEOUT', env)) * 1000,
    retry: { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 8000, ...o.retry },
  };
}

function baseHeaders(r: Resolved, withToken: boolean): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
  if (withToken && r.token) h.authorization = `Bearer ${r.token}`;
  return h;
}

/** Not in the cache, and either offline on purpose (say how to download) or the Hub failed (say to retry). */
function notCachedError(repoId: string, filename: string, r: Resolved, why: string, offline: boolean): HubError {
  const next = offline
    ? `Download the model first, with the network on: ${downloadCommand(repoId, r.revision)}`
    : 'Check the connection (and HF_ENDPOINT), then run the command again.';
  return new HubError(`${filename} of ${repoId} (revision "${r.revision}") is not in the Hugging Face cache at ${r.cacheDir}, and ${why}. ${next}`, 'LocalEntryNotFound');
}

/** The file from the cache alone: its path, or undefined; throws EntryNotFound when .no_exist says it is absent. */
function fromCache(repoId: string, filename: string, r: Resolved): string | undefined {
  const hit = lookupCachedFile(r.storage, r.revision, filename);
  if (hit.kind === 'no-exist') {
    throw new HubError(`${filename} does not exist in ${repoId} at revision "${r.revision}" (cached answer)`, 'EntryNotFound');
  }
  return hit.kind === 'file' ? hit.path : undefined;
}

/** HEAD the resolve URL; relative redirects (a renamed repo) are followed, absolute ones (the CDN) are read. */
async function fetchMetadata(repoId: string, filename: string, r: Resolved, failure: FailureContext): Promise<Metadata> {
  let url = hubFileUrl(r.endpoint, repoId, r.revision, filename);
  const ctx = { fetch: r.fetch, timeoutMs: r.headTimeoutMs, retry: { ...r.retry, maxRetries: Math.min(2, r.retry.maxRetries) }, retryUnreachable: false };
  for (let hops = 0; ; hops++) {
    const { res, timer } = await requestWithRetries('HEAD', url, baseHeaders(r, true), ctx);
    timer.clear();
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && hops < 5 && !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//')) {
      url = new URL(location, url).toString(); // same host, new path: follow it, keeping the token
      continue;
    }
    if (res.status >= 400) {
      const err = hubErrorFromResponse(res, failure);
      const commit = res.headers.get('x-repo-commit');
      if (err.code === 'EntryNotFound' && commit && COMMIT_HASH.test(commit)) {
        // Remember the absence, as huggingface_hub does, so that offline lookups know the file is not there.
        try {
          const marker = noExistPath(r.storage, commit, filename);
          mkdirSync(dirname(marker), { recursive: true });
          writeFileSync(marker, '');
          writeRef(r.storage, r.revision, commit);
        } catch (writeErr) {
          throw cacheWriteError(writeErr, r.cacheDir);
        }
      }
      throw err;
    }
    const commit = res.headers.get('x-repo-commit');
    const rawEtag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
    const sizeHeader = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
    if (!commit || !COMMIT_HASH.test(commit)) {
      throw new HubError(`${r.endpoint} did not answer like the Hugging Face Hub (no X-Repo-Commit header for ${filename}); check HF_ENDPOINT and any proxy`, 'BadResponse');
    }
    if (!rawEtag) throw new HubError(`${r.endpoint} sent no ETag for ${filename} of ${repoId}`, 'BadResponse');
    const size = Number(sizeHeader);
    if (sizeHeader === null || !Number.isSafeInteger(size) || size < 0) {
      throw new HubError(`${r.endpoint} sent no size (X-Linked-Size or Content-Length) for ${filename} of ${repoId}`, 'BadResponse');
    }
    const etag = normalizeEtag(rawEtag);
    if (!/^[\w.-]+$/.test(etag)) throw new HubError(`unusable ETag ${JSON.stringify(rawEtag)} for ${filename}`, 'BadResponse');
    if (location && res.status >= 300 && res.status < 400) return { commit, etag, size, location: new URL(location, url).toString() };
    // A file stored in git: GET it at the commit just reported, so a push in between cannot swap its bytes.
    const atCommit = url.replace(`/resolve/${encodeURIComponent(r.revision)}/`, `/resolve/${commit}/`);
    return { commit, etag, size, location: atCommit };
  }
}

/** The hash an ETag names: sha256 for LFS files (64 hex digits), git's blob sha1 for files stored in git (40). */
type HashKind = 'sha256' | 'git-sha1';
function hashKind(etag: string): HashKind | undefined {
  if (SHA256_HEX.test(etag)) return 'sha256';
  if (GIT_SHA1.test(etag)) return 'git-sha1';
  return undefined;
}
const GIT_SHA1 = /^[0-9a-f]{40}$/;

/**
 * The hash of a whole file, read as a stream (one pass once the download is complete, resumed parts included).
 * git-sha1 is git's blob id, sha1("blob <size>\0" + bytes): the Hub's ETag for a file that is not in LFS.
 */
async function hashOfFile(path: string, kind: HashKind): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Errors that no retry can fix: stop at once. */
const FATAL_CODES = new Set(['NoSpace', 'CacheNotWritable', 'BadResponse']);

function tooManyBytes(filename: string, meta: Metadata, got: number, r: Resolved): HubError {
  return new HubError(
    `the server sent more bytes for ${filename} than the ${meta.size} the Hub announced (X-Linked-Size / Content-Length): at least ${got}. ` +
      `The download was deleted. If it happens again, a proxy or mirror between you and ${r.endpoint} is changing the file`,
    'BadResponse',
  );
}

const WRITE_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'a part of the path does not exist (a dangling link?)',
  EISDIR: 'a folder is in the way',
  EEXIST: 'something is in the way',
};

/**
 * An error writing into the cache, as the user needs to hear it: a full disk (or quota), or a cache that cannot be
 * written, naming where; other errors are returned unchanged.
 */
export function cacheWriteError(err: unknown, cacheDir: string, needed?: { bytes: number; filename: string; incomplete: string }): unknown {
  if (err instanceof HubError) return err;
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string') return err;
  // A failed write() on a file handle carries no path: the file being written is the one to name.
  const where = needed?.incomplete ?? e.path ?? cacheDir;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
    const what = e.code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded';
    const need = needed
      ? ` (needed ${needed.bytes} bytes for ${needed.filename}). Free some space, or point HF_HUB_CACHE at another disk, then run the command again: ` +
        `what was written is kept in ${needed.incomplete} and resumed`
      : '. Free some space, or point HF_HUB_CACHE at another disk, then run the command again';
    return new HubError(`${what} at ${where === cacheDir ? cacheDir : dirname(where)}${need}`, 'NoSpace');
  }
  const problem = WRITE_PROBLEMS[e.code];
  if (!problem) return err;
  return new HubError(
    `the Hugging Face cache at ${cacheDir} is not writable: ${e.syscall ?? 'writing'} ${where} failed with ${e.code} (${problem}). ` +
      'Make it writable, or point HF_HUB_CACHE (or --cache-dir) at a folder you can write; with HF_HUB_OFFLINE=1 a complete cache is only read',
    'CacheNotWritable',
  );
}

function diskError(err: unknown, incomplete: string, filename: string, meta: Metadata, r: Resolved): unknown {
  return cacheWriteError(err, r.cacheDir, { bytes: meta.size - fileSize(incomplete), filename, incomplete });
}

/** Why a cached copy of the file cannot be reused (undefined when it can): its size, and with `hash` its hash. */
async function cachedFileProblem(path: string, meta: Metadata, hash: boolean): Promise<string | undefined> {
  const size = statSync(path).size;
  if (size !== meta.size) return `it is ${size} bytes, the Hub says ${meta.size}`;
  const kind = hashKind(meta.etag);
  if (!hash || !kind) return undefined;
  const digest = await hashOfFile(path, kind);
  return digest === meta.etag ? undefined : `its ${kind === 'sha256' ? 'sha256' : 'git blob sha1'} is ${digest}, the Hub says ${meta.etag}`;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * GET `meta.location` into blobs/<etag>.incomplete, resuming what is there with a Range request, retrying cuts
 * and 5xx with backoff; then check the size and (for LFS files) the sha256 and rename it to blobs/<etag>.
 */
async function downloadBlob(filename: string, meta: Metadata, blob: string, r: Resolved, resolveUrl: string, onProgress: ProgressCallback | undefined, failure: FailureContext): Promise<void> {
  const incomplete = `${blob}.incomplete`;
  // The token goes only to the Hub's own host; a CDN URL is pre-signed (and must not see it).
  const sameHost = new URL(meta.location).host === new URL(resolveUrl).host;
  const ctx = { fetch: r.fetch, timeoutMs: r.getTimeoutMs, retry: { ...r.retry, maxRetries: 0 }, retryUnreachable: true };
  let resumedFrom = fileSize(incomplete);
  let failures = 0;
  for (;;) {
    let have = fileSize(incomplete);
    if (have > meta.size) {
      await truncate(incomplete, 0); // not the file we expect: start over
      have = 0;
    }
    let lastError: unknown;
    if (have < meta.size || meta.size === 0) {
      const headers = baseHeaders(r, sameHost);
      if (have > 0) headers.range = `bytes=${have}-`;
      try {
        let url = meta.location;
        let { res, timer } = await requestWithRetries('GET', url, headers, ctx);
        for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.get('location') && hops < 5; hops++) {
          timer.clear();
          await res.body?.cancel().catch(() => undefined);
          const next = new URL(res.headers.get('location')!, url);
          if (next.host !== new URL(url).host) delete headers.authorization; // never forward the token to another host
          url = next.toString();
          ({ res, timer } = await requestWithRetries('GET', url, headers, ctx));
        }
        if (res.status === 416) {
          timer.clear();
          await truncate(incomplete, 0);
          throw new HubError(`the server refused to resume ${filename} (HTTP 416)`, 'Network', 416);
        }
        if (res.status !== 200 && res.status !== 206) {
          timer.clear();
          await res.body?.cancel().catch(() => undefined);
          throw hubErrorFromResponse(res, failure);
        }
        if (have > 0 && res.status === 200) {
          // The server ignored the Range header and sends the whole file: drop what we had.
          await truncate(incomplete, 0);
          have = 0;
          resumedFrom = 0;
        }
        // More bytes than the Hub announced is not a cut to resume: it is the wrong answer, whatever the cause.
        const announced = Number(res.headers.get('content-length') ?? NaN);
        if (Number.isFinite(announced) && announced > meta.size - have) {
          timer.clear();
          await res.body?.cancel().catch(() => undefined);
          throw tooManyBytes(filename, meta, have + announced, r);
        }
        let fh: FileHandle | undefined;
        try {
          fh = await open(incomplete, 'a').catch((err: unknown) => {
            throw diskError(err, incomplete, filename, meta, r);
          });
          let loaded = have;
          onProgress?.({ file: filename, loaded, total: meta.size, resumedFrom, done: false });
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            timer.touch();
            if (loaded + chunk.byteLength > meta.size) throw tooManyBytes(filename, meta, loaded + chunk.byteLength, r);
            await fh.write(chunk).catch((err: unknown) => {
              throw diskError(err, incomplete, filename, meta, r);
            });
            loaded += chunk.byteLength;
            onProgress?.({ file: filename, loaded, total: meta.size, resumedFrom, done: false });
          }
        } finally {
          timer.clear();
          await fh?.close().catch(() => undefined);
        }
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof HubError && FATAL_CODES.has(lastError.code)) {
      if (lastError.code === 'BadResponse') await unlink(incomplete).catch(() => undefined);
      throw lastError;
    }
    const got = fileSize(incomplete);
    if (lastError === undefined && got === meta.size) break;
    if (lastError === undefined) lastError = new HubError(`the connection closed after ${got} of ${meta.size} bytes of ${filename}`, 'Network');
    const retryable =
      (lastError instanceof HubError && lastError.code === 'Network' && (lastError.status === undefined || lastError.status >= 500 || lastError.status === 416 || lastError.status === 429)) ||
      isRetryableError(lastError, ctx);
    if (!retryable || failures >= r.retry.maxRetries) {
      if (lastError instanceof HubError) throw lastError;
      throw new HubError(
        `downloading ${filename} failed after ${failures + 1} attempt(s): ${describeNetworkError(lastError)} ` +
          `(${got} of ${meta.size} bytes kept in ${incomplete}; run the same command again to resume)`,
        'Network',
      );
    }
    await sleep(backoffDelay(failures, r.retry));
    failures++;
  }
  const kind = hashKind(meta.etag);
  if (kind) {
    const digest = await hashOfFile(incomplete, kind);
    if (digest !== meta.etag) {
      await unlink(incomplete).catch(() => undefined);
      throw new HubError(
        `checksum mismatch for ${filename}: the Hub says ${kind === 'sha256' ? 'sha256' : 'git blob sha1'} ${meta.etag}, the downloaded bytes hash to ${digest}. ` +
          'The corrupt download was deleted; run the command again.',
        'ChecksumMismatch',
      );
    }
  }
  onProgress?.({ file: filename, loaded: meta.size, total: meta.size, resumedFrom, done: true });
  await rename(incomplete, blob);
}

/**
 * One file of a Hub model repo, through the shared HF cache: returns snapshots/<commit>/<filename>.
 * Throws a HubError: EntryNotFound (no such file), RepoNotFound, RevisionNotFound, GatedRepo,
 * LocalEntryNotFound (offline and not cached), ChecksumMismatch, Network.
 */
export async function hfHubDownload(repoId: string, filename: string, options: HubDownloadOptions = {}): Promise<DownloadedFile> {
  validateRepoId(repoId);
  validateRevision(options.revision ?? 'main');
  const r = resolveOptions(repoId, options);
  const force = options.force_download === true;
  const failure: FailureContext = { repoId, revision: r.revision, filename, endpoint: r.endpoint, tokenSource: r.tokenSource };

  // 1. A commit already in the cache needs no request (a commit never changes, nor does a file's absence there).
  // (With force_download or verify, the Hub is asked all the same: to download again, or to learn what to check.)
  if (COMMIT_HASH.test(r.revision) && !force && options.verify !== true) {
    const p = pointerPath(r.storage, r.revision, filename);
    if (existsSync(p)) return { path: p, commit: r.revision, fromCache: true };
    if (existsSync(noExistPath(r.storage, r.revision, filename))) fromCache(repoId, filename, r); // throws EntryNotFound
  }

  // 2. Offline: the cache or nothing.
  if (r.offline) {
    if (force) throw new HubError(`force_download needs the network, but ${r.offlineWhy}: ${filename} of ${repoId} cannot be downloaded again`, 'LocalEntryNotFound');
    const p = fromCache(repoId, filename, r);
    if (p === undefined) throw notCachedError(repoId, filename, r, r.offlineWhy, true);
    return { path: p, commit: pointerCommit(p, r, filename), fromCache: true };
  }

  // 3. Ask the Hub; when it cannot answer, use the cache if it has the file.
  let meta: Metadata;
  try {
    meta = await fetchMetadata(repoId, filename, r, failure);
  } catch (err) {
    const hard = err instanceof HubError && ['EntryNotFound', 'RevisionNotFound', 'BadResponse', 'CacheNotWritable', 'NoSpace'].includes(err.code);
    if (hard) throw err;
    const why = err instanceof HubError ? err.message : `the Hub could not be reached at ${r.endpoint} (${describeNetworkError(err)})`;
    if (force) throw new HubError(`${filename} of ${repoId} cannot be downloaded again (force_download): ${why}`, err instanceof HubError ? err.code : 'Network');
    const p = fromCache(repoId, filename, r);
    if (p !== undefined) {
      const commit = pointerCommit(p, r, filename);
      return { path: p, commit, fromCache: true, networkError: why };
    }
    if (err instanceof HubError && err.code !== 'Network') throw err;
    throw notCachedError(repoId, filename, r, why, false);
  }

  try {
    return await intoCache(repoId, filename, meta, r, options, failure);
  } catch (err) {
    throw cacheWriteError(err, r.cacheDir);
  }
}

/** Steps 4 and 5: the refs file, a cached copy checked and reused (or repaired), else the download under the lock. */
async function intoCache(repoId: string, filename: string, meta: Metadata, r: Resolved, options: HubDownloadOptions, failure: FailureContext): Promise<DownloadedFile> {
  const force = options.force_download === true;
  const blob = blobPath(r.storage, meta.etag);
  const pointer = pointerPath(r.storage, meta.commit, filename);
  const done: DownloadedFile = { path: pointer, commit: meta.commit, fromCache: false };
  mkdirSync(dirname(blob), { recursive: true });
  writeRef(r.storage, r.revision, meta.commit);

  // 4. Reuse what is cached (the snapshot's file, else the blob) once it matches the Hub's answer.
  const cached = isFile(pointer) ? pointer : isFile(blob) ? blob : undefined;
  if (cached !== undefined && !force) {
    const problem = await cachedFileProblem(cached, meta, options.verify === true);
    if (problem === undefined) {
      if (cached === blob) linkSnapshotFile(blob, pointer, false);
      return done;
    }
    options.onWarning?.(`${filename} in the cache (${cached}) is damaged: ${problem}. Downloading it again.`);
    discard(blob, pointer);
  }

  // 5. Download under the lock; whoever held it before us may have finished the blob meanwhile.
  const release = await acquireLock(lockPath(r.cacheDir, repoId, meta.etag), options.lock);
  try {
    if (force) discard(blob, pointer, `${blob}.incomplete`);
    let newBlob = false;
    if (!existsSync(blob)) {
      await downloadBlob(filename, meta, blob, r, hubFileUrl(r.endpoint, repoId, r.revision, filename), options.onProgress, failure);
      newBlob = true;
    }
    if (newBlob || !isFile(pointer)) linkSnapshotFile(blob, pointer, newBlob);
  } finally {
    release();
  }
  return done;
}

/** Removes cached copies that are about to be downloaded again (a link, a copy, a blob, an .incomplete). */
function discard(...paths: string[]): void {
  for (const p of paths) {
    try {
      lstatSync(p);
    } catch {
      continue;
    }
    rmSync(p, { force: true });
  }
}

/** The commit folder a snapshot pointer lives in (filename may contain folders). */
function pointerCommit(pointer: string, r: Resolved, filename: string): string {
  const parts = pointer.split(/[\\/]/);
  return parts[parts.length - 1 - filename.split('/').length] ?? r.revision;
}
