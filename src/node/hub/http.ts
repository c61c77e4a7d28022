// HTTP for the Hub: timeouts, retries with exponential backoff, redirects handled by hand (so that the token is
// never sent to another host), and the Hub's error codes turned into messages a learner can act on.
import { HubError } from '../../hub/errors.js';

export type FetchFn = typeof fetch;

export interface RetryPolicy {
  /** retries after the first attempt (HEAD: 2, downloads: 5 by default) */
  maxRetries: number;
  /** first wait, doubled each retry (default 1000 ms) */
  baseDelayMs: number;
  /** longest wait (default 8000 ms) */
  maxDelayMs: number;
}

/** The status codes worth another try: rate limiting and server-side trouble. */
export const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export const USER_AGENT = `gpt2-lens/0.1.0; node/${process.versions.node}`;

/** Raised when no byte arrived for the timeout. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** The error code of a failed fetch (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, …), undefined for others. */
export function networkErrorCode(err: unknown): string | undefined {
  if (err instanceof TimeoutError) return 'ETIMEDOUT';
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  if (err instanceof TypeError && /terminated/i.test(err.message)) return 'ECONNRESET'; // the body was cut
  return undefined;
}

/** A one-line description of a network failure, e.g. "connect ECONNREFUSED 127.0.0.1:9". */
export function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Waits for `attempt` (0-based): base·2^attempt, capped, with ±25 % jitter so retrying clients spread out. */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(d * (0.75 + Math.random() * 0.5));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An AbortController that fires when `touch()` has not been called for `ms`: a timeout on silence (connecting,
 * waiting for headers, or a stalled body), not on the whole transfer.
 */
export class IdleTimer {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(private readonly ms: number) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new TimeoutError(`no data from the server for ${this.ms / 1000} s`)), this.ms);
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

export interface RequestContext {
  fetch: FetchFn;
  timeoutMs: number;
  retry: RetryPolicy;
  /** retry connection refused / host not found too (downloads do; metadata HEAD falls back to the cache instead) */
  retryUnreachable: boolean;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a thrown fetch error deserves a retry under `ctx`. */
export function isRetryableError(err: unknown, ctx: Pick<RequestContext, 'retryUnreachable'>): boolean {
  const code = networkErrorCode(err);
  if (!code) return false;
  return ctx.retryUnreachable || !UNREACHABLE.has(code);
}

/**
 * One request with retries on 408/429/5xx, resets and timeouts; redirects are returned, not followed.
 * The body of a returned response is live: the idle timer keeps running until `timer.clear()`.
 */
export async function requestWithRetries(
  method: 'HEAD' | 'GET',
  url: string,
  headers: Record<string, string>,
  ctx: RequestContext,
): Promise<{ res: Response; timer: IdleTimer }> {
  for (let attempt = 0; ; attempt++) {
    const timer = new IdleTimer(ctx.timeoutMs);
    try {
      const res = await ctx.fetch(url, { method, headers, redirect: 'manual', signal: timer.controller.signal });
      if (RETRY_STATUSES.has(res.status) && attempt < ctx.retry.maxRetries) {
        timer.clear();
        await res.body?.cancel().catch(() => undefined);
        await sleep(retryAfterMs(res) ?? backoffDelay(attempt, ctx.retry));
        continue;
      }
      return { res, timer };
    } catch (err) {
      timer.clear();
      const e = timer.controller.signal.aborted ? timer.controller.signal.reason : err;
      if (attempt < ctx.retry.maxRetries && isRetryableError(e, ctx)) {
        await sleep(backoffDelay(attempt, ctx.retry));
        continue;
      }
      throw e;
    }
  }
}

/** A Retry-After header in seconds (capped at 30 s), if any. */
function retryAfterMs(res: Response): number | undefined {
  const v = Number(res.headers.get('retry-after'));
  return Number.isFinite(v) && v > 0 ? Math.min(v, 30) * 1000 : undefined;
}

export interface FailureContext {
  repoId: string;
  revision: string;
  filename: string;
  endpoint: string;
  /** where the token came from, to say which one was refused */
  tokenSource: string | undefined;
}

/** Turns a failed Hub response into a HubError, following huggingface_hub's hf_raise_for_status. */
export function hubErrorFromResponse(res: Response, c: FailureContext): HubError {
  const code = res.headers.get('x-error-code');
  const serverMessage = res.headers.get('x-error-message');
  const status = res.status;
  const tokenHint =
    c.tokenSource === undefined
      ? 'No token was sent: set HF_TOKEN (or run `huggingface-cli login`) to a token of an account that has access.'
      : `The token from ${c.tokenSource} was sent; check that its account has access to this repo.`;
  const repoUrl = `${c.endpoint}/${c.repoId}`;
  if (code === 'GatedRepo') {
    return new HubError(
      `${c.repoId} is a gated repo (HTTP ${status}): accept its conditions at ${repoUrl} while logged in. ${tokenHint}`,
      'GatedRepo',
      status,
    );
  }
  if (code === 'RevisionNotFound') {
    return new HubError(
      `revision "${c.revision}" does not exist in ${c.repoId} (HTTP ${status}); use a branch, a tag or a full 40-character commit hash`,
      'RevisionNotFound',
      status,
    );
  }
  if (code === 'EntryNotFound') {
    return new HubError(`${c.filename} does not exist in ${c.repoId} at revision "${c.revision}" (HTTP ${status})`, 'EntryNotFound', status);
  }
  if (code === 'RepoNotFound' || (status === 404 && !res.headers.get('x-repo-commit'))) {
    return new HubError(
      `repository ${c.repoId} was not found on ${c.endpoint} (HTTP ${status}): check the id (e.g. "openai-community/gpt2"). ` +
        `If it is private or gated, you need access. ${tokenHint}`,
      'RepoNotFound',
      status,
    );
  }
  if (status === 404) {
    return new HubError(`${c.filename} does not exist in ${c.repoId} at revision "${c.revision}" (HTTP 404)`, 'EntryNotFound', status);
  }
  if (status === 401 || status === 403) {
    return new HubError(
      `access to ${c.repoId} was refused (HTTP ${status}${serverMessage ? `: ${serverMessage}` : ''}): the repo is private or gated. ${tokenHint}`,
      'GatedRepo',
      status,
    );
  }
  const detail = serverMessage ? `: ${serverMessage}` : '';
  return new HubError(`${c.endpoint} answered HTTP ${status}${detail} for ${c.filename} of ${c.repoId}`, 'Network', status);
}
