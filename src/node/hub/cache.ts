// The Hugging Face cache, laid out exactly as huggingface_hub writes it, so Python and gpt2-lens share it:
//
//   <cache>/models--openai-community--gpt2/
//     blobs/<etag>                       the bytes, named by git sha1 (small files) or sha256 (LFS files)
//     refs/main                          the commit hash that "main" pointed to when last resolved
//     snapshots/<commit>/config.json  -> ../../blobs/<etag>   (relative symlinks; copies where they fail)
//     .no_exist/<commit>/<file>          empty marker: the file does not exist at that commit
//   <cache>/.locks/models--openai-community--gpt2/<etag>.lock
import { copyFileSync, existsSync, type Dirent, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { HubError, downloadCommand } from '../../hub/errors.js';

import { COMMIT_HASH, validateRevision } from '../../hub/names.js';
export { COMMIT_HASH, SHA256_HEX, validateRepoId, validateRevision } from '../../hub/names.js';

/** `openai-community/gpt2` -> `models--openai-community--gpt2` */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--');
}

export function storageFolder(cacheDir: string, repoId: string): string {
  return join(cacheDir, repoFolderName(repoId));
}

/** snapshots/<commit>/<filename>, refusing a filename that would climb out of the snapshot. */
export function pointerPath(storage: string, commit: string, filename: string): string {
  const snapshots = resolve(storage, 'snapshots');
  const p = resolve(snapshots, commit, ...filename.split('/'));
  if (!p.startsWith(snapshots + sep)) throw new Error(`invalid file name in a repo: ${filename}`);
  return p;
}

export function blobPath(storage: string, etag: string): string {
  return join(storage, 'blobs', etag);
}

export function noExistPath(storage: string, commit: string, filename: string): string {
  return join(storage, '.no_exist', commit, ...filename.split('/'));
}

export function lockPath(cacheDir: string, repoId: string, etag: string): string {
  return join(cacheDir, '.locks', repoFolderName(repoId), `${etag}.lock`);
}

/** refs/<revision>, for a revision already checked by validateRevision (and checked again to stay in refs/). */
export function refPath(storage: string, revision: string): string {
  validateRevision(revision);
  const refs = resolve(storage, 'refs');
  const p = resolve(refs, ...revision.split('/'));
  if (!p.startsWith(refs + sep)) throw new HubError(`revision ${JSON.stringify(revision)} is not valid: it leads out of ${refs}`, 'InvalidRevision');
  return p;
}

/**
 * The commit a branch or tag pointed to when it was last resolved (undefined when never resolved); a commit hash is
 * its own answer. A refs file that holds anything but a commit hash is an error that names it: its content becomes a
 * path (snapshots/<commit>), so it is never trusted.
 */
export function readRef(storage: string, revision: string): string | undefined {
  if (COMMIT_HASH.test(revision)) return revision;
  const path = refPath(storage, revision);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new HubError(`cannot read ${path}, the commit revision "${revision}" points to in the cache (${code ?? (err as Error).message}). Delete it; the next online run writes it again`, 'CorruptCache');
  }
  const commit = text.trim();
  if (!COMMIT_HASH.test(commit)) {
    throw new HubError(
      `${path} (revision "${revision}") holds ${JSON.stringify(commit.slice(0, 60))}, not a 40-character commit hash: the cache is damaged. ` +
        'Delete that file; the next online run writes it again',
      'CorruptCache',
    );
  }
  return commit;
}

/**
 * refs/<revision> = commit, for branch and tag revisions; written only when it changes (the cache may be read-only).
 * A damaged refs file is overwritten: the Hub has just said what the revision points to.
 */
export function writeRef(storage: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const path = refPath(storage, revision);
  try {
    if (readFileSync(path, 'utf8').trim() === commit) return;
  } catch {
    // absent or unreadable: (re)write it
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, commit);
}

/**
 * Points snapshots/<commit>/<file> at blobs/<etag> with a relative symlink (the cache survives being moved).
 * Where symlinks fail (Windows without developer mode, some mounts) the file is moved there when the blob is new,
 * and copied otherwise, as huggingface_hub does.
 */
export function linkSnapshotFile(blob: string, pointer: string, newBlob: boolean): void {
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blob), pointer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return; // another process linked it at the same moment
    if (newBlob) renameSync(blob, pointer);
    else copyFileSync(blob, pointer);
  }
}

/** A file that exists on disk and is not a dangling link. */
function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Result of looking a file up in the cache without the network. */
export type CachedFile = { kind: 'file'; path: string } | { kind: 'no-exist' } | { kind: 'missing' };

/** huggingface_hub's try_to_load_from_cache: resolve refs/ to a commit, then look in snapshots/ and .no_exist/. */
export function lookupCachedFile(storage: string, revision: string, filename: string): CachedFile {
  const commit = readRef(storage, revision);
  if (!commit) return { kind: 'missing' };
  if (existsSync(noExistPath(storage, commit, filename))) return { kind: 'no-exist' };
  const p = pointerPath(storage, commit, filename);
  return isFile(p) ? { kind: 'file', path: p } : { kind: 'missing' };
}

// ---- scanning the cache (gpt2-lens cache ls), a simpler `huggingface-cli scan-cache` ----

export interface CachedSnapshot {
  commit: string;
  /** refs pointing at this commit, e.g. ["main"] */
  refs: string[];
  files: string[];
  /** bytes of the files this snapshot points at */
  size: number;
}

export interface CachedRepo {
  repoId: string;
  path: string;
  /** bytes on disk: every blob counted once (snapshots share blobs) */
  sizeOnDisk: number;
  blobs: number;
  snapshots: CachedSnapshot[];
  /** revision -> commit */
  refs: Record<string, string>;
  /** interrupted downloads waiting to be resumed */
  incomplete: number;
}

/** How deep, and how many entries, a listing of refs/ or a snapshot goes: the cache is not trusted input. */
const MAX_DEPTH = 16;
const MAX_ENTRIES = 100_000;

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * The files under `dir` (relative paths, sorted), walked without recursion, at most MAX_DEPTH folders deep and
 * MAX_ENTRIES entries. A regular file, or a link to one, is a file; a dangling link is listed too when
 * `keepDangling` (a snapshot pointer whose blob is gone). Anything else (a link to a folder, a link loop, an
 * unreadable folder, a socket) is skipped with a warning naming it.
 */
function listFiles(dir: string, warn: (msg: string) => void, keepDangling: boolean): string[] {
  const out: string[] = [];
  const stack: Array<{ abs: string; rel: string; depth: number }> = [{ abs: dir, rel: '', depth: 0 }];
  let seen = 0;
  while (stack.length > 0) {
    const { abs, rel, depth } = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      warn(`cannot list ${abs} (${errnoText(err)}); skipped`);
      continue;
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) {
        warn(`${dir} has more than ${MAX_ENTRIES} entries; the rest is not listed`);
        return out.sort();
      }
      const childAbs = join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (depth + 1 >= MAX_DEPTH) warn(`${childAbs} is more than ${MAX_DEPTH} folders deep; skipped`);
        else stack.push({ abs: childAbs, rel: childRel, depth: depth + 1 });
      } else if (entry.isFile()) {
        out.push(childRel);
      } else if (entry.isSymbolicLink()) {
        try {
          const st = statSync(childAbs);
          if (st.isFile()) out.push(childRel);
          else warn(`${childAbs} is a link to ${st.isDirectory() ? 'a folder' : 'something that is not a file'}; skipped`);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' && keepDangling) {
            out.push(childRel);
            warn(`${childAbs} points at a missing file (a blob was deleted); repair it with gpt2-lens download <repo> --force`);
          } else warn(`${childAbs} is a ${code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'dangling link' : `link that cannot be followed (${code})`}; skipped`);
        }
      } else {
        warn(`${childAbs} is not a file or a folder; skipped`);
      }
    }
  }
  return out.sort();
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface ScanOptions {
  /** called for each entry that cannot be listed (the rest of the listing goes on); default: ignored */
  onWarning?: (message: string) => void;
}

/**
 * Every `models--*` repo in the cache with its refs, snapshots and sizes (an empty list when the cache is absent).
 * One odd entry (a link to a folder in refs/, a file in snapshots/, an unreadable folder, a refs file that is not a
 * commit hash) does not stop the listing: it is skipped and reported through `onWarning`.
 */
export function scanCache(cacheDir: string, options: ScanOptions = {}): CachedRepo[] {
  if (!existsSync(cacheDir)) return [];
  const repos: CachedRepo[] = [];
  for (const name of readdirSync(cacheDir).sort()) {
    const path = join(cacheDir, name);
    if (!name.startsWith('models--')) continue;
    const repoId = name.slice('models--'.length).split('--').join('/');
    const warn = (msg: string): void => options.onWarning?.(`${repoId}: ${msg}`);
    if (!isDir(path)) {
      warn(`${path} is not a folder; skipped`);
      continue;
    }
    try {
      repos.push(scanRepo(repoId, path, warn));
    } catch (err) {
      warn(`cannot read ${path} (${errnoText(err)}); skipped`);
    }
  }
  return repos;
}

function scanRepo(repoId: string, path: string, warn: (msg: string) => void): CachedRepo {
  const refs: Record<string, string> = {};
  const refsDir = join(path, 'refs');
  if (existsSync(refsDir)) {
    if (!isDir(refsDir)) warn(`${refsDir} is not a folder; refs skipped`);
    else {
      for (const ref of listFiles(refsDir, warn, false)) {
        try {
          const commit = readFileSync(join(refsDir, ref), 'utf8').trim();
          if (COMMIT_HASH.test(commit)) refs[ref] = commit;
          else warn(`refs/${ref} holds ${JSON.stringify(commit.slice(0, 60))}, not a commit hash; skipped`);
        } catch (err) {
          warn(`cannot read ${join(refsDir, ref)} (${errnoText(err)}); skipped`);
        }
      }
    }
  }
  const blobsDir = join(path, 'blobs');
  let blobNames: string[] = [];
  if (existsSync(blobsDir)) {
    try {
      blobNames = readdirSync(blobsDir);
    } catch (err) {
      warn(`cannot list ${blobsDir} (${errnoText(err)}); blobs not counted`);
    }
  }
  const complete = blobNames.filter((b) => !b.endsWith('.incomplete'));
  const snapshots: CachedSnapshot[] = [];
  const snapshotsDir = join(path, 'snapshots');
  let copiedBytes = 0; // files stored in snapshots/ themselves (no symlinks)
  if (existsSync(snapshotsDir)) {
    let commits: string[] = [];
    try {
      commits = readdirSync(snapshotsDir).sort();
    } catch (err) {
      warn(`cannot list ${snapshotsDir} (${errnoText(err)}); snapshots skipped`);
    }
    for (const commit of commits) {
      const dir = join(snapshotsDir, commit);
      if (!isDir(dir)) {
        warn(`${dir} is not a snapshot folder; skipped`);
        continue;
      }
      const files = listFiles(dir, warn, true);
      let size = 0;
      for (const f of files) {
        const p = join(dir, f);
        size += sizeOf(p);
        try {
          if (!lstatSync(p).isSymbolicLink()) copiedBytes += sizeOf(p);
        } catch {
          // vanished meanwhile
        }
      }
      const pointing = Object.entries(refs).filter(([, c]) => c === commit).map(([r]) => r);
      snapshots.push({ commit, refs: pointing, files, size });
    }
  }
  const sizeOnDisk = complete.reduce((s, b) => s + sizeOf(join(blobsDir, b)), 0) + copiedBytes;
  return { repoId, path, sizeOnDisk, blobs: complete.length, snapshots, refs, incomplete: blobNames.length - complete.length };
}

/**
 * The repo and commit a path in the cache belongs to (`<cache>/models--org--name/snapshots/<commit>/…`), or
 * undefined for a path elsewhere: lets a message about a damaged file say which download repairs it.
 */
export function cachedRepoOfPath(path: string): { repoId: string; commit: string; storage: string } | undefined {
  const parts = resolve(path).split(sep);
  for (let i = parts.length - 3; i >= 0; i--) {
    const name = parts[i]!;
    if (name.startsWith('models--') && parts[i + 1] === 'snapshots' && COMMIT_HASH.test(parts[i + 2] ?? '')) {
      return { repoId: name.slice('models--'.length).split('--').join('/'), commit: parts[i + 2]!, storage: parts.slice(0, i + 1).join(sep) };
    }
  }
  return undefined;
}

/** The command that downloads a damaged cached file again: `gpt2-lens download <repo> [--revision R] --force`. */
export function repairCommand(path: string): string | undefined {
  const at = cachedRepoOfPath(path);
  if (!at) return undefined;
  let main: string | undefined;
  try {
    main = readFileSync(join(at.storage, 'refs', 'main'), 'utf8').trim();
  } catch {
    main = undefined;
  }
  return `${downloadCommand(at.repoId, main === at.commit ? 'main' : at.commit)} --force`;
}
