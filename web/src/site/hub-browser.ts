// The Hugging Face Hub from the browser, for the static site: a model repo's files downloaded from the Hub's resolve
// URLs, verified, kept in the Cache API by endpoint, repo, commit and file, and read back on the next visit with
// no network at all. The rules the Node client follows (repo ids, URLs, etags) come from src/hub/names.ts.
//
// What a page can read of the Hub's answers is what its CORS headers expose: X-Repo-Commit, ETag, X-Linked-Etag,
// X-Linked-Size, Content-Range, Content-Length. A browser follows redirects by itself and shows only the last
// answer, so for an LFS file (the Hub answers 302 to its CDN) the X-Linked-* headers of the redirect are out of
// reach; the file's sha256 and size then come from its Git LFS pointer, `{endpoint}/{repo}/raw/{commit}/{file}`.
//
//   1. cache first: refs/<revision> -> commit -> snapshot manifest -> every file: done, no request
//   2. GET resolve/<revision>/config.json: X-Repo-Commit (the commit every other file is fetched at) + ETag
//   3. each file: GET resolve/<commit>/<file> with Range: bytes=0-0 (size from Content-Range, git sha1 ETag), or
//      when it redirected (LFS), its pointer from raw/<commit>/<file> (sha256, size)
//   4. GET the bytes, resuming a cut (or an earlier visit's part, kept in the cache) with Range: bytes=N-, and check
//      the size and the sha256 (LFS) or git blob sha1 (others). An LFS file (the weights) streams into the cache,
//      hashed on the way, and is never whole in the page's memory; the others are small and go through a buffer.
//   The page hands the worker Blobs of the cache's entries (kept on disk by the browser), and the worker reads
//   model.safetensors from its Blob slice by slice straight into the engine (BlobSafetensors).
import { COMMIT_HASH, SHA256_HEX, hubFileUrl, normalizeEtag, parseLfsPointer, validateRepoId } from '../../../src/hub/names.ts';
import { Sha256 } from '../../../src/hub/sha256.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REPO = 'openai-community/gpt2';

/** The files a GPT-2 repo gives the page: the required ones, and those used when present. */
export const REQUIRED_FILES = ['config.json', 'vocab.json', 'merges.txt', 'model.safetensors'] as const;
export const OPTIONAL_FILES = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

const CACHE_NAME = 'gpt2-lens-hub-v1';
/** the cache's keys are URLs under the page's own origin that are never fetched */
const KEY_ROOT = '__gpt2-lens-cache__';

export interface HubSource {
  endpoint: string;
  repo: string;
  revision: string;
}

export interface DownloadProgress {
  file: string;
  /** bytes of all files so far, and in all */
  loaded: number;
  total: number;
  /** bytes that were already there (kept from an interrupted download) when this file started */
  resumedFrom: number;
  /** over the last few seconds */
  bytesPerSecond: number;
  /** null until a speed is known */
  secondsLeft: number | null;
}

export class HubDownloadError extends Error {
  override name = 'HubDownloadError';
}

/** A file as the Hub describes it. */
interface FileMeta {
  file: string;
  /** sha256 (LFS files) or git blob sha1 (files stored in git) */
  etag: string;
  size: number;
  lfs: boolean;
  /** where the bytes are: the resolve URL at the commit, or the CDN URL the Hub redirected to */
  url: string;
}

interface SnapshotManifest {
  commit: string;
  /** file -> its etag and size, or null when the repo has no such (optional) file */
  files: Record<string, { etag: string; size: number } | null>;
}

/**
 * The loaded repo: each present file as a Blob of the cache's entry (on disk, not in the page's memory: the
 * worker reads model.safetensors from it slice by slice), the commit, and whether any byte came from the network.
 */
export interface HubFiles {
  commit: string;
  files: Record<string, Blob>;
  fromCache: boolean;
}

/** The endpoint as the page keeps it: an http(s) URL without a trailing slash, or an error a person can act on. */
export function normalizeEndpoint(endpoint: string): string {
  let u: URL;
  try {
    u = new URL(endpoint.trim());
  } catch {
    throw new HubDownloadError(`"${endpoint}" is not a URL; the Hub's address is like ${DEFAULT_ENDPOINT}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new HubDownloadError(`the Hub's address must be http(s), not ${u.protocol}`);
  return u.href.replace(/\/+$/, '');
}

function cacheKey(kind: 'ref' | 'snapshot' | 'file' | 'partial', src: HubSource, ...parts: string[]): string {
  const path = [KEY_ROOT, kind, encodeURIComponent(src.endpoint), ...src.repo.split('/'), ...parts.map(encodeURIComponent)].join('/');
  return new URL(path, location.origin).href;
}

function openCache(): Promise<Cache> {
  if (typeof caches === 'undefined') throw new HubDownloadError('this browser gives the page no Cache API (a page served over plain http from another host than localhost?)');
  return caches.open(CACHE_NAME);
}

function hexOf(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** git's blob id: sha1("blob <size>\0" + content), the Hub's ETag for a file stored in git. */
export async function gitBlobSha1(bytes: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`blob ${bytes.byteLength}\0`);
  const all = new Uint8Array(head.byteLength + bytes.byteLength);
  all.set(head);
  all.set(bytes, head.byteLength);
  return hexOf(await crypto.subtle.digest('SHA-1', all));
}

/** Checks `bytes` against what the Hub said: the size, and the sha256 (LFS) or the git blob sha1. */
export async function verify(meta: Pick<FileMeta, 'file' | 'etag' | 'size'>, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength !== meta.size) throw new HubDownloadError(`${meta.file}: got ${bytes.byteLength} bytes, the Hub announced ${meta.size}`);
  if (SHA256_HEX.test(meta.etag)) {
    const digest = hexOf(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    if (digest !== meta.etag) {
      throw new HubDownloadError(`checksum mismatch for ${meta.file}: the Hub says sha256 ${meta.etag}, the downloaded bytes hash to ${digest}; the file was refused (not kept)`);
    }
  } else if (COMMIT_HASH.test(meta.etag)) {
    const digest = await gitBlobSha1(bytes);
    if (digest !== meta.etag) throw new HubDownloadError(`checksum mismatch for ${meta.file}: the Hub says git blob ${meta.etag}, the bytes hash to ${digest}; the file was refused (not kept)`);
  }
}

/** A failed Hub answer as a sentence (the Hub's X-Error-Code / X-Error-Message when CORS lets us read them). */
function hubError(res: Response, src: HubSource, file: string): HubDownloadError {
  const code = res.headers.get('x-error-code');
  const msg = res.headers.get('x-error-message');
  const detail = msg ? `: ${msg}` : '';
  if (code === 'RepoNotFound' || res.status === 401) return new HubDownloadError(`repository ${src.repo} was not found on ${src.endpoint} (HTTP ${res.status}${detail}); check the id, e.g. "${DEFAULT_REPO}" (private and gated repos cannot be opened here)`);
  if (code === 'RevisionNotFound') return new HubDownloadError(`revision "${src.revision}" does not exist in ${src.repo} (HTTP ${res.status})`);
  if (res.status === 404) return new HubDownloadError(`${file} does not exist in ${src.repo} at revision "${src.revision}" (HTTP 404)`);
  return new HubDownloadError(`${src.endpoint} answered HTTP ${res.status}${detail} for ${file} of ${src.repo}`);
}

async function hubFetch(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    // no cookies, no credentials: the page only reads public repos, and the CDN must not see anything of ours
    return await fetch(url, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason ?? err;
    throw new HubDownloadError(`cannot reach ${new URL(url).origin} for ${what} (${err instanceof Error ? err.message : String(err)}); check the connection and the Hub address`);
  }
}

/** The total size in a Content-Range header (`bytes 0-0/1234`), or null. */
function rangeTotal(h: string | null): number | null {
  const m = /\/(\d+)\s*$/.exec(h ?? '');
  return m ? Number(m[1]) : null;
}

/** Steps 2-3: what the Hub says about `file` at `revision`; null when an optional file is absent. */
async function fileMeta(src: HubSource, revision: string, file: string, commit: string | null, signal: AbortSignal): Promise<{ meta: FileMeta; commit: string } | null> {
  const url = hubFileUrl(src.endpoint, src.repo, revision, file);
  const res = await hubFetch(url, { headers: { Range: 'bytes=0-0' }, signal }, file);
  await res.body?.cancel().catch(() => undefined);
  if (res.status === 404 && res.headers.get('x-error-code') === 'EntryNotFound') return null;
  if (!res.ok) throw hubError(res, src, file);
  const repoCommit = res.headers.get('x-repo-commit');
  const at = repoCommit ?? commit;
  if (!at || !COMMIT_HASH.test(at)) {
    throw new HubDownloadError(`${src.endpoint} did not answer like the Hugging Face Hub (no readable X-Repo-Commit for ${file}); check the Hub address`);
  }
  const linked = res.headers.get('x-linked-etag');
  const rawEtag = linked ?? res.headers.get('etag');
  const etag = rawEtag ? normalizeEtag(rawEtag) : '';
  const size = Number(res.headers.get('x-linked-size') ?? rangeTotal(res.headers.get('content-range')) ?? (res.status === 200 ? res.headers.get('content-length') : null));
  if (res.redirected || linked) {
    // LFS: the bytes are on the CDN; the sha256 and size come from the headers if readable, else the LFS pointer
    let sha = SHA256_HEX.test(etag) && linked ? etag : '';
    let lfsSize = linked ? size : NaN;
    if (!sha || !Number.isSafeInteger(lfsSize)) {
      const p = await hubFetch(hubFileUrl(src.endpoint, src.repo, at, file, 'raw'), { signal }, `${file}'s LFS pointer`);
      if (!p.ok) throw hubError(p, src, file);
      const pointer = parseLfsPointer(await p.text());
      if (!pointer) throw new HubDownloadError(`${src.endpoint}/${src.repo}/raw/${at}/${file} is not a Git LFS pointer; cannot check ${file}'s sha256`);
      sha = pointer.sha256;
      lfsSize = pointer.size;
    }
    return { meta: { file, etag: sha, size: lfsSize, lfs: true, url: res.redirected ? res.url : hubFileUrl(src.endpoint, src.repo, at, file) }, commit: at };
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new HubDownloadError(`${src.endpoint} sent no size (Content-Range or Content-Length) for ${file} of ${src.repo}`);
  if (!COMMIT_HASH.test(etag)) throw new HubDownloadError(`${src.endpoint} sent no usable ETag for ${file} of ${src.repo} (got ${JSON.stringify(rawEtag)})`);
  return { meta: { file, etag, size, lfs: false, url: hubFileUrl(src.endpoint, src.repo, at, file) }, commit: at };
}

/** Speed over a sliding window of the last few seconds, for the progress bar. */
class Speedometer {
  private samples: { t: number; bytes: number }[] = [];
  add(bytes: number): number {
    const t = performance.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 3000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    return dt > 0.05 ? (bytes - first.bytes) / dt : 0;
  }
}

/** Retries of a cut connection within one download, each resuming with Range. */
const RESUMES = 3;

/**
 * The body of `meta` as it arrives, resuming a cut connection with Range (up to RESUMES times): `from` bytes are
 * skipped (already had), chunks go to `onChunk`. Returns how many bytes it got in all; throws what stopped it.
 */
async function fetchBody(src: HubSource, meta: FileMeta, from: number, signal: AbortSignal, onChunk: (chunk: Uint8Array, have: number) => void | Promise<void>): Promise<number> {
  let have = from;
  for (let attempt = 0; ; attempt++) {
    try {
      if (have < meta.size) {
        const res = await hubFetch(meta.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal }, meta.file);
        // a server that ignores Range sends the whole file again: skip what we have (the hash checks it all)
        let skip = res.status === 200 ? have : 0;
        if (res.status !== 200 && res.status !== 206) {
          await res.body?.cancel().catch(() => undefined);
          throw hubError(res, src, meta.file);
        }
        const reader = res.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let chunk = value;
          if (skip > 0) {
            const n = Math.min(skip, chunk.byteLength);
            skip -= n;
            chunk = chunk.subarray(n);
            if (chunk.byteLength === 0) continue;
          }
          if (have + chunk.byteLength > meta.size) throw new HubDownloadError(`${meta.file}: the Hub sent more than the ${meta.size} bytes it announced`);
          have += chunk.byteLength;
          await onChunk(chunk, have);
        }
      }
      if (have < meta.size) throw new HubDownloadError(`the connection closed after ${have} of ${meta.size} bytes of ${meta.file}`);
      return have;
    } catch (err) {
      const cut = !signal.aborted && !(err instanceof HubDownloadError && !/connection closed/.test(err.message));
      if (cut && attempt < RESUMES) continue; // resume from `have`
      throw Object.assign(new StoppedAt(have), { reason: err });
    }
  }
}

/** fetchBody stopped for good after `have` bytes; `reason` is why. */
class StoppedAt {
  reason: unknown;
  constructor(readonly have: number) {}
}

/** The failure after an unfinished download, as the page shows it (the signal's reason when cancelled). */
function stoppedError(stop: StoppedAt, meta: FileMeta, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? stop.reason;
  if (stop.reason instanceof HubDownloadError) return stop.reason;
  const why = stop.reason instanceof Error ? stop.reason.message : String(stop.reason);
  return new HubDownloadError(`downloading ${meta.file} failed: ${why} (${stop.have} of ${meta.size} bytes kept: try again to resume)`);
}

/**
 * Step 4 for a file stored in git (small: config, vocabulary): its bytes in one buffer, verified. When the
 * download stops for good, what arrived is kept in the cache and the next try resumes from it.
 */
async function downloadSmall(cache: Cache, src: HubSource, meta: FileMeta, signal: AbortSignal, onBytes: (n: number, resumedFrom: number) => void): Promise<Uint8Array> {
  const partialKey = cacheKey('partial', src, meta.etag);
  const buf = new Uint8Array(meta.size);
  let have = 0;
  const kept = await cache.match(partialKey);
  if (kept) {
    const part = new Uint8Array(await kept.arrayBuffer());
    if (part.byteLength < meta.size) {
      buf.set(part);
      have = part.byteLength;
    }
    await cache.delete(partialKey);
  }
  const resumedFrom = have;
  onBytes(have, resumedFrom);
  try {
    have = await fetchBody(src, meta, have, signal, (chunk, n) => {
      buf.set(chunk, n - chunk.byteLength);
      onBytes(n, resumedFrom);
    });
  } catch (err) {
    if (!(err instanceof StoppedAt)) throw err;
    if (err.have > 0 && err.have < meta.size) await cache.put(partialKey, new Response(buf.subarray(0, err.have)));
    throw stoppedError(err, meta, signal);
  }
  await verify(meta, buf);
  return buf;
}

const PIECE = 4 * 2 ** 20;

/**
 * Step 4 for an LFS file (the weights, hundreds of MB): streamed from the network into the cache and hashed on the
 * way (SHA-256 piece by piece), so the page never holds the file: only the chunks in flight. The stream goes into
 * a new partial entry; when the file is complete and its sha256 matches, the entry becomes `key`. A mismatch
 * errors the stream, so the cache keeps nothing of it; a download that stops for good closes the stream instead,
 * keeping what arrived for the next try to resume from (read back from disk and hashed first).
 */
async function downloadToCache(cache: Cache, src: HubSource, meta: FileMeta, key: string, signal: AbortSignal, onBytes: (n: number, resumedFrom: number) => void): Promise<void> {
  const partialBase = cacheKey('partial', src, meta.etag);
  const old = await cache.keys(partialBase, { ignoreSearch: true });
  const keptRes = old[0] ? await cache.match(old[0]) : undefined;
  const kept = keptRes ? await keptRes.blob() : null; // on disk: read back in pieces below
  const resumedFrom = kept && kept.size < meta.size ? kept.size : 0;
  const hash = new Sha256();
  let stop: StoppedAt | null = null;
  let mismatch: HubDownloadError | null = null;

  async function* body(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < resumedFrom; at += PIECE) {
      const piece = new Uint8Array(await kept!.slice(at, Math.min(resumedFrom, at + PIECE)).arrayBuffer());
      hash.update(piece);
      onBytes(at + piece.byteLength, resumedFrom);
      yield piece;
    }
    onBytes(resumedFrom, resumedFrom);
    // chunks are handed over through a one-slot queue: fetchBody pushes, the cache pulls
    const chunks: Uint8Array[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    const run = fetchBody(src, meta, resumedFrom, signal, async (chunk, have) => {
      hash.update(chunk);
      onBytes(have, resumedFrom);
      chunks.push(chunk);
      wake?.();
      // backpressure: wait until the cache took it
      while (chunks.length > 0 && !finished) await new Promise<void>((r) => (wake = r));
    }).then(
      () => undefined,
      (err: unknown) => {
        if (!(err instanceof StoppedAt)) throw err;
        stop = err;
      },
    ).finally(() => {
      finished = true;
      wake?.();
    });
    for (;;) {
      while (chunks.length > 0) {
        const c = chunks.shift()!;
        const w = wake as (() => void) | null;
        wake = null;
        w?.();
        yield c;
      }
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
    }
    await run;
    if (stop) return; // closes the stream: the bytes so far are kept for a resume
    const digest = hash.hex();
    if (digest !== meta.etag) {
      mismatch = new HubDownloadError(`checksum mismatch for ${meta.file}: the Hub says sha256 ${meta.etag}, the downloaded bytes hash to ${digest}; the file was refused (not kept)`);
      throw mismatch; // errors the stream: the cache keeps nothing of it
    }
  }

  const it = body();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await it.return(undefined);
    },
  });
  const partialKey = `${partialBase}?at=${Date.now()}`;
  const dropOld = async (): Promise<void> => {
    for (const k of old) await cache.delete(k);
  };
  try {
    await cache.put(partialKey, new Response(stream, { headers: { 'content-type': 'application/octet-stream' } }));
  } catch (err) {
    await cache.delete(partialKey);
    if (mismatch) {
      await dropOld();
      throw mismatch as HubDownloadError;
    }
    if (signal.aborted) throw signal.reason ?? err;
    throw err instanceof HubDownloadError ? err : new HubDownloadError(`keeping ${meta.file} in the browser's cache failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  await dropOld();
  const stopped = stop as StoppedAt | null;
  if (stopped) {
    if (stopped.have === 0) await cache.delete(partialKey);
    throw stoppedError(stopped, meta, signal);
  }
  // verified: the partial entry becomes the file (a Blob from the cache is on disk: the browser copies it there)
  const done = await (await cache.match(partialKey))!.blob();
  if (done.size !== meta.size) throw new HubDownloadError(`${meta.file}: the cache kept ${done.size} bytes, the Hub announced ${meta.size}`);
  await cache.put(key, new Response(done, { headers: fileHeaders(meta) }));
  await cache.delete(partialKey);
}

function fileHeaders(meta: FileMeta): Record<string, string> {
  return { 'content-length': String(meta.size), 'x-etag': meta.etag, 'content-type': 'application/octet-stream' };
}

/** Step 1: the repo's files from the cache alone, or null when anything is missing. */
export async function loadCached(src: HubSource): Promise<HubFiles | null> {
  const cache = await openCache();
  let commit = COMMIT_HASH.test(src.revision) ? src.revision : null;
  if (!commit) {
    const ref = await cache.match(cacheKey('ref', src, src.revision));
    commit = ref ? (await ref.text()).trim() : null;
  }
  if (!commit || !COMMIT_HASH.test(commit)) return null;
  const snap = await cache.match(cacheKey('snapshot', src, commit));
  if (!snap) return null;
  const manifest = (await snap.json()) as SnapshotManifest;
  const files: Record<string, Blob> = {};
  for (const [file, entry] of Object.entries(manifest.files)) {
    if (!entry) continue;
    const hit = await cache.match(cacheKey('file', src, commit, file));
    if (!hit) return null;
    const blob = await hit.blob(); // the browser keeps it on disk: nothing is read yet
    if (blob.size !== entry.size) return null;
    files[file] = blob;
  }
  return { commit, files, fromCache: true };
}

/**
 * The repo's files: from the cache when it has them all, else from the Hub (each file verified, then kept).
 * `onProgress` follows the bytes; `signal` cancels (what arrived of the file in flight is kept for a resume).
 */
export async function loadHubFiles(src: HubSource, onProgress: (p: DownloadProgress) => void, signal: AbortSignal): Promise<HubFiles> {
  validateRepoId(src.repo);
  const cached = await loadCached(src);
  if (cached) return cached;
  const cache = await openCache();

  const first = await fileMeta(src, src.revision, 'config.json', null, signal);
  if (!first) throw new HubDownloadError(`${src.repo} has no config.json at revision "${src.revision}": is it a model repo?`);
  const commit = first.commit;
  const metas: FileMeta[] = [first.meta];
  const manifest: SnapshotManifest = { commit, files: { 'config.json': { etag: first.meta.etag, size: first.meta.size } } };
  for (const file of [...REQUIRED_FILES.filter((f) => f !== 'config.json'), ...OPTIONAL_FILES]) {
    const m = await fileMeta(src, commit, file, commit, signal);
    if (!m) {
      if ((REQUIRED_FILES as readonly string[]).includes(file)) {
        throw new HubDownloadError(`${src.repo} has no ${file} at revision "${src.revision}": the page needs ${REQUIRED_FILES.join(', ')} (a GPT-2 repo in safetensors)`);
      }
      manifest.files[file] = null;
      continue;
    }
    metas.push(m.meta);
    manifest.files[file] = { etag: m.meta.etag, size: m.meta.size };
  }

  const total = metas.reduce((s, m) => s + m.size, 0);
  let before = 0;
  const speed = new Speedometer();
  const files: Record<string, Blob> = {};
  for (const meta of metas) {
    const key = cacheKey('file', src, commit, meta.file);
    const hit = await cache.match(key);
    if (!(hit && Number(hit.headers.get('content-length') ?? -1) === meta.size && hit.headers.get('x-etag') === meta.etag)) {
      const onBytes = (n: number, resumedFrom: number): void => {
        const loaded = before + n;
        const bps = speed.add(loaded);
        onProgress({ file: meta.file, loaded, total, resumedFrom, bytesPerSecond: bps, secondsLeft: bps > 0 ? (total - loaded) / bps : null });
      };
      if (meta.lfs && SHA256_HEX.test(meta.etag)) await downloadToCache(cache, src, meta, key, signal, onBytes);
      else await cache.put(key, new Response((await downloadSmall(cache, src, meta, signal, onBytes)) as Uint8Array<ArrayBuffer>, { headers: fileHeaders(meta) }));
    }
    before += meta.size;
    files[meta.file] = await (await cache.match(key))!.blob();
  }
  await cache.put(cacheKey('snapshot', src, commit), new Response(JSON.stringify(manifest), { headers: { 'content-type': 'application/json' } }));
  if (!COMMIT_HASH.test(src.revision)) await cache.put(cacheKey('ref', src, src.revision), new Response(commit));
  return { commit, files, fromCache: false };
}

/** One cached model: where from, which commit, how many bytes. */
export interface CachedModel {
  endpoint: string;
  repo: string;
  commit: string;
  bytes: number;
  /** bytes kept from downloads that did not finish */
  partialBytes: number;
}

/** What the cache holds, by endpoint, repo and commit (parts of unfinished downloads counted apart). */
export async function listCached(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await openCache();
  const out = new Map<string, CachedModel>();
  for (const req of await cache.keys()) {
    const parts = new URL(req.url).pathname.split('/').slice(1);
    if (parts[0] !== KEY_ROOT) continue;
    const kind = parts[1];
    if (kind !== 'file' && kind !== 'partial') continue;
    const endpoint = decodeURIComponent(parts[2] ?? '');
    // file: repo parts, commit, file; partial: repo parts, etag
    const tail = kind === 'file' ? 2 : 1;
    const repo = parts.slice(3, parts.length - tail).join('/');
    const commit = kind === 'file' ? decodeURIComponent(parts[parts.length - 2]!) : '';
    const res = await cache.match(req);
    const n = Number(res?.headers.get('content-length') ?? 0) || (res ? (await res.arrayBuffer()).byteLength : 0);
    const id = `${endpoint} ${repo} ${commit}`;
    const m = out.get(id) ?? { endpoint, repo, commit, bytes: 0, partialBytes: 0 };
    if (kind === 'file') m.bytes += n;
    else m.partialBytes += n;
    out.set(id, m);
  }
  return [...out.values()];
}

/** Deletes everything the cache holds for `repo` on `endpoint` (every commit, refs and unfinished parts). */
export async function deleteCached(endpoint: string, repo: string): Promise<number> {
  if (typeof caches === 'undefined') return 0;
  const cache = await openCache();
  const src = { endpoint, repo, revision: '' };
  let n = 0;
  for (const req of await cache.keys()) {
    for (const kind of ['ref', 'snapshot', 'file', 'partial'] as const) {
      const prefix = cacheKey(kind, src).replace(/\/$/, '') + '/';
      if (req.url.startsWith(prefix) && (await cache.delete(req))) n++;
    }
  }
  return n;
}
