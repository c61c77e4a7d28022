// The Hugging Face cache, laid out exactly as huggingface_hub writes it, so Python and gpt2-lens share it:
//
//   <cache>/models--openai-community--gpt2/
//     blobs/<etag>                       the bytes, named by git sha1 (small files) or sha256 (LFS files)
//     refs/main                          the commit hash that "main" pointed to when last resolved
//     snapshots/<commit>/config.json  -> ../../blobs/<etag>   (relative symlinks; copies where they fail)
//     .no_exist/<commit>/<file>          empty marker: the file does not exist at that commit
//   <cache>/.locks/models--openai-community--gpt2/<etag>.lock
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

import { COMMIT_HASH } from './names.js';
export { COMMIT_HASH, SHA256_HEX, validateRepoId } from './names.js';

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

/** The commit a branch or tag pointed to when it was last resolved; a commit hash is its own answer. */
export function readRef(storage: string, revision: string): string | undefined {
  if (COMMIT_HASH.test(revision)) return revision;
  try {
    const commit = readFileSync(join(storage, 'refs', ...revision.split('/')), 'utf8').trim();
    return commit || undefined;
  } catch {
    return undefined;
  }
}

/** refs/<revision> = commit, for branch and tag revisions; written only when it changes (the cache may be read-only). */
export function writeRef(storage: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const path = join(storage, 'refs', ...revision.split('/'));
  if (readRef(storage, revision) === commit) return;
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

function listFilesRecursive(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFilesRecursive(join(dir, entry.name), rel));
    else out.push(rel);
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

/** Every `models--*` repo in the cache with its refs, snapshots and sizes (an empty list when the cache is absent). */
export function scanCache(cacheDir: string): CachedRepo[] {
  if (!existsSync(cacheDir)) return [];
  const repos: CachedRepo[] = [];
  for (const name of readdirSync(cacheDir).sort()) {
    const path = join(cacheDir, name);
    if (!name.startsWith('models--') || !lstatSync(path).isDirectory()) continue;
    const repoId = name.slice('models--'.length).split('--').join('/');
    const refs: Record<string, string> = {};
    const refsDir = join(path, 'refs');
    if (existsSync(refsDir)) for (const ref of listFilesRecursive(refsDir)) refs[ref] = readFileSync(join(refsDir, ref), 'utf8').trim();
    const blobsDir = join(path, 'blobs');
    const blobNames = existsSync(blobsDir) ? readdirSync(blobsDir) : [];
    const complete = blobNames.filter((b) => !b.endsWith('.incomplete'));
    const snapshots: CachedSnapshot[] = [];
    const snapshotsDir = join(path, 'snapshots');
    let copiedBytes = 0; // files stored in snapshots/ themselves (no symlinks)
    if (existsSync(snapshotsDir)) {
      for (const commit of readdirSync(snapshotsDir).sort()) {
        const files = listFilesRecursive(join(snapshotsDir, commit));
        let size = 0;
        for (const f of files) {
          const p = join(snapshotsDir, commit, f);
          size += sizeOf(p);
          if (!lstatSync(p).isSymbolicLink()) copiedBytes += sizeOf(p);
        }
        const pointing = Object.entries(refs).filter(([, c]) => c === commit).map(([r]) => r);
        snapshots.push({ commit, refs: pointing, files, size });
      }
    }
    const sizeOnDisk = complete.reduce((s, b) => s + sizeOf(join(blobsDir, b)), 0) + copiedBytes;
    repos.push({ repoId, path, sizeOnDisk, blobs: complete.length, snapshots, refs, incomplete: blobNames.length - complete.length });
  }
  return repos;
}
