// Who may use the server, as local dev servers (Vite, Jupyter) decide it:
//   Host          names this server: localhost, 127.0.0.1, [::1], the --host it listens on, or one of
//                 --allowed-hosts. Anything else is 403: a page on another site that reaches us through DNS
//                 rebinding sends its own name as Host. Listening on 0.0.0.0 or :: adds no name by itself.
//   Origin        on every request other than GET and HEAD, when present, must be this server (its host equal to
//                 Host): a page on another site cannot queue work here (403).
//   Content-Type  a JSON body must say application/json (415 otherwise), which a cross-site "simple request"
//                 (text/plain, a form) cannot do without a CORS preflight this server never grants.
// Also: the model's name shown by /api/model, which never gives away a folder of this machine.
import { statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './errors.js';

/** Host names always accepted: the loopback names. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** Listening on these accepts connections on every interface; they are not names a client would use. */
const WILDCARD = new Set(['0.0.0.0', '[::]', '[::0]', '[0:0:0:0:0:0:0:0]']);

/**
 * A host name in the form Host headers use, lower case: `example.com`, `192.168.1.5`, `[fe80::1]` (an IPv6
 * address is given brackets). Returns null when `name` is not a host name (a scheme, a path, a port, spaces).
 */
export function normalizeHostName(name: string): string | null {
  let h = name.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1); // "localhost." is "localhost"
  if (/^\[[0-9a-f:.]+\]$/.test(h)) return h;
  if (/^[0-9a-f:.]+$/.test(h) && (h.match(/:/g)?.length ?? 0) >= 2) return `[${h}]`;
  if (/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(h) && !h.includes('..')) return h;
  return null;
}

/** Checks --allowed-hosts entries (host names or IP addresses, no scheme or port); throws naming the bad one. */
export function parseAllowedHosts(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.trim() === '') continue; // "a,,b" or a trailing comma
    const h = normalizeHostName(entry);
    if (h === null) throw new Error(`allowed host "${entry}" is not a host name or IP address (give names such as mybox.local or 192.168.1.5, without scheme or port)`);
    out.push(h);
  }
  return out;
}

/** The host names this server accepts in Host: loopback, the one it listens on (unless a wildcard), and `extra`. */
export function acceptedHosts(listenHost: string, extra: readonly string[]): Set<string> {
  const set = new Set<string>([...LOOPBACK_HOSTS, ...extra]);
  const bound = normalizeHostName(listenHost);
  if (bound !== null && !WILDCARD.has(bound)) set.add(bound);
  return set;
}

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`), lower case; null when malformed. */
export function hostHeaderName(value: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return null;
  return normalizeHostName(m[1]!);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Shows an untrusted header value in a message: at most 60 characters, JSON-quoted. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** 403 unless the Host header names this server (one of `accepted`). */
export function checkHost(headers: IncomingHttpHeaders, accepted: ReadonlySet<string>): void {
  const host = headerValue(headers, 'host');
  if (host === undefined || host === '') throw new ApiError('the request has no Host header; this server answers only requests that name it', null, 403);
  const name = hostHeaderName(host);
  if (name === null || !accepted.has(name)) {
    throw new ApiError(
      `Host ${shown(host)} is not a name of this server; it accepts ${[...accepted].join(', ')} ` +
        '(start it with --allowed-hosts NAME to add one)',
      null,
      403,
    );
  }
}

/** 403 when a request other than GET/HEAD carries an Origin that is not this server (compared with Host). */
export function checkOrigin(method: string, headers: IncomingHttpHeaders): void {
  if (method === 'GET' || method === 'HEAD') return;
  const origin = headerValue(headers, 'origin');
  if (origin === undefined) return; // not sent by a browser page: curl, scripts
  const refuse = (): never => {
    throw new ApiError(`cross-origin request refused: Origin ${shown(origin)} is not this server`, null, 403);
  };
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return refuse(); // "null" (a sandboxed page, a file:) or garbage
  }
  const host = headerValue(headers, 'host') ?? '';
  let h: string;
  try {
    h = new URL(`${o.protocol}//${host}`).host; // the same normalisation (default port, case) as the origin's
  } catch {
    return refuse();
  }
  if (o.origin === 'null' || o.host !== h) refuse();
}

/** 415 unless Content-Type is application/json (parameters such as charset allowed). */
export function checkJsonContentType(headers: IncomingHttpHeaders, what: string): void {
  const type = headerValue(headers, 'content-type');
  const media = (type ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') {
    throw new ApiError(`${what} takes a JSON body: send Content-Type: application/json${type === undefined ? '' : `, not ${shown(type)}`}`, null, 415);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The model's name for /api/model: a Hub id or a random: spec as given, a local folder by its base name only
 * (never a path of this machine).
 */
export function publicModelName(name: string): string {
  if (name.startsWith('random:')) return name;
  if (isAbsolute(name) || name.startsWith('.') || name.includes('\\') || name.startsWith('~') || isDirectory(name)) {
    return basename(resolve(name)) || 'model';
  }
  return name;
}
