// The Hub's names and URLs, browser-safe (no Node built-in): the rules that both the Node client (./download.ts,
// ./cache.ts) and the static page's browser download (web/src/site/hub-browser.ts) follow, in one place.
import { HubError } from './errors.js';

/** A full commit hash: what X-Repo-Commit carries and what a snapshot is named by. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;
/** A sha256 in hex: the etag of an LFS file (X-Linked-Etag), and its pointer's oid. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * huggingface_hub's validate_repo_id (utils/_validators.py): `name` or `namespace/name`, word characters, `-` and
 * `.`, each part starting and ending with a word character, the name at most 96 characters, no `--` or `..`, not
 * ending in `.git`. (Python's `\w` is Unicode; the Hub only accepts ASCII names, and so do we.) Checked before any
 * path is built from the id.
 */
export function validateRepoId(repoId: string): void {
  const bad = (why: string): never => {
    throw new HubError(`${JSON.stringify(repoId)} is not a Hugging Face repo id: ${why} (expected "name" or "namespace/name", e.g. "openai-community/gpt2")`, 'InvalidRepoId');
  };
  if (typeof repoId !== 'string' || repoId.length === 0) bad('it is empty');
  if (repoId.split('/').length > 2) bad('it has more than one "/"');
  if (!/^(\w(?:[\w.-]*\w)?\/)?\w(?:[\w.-]{0,94}\w)?$/.test(repoId)) {
    bad('use letters, digits, "-", "_" and "." only; each part starts and ends with a letter or digit; the name is at most 96 characters');
  }
  if (repoId.includes('--') || repoId.includes('..')) bad('it contains "--" or ".."');
  if (repoId.endsWith('.git')) bad('it ends with ".git"');
}

/**
 * A revision is a branch, a tag, a commit hash or a ref such as `refs/pr/1`: it may contain `/`, but it becomes a
 * path under refs/ in the cache, so no empty part, no `.` or `..` part, no leading `/`, no backslash and no control
 * character (NUL included). Checked before any path is built from it.
 */
export function validateRevision(revision: string): void {
  const bad = (why: string): never => {
    throw new HubError(
      `revision ${JSON.stringify(revision)} is not valid: ${why}. A revision is a branch ("main"), a tag ("v1.0"), a 40-character commit hash or a ref such as "refs/pr/1"`,
      'InvalidRevision',
    );
  };
  if (typeof revision !== 'string' || revision.length === 0) bad('it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(revision)) bad('it contains a control character');
  if (revision.includes('\\')) bad('it contains a backslash');
  if (revision.startsWith('/')) bad('it is an absolute path');
  const parts = revision.split('/');
  if (parts.some((p) => p === '')) bad('it has an empty part (a "//" or a trailing "/")');
  if (parts.some((p) => p === '..')) bad('".." is not allowed in a revision');
  if (parts.some((p) => p === '.')) bad('"." is not allowed as a part of a revision');
}

/** Whether `repoId` is a Hub repo id (validateRepoId's rules). */
export function isRepoId(repoId: string): boolean {
  try {
    validateRepoId(repoId);
    return true;
  } catch {
    return false;
  }
}

/** etag normalisation as huggingface_hub does it: drop a W/ prefix and the quotes. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

/** `{endpoint}/{repo_id}/resolve/{revision}/{filename}`, the revision and filename URL-encoded as huggingface_hub does. */
export function hubFileUrl(endpoint: string, repoId: string, revision: string, filename: string, kind: 'resolve' | 'raw' = 'resolve'): string {
  const file = filename.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoId}/${kind}/${encodeURIComponent(revision)}/${file}`;
}

/** What a Git LFS pointer file (the `raw` view of an LFS file) says: the content's sha256 and size. */
export interface LfsPointer {
  sha256: string;
  size: number;
}

/**
 * Parses a Git LFS pointer ("version https://git-lfs.github.com/spec/v1\noid sha256:<hex>\nsize <n>\n"); null
 * when `text` is not one (a file stored in git itself).
 */
export function parseLfsPointer(text: string): LfsPointer | null {
  if (text.length > 1024 || !text.startsWith('version https://git-lfs.github.com/spec/')) return null;
  const oid = /^oid sha256:([0-9a-f]{64})$/m.exec(text);
  const size = /^size (\d{1,15})$/m.exec(text);
  if (!oid || !size) return null;
  return { sha256: oid[1]!, size: Number(size[1]) };
}
