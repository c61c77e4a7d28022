// Where the Hub and its cache live, read from the environment the way huggingface_hub's constants.py does,
// so that a model Python already downloaded is found here and vice versa.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Read from process.env unless a test passes its own. */
export type Env = Record<string, string | undefined>;

/** huggingface_hub's `_is_true`: "1", "ON", "YES", "TRUE" in any case. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: Env = process.env): string {
  return expandHome(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface'));
}

/** `$HF_HUB_CACHE`, else the legacy `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`. */
export function hubCacheDir(env: Env = process.env): string {
  return expandHome(env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub'));
}

/** `$HF_ENDPOINT` without its trailing slash, else https://huggingface.co. */
export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** `HF_HUB_OFFLINE` (or the older `TRANSFORMERS_OFFLINE`) is true: no network at all. */
export function isOffline(env: Env = process.env): boolean {
  return isTrue(env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE);
}

/** The token file: `$HF_TOKEN_PATH`, else `$HF_HOME/token` (what `huggingface-cli login` writes). */
export function tokenPath(env: Env = process.env): string {
  return expandHome(env.HF_TOKEN_PATH || join(hfHome(env), 'token'));
}

function cleanToken(token: string | undefined): string | undefined {
  const t = token?.replace(/\r|\n/g, '').trim();
  return t ? t : undefined;
}

/**
 * The token sent as `Authorization: Bearer …`: `$HF_TOKEN` (or the older `$HUGGING_FACE_HUB_TOKEN`), else the
 * token file. None when `HF_HUB_DISABLE_IMPLICIT_TOKEN` is set (an explicit token option still counts).
 */
export function getToken(env: Env = process.env): string | undefined {
  if (isTrue(env.HF_HUB_DISABLE_IMPLICIT_TOKEN)) return undefined;
  const fromEnv = cleanToken(env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv) return fromEnv;
  try {
    return cleanToken(readFileSync(tokenPath(env), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Seconds, from an env var such as HF_HUB_ETAG_TIMEOUT (default 10, as in huggingface_hub). */
export function timeoutSeconds(name: string, env: Env = process.env, fallback = 10): number {
  const v = Number(env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
