// The Hub's names and URLs, browser-safe (no Node built-in): the rules that both the Node client (./download.ts,
// ./cache.ts) and the static page's browser download (web/src/site/hub-browser.ts) follow, in one place.

/** A full commit hash: what X-Repo-Commit carries and what a snapshot is named by. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;
/** A sha256 in hex: the etag of an LFS file (X-Linked-Etag), and its pointer's oid. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** huggingface_hub's validate_repo_id: `name` or `namespace/name`, word characters, `-` and `.`, no `--` or `..`. */
export function isRepoId(repoId: string): boolean {
  return (
    /^([\w.-]+\/)?[\w.-]{1,96}$/.test(repoId) &&
    !repoId.includes('--') &&
    !repoId.includes('..') &&
    !repoId.endsWith('.git') &&
    repoId.split('/').every((part) => !/^[-.]|[-.]$/.test(part))
  );
}

/** Throws unless `repoId` is a Hub repo id (see isRepoId). */
export function validateRepoId(repoId: string): void {
  if (!isRepoId(repoId)) {
    throw new Error(
      `"${repoId}" is not a Hugging Face repo id (expected "name" or "namespace/name", e.g. "openai-community/gpt2") ` +
        'nor an existing local folder',
    );
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
