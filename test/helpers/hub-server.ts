// A fake Hugging Face Hub on 127.0.0.1 for the hub tests: the Hub's URL scheme and headers, LFS redirects to a
// "CDN", Range requests, and failures on demand. It serves the gpt2-tiny fixture as the repo `org/gpt2-tiny`.
//
//   HEAD/GET /{org}/{name}/resolve/{revision}/{file}
//     small files: 200, ETag "<git blob sha1>", X-Repo-Commit, Content-Length
//     LFS files:   302 Location <cdn>/cdn/<sha256>, X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit
//     errors:      X-Error-Code RepoNotFound / GatedRepo / RevisionNotFound / EntryNotFound, as the Hub sends them
//   GET /cdn/<sha256>  the LFS bytes (Range: bytes=N- or bytes=N-M -> 206)
//   GET /{org}/{name}/raw/{revision}/{file}   a file stored in git, or an LFS file's pointer (version, oid, size)
// Every answer carries the Hub's CORS headers (any origin, the headers a page may read: X-Repo-Commit, ETag,
// X-Linked-Etag, X-Linked-Size, Content-Range, ...), and OPTIONS preflights are answered, so a page can use it.
// Revisions: the commit, "main", the tag "v1.0" and "refs/pr/1" (sent URL-encoded, refs%2Fpr%2F1, as the Hub
// expects); `hub.extraRevisions` makes it answer any other name too, as a hostile or broken mirror could.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FIXTURE_DIR } from './fixtures.js';

export const FAKE_COMMIT = '5a1c0ffee0ddba11d00dfacade0123456789abcd';
export const FAKE_TAG = 'v1.0';

export interface FakeRepo {
  /** file name -> bytes */
  files: Record<string, Uint8Array>;
  /** names served as LFS files (redirected to the CDN, sha256 etag) */
  lfs: string[];
  /** gated: 401 without a token, 403 with a token other than `acceptedToken` */
  gated?: boolean;
  acceptedToken?: string;
}

/** A failure to inject, matched against the file's name in the repo (its CDN request included, for LFS files). */
export interface FailureRule {
  file: string;
  method?: 'HEAD' | 'GET';
  /** drop: send the headers and `afterBytes` of the body, then cut the socket; status: answer `status`;
   *  corrupt: flip one byte of the body; stall: send nothing for `ms`;
   *  extra: send `extraBytes` more than the file has (with a matching Content-Length, or none when `chunked`) */
  kind: 'drop' | 'status' | 'corrupt' | 'stall' | 'extra';
  extraBytes?: number;
  chunked?: boolean;
  afterBytes?: number;
  status?: number;
  ms?: number;
  /** how many matching requests fail (default 1) */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  host: string;
  authorization: string | undefined;
  range: string | undefined;
  /** the status we answered */
  status: number;
  /** body bytes actually sent */
  sent: number;
}

export interface FakeHubOptions {
  repos?: Record<string, FakeRepo>;
  /** serve LFS bytes from a second server (another host:port) instead of /cdn on the Hub itself */
  separateCdn?: boolean;
  /** body chunk size and a pause between chunks, to make downloads overlap in the concurrency tests */
  chunkBytes?: number;
  chunkDelayMs?: number;
}

const fileCache = new Map<string, Uint8Array>();
function fixtureBytes(name: string): Uint8Array {
  let b = fileCache.get(name);
  if (!b) {
    b = readFileSync(join(FIXTURE_DIR, name));
    fileCache.set(name, b);
  }
  return b;
}

/** The gpt2-tiny fixture as a Hub repo: the files a GPT-2 repo has (no tokenizer.json), model.safetensors in LFS. */
export function gpt2TinyRepo(): FakeRepo {
  const names = ['config.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors'];
  return { files: Object.fromEntries(names.map((n) => [n, fixtureBytes(n)])), lfs: ['model.safetensors'] };
}

/** Splits a safetensors file into `n` valid safetensors shards plus the index transformers writes for them. */
export function shardSafetensors(bytes: Uint8Array, n: number): { shards: Record<string, Uint8Array>; index: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const keys = Object.keys(header).filter((k) => k !== '__metadata__').sort();
  const data = bytes.subarray(8 + headerLen);
  const shards: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(keys.length / n);
  for (let s = 0; s < n; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const mine = keys.slice(s * per, (s + 1) * per);
    const h: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const k of mine) {
      const [b, e] = header[k]!.data_offsets;
      h[k] = { dtype: header[k]!.dtype, shape: header[k]!.shape, data_offsets: [offset, offset + e - b] };
      parts.push(data.subarray(b, e));
      offset += e - b;
      weightMap[k] = name;
    }
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const out = new Uint8Array(8 + json.length + offset);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(new TextEncoder().encode(json), 8);
    let at = 8 + json.length;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    shards[name] = out;
  }
  const index = { metadata: { total_size: data.byteLength }, weight_map: weightMap };
  return { shards, index: new TextEncoder().encode(JSON.stringify(index, null, 2)) };
}

const shaCache = new WeakMap<Uint8Array, string>();
export function sha256Hex(b: Uint8Array): string {
  let h = shaCache.get(b);
  if (!h) {
    h = createHash('sha256').update(b).digest('hex');
    shaCache.set(b, h);
  }
  return h;
}

/** git's blob id: sha1("blob <size>\0" + content), the Hub's ETag for files stored in git. */
export function gitBlobSha1(b: Uint8Array): string {
  return createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex');
}

/** The CORS headers the Hub sends on resolve, raw and CDN answers (read by the static site in a browser). */
export const HUB_CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers':
    'X-Repo-Commit, X-Request-Id, X-Error-Code, X-Error-Message, X-Total-Count, ETag, Link, Accept-Ranges, Content-Range, X-Linked-Size, X-Linked-ETag, X-Xet-Hash',
};

/** A Git LFS pointer, as the Hub's raw/ URL answers for an LFS file. */
export function lfsPointer(bytes: Uint8Array): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256Hex(bytes)}\nsize ${bytes.byteLength}\n`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeHub {
  readonly repos: Record<string, FakeRepo>;
  readonly requests: RecordedRequest[] = [];
  /** repo id -> another repo id, answered with a relative redirect (a renamed repo) */
  readonly renamed: Record<string, string> = {};
  /** more revision names answered as FAKE_COMMIT */
  readonly extraRevisions = new Set<string>();
  private rules: FailureRule[] = [];
  private hub: Server | undefined;
  private cdn: Server | undefined;
  url = '';
  cdnUrl = '';

  constructor(private readonly options: FakeHubOptions = {}) {
    this.repos = options.repos ?? { 'org/gpt2-tiny': gpt2TinyRepo() };
  }

  /** Queues a failure; rules are matched in order and used up. */
  fail(rule: FailureRule): void {
    this.rules.push({ times: 1, ...rule });
  }

  /** Requests for a file (its name, or /cdn/ for LFS bytes) with a given method. */
  requestsFor(file: string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(`/${file}`) && (!method || r.method === method));
  }

  async start(): Promise<this> {
    this.hub = await listen((req, res) => this.handle(req, res));
    this.url = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    if (this.options.separateCdn) {
      this.cdn = await listen((req, res) => this.handle(req, res));
      this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
    } else this.cdnUrl = this.url;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      if (!s) continue;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    this.hub = this.cdn = undefined;
  }

  /** The first queued rule for this file, method and kind of failure, used up once. */
  private takeRule(file: string, method: string, kinds: FailureRule['kind'][]): FailureRule | undefined {
    const i = this.rules.findIndex((r) => r.file === file && (!r.method || r.method === method) && kinds.includes(r.kind));
    if (i < 0) return undefined;
    const rule = this.rules[i]!;
    if (--rule.times! <= 0) this.rules.splice(i, 1);
    return rule;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: RecordedRequest = {
      method: req.method ?? '',
      path: decodeURIComponent(url.pathname),
      host: req.headers.host ?? '',
      authorization: req.headers.authorization,
      range: req.headers.range,
      status: 0,
      sent: 0,
    };
    this.requests.push(rec);
    for (const [k, v] of Object.entries(HUB_CORS_HEADERS)) res.setHeader(k, v);
    const answer = (status: number, headers: Record<string, string> = {}): void => {
      rec.status = status;
      res.writeHead(status, headers);
      res.end();
    };
    if (req.method === 'OPTIONS') {
      return answer(204, { 'access-control-allow-headers': 'range, authorization, accept', 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-max-age': '600' });
    }

    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const lfs = this.findLfs(cdn[1]!);
      if (!lfs) return answer(404);
      const rule = this.takeRule(lfs.name, rec.method, ['status', 'stall']);
      if (rule?.kind === 'status') return answer(rule.status ?? 500);
      if (rule?.kind === 'stall') await sleep(rule.ms ?? 1000);
      return this.sendBody(req, res, rec, lfs.bytes, lfs.name, { 'content-disposition': `inline; filename="${lfs.name}";` });
    }

    const m = /^\/(.+?)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return answer(404);
    const raw = m[2] === 'raw';
    m.splice(2, 1);
    const repoId = decodeURIComponent(m[1]!);
    const revision = decodeURIComponent(m[2]!);
    const file = decodeURIComponent(m[3]!);
    if (this.renamed[repoId]) return answer(307, { location: `/${this.renamed[repoId]}/resolve/${m[2]}/${m[3]}` });
    const repo = this.repos[repoId];
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (!repo) return answer(token ? 404 : 401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
    if (repo.gated && token !== repo.acceptedToken) {
      return answer(token ? 403 : 401, { 'x-error-code': 'GatedRepo', 'x-error-message': `Access to model ${repoId} is restricted.` });
    }
    // LFS files: a rule for GET applies to the CDN request, not to this one.
    const rule = repo.lfs.includes(file) && rec.method === 'GET' ? undefined : this.takeRule(file, rec.method, ['status', 'stall']);
    if (rule?.kind === 'status') return answer(rule.status ?? 500, { 'x-repo-commit': FAKE_COMMIT });
    if (rule?.kind === 'stall') await sleep(rule.ms ?? 1000);
    if (![FAKE_COMMIT, 'main', FAKE_TAG, 'refs/pr/1'].includes(revision) && !this.extraRevisions.has(revision)) {
      return answer(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revision}` });
    }
    const bytes = repo.files[file];
    if (!bytes) return answer(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found', 'x-repo-commit': FAKE_COMMIT });

    if (raw) {
      const body = repo.lfs.includes(file) ? new TextEncoder().encode(lfsPointer(bytes)) : bytes;
      return this.sendBody(req, res, rec, body, `raw/${file}`, { 'x-repo-commit': FAKE_COMMIT });
    }
    if (repo.lfs.includes(file)) {
      const sha = sha256Hex(bytes);
      return answer(302, {
        location: `${this.cdnUrl}/cdn/${sha}?X-Amz-Signature=fake`,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(bytes.byteLength),
        'x-repo-commit': FAKE_COMMIT,
        etag: `W/"${gitBlobSha1(new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\n`))}"`,
      });
    }
    const extra = { etag: `"${gitBlobSha1(bytes)}"`, 'x-repo-commit': FAKE_COMMIT };
    return this.sendBody(req, res, rec, bytes, file, extra);
  }

  private findLfs(sha: string): { name: string; bytes: Uint8Array } | undefined {
    for (const repo of Object.values(this.repos)) {
      for (const name of repo.lfs) if (repo.files[name] && sha256Hex(repo.files[name]) === sha) return { name, bytes: repo.files[name] };
    }
    return undefined;
  }

  /** 200 or 206 (Range: bytes=N-), chunked with optional pauses, with drop/corrupt failures applied. */
  private async sendBody(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest, bytes: Uint8Array, file: string, headers: Record<string, string>): Promise<void> {
    let body = bytes;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.byteLength - 1) : bytes.byteLength - 1;
      if (start >= bytes.byteLength || end < start) {
        rec.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${bytes.byteLength}` });
        return void res.end();
      }
      body = bytes.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${bytes.byteLength}`;
    }
    // drop/corrupt/extra rules hit downloads, not a probe for the headers (a closed range such as bytes=0-0)
    const probe = range !== null && range[2] !== '';
    const rule = req.method === 'GET' && !probe ? this.takeRule(file, 'GET', ['drop', 'corrupt', 'extra']) : undefined;
    if (rule?.kind === 'corrupt') {
      body = Uint8Array.from(body);
      body[body.byteLength >> 1]! ^= 0xff;
    }
    if (rule?.kind === 'extra') {
      const more = new Uint8Array(body.byteLength + (rule.extraBytes ?? 1000));
      more.set(body);
      body = more;
    }
    rec.status = status;
    const length: Record<string, string> = rule?.kind === 'extra' && rule.chunked ? {} : { 'content-length': String(body.byteLength) };
    res.writeHead(status, { ...headers, ...length, 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const limit = rule?.kind === 'drop' ? (rule.afterBytes ?? body.byteLength >> 1) : body.byteLength;
    const chunk = this.options.chunkBytes ?? 1 << 20;
    for (let at = 0; at < limit; at += chunk) {
      const piece = body.subarray(at, Math.min(limit, at + chunk));
      rec.sent += piece.byteLength;
      if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      if (this.options.chunkDelayMs) await sleep(this.options.chunkDelayMs);
      if (res.destroyed) return;
    }
    if (rule?.kind === 'drop') {
      // let every byte reach the kernel before the cut, so the client receives exactly `afterBytes`
      while (res.writableLength > 0 && !res.destroyed) await sleep(5);
      await sleep(20);
      res.socket?.destroy();
      return;
    }
    res.end();
  }
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
