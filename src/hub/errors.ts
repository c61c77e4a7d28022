// The ways fetching a model can fail, each with a message that says what to do next.

/** Base class: every Hub or cache failure is a HubError (check `code` to tell them apart). */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    message: string,
    /** a short machine-readable reason */
    readonly code: HubErrorCode,
    /** the HTTP status, when the failure came from the Hub */
    readonly status?: number,
  ) {
    super(message);
  }
}

export type HubErrorCode =
  | 'RepoNotFound' // 404 (or 401 without a token): the id is wrong, or the repo is private
  | 'GatedRepo' // 401/403 on a gated or private repo
  | 'RevisionNotFound' // the branch, tag or commit does not exist
  | 'EntryNotFound' // the file does not exist at that revision
  | 'LocalEntryNotFound' // offline (or the network failed) and the file is not in the cache
  | 'ChecksumMismatch' // the downloaded bytes do not hash to the ETag (LFS sha256, or git blob sha1 for small files)
  | 'SafetensorsRequired' // the repo has only pytorch_model.bin
  | 'BadResponse' // the server answered something that is not the Hub's protocol (or sent more bytes than announced)
  | 'InvalidRepoId' // not a repo id as huggingface_hub's validate_repo_id defines it
  | 'InvalidRevision' // a revision that is empty, absolute, or has "..", "." or empty parts
  | 'CorruptCache' // a refs/ file that does not hold a commit hash, and the like
  | 'CacheNotWritable' // the cache folder cannot be written (read-only, not a folder, permissions)
  | 'NoSpace' // the disk (or quota) is full
  | 'Network'; // connection refused/reset, timeouts, 5xx after the retries

/** The command that fills the cache for `repoId`, quoted in offline errors. */
export function downloadCommand(repoId: string, revision: string): string {
  return `gpt2-lens download ${repoId}${revision === 'main' ? '' : ` --revision ${revision}`}`;
}
